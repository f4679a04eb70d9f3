import type { Kysely } from 'kysely';
import type { Database } from '../../db/database.ts';
import type { Clock } from '../../platform/clock.ts';
import { serialPasses } from '../../platform/passes.ts';
import { activityOf, dimensionsOf, factsOf, passkeyHolderOf, type AnalyticsEvent, type Fact } from './analytics.facts.ts';
import type { AnalyticsRepository, RollupDelta, UserDay } from './analytics.repository.ts';

const DAY_MS = 86_400_000;

export interface RollupWorkerDeps {
  db: Kysely<Database>;
  clock: Clock;
  repository: AnalyticsRepository;
  /** Sealed audit events after `seq`, in chain order (AuditChainService.readSealedAfter). */
  readAfter(seq: number, limit: number): Promise<AnalyticsEvent[]>;
  /** Provider name of each credential id that still exists. */
  providersOf(credentialIds: readonly string[]): Promise<Map<string, string>>;
  /** Provider name of an AAGUID (registrations name theirs). */
  providerOfAaguid(aaguid: string): string;
  /** Events folded per transaction. */
  batchSize: number;
  lateReportDays: number;
}

export interface RollupWorker {
  /** Folds every sealed event after the watermark into the rollups; 0 when another node holds the lock. */
  run(): Promise<number>;
  /** Deletes dedup ids and user-days no late report can touch any more. */
  sweep(): Promise<void>;
  /** Waits for a pass in progress (before the database closes). */
  close(): Promise<void>;
}

/**
 * The rollup worker: off the request path, one at a time across nodes. Each batch of sealed audit
 * events (the chain's seq is gap-free and in commit order, so nothing committed is ever skipped)
 * is folded into the daily counts in one transaction together with the new watermark; a crash
 * before the commit leaves both untouched, so every event is counted exactly once.
 */
export function createRollupWorker(deps: RollupWorkerDeps): RollupWorker {
  const { db, repository } = deps;

  async function foldBatch(): Promise<number | null> {
    const from = await repository.watermark(db);
    const events = await deps.readAfter(from, deps.batchSize);
    if (events.length === 0) return 0;
    const to = events[events.length - 1]!.seq;
    const credentialIds = [...new Set(events.flatMap((e) => (e.credentialId && e.type === 'passkey.authenticated' ? [e.credentialId] : [])))];
    const providers = await deps.providersOf(credentialIds);
    return db.transaction().execute(async (trx) => {
      if (!(await repository.tryLock(trx))) return null;
      const now = deps.clock.now();
      // Retried client reports: the first with a given id counts (within the batch and across batches).
      const reportIds: string[] = [];
      for (const e of events) {
        const id = e.type === 'ceremony.reported' ? e.data?.reportId : undefined;
        if (typeof id === 'string') reportIds.push(id);
      }
      const fresh = reportIds.length > 0 ? await repository.markReportsSeen(trx, [...new Set(reportIds)], now) : new Set<string>();
      const deltas = new Map<string, RollupDelta>();
      const add = (f: Fact) => {
        const key = `${f.day}\u0000${f.metric}\u0000${f.detail}\u0000${f.dims.device}\u0000${f.dims.os}\u0000${f.dims.browser}\u0000${f.dims.provider}`;
        const found = deltas.get(key);
        if (found) found.count += f.count;
        else deltas.set(key, { day: f.day, metric: f.metric, detail: f.detail, dims: f.dims, count: f.count });
      };
      const holders = new Map<string, string>();
      const active = new Map<string, { day: string; userId: string; event: AnalyticsEvent }>();
      for (const e of events) {
        const reportId = e.type === 'ceremony.reported' ? e.data?.reportId : undefined;
        if (typeof reportId === 'string') {
          if (!fresh.has(reportId)) continue;
          fresh.delete(reportId);
        }
        let provider = '';
        if (e.type === 'passkey.registered' || e.type === 'passkey.imported') provider = typeof e.data?.aaguid === 'string' ? deps.providerOfAaguid(e.data.aaguid) : '';
        else if (e.type === 'passkey.authenticated' && e.credentialId) provider = providers.get(e.credentialId) ?? '';
        for (const f of factsOf(e, { lateDays: deps.lateReportDays, provider })) add(f);
        const holder = passkeyHolderOf(e);
        if (holder) {
          const known = holders.get(holder.userId);
          if (!known || holder.day < known) holders.set(holder.userId, holder.day);
        }
        const activity = activityOf(e);
        if (activity && !active.has(`${activity.day}/${activity.userId}`)) active.set(`${activity.day}/${activity.userId}`, { ...activity, event: e });
      }

      // Distinct active users per day, and those of them holding a passkey by the end of that day.
      if (holders.size > 0) {
        await repository.notePasskeyHolders(trx, holders);
        const bySince = new Map<string, string[]>();
        for (const [userId, day] of holders) bySince.set(day, [...(bySince.get(day) ?? []), userId]);
        for (const [day, userIds] of bySince) {
          // User-days counted before the passkey was known (a later batch, or a late event) now count it.
          for (const { day: on, ...dims } of await repository.flagPasskeyDays(trx, day, userIds)) {
            add({ day: on, metric: 'active.users_with_passkey', detail: '', dims: { ...dims, provider: '' }, count: 1 });
          }
        }
      }
      if (active.size > 0) {
        const since = await repository.passkeySince(trx, [...new Set([...active.values()].map((a) => a.userId))]);
        const candidates: UserDay[] = [...active.values()].map((a) => {
          const d = dimensionsOf(a.event);
          const holderSince = since.get(a.userId);
          return { day: a.day, userId: a.userId, dims: { device: d.device, os: d.os, browser: d.browser }, hasPasskey: holderSince !== undefined && holderSince <= a.day };
        });
        for (const inserted of await repository.insertUserDays(trx, candidates)) {
          const dims = { ...inserted.dims, provider: '' };
          add({ day: inserted.day, metric: 'active.users', detail: '', dims, count: 1 });
          if (inserted.hasPasskey) add({ day: inserted.day, metric: 'active.users_with_passkey', detail: '', dims, count: 1 });
        }
      }
      await repository.addCounts(trx, [...deltas.values()]);
      if (!(await repository.advance(trx, from, to, now))) throw new ConcurrentRollup();
      return events.length;
    });
  }

  async function runAll(): Promise<number> {
    let total = 0;
    for (;;) {
      let folded: number | null;
      try {
        folded = await foldBatch();
      } catch (error) {
        if (error instanceof ConcurrentRollup) return total;
        throw error;
      }
      if (folded === null) return total;
      total += folded;
      if (folded < deps.batchSize) return total;
      await new Promise((resolve) => setImmediate(resolve));
    }
  }

  const passes = serialPasses(runAll);
  return {
    // A call during a pass gets the next one: the running pass may have read the chain before
    // the events the caller just sealed.
    run: passes.run,
    async sweep() {
      const now = deps.clock.now();
      await repository.sweep(db, now - (deps.lateReportDays + 2) * DAY_MS, deps.lateReportDays + 2);
    },
    close: passes.idle,
  };
}

class ConcurrentRollup extends Error {}
