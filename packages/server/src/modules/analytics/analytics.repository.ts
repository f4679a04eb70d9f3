import { sql, type Kysely } from 'kysely';
import type { Database } from '../../db/database.ts';
import type { Dialect } from '../../db/create-db.ts';
import type { Dimensions } from './analytics.facts.ts';

/** pg_try_advisory_xact_lock key of the rollup worker: "LKANLYT1" in ASCII. */
const WORKER_LOCK_KEY = 0x4c4b_414e_4c59_5431n;
/** Rows per multi-row statement (7 parameters each: well under SQLite's and PostgreSQL's limits). */
const CHUNK = 500;

export interface RollupDelta {
  day: string;
  metric: string;
  detail: string;
  dims: Dimensions;
  count: number;
}

export interface UserDay {
  day: string;
  userId: string;
  dims: Pick<Dimensions, 'device' | 'os' | 'browser'>;
  hasPasskey: boolean;
}

export type Dimension = 'device' | 'os' | 'browser' | 'provider';

export interface RollupRow {
  day: string;
  metric: string;
  detail: string;
  group: string | null;
  count: number;
}

function chunks<T>(items: readonly T[], size = CHUNK): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** The analytics tables: the worker's state and upserts, and the dashboard's grouped reads. */
export function createAnalyticsRepository(dialect: Dialect) {
  return {
    /** One worker at a time across nodes (PostgreSQL advisory lock for the transaction); SQLite's writer lock serializes already. */
    async tryLock(trx: Kysely<Database>): Promise<boolean> {
      if (dialect !== 'postgres') return true;
      const { rows } = await sql<{ ok: boolean }>`SELECT pg_try_advisory_xact_lock(${sql.raw(WORKER_LOCK_KEY.toString())}::bigint) AS ok`.execute(trx);
      return rows[0]?.ok === true;
    },

    async watermark(db: Kysely<Database>): Promise<number> {
      const row = await db.selectFrom('analytics_state').select('last_seq').where('id', '=', 1).executeTakeFirst();
      return Number(row?.last_seq ?? 0);
    },

    /** Compare-and-set: false when another worker moved it first (the caller rolls back). */
    async advance(trx: Kysely<Database>, from: number, to: number, now: number): Promise<boolean> {
      const result = await trx.updateTable('analytics_state').set({ last_seq: to, updated_at: now }).where('id', '=', 1).where('last_seq', '=', from).executeTakeFirst();
      return Number(result.numUpdatedRows) === 1;
    },

    /** Records report ids; returns the ones not seen before (the others are retries, counted already). */
    async markReportsSeen(trx: Kysely<Database>, ids: readonly string[], now: number): Promise<Set<string>> {
      const fresh = new Set<string>();
      for (const part of chunks(ids)) {
        const rows = await trx
          .insertInto('analytics_seen_reports')
          .values(part.map((report_id) => ({ report_id, seen_at: now })))
          .onConflict((oc) => oc.column('report_id').doNothing())
          .returning('report_id')
          .execute();
        for (const r of rows) fresh.add(r.report_id);
      }
      return fresh;
    },

    /** Keeps the earliest day each user is known to hold a passkey. */
    async notePasskeyHolders(trx: Kysely<Database>, holders: ReadonlyMap<string, string>): Promise<void> {
      for (const part of chunks([...holders])) {
        await trx
          .insertInto('analytics_passkey_users')
          .values(part.map(([user_id, since_day]) => ({ user_id, since_day })))
          .onConflict((oc) =>
            oc.column('user_id').doUpdateSet({
              since_day: sql<string>`CASE WHEN excluded.since_day < analytics_passkey_users.since_day THEN excluded.since_day ELSE analytics_passkey_users.since_day END`,
            }),
          )
          .execute();
      }
    },

    async passkeySince(trx: Kysely<Database>, userIds: readonly string[]): Promise<Map<string, string>> {
      const since = new Map<string, string>();
      for (const part of chunks(userIds)) {
        const rows = await trx.selectFrom('analytics_passkey_users').select(['user_id', 'since_day']).where('user_id', 'in', part).execute();
        for (const r of rows) since.set(r.user_id, r.since_day);
      }
      return since;
    },

    /** Marks the user-days on or after `sinceDay` that did not yet count the user's passkey; returns them (to count). */
    async flagPasskeyDays(trx: Kysely<Database>, sinceDay: string, userIds: readonly string[]): Promise<(UserDay['dims'] & { day: string })[]> {
      const flipped: (UserDay['dims'] & { day: string })[] = [];
      for (const part of chunks(userIds)) {
        const rows = await trx
          .updateTable('analytics_user_days')
          .set({ has_passkey: 1 })
          .where('user_id', 'in', part)
          .where('day', '>=', sinceDay)
          .where('has_passkey', '=', 0)
          .returning(['day', 'device', 'os', 'browser'])
          .execute();
        flipped.push(...rows);
      }
      return flipped;
    },

    /** Inserts the user-days not there yet; returns the new ones (the first activity of a user on a day). */
    async insertUserDays(trx: Kysely<Database>, days: readonly UserDay[]): Promise<UserDay[]> {
      const inserted: UserDay[] = [];
      for (const part of chunks(days)) {
        const rows = await trx
          .insertInto('analytics_user_days')
          .values(part.map((d) => ({ day: d.day, user_id: d.userId, ...d.dims, has_passkey: d.hasPasskey ? 1 : 0 })))
          .onConflict((oc) => oc.columns(['day', 'user_id']).doNothing())
          .returning(['day', 'user_id', 'device', 'os', 'browser', 'has_passkey'])
          .execute();
        for (const r of rows) inserted.push({ day: r.day, userId: r.user_id, dims: { device: r.device, os: r.os, browser: r.browser }, hasPasskey: Number(r.has_passkey) === 1 });
      }
      return inserted;
    },

    /** Adds the deltas to the daily counts (one upsert per chunk of distinct keys). */
    async addCounts(trx: Kysely<Database>, deltas: readonly RollupDelta[]): Promise<void> {
      for (const part of chunks(deltas)) {
        await trx
          .insertInto('analytics_daily')
          .values(part.map((d) => ({ day: d.day, metric: d.metric, detail: d.detail, ...d.dims, count: d.count })))
          .onConflict((oc) =>
            oc.columns(['day', 'metric', 'detail', 'device', 'os', 'browser', 'provider']).doUpdateSet({ count: sql<number>`analytics_daily.count + excluded.count` }),
          )
          .execute();
      }
    },

    /** Summed counts per day, metric and detail (and one dimension when grouped), for days in [from, to]. */
    async sums(db: Kysely<Database>, from: string, to: string, by: Dimension | undefined, metrics?: readonly string[]): Promise<RollupRow[]> {
      let query = db
        .selectFrom('analytics_daily')
        .select(['day', 'metric', 'detail', sql<number>`sum(count)`.as('count')])
        .where('day', '>=', from)
        .where('day', '<=', to);
      if (metrics) query = query.where('metric', 'in', [...metrics]);
      if (by) {
        const rows = await query.select(sql.ref<string>(by).as('grp')).groupBy(['day', 'metric', 'detail', by]).execute();
        return rows.map((r) => ({ day: r.day, metric: r.metric, detail: r.detail, group: r.grp, count: Number(r.count) }));
      }
      const rows = await query.groupBy(['day', 'metric', 'detail']).execute();
      return rows.map((r) => ({ day: r.day, metric: r.metric, detail: r.detail, group: null, count: Number(r.count) }));
    },

    /** The raw rollup rows of [from, to] in key order, a page at a time (BI export). */
    async rollupPage(db: Kysely<Database>, from: string, to: string, after: readonly string[] | undefined, limit: number) {
      let query = db.selectFrom('analytics_daily').selectAll().where('day', '>=', from).where('day', '<=', to);
      if (after) {
        query = query.where(
          sql<boolean>`(day, metric, detail, device, os, browser, provider) > (${sql.join(after.map((v) => sql`${v}`))})`,
        );
      }
      const rows = await query.orderBy('day').orderBy('metric').orderBy('detail').orderBy('device').orderBy('os').orderBy('browser').orderBy('provider').limit(limit).execute();
      return rows.map((r) => ({ ...r, count: Number(r.count) }));
    },

    /**
     * Sweep: report ids seen before `seenBefore`, and user-days more than `keepDays` before the
     * newest one (the worker's frontier, not the clock: a backlog being folded keeps its recent days).
     */
    async sweep(db: Kysely<Database>, seenBefore: number, keepDays: number): Promise<void> {
      await db.deleteFrom('analytics_seen_reports').where('seen_at', '<', seenBefore).execute();
      const newest = await db.selectFrom('analytics_user_days').select(sql<string | null>`max(day)`.as('day')).executeTakeFirst();
      if (!newest?.day) return;
      const before = new Date(Date.parse(`${newest.day}T00:00:00.000Z`) - keepDays * 86_400_000).toISOString().slice(0, 10);
      await db.deleteFrom('analytics_user_days').where('day', '<', before).execute();
    },
  };
}

export type AnalyticsRepository = ReturnType<typeof createAnalyticsRepository>;
