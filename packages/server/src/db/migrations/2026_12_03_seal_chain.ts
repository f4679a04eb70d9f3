import { sql, type Kysely } from 'kysely';
import { columnTypes, dialectOf } from '../columns.ts';

/**
 * Issue 12: tamper-evident audit (modules/audit/audit-chain.*). One sealer at a time appends every
 * committed audit event to `audit_chain` (gap-free `seq`, SHA-256 hash chain); signed
 * checkpoints record (seq, hash, time). Both tables are append-only in the database: chain rows
 * may be deleted only at or below the latest retention anchor (a checkpoint of kind 'retention'),
 * checkpoints never. `audit_seal_state` is the sealer's bookkeeping (mutable, not evidence).
 */
// biome-ignore lint/suspicious/noExplicitAny: migrations are frozen in time and typed Kysely<any>
export async function up(db: Kysely<any>): Promise<void> {
  const dialect = dialectOf(db);
  const t = columnTypes(dialect);
  await db.schema
    .createTable('audit_chain')
    .addColumn('seq', t.bigint, (c) => c.primaryKey())
    .addColumn('event_id', 'text', (c) => c.notNull().unique())
    .addColumn('prev_hash', 'text', (c) => c.notNull())
    .addColumn('hash', 'text', (c) => c.notNull())
    .addColumn('version', 'integer', (c) => c.notNull())
    .addColumn('sealed_at', t.bigint, (c) => c.notNull())
    .execute();
  await db.schema
    .createTable('audit_checkpoints')
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('seq', t.bigint, (c) => c.notNull())
    .addColumn('hash', 'text', (c) => c.notNull())
    .addColumn('created_at', t.bigint, (c) => c.notNull())
    .addColumn('key_id', 'text', (c) => c.notNull())
    .addColumn('signature', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('audit_checkpoints_pk', ['kind', 'seq'])
    .execute();
  // The sealer asks for the newest checkpoint of any kind on every pass.
  await db.schema.createIndex('audit_checkpoints_seq').on('audit_checkpoints').columns(['seq', 'created_at']).execute();
  await db.schema
    .createTable('audit_seal_state')
    .addColumn('id', 'integer', (c) => c.primaryKey())
    .addColumn('high_water', t.bigint, (c) => c.notNull())
    .execute();
  await db.insertInto('audit_seal_state').values({ id: 1, high_water: 0 }).execute();

  const anchor = `COALESCE((SELECT max(seq) FROM audit_checkpoints WHERE kind = 'retention'), 0)`;
  if (dialect === 'postgres') {
    await sql`CREATE FUNCTION audit_chain_append_only() RETURNS trigger AS $$
      BEGIN
        IF TG_OP = 'DELETE' AND OLD.seq <= ${sql.raw(anchor)} THEN
          RETURN OLD;
        END IF;
        RAISE EXCEPTION 'audit_chain is append-only';
      END; $$ LANGUAGE plpgsql`.execute(db);
    await sql`CREATE TRIGGER audit_chain_no_change BEFORE UPDATE OR DELETE ON audit_chain
      FOR EACH ROW EXECUTE FUNCTION audit_chain_append_only()`.execute(db);
    await sql`CREATE FUNCTION audit_log_no_change() RETURNS trigger AS $$
      BEGIN RAISE EXCEPTION '% is append-only', TG_TABLE_NAME; END; $$ LANGUAGE plpgsql`.execute(db);
    await sql`CREATE TRIGGER audit_checkpoints_no_change BEFORE UPDATE OR DELETE ON audit_checkpoints
      FOR EACH ROW EXECUTE FUNCTION audit_log_no_change()`.execute(db);
    // Row triggers do not see TRUNCATE.
    for (const table of ['audit_events', 'audit_chain', 'audit_checkpoints']) {
      await sql`CREATE TRIGGER ${sql.raw(`${table}_no_truncate`)} BEFORE TRUNCATE ON ${sql.table(table)}
        FOR EACH STATEMENT EXECUTE FUNCTION audit_log_no_change()`.execute(db);
    }
  } else {
    await sql`CREATE TRIGGER audit_chain_no_update BEFORE UPDATE ON audit_chain
      BEGIN SELECT RAISE(ABORT, 'audit_chain is append-only'); END`.execute(db);
    await sql`CREATE TRIGGER audit_chain_no_delete BEFORE DELETE ON audit_chain WHEN OLD.seq > ${sql.raw(anchor)}
      BEGIN SELECT RAISE(ABORT, 'audit_chain is append-only'); END`.execute(db);
    await sql`CREATE TRIGGER audit_checkpoints_no_update BEFORE UPDATE ON audit_checkpoints
      BEGIN SELECT RAISE(ABORT, 'audit_checkpoints is append-only'); END`.execute(db);
    await sql`CREATE TRIGGER audit_checkpoints_no_delete BEFORE DELETE ON audit_checkpoints
      BEGIN SELECT RAISE(ABORT, 'audit_checkpoints is append-only'); END`.execute(db);
  }
}

// biome-ignore lint/suspicious/noExplicitAny: see up()
export async function down(db: Kysely<any>): Promise<void> {
  if (dialectOf(db) === 'postgres') await sql`DROP TRIGGER IF EXISTS audit_events_no_truncate ON audit_events`.execute(db);
  for (const table of ['audit_seal_state', 'audit_checkpoints', 'audit_chain']) await db.schema.dropTable(table).ifExists().execute();
  if (dialectOf(db) === 'postgres') {
    await sql`DROP FUNCTION IF EXISTS audit_chain_append_only()`.execute(db);
    await sql`DROP FUNCTION IF EXISTS audit_log_no_change()`.execute(db);
  }
}
