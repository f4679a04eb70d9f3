import { sql, type Kysely } from 'kysely';
import { columnTypes, dialectOf } from '../columns.ts';

/**
 * Sign-in challenges carry their own state (modules/webauthn/challenge-token.ts); what the server
 * keeps is which ones were used, until they expire. The key starts with the expiry, so new rows
 * land on the last page and the sweep deletes a prefix; on SQLite the table is the key's B-tree
 * (WITHOUT ROWID), one page write per sign-in.
 */
// biome-ignore lint/suspicious/noExplicitAny: migrations are frozen in time and typed Kysely<any>
export async function up(db: Kysely<any>): Promise<void> {
  const dialect = dialectOf(db);
  const t = columnTypes(dialect);
  await db.schema
    .createTable('consumed_challenges')
    .addColumn('expires_at', t.bigint, (c) => c.notNull())
    .addColumn('nonce', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('consumed_challenges_pk', ['expires_at', 'nonce'])
    .$call((builder) => (dialect === 'sqlite' ? builder.modifyEnd(sql`without rowid`) : builder))
    .execute();
}

// biome-ignore lint/suspicious/noExplicitAny: see up()
export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('consumed_challenges').ifExists().execute();
}
