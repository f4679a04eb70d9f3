import type { Kysely } from 'kysely';

/**
 * Issue 9: a session waiting for its second factor records which one (`passkey` or `totp`); only
 * that factor completes it. Null for every other session.
 */
// biome-ignore lint/suspicious/noExplicitAny: migrations are frozen in time and typed Kysely<any>
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('sessions').addColumn('second_factor', 'text').execute();
}

// biome-ignore lint/suspicious/noExplicitAny: see up()
export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('sessions').dropColumn('second_factor').execute();
}
