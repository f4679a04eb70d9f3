import type { Kysely } from 'kysely';
import type { Database } from '../../db/database.ts';
import type { Clock } from '../../platform/clock.ts';
import type { RequestContext } from '../../platform/request-context.ts';
import type { AuditService } from '../audit/audit.module.ts';
import { assign } from './experiments.assignment.ts';
import { ExperimentErrors } from './experiments.errors.ts';
import { CONVERSION_METRICS, type ConversionMetric, type Experiment, type ExperimentFeature, type ExperimentsRepository } from './experiments.repository.ts';
import { analyse, type ExperimentResult } from './experiments.stats.ts';

export const CONTROL = 'control';

export interface NewExperiment {
  key: string;
  feature: ExperimentFeature;
  description?: string;
  variants: { key: string; weight?: number; description?: string }[];
  metric: ConversionMetric;
  conversionWindowHours?: number;
  trafficPercent?: number;
  baselineRate?: number;
  minimumDetectableEffect?: number;
}

/** The arm a user gets for a feature: from a running experiment, or the winner a stopped one rolled out. */
export interface Assignment {
  experiment: string;
  variant: string;
  /** True once the experiment stopped and rolled out this variant: nothing to report any more. */
  concluded: boolean;
}

export interface ExperimentsService {
  create(input: NewExperiment, context: RequestContext): Promise<Experiment>;
  list(): Promise<Experiment[]>;
  /** The experiment with its analysis (exposures, conversions, intervals, verdicts). */
  report(key: string): Promise<{ experiment: Experiment; result: ExperimentResult }>;
  start(key: string, context: RequestContext): Promise<Experiment>;
  /** Stops it; with a `winner`, that variant is what everybody gets from now on (roll out). */
  stop(key: string, winner: string | null, context: RequestContext): Promise<Experiment>;
  /** From the cache (refreshed every `refreshMs` on every node): no query on the hot path. */
  variantFor(feature: ExperimentFeature, userId: string): Promise<Assignment | undefined>;
  /** The client showed `variant` to the user: the first report counts. */
  expose(key: string, userId: string, variant: string): Promise<void>;
}

export interface ExperimentsDeps {
  db: Kysely<Database>;
  repository: ExperimentsRepository;
  audit: AuditService;
  clock: Clock;
  random: { uuid(): string };
  /** HKDF subkey that keys the arm buckets (platform/keys.ts `experimentBuckets`). */
  bucketKey: Uint8Array;
  /** How stale a node's view of the experiments may be (a stop reaches every node within this). */
  refreshMs: number;
}

/** Unique variant keys with a control, and a plan whose rates stay inside (0, 1). */
function definitionProblem(input: NewExperiment): string | undefined {
  const keys = input.variants.map((v) => v.key);
  if (new Set(keys).size !== keys.length) return '/variants: variant keys must be unique';
  if (!keys.includes(CONTROL)) return `/variants: one variant must be "${CONTROL}" (the current behaviour the others are compared with)`;
  const baseline = input.baselineRate ?? 0.1;
  const effect = input.minimumDetectableEffect ?? 0.05;
  if (baseline + effect >= 1) return '/minimumDetectableEffect: baselineRate + minimumDetectableEffect must stay below 1';
  return undefined;
}

