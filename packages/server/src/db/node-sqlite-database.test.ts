import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Worker } from 'node:worker_threads';
import { sql, type Kysely } from 'kysely';
import { createDatabase } from './create-db.ts';
import { openNodeSqlite } from './node-sqlite-database.ts';

function writeRows(db: ReturnType<typeof openNodeSqlite>, count: number): void {
  db.raw.exec('CREATE TABLE IF NOT EXISTS t (id INTEGER PRIMARY KEY, v TEXT)');
  const insert = db.raw.prepare('INSERT INTO t (v) VALUES (?)');
  for (let i = 0; i < count; i++) insert.run('x'.repeat(500)); // one commit each, like sign-ins
}

test('WAL checkpoints happen on a background thread, not in commits on the event loop', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'latchkey-wal-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'db.sqlite');
  const db = openNodeSqlite(path);
  try {
    assert.equal(db.raw.prepare('PRAGMA wal_autocheckpoint').get()?.wal_autocheckpoint, 0, 'the serving connection never checkpoints');
    const before = statSync(path).size;
    writeRows(db, 2000); // ~250 pages of data, well past one default checkpoint
    // The data reaches the database file without any commit having checkpointed it.
    const deadline = Date.now() + 5000;
    while (statSync(path).size <= before + 500_000 && Date.now() < deadline) await sleep(50);
    assert.ok(statSync(path).size > before + 500_000, `database file grew from ${before} to ${statSync(path).size} bytes`);
  } finally {
    db.close();
  }
});

test('without the background thread SQLite checkpoints in commits as usual', () => {
  const dir = mkdtempSync(join(tmpdir(), 'latchkey-wal-'));
  try {
    const db = openNodeSqlite(join(dir, 'db.sqlite'), { backgroundCheckpoint: false });
    assert.equal(db.raw.prepare('PRAGMA wal_autocheckpoint').get()?.wal_autocheckpoint, 1000);
    db.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a transaction that reads before it writes waits for the checkpointer instead of failing with SQLITE_BUSY', async (t) => {
  // The WAL bound makes the checkpoint worker take the write lock for a moment (TRUNCATE). A
  // deferred BEGIN would hold a read snapshot and then be refused the write lock at once (SQLite
  // calls no busy handler for that upgrade): a 503 for the user. BEGIN IMMEDIATE waits instead.
  const dir = mkdtempSync(join(tmpdir(), 'latchkey-wal-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'db.sqlite');
  const database = createDatabase(`sqlite:${path}`);
  try {
    await sql`CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)`.execute(database.db);
    const holder = new Worker(
      `const { DatabaseSync } = require('node:sqlite'); const { parentPort } = require('node:worker_threads');
       const db = new DatabaseSync(${JSON.stringify(path)}); db.exec('PRAGMA busy_timeout = 1000; BEGIN IMMEDIATE');
       parentPort.postMessage('locked'); setTimeout(() => { db.exec('COMMIT'); db.close(); }, 300);`,
      { eval: true },
    );
    await once(holder, 'message');
    // biome-ignore lint/suspicious/noExplicitAny: a table of this test's own
    const db = database.db as unknown as Kysely<any>;
    await db.transaction().execute(async (trx) => {
      await trx.selectFrom('t').selectAll().execute();
      await trx.insertInto('t').values({ v: 'after the lock' }).execute();
    });
    assert.equal((await db.selectFrom('t').selectAll().execute()).length, 1);
    await once(holder, 'exit');
  } finally {
    await database.close();
  }
});
