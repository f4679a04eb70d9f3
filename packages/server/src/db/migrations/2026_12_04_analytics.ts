import type { Kysely } from 'kysely';
import { columnTypes, dialectOf } from '../columns.ts';

/**
 * Issue 14 item 4 (KPIs and funnels): daily rollups filled incrementally from the sealed audit
 * chain by one worker at a time (modules/analytics/analytics.worker.ts), its watermark, and the
 * small state it needs to stay exact under duplicate and late reports.
 */
// biome-ignore lint/suspicious/noExplicitAny: migrations are frozen in time and typed Kysely<any>
export async function up(db: Kysely<any>): Promise<void> {
  const t = columnTypes(dialectOf(db));
  await db.schema
    .createTable('analytics_daily')
    .addColumn('day', 'text', (c) => c.notNull())
    .addColumn('metric', 'text', (c) => c.notNull())
    .addColumn('detail', 'text', (c) => c.notNull())
    .addColumn('device', 'text', (c) => c.notNull())
    .addColumn('os', 'text', (c) => c.notNull())
    .addColumn('browser', 'text', (c) => c.notNull())
    .addColumn('provider', 'text', (c) => c.notNull())
    .addColumn('count', t.bigint, (c) => c.notNull())
    .addPrimaryKeyConstraint('analytics_daily_pk', ['day', 'metric', 'detail', 'device', 'os', 'browser', 'provider'])
    .execute();

  await db.schema
    .createTable('analytics_state')
    .addColumn('id', 'integer', (c) => c.primaryKey())
    .addColumn('last_seq', t.bigint, (c) => c.notNull())
    .addColumn('updated_at', t.bigint, (c) => c.notNull())
    .execute();
  await db.insertInto('analytics_state').values({ id: 1, last_seq: 0, updated_at: 0 }).execute();

  await db.schema
    .createTable('analytics_seen_reports')
    .addColumn('report_id', 'text', (c) => c.primaryKey())
    .addColumn('seen_at', t.bigint, (c) => c.notNull())
    .execute();
  await db.schema.createIndex('analytics_seen_reports_seen_at').on('analytics_seen_reports').column('seen_at').execute();

  await db.schema
    .createTable('analytics_passkey_users')
    .addColumn('user_id', 'text', (c) => c.primaryKey())
    .addColumn('since_day', 'text', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('analytics_user_days')
    .addColumn('day', 'text', (c) => c.notNull())
    .addColumn('user_id', 'text', (c) => c.notNull())
    .addColumn('device', 'text', (c) => c.notNull())
    .addColumn('os', 'text', (c) => c.notNull())
    .addColumn('browser', 'text', (c) => c.notNull())
    .addColumn('has_passkey', 'integer', (c) => c.notNull())
    .addPrimaryKeyConstraint('analytics_user_days_pk', ['day', 'user_id'])
    .execute();
  await db.schema.createIndex('analytics_user_days_user').on('analytics_user_days').columns(['user_id', 'day']).execute();
}

// biome-ignore lint/suspicious/noExplicitAny: see up()
export async function down(db: Kysely<any>): Promise<void> {
  for (const table of ['analytics_user_days', 'analytics_passkey_users', 'analytics_seen_reports', 'analytics_state', 'analytics_daily']) {
    await db.schema.dropTable(table).ifExists().execute();
  }
}
