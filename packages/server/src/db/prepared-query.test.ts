import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Kysely, SqliteDialect } from 'kysely';
import { openNodeSqlite } from './node-sqlite-database.ts';
import { enableSqliteFastPath, preparedInsert, preparedQuery, writeBatch } from './prepared-query.ts';

interface Tables {
  t: { id: string; n: number; note: string | null };
}

function database() {
  const sqlite = openNodeSqlite(':memory:');
  sqlite.raw.exec("CREATE TABLE t (id TEXT PRIMARY KEY, n INTEGER NOT NULL, note TEXT DEFAULT 'default note')");
  return new Kysely<Tables>({ dialect: new SqliteDialect({ database: sqlite }) });
}

test('a prepared query runs with new values each time, constants kept, and gives rows and counts', async () => {
  const db = database();
  const insert = preparedInsert<Tables['t']>('t');
  assert.equal(await insert(db, { id: 'a', n: 1, note: null }), 1);
  assert.equal(await insert(db, { id: 'b', n: 2, note: 'x' }), 1);
  const byId = preparedQuery<{ id: string }, Tables['t']>((d, p) => d.selectFrom('t').selectAll().where('id', '=', p('id')).where('n', '<', 100));
  assert.deepEqual({ ...(await byId.first(db, { id: 'b' })) }, { id: 'b', n: 2, note: 'x' });
  assert.equal(await byId.first(db, { id: 'nobody' }), undefined);
  const bump = preparedQuery<{ id: string; from: number; to: number }, never>((d, p) =>
    d.updateTable('t').set({ n: p('to') }).where('id', '=', p('id')).where('n', '=', p('from')),
  );
  assert.equal(await bump.affected(db, { id: 'a', from: 1, to: 5 }), 1);
  assert.equal(await bump.affected(db, { id: 'a', from: 1, to: 6 }), 0, 'compare-and-set: the stale value matches nothing');
  assert.equal((await byId.rows(db, { id: 'a' }))[0]?.n, 5);
  await db.destroy();
});

test('an insert leaves undefined columns out, so their defaults apply', async () => {
  const db = database();
  const insert = preparedInsert<{ id: string; n: number; note?: string | undefined }>('t');
  await insert(db, { id: 'c', n: 3, note: undefined });
  const row = await db.selectFrom('t').selectAll().where('id', '=', 'c').executeTakeFirstOrThrow();
  assert.equal(row.note, 'default note');
  await db.destroy();
});

test('a parameter the query does not use is a programming error, reported at first use', async () => {
  const db = database();
  const broken = preparedQuery<{ id: string; unused: string }, never>((d, p) => {
    p('unused');
    return d.selectFrom('t').selectAll().where('id', '=', p('id'));
  });
  await assert.rejects(broken.first(db, { id: 'x', unused: 'y' }), /"unused" is not bound/);
  await db.destroy();
});

test('works inside a transaction, with the transaction connection', async () => {
  const db = database();
  const insert = preparedInsert<Tables['t']>('t');
  await assert.rejects(
    db.transaction().execute(async (trx) => {
      await insert(trx, { id: 'rolled-back', n: 1, note: null });
      throw new Error('abort');
    }),
  );
  assert.equal(await db.selectFrom('t').selectAll().where('id', '=', 'rolled-back').executeTakeFirst(), undefined);
  await db.destroy();
});

function fastDatabase() {
  const sqlite = openNodeSqlite(':memory:');
  sqlite.raw.exec("CREATE TABLE t (id TEXT PRIMARY KEY, n INTEGER NOT NULL, note TEXT DEFAULT 'default note')");
  const db = new Kysely<Tables>({ dialect: new SqliteDialect({ database: sqlite }) });
  enableSqliteFastPath({ db, raw: sqlite.raw, statement: sqlite.statement });
  return { db, sqlite };
}

const insertT = preparedInsert<Tables['t']>('t');
const bumpT = preparedQuery<{ id: string; from: number; to: number }, never>((d, p) =>
  d.updateTable('t').set({ n: p('to') }).where('id', '=', p('id')).where('n', '=', p('from')),
);
const idsOf = async (db: Kysely<Tables>) => (await db.selectFrom('t').select('id').orderBy('id').execute()).map((r) => r.id);

for (const fast of [false, true]) {
  test(`writeBatch (${fast ? 'SQLite fast path' : 'through Kysely'}): all statements commit together`, async () => {
    const db = fast ? fastDatabase().db : database();
    await insertT(db, { id: 'a', n: 1, note: null });
    const refused = await writeBatch(db, [
      { statement: bumpT.with({ id: 'a', from: 1, to: 2 }), expectOne: true },
      { statement: insertT.with({ id: 'b', n: 1, note: null }) },
    ]);
    assert.equal(refused, undefined);
    assert.deepEqual(await idsOf(db), ['a', 'b']);
    assert.equal((await db.selectFrom('t').select('n').where('id', '=', 'a').executeTakeFirstOrThrow()).n, 2);
    await db.destroy();
  });

  test(`writeBatch (${fast ? 'SQLite fast path' : 'through Kysely'}): a compare-and-set that changes no row rolls everything back and names its step`, async () => {
    const db = fast ? fastDatabase().db : database();
    await insertT(db, { id: 'a', n: 1, note: null });
    const refused = await writeBatch(db, [
      { statement: insertT.with({ id: 'b', n: 1, note: null }) },
      { statement: bumpT.with({ id: 'a', from: 7, to: 8 }), expectOne: true },
      { statement: insertT.with({ id: 'c', n: 1, note: null }) },
    ]);
    assert.equal(refused, 1);
    assert.deepEqual(await idsOf(db), ['a'], 'the insert before the refused step is rolled back too');
    await db.destroy();
  });

  test(`writeBatch (${fast ? 'SQLite fast path' : 'through Kysely'}): a failing statement rolls back and rejects`, async () => {
    const db = fast ? fastDatabase().db : database();
    await insertT(db, { id: 'a', n: 1, note: null });
    await assert.rejects(writeBatch(db, [{ statement: insertT.with({ id: 'b', n: 1, note: null }) }, { statement: insertT.with({ id: 'a', n: 2, note: null }) }]), /UNIQUE/);
    assert.deepEqual(await idsOf(db), ['a']);
    // The connection is usable afterwards (no transaction left open).
    assert.equal(await writeBatch(db, [{ statement: insertT.with({ id: 'd', n: 1, note: null }) }]), undefined);
    assert.deepEqual(await idsOf(db), ['a', 'd']);
    await db.destroy();
  });
}

