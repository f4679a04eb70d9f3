import assert from 'node:assert/strict';
import { test } from 'node:test';
import { sql, type Kysely } from 'kysely';
import { createDatabase, type Dialect } from '../../src/db/create-db.ts';
import type { Database } from '../../src/db/database.ts';
import { createMigrator, migrateToLatest } from '../../src/db/migrate.ts';
import { createTestDatabase, dialects } from '../helpers/test-server.ts';

/** Names of the indexes on `audit_events`, as the database lists them. */
async function auditIndexes(db: Kysely<Database>, dialect: Dialect): Promise<string[]> {
  const { rows } =
    dialect === 'postgres'
      ? await sql<{ name: string }>`SELECT indexname AS name FROM pg_indexes WHERE tablename = 'audit_events'`.execute(db)
      : await sql<{ name: string }>`SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'audit_events'`.execute(db);
  return rows.map((r) => r.name).sort();
}

for (const dialect of dialects) {
  // Issue 9: every sign-in wrote an index page for an index no query reads.
  test(`the unread audit_events_actor index is dropped, and comes back on the way down (${dialect})`, async () => {
    const fresh = await createTestDatabase(dialect);
    const database = createDatabase(fresh.url);
    try {
      await migrateToLatest(database.db);
      assert.ok(!(await auditIndexes(database.db, dialect)).includes('audit_events_actor'));
      const down = await createMigrator(database.db).migrateTo('2026_12_04_siem_cursors');
      assert.equal(down.error, undefined);
      assert.ok(down.results?.some((r) => r.migrationName === '2026_12_04_sign_in_audit_index' && r.status === 'Success'));
      assert.ok((await auditIndexes(database.db, dialect)).includes('audit_events_actor'));
      await migrateToLatest(database.db);
      assert.ok(!(await auditIndexes(database.db, dialect)).includes('audit_events_actor'));
    } finally {
      await database.close();
      await fresh.drop();
    }
  });
}
