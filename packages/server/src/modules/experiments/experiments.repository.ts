import { sql, type Kysely } from 'kysely';
import type { Database } from '../../db/database.ts';
import type { ExperimentsTable } from './experiments.tables.ts';
import type { ArmCounts } from './experiments.stats.ts';

export interface Experiment {
  id: string;
  key: string;
  feature: ExperimentFeature;
  description: string;
  variants: { key: string; weight: number; description: string }[];
  metric: ConversionMetric;
  conversionWindowHours: number;
  trafficPercent: number;
  baselineRate: number;
  minimumDetectableEffect: number;
  status: 'draft' | 'running' | 'stopped';
  winner: string | null;
  createdAt: number;
  startedAt: number | null;
  stoppedAt: number | null;
  updatedAt: number;
}

export const EXPERIMENT_FEATURES = ['append_prompt', 'passkey_button'] as const;
export type ExperimentFeature = (typeof EXPERIMENT_FEATURES)[number];

/** What counts as a conversion, and the audit event (of the exposed user, after the exposure) that is one. */
export const CONVERSION_METRICS = {
  passkey_created: 'passkey.registered',
  passkey_sign_in: 'passkey.authenticated',
} as const;
export type ConversionMetric = keyof typeof CONVERSION_METRICS;

function toExperiment(row: ExperimentsTable): Experiment {
  return {
    id: row.id,
    key: row.key,
    feature: row.feature as ExperimentFeature,
    description: row.description,
    variants: JSON.parse(row.variants),
    metric: row.metric as ConversionMetric,
    conversionWindowHours: Number(row.conversion_window_hours),
    trafficPercent: Number(row.traffic_percent),
    baselineRate: Number(row.baseline_rate),
    minimumDetectableEffect: Number(row.minimum_detectable_effect),
    status: row.status,
    winner: row.winner,
    createdAt: Number(row.created_at),
    startedAt: row.started_at === null ? null : Number(row.started_at),
    stoppedAt: row.stopped_at === null ? null : Number(row.stopped_at),
    updatedAt: Number(row.updated_at),
  };
}

