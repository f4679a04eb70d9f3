import type { Kysely } from 'kysely';
import { columnTypes, dialectOf } from '../columns.ts';

/**
 * Issue 4: e-mail on users, e-mail one-time codes, recovery codes, per-identifier failure
 * counters, and the session scope (a recovery session may only enrol a passkey; SEC-39).
 */
// biome-ignore lint/suspicious/noExplicitAny: migrations are frozen in time and typed Kysely<any>
export async function up(db: Kysely<any>): Promise<void> {
  const t = columnTypes(dialectOf(db));

  await db.schema.alterTable('users').addColumn('email', 'text').execute();
  await db.schema.alterTable('users').addColumn('email_key', 'text').execute();
  await db.schema.alterTable('users').addColumn('email_verified_at', t.bigint).execute();
  await db.schema.createIndex('users_email_key').on('users').column('email_key').unique().execute();

  await db.schema.alterTable('sessions').addColumn('scope', 'text', (c) => c.notNull().defaultTo('full')).execute();

  await db.schema
    .createTable('email_codes')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('purpose', 'text', (c) => c.notNull())
    .addColumn('binding_hash', 'text', (c) => c.notNull())
    .addColumn('email_key', 'text', (c) => c.notNull())
    .addColumn('email', 'text', (c) => c.notNull())
    .addColumn('user_id', 'text', (c) => c.references('users.id').onDelete('cascade'))
    .addColumn('code_hash', 'text', (c) => c.notNull())
    .addColumn('attempts', 'integer', (c) => c.notNull())
    .addColumn('created_at', t.bigint, (c) => c.notNull())
    .addColumn('expires_at', t.bigint, (c) => c.notNull())
    .execute();
  await db.schema.createIndex('email_codes_binding').on('email_codes').columns(['binding_hash', 'purpose']).execute();
  await db.schema.createIndex('email_codes_email_key').on('email_codes').columns(['email_key', 'created_at']).execute();
  await db.schema.createIndex('email_codes_expires_at').on('email_codes').column('expires_at').execute();

  await db.schema
    .createTable('recovery_codes')
    .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('code_hash', 'text', (c) => c.notNull())
    .addColumn('created_at', t.bigint, (c) => c.notNull())
    .addColumn('used_at', t.bigint)
    .addPrimaryKeyConstraint('recovery_codes_pk', ['user_id', 'code_hash'])
    .execute();

  await db.schema
    .createTable('failure_counters')
    .addColumn('key', 'text', (c) => c.primaryKey())
    .addColumn('count', 'integer', (c) => c.notNull())
    .addColumn('last_failure_at', t.bigint, (c) => c.notNull())
    .execute();
}

// biome-ignore lint/suspicious/noExplicitAny: see up()
export async function down(db: Kysely<any>): Promise<void> {
  for (const table of ['failure_counters', 'recovery_codes', 'email_codes']) await db.schema.dropTable(table).ifExists().execute();
  await db.schema.alterTable('sessions').dropColumn('scope').execute();
  await db.schema.dropIndex('users_email_key').ifExists().execute();
  for (const column of ['email_verified_at', 'email_key', 'email']) await db.schema.alterTable('users').dropColumn(column).execute();
}
