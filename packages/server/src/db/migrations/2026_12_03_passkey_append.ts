import type { Kysely } from 'kysely';
import { columnTypes, dialectOf } from '../columns.ts';

/**
 * Issue 11 item 3 (append tokens): one-time tokens a company's backend asks for to let a user
 * add a passkey without a Latchkey sign-in. Only the SHA-256 of a token is stored; a token is
 * bound to the one registration challenge it last started (`challenge_hash`), and a registration
 * challenge row names the token that started it.
 */
// biome-ignore lint/suspicious/noExplicitAny: migrations are frozen in time and typed Kysely<any>
export async function up(db: Kysely<any>): Promise<void> {
  const t = columnTypes(dialectOf(db));
  await db.schema
    .createTable('append_tokens')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('token_hash', 'text', (c) => c.notNull().unique())
    .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('created_at', t.bigint, (c) => c.notNull())
    .addColumn('expires_at', t.bigint, (c) => c.notNull())
    .addColumn('created_by_kind', 'text', (c) => c.notNull())
    .addColumn('created_by_id', 'text')
    .addColumn('challenge_hash', 'text')
    .addColumn('used_at', t.bigint)
    .execute();
  await db.schema.createIndex('append_tokens_expires_at').on('append_tokens').column('expires_at').execute();
  await db.schema.alterTable('challenges').addColumn('append_token_id', 'text').execute();
}

// biome-ignore lint/suspicious/noExplicitAny: see up()
export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('challenges').dropColumn('append_token_id').execute();
  await db.schema.dropIndex('append_tokens_expires_at').ifExists().execute();
  await db.schema.dropTable('append_tokens').ifExists().execute();
}
