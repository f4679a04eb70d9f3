import type { Kysely } from 'kysely';
import { columnTypes, dialectOf } from '../columns.ts';

/**
 * Issue 11 (management API): API keys for servers (only the SHA-256 of the secret is stored),
 * who did it in the audit log (a key is an actor but never a subject), and the index the user
 * listing pages through.
 */
// biome-ignore lint/suspicious/noExplicitAny: migrations are frozen in time and typed Kysely<any>
export async function up(db: Kysely<any>): Promise<void> {
  const t = columnTypes(dialectOf(db));
  await db.schema
    .createTable('api_keys')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('secret_hash', 'text', (c) => c.notNull())
    .addColumn('scopes', 'text', (c) => c.notNull())
    .addColumn('created_at', t.bigint, (c) => c.notNull())
    .addColumn('created_by_kind', 'text', (c) => c.notNull())
    .addColumn('created_by_id', 'text')
    .addColumn('expires_at', t.bigint)
    .addColumn('last_used_at', t.bigint)
    .addColumn('revoked_at', t.bigint)
    .execute();

  // 'user' | 'api_key' | 'cli'; existing rows were all written by (or for) the user they name.
  await db.schema.alterTable('audit_events').addColumn('actor_kind', 'text').execute();
  await db.schema.alterTable('audit_events').addColumn('actor_id', 'text').execute();
  await db.schema.createIndex('audit_events_actor').on('audit_events').columns(['actor_kind', 'actor_id', 'created_at']).execute();

  await db.schema.createIndex('users_created_at_id').on('users').columns(['created_at', 'id']).execute();
}

// biome-ignore lint/suspicious/noExplicitAny: see up()
export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('users_created_at_id').ifExists().execute();
  await db.schema.dropIndex('audit_events_actor').ifExists().execute();
  await db.schema.alterTable('audit_events').dropColumn('actor_id').execute();
  await db.schema.alterTable('audit_events').dropColumn('actor_kind').execute();
  await db.schema.dropTable('api_keys').ifExists().execute();
}
