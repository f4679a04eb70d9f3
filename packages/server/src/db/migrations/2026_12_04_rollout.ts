import type { Kysely } from 'kysely';
import { columnTypes, dialectOf } from '../columns.ts';

/**
 * Issue 14 items 1 and 2 (passkey intelligence, gradual rollout):
 * - `users.segment`: a label the company's backend sets through the management API, that rollout
 *   rules can target (`beta`, `staff`...).
 * - `rollout_rules`: one rule per feature; `rollout_state` (one row) holds a version every change
 *   bumps in its own commit, so every node sees a change by polling one tiny row.
 * - `device_signals`: what a device (a random id the elements keep, stored only as an HMAC) did
 *   lately: ceremony outcomes it reported and "not now" answers; read by device, bounded by time.
 */
// biome-ignore lint/suspicious/noExplicitAny: migrations are frozen in time and typed Kysely<any>
export async function up(db: Kysely<any>): Promise<void> {
  const t = columnTypes(dialectOf(db));
  await db.schema.alterTable('users').addColumn('segment', 'text').execute();
  await db.schema.createIndex('users_segment').on('users').column('segment').execute();

  await db.schema
    .createTable('rollout_rules')
    .addColumn('feature', 'text', (c) => c.primaryKey())
    .addColumn('percentage', 'real', (c) => c.notNull())
    .addColumn('bucket_by', 'text', (c) => c.notNull())
    .addColumn('operating_systems', 'text', (c) => c.notNull())
    .addColumn('browsers', 'text', (c) => c.notNull())
    .addColumn('platforms', 'text', (c) => c.notNull())
    .addColumn('segments', 'text', (c) => c.notNull())
    .addColumn('allow', 'text', (c) => c.notNull())
    .addColumn('deny', 'text', (c) => c.notNull())
    .addColumn('kill_switch', 'integer', (c) => c.notNull())
    .addColumn('updated_at', t.bigint, (c) => c.notNull())
    .addColumn('updated_by', 'text')
    .execute();
  await db.schema
    .createTable('rollout_state')
    .addColumn('id', 'integer', (c) => c.primaryKey())
    .addColumn('version', t.bigint, (c) => c.notNull())
    .addColumn('updated_at', t.bigint, (c) => c.notNull())
    .execute();
  await db.insertInto('rollout_state').values({ id: 1, version: 0, updated_at: 0 }).execute();

  await db.schema
    .createTable('device_signals')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('device_key', 'text', (c) => c.notNull())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('ceremony', 'text')
    .addColumn('user_id', 'text')
    .addColumn('credential_id', 'text')
    .addColumn('os', 'text')
    .addColumn('browser', 'text')
    .addColumn('platform', 'text')
    .addColumn('created_at', t.bigint, (c) => c.notNull())
    .execute();
  await db.schema.createIndex('device_signals_device').on('device_signals').columns(['device_key', 'created_at']).execute();
  await db.schema.createIndex('device_signals_user_kind').on('device_signals').columns(['user_id', 'kind', 'created_at']).execute();
  await db.schema.createIndex('device_signals_created_at').on('device_signals').column('created_at').execute();
}

// biome-ignore lint/suspicious/noExplicitAny: see up()
export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('device_signals').ifExists().execute();
  await db.schema.dropTable('rollout_state').ifExists().execute();
  await db.schema.dropTable('rollout_rules').ifExists().execute();
  await db.schema.dropIndex('users_segment').ifExists().execute();
  await db.schema.alterTable('users').dropColumn('segment').execute();
}
