import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createDatabase, type DatabaseHandle } from '../../db/create-db.ts';
import { migrateToLatest } from '../../db/migrate.ts';
import { AppError } from '../../errors/app-error.ts';
import { createTestClock } from '../../platform/clock.ts';
import { createFallbackRepository } from './fallback.repository.ts';
import { createLockout } from './lockout.service.ts';

describe('per-account failure counters (SEC-34)', () => {
  let database: DatabaseHandle;
  const dir = `/tmp/latchkey-lockout-${process.pid}-${Date.now()}`;
  before(async () => {
    database = createDatabase(`sqlite:${dir}/t.db`, { poolSize: 1 });
    await migrateToLatest(database.db);
  });
  after(async () => {
    await database.close();
    const { rm } = await import('node:fs/promises');
    await rm(dir, { recursive: true, force: true });
  });

  const make = () => {
    const clock = createTestClock();
    const lockout = createLockout({ db: database.db, clock, repository: createFallbackRepository(), freeFailures: 10, maxDelaySeconds: 3600, hardLimit: 100 });
    return { clock, lockout };
  };
  const retryAfter = async (p: Promise<unknown>): Promise<number | undefined> => {
    try {
      await p;
      return undefined;
    } catch (error) {
      assert.ok(error instanceof AppError && error.code === 'too_many_attempts', String(error));
      return Number(error.headers?.['retry-after']);
    }
  };

  test('ten free failures, then a doubling delay up to an hour, then locked at 100', async () => {
    const { clock, lockout } = make();
    const key = 'pwd:alice';
    for (let i = 0; i < 9; i++) await lockout.fail(key);
    assert.equal(await retryAfter(lockout.check(key)), undefined, 'nine failures: no delay');
    await lockout.fail(key);
    assert.equal(await retryAfter(lockout.check(key)), 1, 'tenth: 1 s');
    await lockout.fail(key);
    assert.equal(await retryAfter(lockout.check(key)), 2);
    for (let i = 0; i < 20; i++) await lockout.fail(key);
    assert.equal(await retryAfter(lockout.check(key)), 3600, 'capped at an hour');
    clock.advance(3600_000);
    assert.equal(await retryAfter(lockout.check(key)), undefined, 'after the delay one more try is allowed');
    for (let i = 0; i < 69; i++) await lockout.fail(key);
    clock.advance(10 * 3600_000);
    assert.equal(await retryAfter(lockout.check(key)), 3600, 'at 100 the factor stays locked however long one waits');
    await database.db
      .insertInto('users')
      .values({ id: 'u1', username: 'alice', username_key: 'alice', display_name: 'Alice', user_handle: 'h1', external_id: null, status: 'active', created_at: 0, email: null, email_key: null, email_verified_at: null })
      .execute();
    await lockout.clearUser('u1'); // what a passkey sign-in runs
    assert.equal(await retryAfter(lockout.check(key)), undefined, 'a passkey sign-in clears it');
  });

  test('parallel guesses that saw the same count: only one is let through to be checked', async () => {
    const { lockout } = make();
    const key = `race-${Date.now()}`;
    for (let i = 0; i < 9; i++) await lockout.fail(key); // one free try left
    const results = await Promise.allSettled(Array.from({ length: 20 }, () => lockout.begin(key)));
    const admitted = results.filter((r) => r.status === 'fulfilled');
    assert.equal(admitted.length, 1, `admitted ${admitted.length} of 20`);
    for (const r of results) if (r.status === 'rejected') assert.ok(r.reason instanceof AppError && r.reason.code === 'too_many_attempts');
    // The admitted guess was counted before it was checked: the next one waits.
    assert.equal(await retryAfter(lockout.check(key)), 1);
  });

  test('a guess is counted before it is checked and a success clears the count', async () => {
    const { lockout } = make();
    const key = `claim-${Date.now()}`;
    const attempt = await lockout.begin(key);
    assert.equal(await attempt.failed(), 1);
    const second = await lockout.begin(key);
    await second.succeeded();
    assert.equal(await lockout.check(key), 0);
  });

  test('shared factor: delays per client, the address-wide count only locks, at the hard limit, and parallel clients cannot overshoot it', async () => {
    const { lockout } = make();
    const shared = `otp:race-${Date.now()}@example.test`;
    const begin = (client: string) => lockout.beginShared({ clientKey: `${shared}:${client}`, sharedKey: shared, lockedDetail: 'locked' });
    for (let i = 0; i < 10; i++) await (await begin('stranger')).failed();
    assert.equal(await retryAfter(begin('stranger')), 1, "the stranger's own delay");
    const owner = await begin('owner');
    await owner.failed();
    // 89 more failures from 89 clients, then 20 clients at once: exactly one more is counted.
    for (let i = 0; i < 88; i++) await begin(`c${i}`);
    const results = await Promise.allSettled(Array.from({ length: 20 }, (_, i) => begin(`p${i}`)));
    assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1);
    const row = await database.db.selectFrom('failure_counters').select('count').where('key', '=', shared).executeTakeFirstOrThrow();
    assert.equal(Number(row.count), 100, 'never above the hard limit');
    assert.equal(await retryAfter(begin('owner')), 3600, 'locked for every client');
  });
});