test('the fast path never runs inside a Kysely transaction that is open on the same connection', async () => {
  const { db, sqlite } = fastDatabase();
  let release!: () => void;
  const held = new Promise<void>((resolve) => {
    release = resolve;
  });
  let inside!: () => void;
  const opened = new Promise<void>((resolve) => {
    inside = resolve;
  });
  const transaction = db
    .transaction()
    .execute(async (trx) => {
      await insertT(trx, { id: 'in-transaction', n: 1, note: null });
      inside();
      await held;
      throw new Error('roll back');
    })
    .catch(() => 'rolled back');
  await opened;
  assert.equal(sqlite.raw.isTransaction, true);
  // Started while the other transaction is open: it must wait, not join it.
  const batch = writeBatch(db, [{ statement: insertT.with({ id: 'batch', n: 1, note: null }) }]);
  const single = insertT(db, { id: 'single', n: 1, note: null });
  release();
  assert.equal(await transaction, 'rolled back');
  assert.equal(await batch, undefined);
  assert.equal(await single, 1);
  assert.deepEqual(await idsOf(db), ['batch', 'single'], 'the rollback took only its own row');
  await db.destroy();
});

test('writeBatch on PostgreSQL: the whole batch is one statement, and a refused compare-and-set undoes all of it', {
  skip: (process.env.TEST_DIALECTS ?? 'sqlite').includes('postgres') ? false : 'PostgreSQL is not in TEST_DIALECTS',
}, async () => {
  const { createTestDatabase } = await import('../../test/helpers/test-server.ts');
  const { PostgresDialect } = await import('kysely');
  const pg = (await import('pg')).default;
  const testDb = await createTestDatabase('postgres');
  const sent: string[] = [];
  const db = new Kysely<Tables>({
    dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: testDb.url, max: 2 }) }),
    log: (event) => {
      sent.push(event.query.sql.trim().split(/\s+/)[0]?.toLowerCase() ?? '');
    },
  });
  try {
    await db.schema.createTable('t').addColumn('id', 'text', (c) => c.primaryKey()).addColumn('n', 'integer', (c) => c.notNull()).addColumn('note', 'text').execute();
    await insertT(db, { id: 'a', n: 1, note: null });
    sent.length = 0;
    const committed = await writeBatch(db, [
      { statement: bumpT.with({ id: 'a', from: 1, to: 2 }), expectOne: true },
      { statement: insertT.with({ id: 'b', n: 1, note: "it's $1, not a placeholder" }) },
      { statement: insertT.with({ id: 'c', n: 1, note: null }) },
      { statement: bumpT.with({ id: 'b', from: 1, to: 5 }) },
    ]);
    assert.equal(committed, undefined);
    assert.deepEqual(sent, ['with'], 'one statement, no BEGIN/COMMIT');
    assert.deepEqual(await idsOf(db), ['a', 'b', 'c']);
    // Same snapshot: the update of b in the merged statement does not see b's insert (documented).
    assert.equal((await db.selectFrom('t').select('n').where('id', '=', 'b').executeTakeFirstOrThrow()).n, 1);
    assert.equal((await db.selectFrom('t').select('note').where('id', '=', 'b').executeTakeFirstOrThrow()).note, "it's $1, not a placeholder");

    assert.equal(await writeBatch(db, [{ statement: insertT.with({ id: 'd', n: 1, note: null }) }, { statement: insertT.with({ id: 'e', n: 1, note: null }) }]), undefined);

    sent.length = 0;
    const refused = await writeBatch(db, [
      { statement: insertT.with({ id: 'f', n: 1, note: null }) },
      { statement: bumpT.with({ id: 'a', from: 99, to: 100 }), expectOne: true },
      { statement: insertT.with({ id: 'g', n: 1, note: null }) },
    ]);
    assert.equal(refused, 1);
    assert.deepEqual(sent, ['with', 'begin', 'insert', 'update', 'rollback'], 'the refused statement, then step by step to name the step');
    assert.deepEqual(await idsOf(db), ['a', 'b', 'c', 'd', 'e'], 'rolled back as a whole');
    // Any other error is an error.
    await assert.rejects(writeBatch(db, [{ statement: insertT.with({ id: 'a', n: 1, note: null }) }]), /duplicate key/);
  } finally {
    await db.destroy();
    await testDb.drop();
  }
});

test('writeBatch refuses to run inside a transaction it does not own', async () => {
  const db = database();
  await assert.rejects(
    db.transaction().execute((trx) => writeBatch(trx, [{ statement: insertT.with({ id: 'x', n: 1, note: null }) }])),
    /pass the root database/,
  );
  await db.destroy();
});