export function createExperimentsService(deps: ExperimentsDeps): ExperimentsService {
  const { db, repository, audit, clock } = deps;
  let cache: { loadedAt: number; version: string; live: Experiment[] } | undefined;
  let loading: Promise<Experiment[]> | undefined;

  async function live(): Promise<Experiment[]> {
    const now = clock.now();
    if (cache && now - cache.loadedAt < deps.refreshMs) return cache.live;
    // One refresh at a time per node; concurrent callers share it.
    loading ??= (async () => {
      try {
        const version = await repository.version(db);
        const rows = cache && cache.version === version ? cache.live : await repository.listLive(db);
        cache = { loadedAt: clock.now(), version, live: rows };
        return rows;
      } finally {
        loading = undefined;
      }
    })();
    return loading;
  }
  const invalidate = () => {
    cache = undefined;
  };

  async function find(key: string): Promise<Experiment> {
    const found = await repository.findByKey(db, key);
    if (!found) throw ExperimentErrors.experiment_not_found({ detail: `No experiment "${key.slice(0, 64)}"` });
    return found;
  }

  return {
    async create(input, context) {
      const problem = definitionProblem(input);
      if (problem) throw ExperimentErrors.invalid_experiment({ detail: problem });
      const now = clock.now();
      const experiment: Experiment = {
        id: deps.random.uuid(),
        key: input.key,
        feature: input.feature,
        description: input.description ?? '',
        // The control first: its place in the bucket order is fixed, the others follow as given.
        variants: [...input.variants]
          .sort((a, b) => (a.key === CONTROL ? -1 : b.key === CONTROL ? 1 : 0))
          .map((v) => ({ key: v.key, weight: v.weight ?? 1, description: v.description ?? '' })),
        metric: input.metric,
        conversionWindowHours: input.conversionWindowHours ?? 24,
        trafficPercent: input.trafficPercent ?? 100,
        baselineRate: input.baselineRate ?? 0.1,
        minimumDetectableEffect: input.minimumDetectableEffect ?? 0.05,
        status: 'draft',
        winner: null,
        createdAt: now,
        startedAt: null,
        stoppedAt: null,
        updatedAt: now,
      };
      await db.transaction().execute(async (trx) => {
        if (!(await repository.insert(trx, experiment))) throw ExperimentErrors.experiment_exists({ detail: `"${input.key}" is taken` });
        await audit.record(trx, context, { type: 'experiment.created', outcome: 'success', data: { key: experiment.key, feature: experiment.feature, variants: experiment.variants.map((v) => v.key), metric: experiment.metric } });
      });
      return experiment;
    },

    list: () => repository.list(db),

    async report(key) {
      const experiment = await find(key);
      const arms = await repository.armCounts(db, experiment.id, CONVERSION_METRICS[experiment.metric], experiment.conversionWindowHours * 3_600_000, experiment.stoppedAt);
      // Every configured arm appears, with zeros before its first exposure.
      const counts = experiment.variants.map((v) => arms.find((a) => a.variant === v.key) ?? { variant: v.key, exposures: 0, conversions: 0 });
      return { experiment, result: analyse(counts, { control: CONTROL, baselineRate: experiment.baselineRate, minimumDetectableEffect: experiment.minimumDetectableEffect }) };
    },

    async start(key, context) {
      const experiment = await find(key);
      if (experiment.status !== 'draft') throw ExperimentErrors.experiment_state({ detail: `"${key}" is ${experiment.status}; only a draft starts` });
      const now = clock.now();
      await db.transaction().execute(async (trx) => {
        const running = await repository.runningOf(trx, experiment.feature);
        if (running) throw ExperimentErrors.experiment_conflict({ detail: `"${running.key}" is running for ${experiment.feature}` });
        if (!(await repository.setStatus(trx, experiment.id, 'draft', { status: 'running', startedAt: now, now }))) throw ExperimentErrors.experiment_state({ detail: 'changed meanwhile; reload' });
        await audit.record(trx, context, { type: 'experiment.started', outcome: 'success', data: { key, feature: experiment.feature } });
      });
      invalidate();
      return { ...experiment, status: 'running', startedAt: now, updatedAt: now };
    },

    async stop(key, winner, context) {
      const experiment = await find(key);
      if (experiment.status !== 'running') throw ExperimentErrors.experiment_state({ detail: `"${key}" is ${experiment.status}; only a running experiment stops` });
      if (winner !== null && !experiment.variants.some((v) => v.key === winner)) throw ExperimentErrors.invalid_experiment({ detail: `/winner: "${winner.slice(0, 32)}" is not a variant of "${key}"` });
      const now = clock.now();
      await db.transaction().execute(async (trx) => {
        if (!(await repository.setStatus(trx, experiment.id, 'running', { status: 'stopped', winner, stoppedAt: now, now }))) throw ExperimentErrors.experiment_state({ detail: 'changed meanwhile; reload' });
        await audit.record(trx, context, { type: 'experiment.stopped', outcome: 'success', data: { key, feature: experiment.feature, winner } });
      });
      invalidate();
      return { ...experiment, status: 'stopped', winner, stoppedAt: now, updatedAt: now };
    },

    async variantFor(feature, userId) {
      const experiments = (await live()).filter((e) => e.feature === feature);
      const running = experiments.find((e) => e.status === 'running');
      if (running) {
        const variant = assign(deps.bucketKey, running, userId);
        return variant === undefined ? undefined : { experiment: running.key, variant, concluded: false };
      }
      // The newest stopped experiment of this feature with a winner: rolled out to everybody.
      const rolledOut = experiments.find((e) => e.status === 'stopped' && e.winner !== null);
      return rolledOut?.winner ? { experiment: rolledOut.key, variant: rolledOut.winner, concluded: true } : undefined;
    },

    async expose(key, userId, variant) {
      const experiment = await find(key);
      if (experiment.status !== 'running') throw ExperimentErrors.experiment_not_running({ detail: `"${key}" is ${experiment.status}` });
      const assigned = assign(deps.bucketKey, experiment, userId);
      if (assigned !== variant) throw ExperimentErrors.variant_mismatch({ detail: assigned === undefined ? 'This user is not in the experiment' : `This user's variant is "${assigned}"` });
      await repository.expose(db, { experimentId: experiment.id, userId, variant, at: clock.now() });
    },
  };
}
