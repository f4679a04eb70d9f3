import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Kysely, SqliteDialect } from 'kysely';
import type { Database } from './database.ts';
import { chunkedInsert } from './chunked-insert.ts';
import { openNodeSqlite } from './node-sqlite-database.ts';

interface Row {
  id: string;
  n: number;
  note: string | null;
}

function database() {
  const sqlite = openNodeSqlite(':memory:');
  sqlite.raw.exec('CREATE TABLE t (id TEXT PRIMARY KEY, n INTEGER NOT NULL, note TEXT)');
  const statements: string[] = [];
  const db = new Kysely<{ t: Row }>({ dialect: new SqliteDialect({ database: sqlite }), log: (event) => {
      statements.push(event.query.sql);
    },
  });
  // The helper is typed for the app's schema; this test's table stands in for one of its tables.
  return { db: db as unknown as Kysely<Database>, typed: db, statements };
}

const rowsOf = (count: number, from = 0): Row[] => Array.from({ length: count }, (_, i) => ({ id: `r${from + i}`, n: from + i, note: i % 3 === 0 ? null : `note ${i}` }));

test('a batch of any length goes in whole and in order, a power-of-two chunk at a time, each chunk size one SQL text', async () => {
  const { db, typed, statements } = database();
  const insert = chunkedInsert<Row, { id: string }>({
    columns: ['id', 'n', 'note'],
    maxChunk: 8,
    // biome-ignore lint/suspicious/noExplicitAny: the test table is not in the app's schema
    build: (d, rows) => (d as any).insertInto('t').values(rows).onConflict((oc: any) => oc.column('id').doNothing()).returning('id'),
  });
  const first = await insert(db, rowsOf(13));
  assert.deepEqual(
    first.map((r) => r.id),
    rowsOf(13).map((r) => r.id),
  );
  assert.equal(statements.length, 3, '13 rows = 8 + 4 + 1');
  const again = await insert(db, [...rowsOf(2, 12), ...rowsOf(4, 100)]);
  assert.deepEqual(
    again.map((r) => r.id),
    ['r13', 'r100', 'r101', 'r102', 'r103'],
    'ON CONFLICT DO NOTHING: only the new rows come back',
  );
  assert.equal(statements.length, 5, '6 rows = 4 + 2');
  assert.equal(new Set(statements).size, 4, 'chunks of 8, 4, 1 and 2 rows: one SQL text each, the 4 reused');
  const stored = await typed.selectFrom('t').selectAll().orderBy('n').execute();
  assert.equal(stored.length, 18);
  assert.deepEqual({ ...stored[3] }, { id: 'r3', n: 3, note: null });
  assert.deepEqual({ ...stored[4] }, { id: 'r4', n: 4, note: 'note 4' });
  assert.deepEqual(await insert(db, []), []);
  await typed.destroy();
});

test('a statement whose parameters do not come out row by row, column by column is refused before it runs', async () => {
  const { db, typed } = database();
  const insert = chunkedInsert<Row, never>({
    columns: ['id', 'n', 'note'],
    maxChunk: 4,
    // Columns listed in another order than `columns`: the values would land in the wrong columns.
    // biome-ignore lint/suspicious/noExplicitAny: the test table is not in the app's schema
    build: (d, rows) => (d as any).insertInto('t').values(rows.map((r) => ({ note: r.note, id: r.id, n: r.n }))),
  });
  await assert.rejects(insert(db, rowsOf(2)), /unexpected parameter order/);
  assert.equal((await typed.selectFrom('t').selectAll().execute()).length, 0);
  assert.throws(() => chunkedInsert<Row, never>({ columns: ['id'], maxChunk: 6, build: (d) => d.insertInto('audit_chain').values([]) }), /power of two/);
  await typed.destroy();
});
