import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Kysely, SqliteDialect } from 'kysely';
import { openNodeSqlite } from './node-sqlite-database.ts';
import { preparedInsert, preparedQuery } from './prepared-query.ts';

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
