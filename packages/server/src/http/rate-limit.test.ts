import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createDatabase, type DatabaseHandle, type Dialect } from '../db/create-db.ts';
import { migrateToLatest } from '../db/migrate.ts';
import { AppError } from '../errors/app-error.ts';
import { createTestClock } from '../platform/clock.ts';
import { createBatchedRateLimiter, createRateLimiter } from './rate-limit.ts';

/** SQLite always; PostgreSQL too when the suite runs on it (scripts/test.mjs starts one). */
const dialects: Dialect[] = ['sqlite'];
if ((process.env.TEST_DIALECTS ?? '').includes('postgres') && process.env.LATCHKEY_TEST_PG_URL) dialects.push('postgres');

async function openDatabase(dialect: Dialect): Promise<{ handle: DatabaseHandle; drop(): Promise<void> }> {
  if (dialect === 'sqlite') {
    const handle = createDatabase('sqlite::memory:');
    return { handle, drop: async () => {} };
  }
  const { createTestDatabase } = await import('../../test/helpers/test-server.ts');
  const testDb = await createTestDatabase('postgres');
  const handle = createDatabase(testDb.url, { poolSize: 10 });
  return { handle, drop: testDb.drop };
}

/** The 429 a hit was refused with, or undefined if it was let through. */
async function outcome(promise: Promise<void>): Promise<AppError | undefined> {
  try {
    await promise;
    return undefined;
  } catch (error) {
    assert.ok(error instanceof AppError, String(error));
    return error;
  }
}

for (const dialect of dialects) {
  describe(`rate limiter (${dialect})`, () => {
    let database: { handle: DatabaseHandle; drop(): Promise<void> };
    before(async () => {
      database = await openDatabase(dialect);
      await migrateToLatest(database.handle.db);
    });
    after(async () => {
      await database.handle.close();
      await database.drop();
    });

    const limiter = (limit: number, windowSeconds = 3600) => {
      const clock = createTestClock(Date.UTC(2026, 0, 1, 12));
      return { clock, limiter: createRateLimiter({ db: database.handle.db, clock, limit, windowSeconds }) };
    };

    test('N hits pass, hit N+1 is 429 rate_limited with Retry-After until the window ends', async () => {
      const { clock, limiter: l } = limiter(3, 3600);
      for (let i = 0; i < 3; i++) assert.equal(await outcome(l.hit('ip:a')), undefined, `hit ${i + 1}`);
      const refused = await outcome(l.hit('ip:a'));
      assert.ok(refused);
      assert.equal(refused.status, 429);
      assert.equal(refused.code, 'rate_limited');
      assert.equal(refused.headers?.['retry-after'], '3600');
      clock.advance(1000 * 1000);
      const later = await outcome(l.hit('ip:a'));
      assert.equal(later?.headers?.['retry-after'], '2600', 'Retry-After counts down with the window');
      clock.advance(2599 * 1000 + 500);
      assert.equal((await outcome(l.hit('ip:a')))?.headers?.['retry-after'], '1', 'never 0 while still refused');
    });

    test('the window resets once it has passed', async () => {
      const { clock, limiter: l } = limiter(2, 60);
      await l.hit('ip:b');
      await l.hit('ip:b');
      assert.ok(await outcome(l.hit('ip:b')));
      clock.advance(59_999);
      assert.ok(await outcome(l.hit('ip:b')), 'still inside the window');
      clock.advance(1);
      assert.equal(await outcome(l.hit('ip:b')), undefined, 'a new window');
      assert.equal(await outcome(l.hit('ip:b')), undefined);
      assert.ok(await outcome(l.hit('ip:b')), 'and the new window has the same limit');
    });

    test('keys are counted separately', async () => {
      const { limiter: l } = limiter(1);
      assert.equal(await outcome(l.hit('ip:c1')), undefined);
      assert.ok(await outcome(l.hit('ip:c1')));
      assert.equal(await outcome(l.hit('ip:c2')), undefined);
      assert.equal(await outcome(l.hit('signup:c1')), undefined);
    });

    test('50 concurrent hits are counted exactly: limit 20 lets exactly 20 through', async () => {
      const { limiter: l } = limiter(20);
      const results = await Promise.all(Array.from({ length: 50 }, () => outcome(l.hit('ip:burst'))));
      assert.equal(results.filter((r) => r === undefined).length, 20);
      assert.equal(results.filter((r) => r?.status === 429).length, 30);
      const row = await database.handle.db.selectFrom('rate_limits').selectAll().where('key', '=', 'ip:burst').executeTakeFirstOrThrow();
      assert.equal(Number(row.count), 50, 'every hit was counted, none lost to a race');
    });

    test('two limiters (two server nodes) on one database share the count', async () => {
      const { clock } = limiter(1);
      const a = createRateLimiter({ db: database.handle.db, clock, limit: 3, windowSeconds: 3600 });
      const b = createRateLimiter({ db: database.handle.db, clock, limit: 3, windowSeconds: 3600 });
      await a.hit('ip:shared');
      await b.hit('ip:shared');
      await a.hit('ip:shared');
      assert.ok(await outcome(b.hit('ip:shared')));
    });

    test('sweep removes only windows that have passed', async () => {
      const { clock, limiter: l } = limiter(5, 60);
      await l.hit('ip:old');
      clock.advance(30_000);
      await l.hit('ip:new');
      clock.advance(30_000);
      await l.sweep();
      const keys = (await database.handle.db.selectFrom('rate_limits').select('key').where('key', 'in', ['ip:old', 'ip:new']).execute()).map((r) => r.key);
      assert.deepEqual(keys, ['ip:new']);
    });

    test('batched: one node enforces the limit at once, without a write per hit', async () => {
      const { clock } = limiter(1);
      const l = createBatchedRateLimiter({ db: database.handle.db, clock, limit: 5, windowSeconds: 3600, flushMs: 60_000 });
      for (let i = 0; i < 5; i++) assert.equal(await outcome(l.hit('ip:batched')), undefined);
      const refused = await outcome(l.hit('ip:batched'));
      assert.equal(refused?.status, 429);
      assert.equal(refused?.headers?.['retry-after'], '3600');
      const before = await database.handle.db.selectFrom('rate_limits').selectAll().where('key', '=', 'ip:batched').executeTakeFirst();
      assert.equal(before, undefined, 'nothing written before the flush');
      await l.flush();
      const row = await database.handle.db.selectFrom('rate_limits').selectAll().where('key', '=', 'ip:batched').executeTakeFirstOrThrow();
      assert.equal(Number(row.count), 6, 'every hit is in the shared row after the flush');
    });

    test('batched: after a flush a node knows the other nodes\' hits', async () => {
      const { clock } = limiter(1);
      const a = createBatchedRateLimiter({ db: database.handle.db, clock, limit: 4, windowSeconds: 3600, flushMs: 60_000 });
      const b = createBatchedRateLimiter({ db: database.handle.db, clock, limit: 4, windowSeconds: 3600, flushMs: 60_000 });
      await a.hit('ip:nodes');
      await a.hit('ip:nodes');
      await a.hit('ip:nodes');
      await a.flush();
      await b.hit('ip:nodes'); // 4th overall: b does not know yet, and it is within the limit anyway
      await b.flush(); // b learns the shared count (4)
      assert.ok(await outcome(b.hit('ip:nodes')), 'the 5th hit, on the other node, is refused');
      clock.advance(3600_000);
      assert.equal(await outcome(b.hit('ip:nodes')), undefined, 'a new window');
    });
  });
}
