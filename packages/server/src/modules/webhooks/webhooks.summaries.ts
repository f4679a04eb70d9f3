import type { Kysely } from 'kysely';
import type { Database } from '../../db/database.ts';
import type { Clock } from '../../platform/clock.ts';
import type { Random } from '../../platform/random.ts';
import { countAuditEventsByMinute, countAuditEventsByMinuteAndData } from '../audit/audit.module.ts';
import { auditTypesOf, failureMethodOf, filterMatches, successMethodOf } from './webhooks.catalogue.ts';
import { newDelivery } from './webhooks.dispatcher.ts';
import { webhooksRepository as repository } from './webhooks.repository.ts';
import { OUTCOMES, SIGNIN_OUTCOMES, SUMMARY_WINDOW_MS, summaryMessageId, summaryPayloadOf, type SigninCount, type SigninOutcome } from './webhooks.signin-delivery.ts';
import type { WebhookDeliveriesTable } from './webhooks.tables.ts';

/**
 * A minute is summarized this long after it ends: sign-ins that started in it have committed
 * their audit rows by then, and the nodes' clocks (NTP) agree to well within it.
 */
export const SUMMARY_SETTLE_MS = 10_000;
/** Minutes one pass summarizes per endpoint at most (a node that was down catches up over a few passes). */
const MINUTES_PER_PASS = 60;

export interface SigninSummaries {
  /** Writes the deliveries of every summary that is due; answers how many. */
  runOnce(): Promise<number>;
  start(onError: (err: unknown) => void): void;
  close(): Promise<void>;
}

/**
 * `signin.failed.summary` and `signin.succeeded.summary` (README, "Webhooks"): for each endpoint
 * in summary mode for an outcome, one delivery per minute with sign-ins of that outcome, counted
 * from the audit log (audit_events_type_created_at), not from the sealed chain the other events
 * go out from, so the rate bound of the fan-out does not change the counts. Every node runs it; the
 * endpoint's `signin_<outcome>_summarized_until` says how far its summaries have got and moves on
 * by compare-and-set in the commit that writes the deliveries, and each delivery's `webhook-id` is
 * derived from (outcome, endpoint, minute) with `ON CONFLICT DO NOTHING`: two nodes write one summary.
 */
export function createSigninSummaries(deps: {
  db: Kysely<Database>;
  clock: Clock;
  random: Random;
  intervalMs: number;
  /** Whether any endpoint is enabled (the job idles otherwise). */
  isActive: () => boolean;
  /** Tells the dispatcher there is something to send. */
  kick: () => void;
}): SigninSummaries {
  const { db, clock } = deps;
  const auditTypes = { failed: [...auditTypesOf(['signin.failed'])], succeeded: [...auditTypesOf(['signin.succeeded'])] };
  // Per outcome, the minute boundary up to which this node found every summary written: nothing is due before the next one.
  const doneUntil: Record<SigninOutcome, number> = { failed: 0, succeeded: 0 };
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<unknown> | undefined;
  let stopped = false;

  /** Counts per minute start: failures by method and error code, successes by method. */
  async function countsByMinute(outcome: SigninOutcome, from: number, to: number): Promise<Map<number, SigninCount[]>> {
    const minutes = new Map<number, SigninCount[]>();
    const add = (minute: number, count: SigninCount) => minutes.set(minute, [...(minutes.get(minute) ?? []), count]);
    if (outcome === 'failed') {
      for (const row of await countAuditEventsByMinute(db, { types: auditTypes.failed, from, to })) add(row.minute, { method: failureMethodOf(row.type), errorCode: row.errorCode ?? 'unknown', count: row.count });
    } else {
      for (const row of await countAuditEventsByMinuteAndData(db, { types: auditTypes.succeeded, from, to })) add(row.minute, { method: successMethodOf(row.data, row.hasCredential), count: row.count });
    }
    return minutes;
  }

  async function summarize(outcome: SigninOutcome, endpoint: { id: string; event_types: string; summarized_until: number }, due: number, now: number): Promise<{ written: number; caughtUp: boolean }> {
    const { eventType, summaryType } = SIGNIN_OUTCOMES[outcome];
    const from = endpoint.summarized_until;
    const to = Math.min(due, Math.floor(from / SUMMARY_WINDOW_MS) * SUMMARY_WINDOW_MS + MINUTES_PER_PASS * SUMMARY_WINDOW_MS);
    const deliveries: WebhookDeliveriesTable[] = [];
    // An endpoint whose filter lets none of the outcome's events through moves on without summaries.
    if (filterMatches(JSON.parse(endpoint.event_types) as string[], eventType)) {
      for (const [minute, counts] of [...(await countsByMinute(outcome, from, to))].sort((a, b) => a[0] - b[0])) {
        const window = { start: Math.max(minute, from), end: minute + SUMMARY_WINDOW_MS };
        deliveries.push(newDelivery(deps.random.timeOrderedUuid(), endpoint.id, summaryMessageId(outcome, endpoint.id, minute), summaryType, summaryPayloadOf(outcome, window, counts), now));
      }
    }
    const written = await db.transaction().execute(async (trx) => {
      // Another node got there first (or the endpoint changed mode, or was disabled): its summaries are its business.
      if (!(await repository.advanceSummaries(trx, outcome, endpoint.id, from, to))) return 0;
      await repository.insertDeliveries(trx, deliveries);
      return deliveries.length;
    });
    return { written, caughtUp: to === due };
  }

  async function runOnce(): Promise<number> {
    const now = clock.now();
    const due = Math.floor((now - SUMMARY_SETTLE_MS) / SUMMARY_WINDOW_MS) * SUMMARY_WINDOW_MS;
    let written = 0;
    for (const outcome of OUTCOMES) {
      if (due <= doneUntil[outcome]) continue;
      let caughtUp = true;
      for (const endpoint of await repository.summariesDue(db, outcome, due)) {
        const result = await summarize(outcome, endpoint, due, now);
        written += result.written;
        caughtUp &&= result.caughtUp;
      }
      if (caughtUp) doneUntil[outcome] = due;
    }
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
