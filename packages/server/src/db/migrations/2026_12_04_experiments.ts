import type { Kysely } from 'kysely';
import { columnTypes, dialectOf } from '../columns.ts';

/**
 * Issue 14 item 3 (A/B tests of passkey UX): experiments and their exposures. An exposure row is
 * the first time a user was shown an arm (primary key: one per user and experiment, so duplicate
 * and late reports count once). Conversions are not stored: they are the user's own audit events
 * (passkey registered / authenticated) within the window after the exposure, found through the
 * `audit_events_subject` index.
 */
// biome-ignore lint/suspicious/noExplicitAny: migrations are frozen in time and typed Kysely<any>
export async function up(db: Kysely<any>): Promise<void> {
  const t = columnTypes(dialectOf(db));
  await db.schema
    .createTable('experiments')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('key', 'text', (c) => c.notNull().unique())
    .addColumn('feature', 'text', (c) => c.notNull())
    .addColumn('description', 'text', (c) => c.notNull())
    .addColumn('variants', 'text', (c) => c.notNull())
    .addColumn('metric', 'text', (c) => c.notNull())
    .addColumn('conversion_window_hours', 'integer', (c) => c.notNull())
    .addColumn('traffic_percent', 'integer', (c) => c.notNull())
    .addColumn('baseline_rate', 'real', (c) => c.notNull())
    .addColumn('minimum_detectable_effect', 'real', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('winner', 'text')
    .addColumn('created_at', t.bigint, (c) => c.notNull())
    .addColumn('started_at', t.bigint)
    .addColumn('stopped_at', t.bigint)
    .addColumn('updated_at', t.bigint, (c) => c.notNull())
    .execute();
  await db.schema.createIndex('experiments_feature_status').on('experiments').columns(['feature', 'status']).execute();

  await db.schema
    .createTable('experiment_exposures')
    .addColumn('experiment_id', 'text', (c) => c.notNull().references('experiments.id').onDelete('cascade'))
    .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('variant', 'text', (c) => c.notNull())
    .addColumn('exposed_at', t.bigint, (c) => c.notNull())
    .addPrimaryKeyConstraint('experiment_exposures_pk', ['experiment_id', 'user_id'])
    .execute();
  await db.schema.createIndex('experiment_exposures_user').on('experiment_exposures').column('user_id').execute();
}

// biome-ignore lint/suspicious/noExplicitAny: see up()
export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('experiment_exposures').ifExists().execute();
  await db.schema.dropTable('experiments').ifExists().execute();
}
