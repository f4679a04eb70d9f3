import { sql, type Kysely } from 'kysely';
import { columnTypes, dialectOf } from '../columns.ts';

/**
 * Issue 13 (support console): staff members (ordinary users with a role) and the one-time
 * recoveries support starts for a user (a code read out on the phone, or a link by e-mail),
 * stored as SHA-256 only, single use, short-lived.
 */
// biome-ignore lint/suspicious/noExplicitAny: migrations are frozen in time and typed Kysely<any>
export async function up(db: Kysely<any>): Promise<void> {
  const t = columnTypes(dialectOf(db));
  await db.schema
    .createTable('staff_members')
    .addColumn('user_id', 'text', (c) => c.primaryKey().references('users.id').onDelete('cascade'))
    .addColumn('role', 'text', (c) => c.notNull().check(sqlRole()))
    .addColumn('created_at', t.bigint, (c) => c.notNull())
    .addColumn('created_by_kind', 'text', (c) => c.notNull())
    .addColumn('created_by_id', 'text')
    .execute();

  await db.schema
    .createTable('support_recoveries')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('secret_hash', 'text', (c) => c.notNull().unique())
    .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('method', 'text', (c) => c.notNull())
    .addColumn('created_at', t.bigint, (c) => c.notNull())
    .addColumn('expires_at', t.bigint, (c) => c.notNull())
    .addColumn('created_by_kind', 'text', (c) => c.notNull())
    .addColumn('created_by_id', 'text')
    .addColumn('used_at', t.bigint)
    .execute();
  await db.schema.createIndex('support_recoveries_user_id').on('support_recoveries').column('user_id').execute();
  await db.schema.createIndex('support_recoveries_expires_at').on('support_recoveries').column('expires_at').execute();
}

function sqlRole() {
  // A CHECK keeps an unknown role out even when a row is written by hand.
  return sql`role in ('admin', 'support', 'auditor')`;
}

// biome-ignore lint/suspicious/noExplicitAny: see up()
export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('support_recoveries').ifExists().execute();
  await db.schema.dropTable('staff_members').ifExists().execute();
}