export function createExperimentsRepository() {
  return {
    /** False when the key is taken (unique constraint, no check-then-write race). */
    async insert(db: Kysely<Database>, e: Experiment): Promise<boolean> {
      const result = await db
        .insertInto('experiments')
        .values({
          id: e.id,
          key: e.key,
          feature: e.feature,
          description: e.description,
          variants: JSON.stringify(e.variants),
          metric: e.metric,
          conversion_window_hours: e.conversionWindowHours,
          traffic_percent: e.trafficPercent,
          baseline_rate: e.baselineRate,
          minimum_detectable_effect: e.minimumDetectableEffect,
          status: e.status,
          winner: null,
          created_at: e.createdAt,
          started_at: null,
          stopped_at: null,
          updated_at: e.updatedAt,
        })
        .onConflict((oc) => oc.column('key').doNothing())
        .executeTakeFirst();
      return Number(result.numInsertedOrUpdatedRows ?? 0) === 1;
    },
    async findByKey(db: Kysely<Database>, key: string): Promise<Experiment | undefined> {
      const row = await db.selectFrom('experiments').selectAll().where('key', '=', key).executeTakeFirst();
      return row ? toExperiment(row) : undefined;
    },
    async list(db: Kysely<Database>): Promise<Experiment[]> {
      const rows = await db.selectFrom('experiments').selectAll().orderBy('created_at', 'desc').orderBy('id').execute();
      return rows.map(toExperiment);
    },
    /** What deciding needs: running experiments, and stopped ones that rolled out a winner. */
    async listLive(db: Kysely<Database>): Promise<Experiment[]> {
      const rows = await db
        .selectFrom('experiments')
        .selectAll()
        .where((eb) => eb.or([eb('status', '=', 'running'), eb.and([eb('status', '=', 'stopped'), eb('winner', 'is not', null)])]))
        .orderBy('stopped_at', 'desc')
        .execute();
      return rows.map(toExperiment);
    },
    /** Newest change of any experiment: nodes poll it to refresh their cache. */
    async version(db: Kysely<Database>): Promise<string> {
      const row = await db.selectFrom('experiments').select([(eb) => eb.fn.max('updated_at').as('newest'), (eb) => eb.fn.countAll().as('n')]).executeTakeFirst();
      return `${row?.newest ?? 0}:${row?.n ?? 0}`;
    },
    /** Compare-and-set on the status: false when another request changed it first. */
    async setStatus(
      db: Kysely<Database>,
      id: string,
      from: Experiment['status'],
      to: { status: Experiment['status']; winner?: string | null; startedAt?: number; stoppedAt?: number; now: number },
    ): Promise<boolean> {
      const result = await db
        .updateTable('experiments')
        .set({
          status: to.status,
          updated_at: to.now,
          ...(to.winner !== undefined ? { winner: to.winner } : {}),
          ...(to.startedAt !== undefined ? { started_at: to.startedAt } : {}),
          ...(to.stoppedAt !== undefined ? { stopped_at: to.stoppedAt } : {}),
        })
        .where('id', '=', id)
        .where('status', '=', from)
        .executeTakeFirst();
      return Number(result.numUpdatedRows) === 1;
    },
    async runningOf(db: Kysely<Database>, feature: ExperimentFeature): Promise<Experiment | undefined> {
      const row = await db.selectFrom('experiments').selectAll().where('feature', '=', feature).where('status', '=', 'running').executeTakeFirst();
      return row ? toExperiment(row) : undefined;
    },
    /** The first exposure of a user counts; repeats and late duplicates change nothing. True if this one was new. */
    async expose(db: Kysely<Database>, row: { experimentId: string; userId: string; variant: string; at: number }): Promise<boolean> {
      const result = await db
        .insertInto('experiment_exposures')
        .values({ experiment_id: row.experimentId, user_id: row.userId, variant: row.variant, exposed_at: row.at })
        .onConflict((oc) => oc.columns(['experiment_id', 'user_id']).doNothing())
        .executeTakeFirst();
      return Number(result.numInsertedOrUpdatedRows ?? 0) === 1;
    },
    /**
     * Exposures and conversions per arm: a conversion is an exposed user with a successful audit
     * event of `eventType` within `windowMs` after their exposure (and before `until`, the stop).
     * One indexed probe of `audit_events_subject` per exposure; no scan of the audit log.
     */
    async armCounts(db: Kysely<Database>, experimentId: string, eventType: string, windowMs: number, until: number | null): Promise<ArmCounts[]> {
      const end = until ?? Number.MAX_SAFE_INTEGER;
      const rows = await db
        .selectFrom('experiment_exposures as x')
        .where('x.experiment_id', '=', experimentId)
        .groupBy('x.variant')
        .select((eb) => [
          'x.variant',
          eb.fn.countAll<number>().as('exposures'),
          eb.fn
            .sum<number>(
              eb
                .case()
                .when(
                  eb.exists(
                    eb
                      .selectFrom('audit_events as e')
                      .select(sql`1`.as('one'))
                      .whereRef('e.subject_user_id', '=', 'x.user_id')
                      .whereRef('e.created_at', '>=', 'x.exposed_at')
                      .where('e.created_at', '<=', sql<number>`x.exposed_at + ${windowMs}`)
                      .where('e.created_at', '<=', end)
                      .where('e.type', '=', eventType)
                      .where('e.outcome', '=', 'success'),
                  ),
                )
                .then(1)
                .else(0)
                .end(),
            )
            .as('conversions'),
        ])
        .execute();
      return rows.map((r) => ({ variant: r.variant, exposures: Number(r.exposures), conversions: Number(r.conversions ?? 0) }));
    },
  };
}

export type ExperimentsRepository = ReturnType<typeof createExperimentsRepository>;
