import type { Kysely } from 'kysely';
import { columnTypes, dialectOf } from '../columns.ts';

/** Issue 4: TOTP as a legacy second factor (SEC-40); the seed is stored encrypted. */
// biome-ignore lint/suspicious/noExplicitAny: migrations are frozen in time and typed Kysely<any>
export async function up(db: Kysely<any>): Promise<void> {
  const t = columnTypes(dialectOf(db));
  await db.schema
    .createTable('totp_secrets')
    .addColumn('user_id', 'text', (c) => c.primaryKey().references('users.id').onDelete('cascade'))
    .addColumn('secret_enc', 'text', (c) => c.notNull())
    .addColumn('last_step', t.bigint)
    .addColumn('created_at', t.bigint, (c) => c.notNull())
    .addColumn('confirmed_at', t.bigint)
    .execute();
}

// biome-ignore lint/suspicious/noExplicitAny: see up()
export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('totp_secrets').ifExists().execute();
}
