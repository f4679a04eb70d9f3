import type { Kysely } from 'kysely';
import { columnTypes, dialectOf } from '../columns.ts';

/**
 * Issue 11 item 4 (signed tokens): the ES256 keys that sign login results and access tokens (the
 * private half sealed with its own secret-box key, never in a file), and the login results redeemed
 * online (their `jti`, kept until the token would have expired anyway).
 *
 * `seq` is unique: two nodes that both decide to make the next key race on it, one insert wins and
 * the other reloads (multi-node safe without a lock).
 */
// biome-ignore lint/suspicious/noExplicitAny: migrations are frozen in time and typed Kysely<any>
export async function up(db: Kysely<any>): Promise<void> {
  const t = columnTypes(dialectOf(db));
  await db.schema
    .createTable('signing_keys')
    .addColumn('kid', 'text', (c) => c.primaryKey())
    .addColumn('seq', t.bigint, (c) => c.notNull().unique())
    .addColumn('alg', 'text', (c) => c.notNull())
    .addColumn('public_jwk', 'text', (c) => c.notNull())
    .addColumn('private_key_sealed', 'text', (c) => c.notNull())
    .addColumn('created_at', t.bigint, (c) => c.notNull())
    .addColumn('activated_at', t.bigint, (c) => c.notNull())
    .addColumn('retired_at', t.bigint)
    .addColumn('published_until', t.bigint)
    .execute();

  await db.schema
    .createTable('redeemed_login_results')
    .addColumn('jti', 'text', (c) => c.primaryKey())
    .addColumn('expires_at', t.bigint, (c) => c.notNull())
    .addColumn('redeemed_at', t.bigint, (c) => c.notNull())
    .execute();
  await db.schema.createIndex('redeemed_login_results_expires_at').on('redeemed_login_results').column('expires_at').execute();
}

// biome-ignore lint/suspicious/noExplicitAny: see up()
export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('redeemed_login_results').ifExists().execute();
  await db.schema.dropTable('signing_keys').ifExists().execute();
}
