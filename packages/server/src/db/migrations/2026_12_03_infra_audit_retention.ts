import { sql, type Kysely } from 'kysely';
import { columnTypes, dialectOf } from '../columns.ts';

/**
 * Issue 9: audit retention. The log stays append-only in the database (UPDATE always fails,
 * DELETE fails for every row) except for rows older than `audit_retention.purge_before`, which
 * the retention sweep moves forward to "now minus LATCHKEY_AUDIT_RETENTION_DAYS" before it deletes
 * the oldest rows in chunks (modules/audit/audit.repository.ts).
 */
// biome-ignore lint/suspicious/noExplicitAny: migrations are frozen in time and typed Kysely<any>
export async function up(db: Kysely<any>): Promise<void> {
  const dialect = dialectOf(db);
  const t = columnTypes(dialect);
  await db.schema
    .createTable('audit_retention')
    .addColumn('id', 'integer', (c) => c.primaryKey())
    .addColumn('purge_before', t.bigint, (c) => c.notNull())
    .execute();
  await db.insertInto('audit_retention').values({ id: 1, purge_before: 0 }).execute();
  if (dialect === 'postgres') {
    await sql`CREATE OR REPLACE FUNCTION audit_events_append_only() RETURNS trigger AS $$
      BEGIN
        IF TG_OP = 'DELETE' AND OLD.created_at < COALESCE((SELECT purge_before FROM audit_retention WHERE id = 1), 0) THEN
          RETURN OLD;
        END IF;
        RAISE EXCEPTION 'audit_events is append-only';
      END; $$ LANGUAGE plpgsql`.execute(db);
  } else {
    await sql`DROP TRIGGER audit_events_no_delete`.execute(db);
    await sql`CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events
      WHEN OLD.created_at >= COALESCE((SELECT purge_before FROM audit_retention WHERE id = 1), 0)
      BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END`.execute(db);
  }
}

// biome-ignore lint/suspicious/noExplicitAny: see up()
export async function down(db: Kysely<any>): Promise<void> {
  if (dialectOf(db) === 'postgres') {
    await sql`CREATE OR REPLACE FUNCTION audit_events_append_only() RETURNS trigger AS $$
      BEGIN RAISE EXCEPTION 'audit_events is append-only'; END; $$ LANGUAGE plpgsql`.execute(db);
  } else {
    await sql`DROP TRIGGER audit_events_no_delete`.execute(db);
    await sql`CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events
      BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END`.execute(db);
  }
  await db.schema.dropTable('audit_retention').ifExists().execute();
}
