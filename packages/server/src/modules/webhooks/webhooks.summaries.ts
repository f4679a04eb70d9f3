import type { Kysely } from 'kysely';
import type { Database } from '../../db/database.ts';
import type { Clock } from '../../platform/clock.ts';
import type { Random } from '../../platform/random.ts';
import { countAuditEventsByMinute } from '../audit/audit.module.ts';
import { auditTypesOf, failureMethodOf, filterMatches } from './webhooks.catalogue.ts';
import { newDelivery } from './webhooks.dispatcher.ts';
import { webhooksRepository as repository } from './webhooks.repository.ts';
import { SUMMARY_TYPE, SUMMARY_WINDOW_MS, summaryMessageId, summaryPayloadOf, type FailureCount } from './webhooks.signin-failed.ts';
import type { WebhookDeliveriesTable } from './webhooks.tables.ts';

/**
 * A minute is summarized this long after it ends: sign-ins that started in it have committed
 * their audit rows by then, and the nodes' clocks (NTP) agree to well within it.
 */
export const SUMMARY_SETTLE_MS = 10_000;
/** Minutes one pass summarizes per endpoint at most (a node that was down catches up over a few passes). */
const MINUTES_PER_PASS = 60;

export interface SigninFailedSummaries {
  /** Writes the deliveries of every summary that is due; answers how many. */
  runOnce(): Promise<number>;
  start(onError: (err: unknown) => void): void;
  close(): Promise<void>;
}

/**
 * `signin.failed.summary` (README, "Webhooks"): for each endpoint in summary mode, one delivery per
 * minute with failures, counted from the audit log (audit_events_type_created_at), not from the
 * sealed chain the other events go out from, so the rate bound of the fan-out does not change the counts. Every node runs it; the
 * endpoint's `signin_failed_summarized_until` says how far its summaries have got and moves on
 * by compare-and-set in the commit that writes the deliveries, and each delivery's `webhook-id` is
 * derived from (endpoint, minute) with `ON CONFLICT DO NOTHING`: two nodes write one summary.
 */
export function createSigninFailedSummaries(deps: {
  db: Kysely<Database>;
  clock: Clock;
  random: Random;
  intervalMs: number;
  /** Whether any endpoint is enabled (the job idles otherwise). */
  isActive: () => boolean;
  /** Tells the dispatcher there is something to send. */
  kick: () => void;
}): SigninFailedSummaries {
  const { db, clock } = deps;
  const failureTypes = [...auditTypesOf(['signin.failed'])];
  // The minute boundary up to which this node found every summary written: nothing is due before the next one.
  let doneUntil = 0;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<unknown> | undefined;
  let stopped = false;

  async function summarize(endpoint: { id: string; event_types: string; signin_failed_summarized_until: number | null }, due: number, now: number): Promise<{ written: number; caughtUp: boolean }> {
    const from = Number(endpoint.signin_failed_summarized_until);
    const to = Math.min(due, Math.floor(from / SUMMARY_WINDOW_MS) * SUMMARY_WINDOW_MS + MINUTES_PER_PASS * SUMMARY_WINDOW_MS);
    const deliveries: WebhookDeliveriesTable[] = [];
    // An endpoint whose filter lets no signin.failed through moves on without summaries.
    if (filterMatches(JSON.parse(endpoint.event_types) as string[], 'signin.failed')) {
      const minutes = new Map<number, FailureCount[]>();
      for (const row of await countAuditEventsByMinute(db, { types: failureTypes, from, to })) {
        const list = minutes.get(row.minute) ?? [];
        const method = failureMethodOf(row.type);
        const errorCode = row.errorCode ?? 'unknown';
        const same = list.find((c) => c.method === method && c.errorCode === errorCode);
        if (same) same.count += row.count;
        else list.push({ method, errorCode, count: row.count });
        minutes.set(row.minute, list);
      }
      for (const [minute, counts] of [...minutes].sort((a, b) => a[0] - b[0])) {
        const window = { start: Math.max(minute, from), end: minute + SUMMARY_WINDOW_MS };
        deliveries.push(newDelivery(deps.random.timeOrderedUuid(), endpoint.id, summaryMessageId(endpoint.id, minute), SUMMARY_TYPE, summaryPayloadOf(window, counts), now));
      }
    }
    const written = await db.transaction().execute(async (trx) => {
      // Another node got there first (or the endpoint changed mode, or was disabled): its summaries are its business.
      if (!(await repository.advanceSummaries(trx, endpoint.id, from, to))) return 0;
      await repository.insertDeliveries(trx, deliveries);
      return deliveries.length;
    });
    return { written, caughtUp: to === due };
  }

  async function runOnce(): Promise<number> {
    const now = clock.now();
    const due = Math.floor((now - SUMMARY_SETTLE_MS) / SUMMARY_WINDOW_MS) * SUMMARY_WINDOW_MS;
    if (due <= doneUntil) return 0;
    let written = 0;
    let caughtUp = true;
    for (const endpoint of await repository.summariesDue(db, due)) {
      const result = await summarize(endpoint, due, now);
      written += result.written;
      caughtUp &&= result.caughtUp;
    }
    if (caughtUp) doneUntil = due;
    if (written > 0) deps.kick();
    return written;
  }

  function schedule(onError: (err: unknown) => void): void {
    if (stopped) return;
    timer = setTimeout(() => {
      timer = undefined;
      if (!deps.isActive()) return schedule(onError);
      running = runOnce()
        .catch(onError)
        .finally(() => {
          running = undefined;
          schedule(onError);
        });
    }, deps.intervalMs);
    timer.unref();
  }

  return {
    runOnce,
    start(onError) {
      schedule(onError);
    },
    async close() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await running;
    },
  };
}
