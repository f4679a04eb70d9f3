import type { Kysely } from 'kysely';
import type { Database } from '../../db/database.ts';
import type { Clock } from '../../platform/clock.ts';
import type { Random } from '../../platform/random.ts';
import type { SecretBox } from '../../platform/secret-box.ts';
import type { AuditChainService } from '../audit/audit-chain.service.ts';
import type { AuditService } from '../audit/audit.module.ts';
import { filterMatches, messageIdOf, payloadOf, webhookTypeOf } from './webhooks.catalogue.ts';
import type { SendResult, WebhookHttpClient } from './webhooks.http.ts';
import { webhooksRepository as repository, type EndpointRow } from './webhooks.repository.ts';
import { nextAttemptAt, signerFor, webhookHeaders, type RetryPolicy, type WebhookSigner } from './webhooks.signing.ts';
import { receivesEvent, storedSigninDeliveries } from './webhooks.signin-delivery.ts';
import type { WebhookDeliveriesTable, WebhookDeliveryAttemptsTable } from './webhooks.tables.ts';

type Outcome = 'delivered' | 'retry' | 'failed' | 'disabled';

/** What the dispatcher tells the metrics. */
export interface DispatcherObserver {
  /** `delivered`, `retry` (failed, will try again), `failed` (gave up), `disabled` (410 or long failure). */
  delivery(outcome: Outcome): void;
  /** An event not sent, and why (`signin_failed_rate`). */
  dropped?(reason: string): void;
}

export interface WebhookDispatcher {
  /** Fans newly sealed audit events out to the endpoints and makes their first attempts; answers how many events it took. */
  fanOut(): Promise<number>;
  /** Claims the due deliveries (retries, redeliveries, tests, endpoints that are failing) and sends them; answers how many. */
  deliverDue(): Promise<number>;
  /** One pass of both (tests call it; the loop runs it every poll interval); true when a batch was full (more work waits). */
  runOnce(): Promise<boolean>;
  /** Runs a pass soon (after a redelivery or a test event on this node). */
  kick(): void;
  /** Whether an endpoint was enabled at the last pass (the sign-in summaries idle otherwise). */
  readonly active: boolean;
  /** Deliveries waiting and events not fanned out yet, and the age of the oldest (metrics). */
  backlog(): Promise<{ depth: number; oldestAgeSeconds: number }>;
  start(onError: (err: unknown) => void): void;
  /** Stops the loop, waits for the attempts in flight and gives the fan-out lease up. */
  close(): Promise<void>;
}

/** Sealed events read per fan-out pass. */
const FAN_OUT_BATCH = 256;
/** Due deliveries claimed per pass (a pass that claims this many is followed at once by the next). */
const DELIVERIES_PER_PASS = 32;
/** How long a fan-out pass waits for its first attempts before committing; slower ones are recorded when they end. */
const FIRST_ATTEMPT_WAIT_MS = 1000;
/** First attempts in flight per node at most; beyond, new deliveries queue for `deliverDue` (back-pressure). */
const MAX_IN_FLIGHT = 512;
/** The fan-out lease outlives a stalled node by this much; renewed by every pass. */
const FANOUT_LEASE_MS = 30_000;
const SYSTEM = { requestId: null, ip: null, userAgent: null, actor: { kind: 'system' as const, id: null } };

interface Sent {
  delivery: Pick<WebhookDeliveriesTable, 'id' | 'attempts'>;
  endpoint: EndpointRow;
  sentAt: number;
  result: SendResult;
}

interface AttemptOutcome {
  sent: Sent;
  /** The delivery's state after the attempt. */
  change: Pick<WebhookDeliveriesTable, 'status' | 'attempts' | 'next_attempt_at' | 'lease_until' | 'last_attempt_at' | 'last_status_code' | 'last_error' | 'delivered_at'>;
  /** Its row in the attempt log. */
  attempt: WebhookDeliveryAttemptsTable;
  outcome: Outcome;
  success: boolean;
  gone: boolean;
}

/** A fresh delivery of one fan-out pass, and its first attempt if one was made. */
interface Fresh {
  row: WebhookDeliveriesTable;
  endpoint: EndpointRow;
  attempt?: Promise<Sent | undefined>;
  sent?: Sent | undefined;
}

/**
 * Delivery (SEC-58). The sealed audit chain is the outbox: every audit row commits with the change
 * it describes, so nothing is written for webhooks on the request path. One node at a time (a lease
 * on `webhook_fanout`) reads the newly sealed events, makes each subscribed endpoint's first attempt
 * at once, and then, in one commit, moves its position in the chain forward and writes every
 * delivery with its outcome (a delivered one is written once, never updated). An attempt still out
 * after a second is written as pending under a lease and recorded when it ends; an endpoint already
 * failing gets its deliveries queued instead. Retries, redeliveries and test events go through
 * `deliverDue` on every node: claimed with a lease (`lease_until`), sent outside any transaction,
 * their outcome written only if the lease is still this node's.
 *
 * At least once, with a stable `webhook-id` (the audit event's id): a node that dies after sending
 * and before its commit leaves the chain position where it was, and the next holder of the lease
 * sends those events again; (endpoint, message id) is unique, so no delivery is queued twice.
 */
export function createWebhookDispatcher(deps: {
  db: Kysely<Database>;
  clock: Clock;
  random: Random;
  box: SecretBox;
  audit: AuditService;
  chain: Pick<AuditChainService, 'readSealedAfter' | 'newestSeq'>;
  http: WebhookHttpClient;
  policy: RetryPolicy;
  timeoutMs: number;
  pollIntervalMs: number;
  secretOverlapMs: number;
  disableAfterFailingMs: number;
  /** signin.failed events sent per minute at most (the fan-out runs on one node at a time); more are counted and dropped. */
  signinFailedPerMinute: number;
  observer?: DispatcherObserver;
}): WebhookDispatcher {
  const { db, clock } = deps;
  const owner = deps.random.timeOrderedUuid();
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let stopped = false;
  let again = false;
  let minute = 0;
  let signinFailures = 0;
  /** First attempts still out after their pass committed, each recorded when it ends. */
  const inFlight = new Set<Promise<void>>();
  let inFlightCount = 0;
  let onError: (err: unknown) => void = () => {};
  let active = false;

  function signinFailedAllowed(now: number): boolean {
    const current = Math.floor(now / 60_000);
    if (current !== minute) {
      minute = current;
      signinFailures = 0;
    }
    signinFailures += 1;
    return signinFailures <= deps.signinFailedPerMinute;
  }

  async function fanOut(): Promise<number> {
    const now = clock.now();
    const [endpoints, position, newest] = await Promise.all([repository.enabledEndpoints(db), repository.fanoutPosition(db), deps.chain.newestSeq()]);
    active = endpoints.length > 0;
    // Nothing new sealed: no write at all (an idle database stays idle, and its WAL can be truncated).
    if (newest <= position) return 0;
    const from = await repository.leaseFanout(db, owner, now, now + FANOUT_LEASE_MS);
    if (from === undefined) return 0;
    if (!active) {
      // Nobody subscribes: keep the position at the chain's end, so that a new endpoint (which only
      // gets events from its creation on) does not start by reading through what came before it.
      if (newest > from) await db.transaction().execute((trx) => repository.advanceFanout(trx, owner, from, newest, now));
      return 0;
    }
    const events = await deps.chain.readSealedAfter(from, FAN_OUT_BATCH);
    if (events.length === 0) return 0;
    const to = events[events.length - 1]!.seq;

    const subscribers = endpoints.map((endpoint) => ({
      endpoint,
      filter: JSON.parse(endpoint.event_types) as string[],
      since: Number(endpoint.created_at),
      signin: storedSigninDeliveries(endpoint),
    }));
    const fresh: Fresh[] = [];
    for (const { event } of events) {
      const type = webhookTypeOf(event.type);
      if (!type) continue;
      // An endpoint gets the events that happened after it was made, never older ones; sign-ins,
      // failed and succeeded, each, sampled or summarized (webhooks.signin-delivery.ts) as it chose.
      const receivers = subscribers.filter((s) => s.since <= event.at && filterMatches(s.filter, type) && receivesEvent(s.signin, type, event.id));
      if (receivers.length === 0) continue;
      if (type === 'signin.failed' && !signinFailedAllowed(now)) {
        deps.observer?.dropped?.('signin_failed_rate');
        continue;
      }
      const payload = payloadOf(event, type);
      for (const { endpoint } of receivers) fresh.push({ row: newDelivery(deps.random.timeOrderedUuid(), endpoint.id, messageIdOf(event.id), type, payload, now), endpoint });
    }

    // First attempts now, for endpoints that are not failing and while this node is not swamped.
    const lease = now + 2 * deps.timeoutMs + 5_000;
    for (const item of fresh) {
      if (item.endpoint.failing_since !== null || inFlightCount >= MAX_IN_FLIGHT) continue;
      inFlightCount += 1;
      item.attempt = send(item.row, item.endpoint).then(
        (sent) => (item.sent = sent),
        () => undefined,
      );
    }
    const attempts = fresh.flatMap((f) => (f.attempt ? [f.attempt] : []));
    if (attempts.length > 0) {
      let wait: NodeJS.Timeout | undefined;
      await Promise.race([Promise.all(attempts), new Promise((resolve) => (wait = setTimeout(resolve, FIRST_ATTEMPT_WAIT_MS)))]);
      clearTimeout(wait);
    }

    const recordedAt = clock.now();
    const finished = new Map(fresh.flatMap((f) => (f.sent ? [[f, outcomeOf(f.sent, recordedAt)] as const] : [])));
    const outstanding = fresh.filter((f) => f.attempt && f.sent === undefined);
    inFlightCount -= finished.size;
    const outcomes: Outcome[] = [];
    const committed = await db.transaction().execute(async (trx) => {
      // Lost the lease (this node stalled past it): the new holder sends these events itself.
      if (!(await repository.advanceFanout(trx, owner, from, to, recordedAt))) return false;
      const rows = fresh.map((f) => {
        const done = finished.get(f);
        if (done) return { ...f.row, ...done.change };
        return f.attempt ? { ...f.row, lease_until: lease } : f.row;
      });
      const inserted = await repository.insertDeliveries(trx, rows);
      // A delivery already queued (the same event fanned out before a crash) keeps its own row and log.
      await writeOutcomes(trx, [...finished.values()].filter((done) => inserted.has(done.attempt.delivery_id)), outcomes);
      return true;
    });
    if (committed) for (const outcome of outcomes) deps.observer?.delivery(outcome);
    // Slow first attempts: recorded under their lease when they end (a lost pass: not at all, they are sent again).
    if (outstanding.length > 0) {
      const later: Promise<void> = Promise.all(outstanding.map((f) => f.attempt))
        .then(async (results) => {
          inFlightCount -= outstanding.length;
          const sent = results.filter((s): s is Sent => s !== undefined);
          if (committed && sent.length > 0) await record(sent, lease);
        })
        .catch(onError)
        .finally(() => inFlight.delete(later));
      inFlight.add(later);
    }
    return events.length;
  }

  // Opened secrets and their signers, by sealed box: an AES-GCM open and a key decode per endpoint
  // and rotation, not per delivery. Bounded; a rotation makes new boxes, so stale ones just age out.
  const signers = new Map<string, WebhookSigner>();
  function signerOf(endpointId: string, sealed: string): WebhookSigner {
    let signer = signers.get(sealed);
    if (!signer) {
      if (signers.size >= 256) signers.clear();
      signer = signerFor(deps.box.open(sealed, `webhook-endpoint:${endpointId}`));
      signers.set(sealed, signer);
    }
    return signer;
  }
  function signersOf(endpoint: EndpointRow, now: number): WebhookSigner[] {
    const list = [signerOf(endpoint.id, endpoint.secret_sealed)];
    if (endpoint.previous_secret_sealed && Number(endpoint.previous_secret_expires_at ?? 0) > now) list.push(signerOf(endpoint.id, endpoint.previous_secret_sealed));
    return list;
  }

  async function send(delivery: Pick<WebhookDeliveriesTable, 'id' | 'attempts' | 'message_id' | 'payload'>, endpoint: EndpointRow | undefined): Promise<Sent | undefined> {
    if (endpoint?.enabled !== 1) return undefined; // the lease runs out; an enable picks it up again
    const sentAt = clock.now();
    const headers = webhookHeaders({ messageId: delivery.message_id, timestampMs: sentAt, body: delivery.payload, signers: signersOf(endpoint, sentAt) });
    return { delivery, endpoint, sentAt, result: await deps.http.post(endpoint.url, headers, delivery.payload) };
  }

  /** A delivery's state after an attempt, and the log row of that attempt. */
  function outcomeOf(sent: Sent, now: number): AttemptOutcome {
    const { delivery, sentAt, result } = sent;
    const success = result.status !== null && result.status >= 200 && result.status < 300;
    const attempts = Number(delivery.attempts) + 1;
    // 3xx is a failure: redirects are never followed (SEC-58), the endpoint URL is what it says.
    const error = success ? null : (result.error ?? `http_${result.status}`);
    const gone = result.status === 410;
    const next = success || gone ? null : nextAttemptAt({ now, attempts, policy: deps.policy, jitter: jitter(), retryAfterSeconds: result.retryAfterSeconds });
    const change: AttemptOutcome['change'] = {
      status: success ? 'delivered' : next === null ? 'failed' : 'pending',
      attempts,
      next_attempt_at: next,
      lease_until: null,
      last_attempt_at: sentAt,
      last_status_code: result.status,
      last_error: error,
      delivered_at: success ? now : null,
    };
    const attempt: WebhookDeliveryAttemptsTable = {
      id: deps.random.timeOrderedUuid(),
      delivery_id: delivery.id,
      attempted_at: sentAt,
      outcome: success ? 'success' : 'failure',
      status_code: result.status,
      latency_ms: result.latencyMs,
      error,
      response_excerpt: result.excerpt,
    };
    const outcome: Outcome = success ? 'delivered' : next === null ? 'failed' : 'retry';
    return { sent, change, attempt, outcome, success, gone };
  }

  /** The attempt log rows of these outcomes and the state of their endpoints (failing since, disabled), in `trx`. */
  async function writeOutcomes(trx: Kysely<Database>, done: AttemptOutcome[], outcomes: Outcome[]): Promise<void> {
    const now = clock.now();
    const log: WebhookDeliveryAttemptsTable[] = [];
    const endpoints = new Map<string, { endpoint: EndpointRow; succeeded: boolean; failedAt?: number; gone: boolean }>();
    for (const { sent: s, attempt, outcome, success, gone } of done) {
      outcomes.push(outcome);
      log.push(attempt);
      const state = endpoints.get(s.endpoint.id) ?? { endpoint: s.endpoint, succeeded: false, gone: false };
      if (success) state.succeeded = true;
      else state.failedAt = Math.min(state.failedAt ?? s.sentAt, s.sentAt);
      if (gone) state.gone = true;
      endpoints.set(s.endpoint.id, state);
    }
    await repository.insertAttempts(trx, log);
    for (const { endpoint, succeeded, failedAt, gone } of endpoints.values()) {
      if (succeeded && endpoint.failing_since !== null) await repository.endpointSucceeded(trx, endpoint.id);
      if (!gone && (succeeded || failedAt === undefined)) continue;
      const failingSince = gone ? undefined : await repository.endpointFailed(trx, endpoint.id, failedAt ?? now);
      const reason = gone ? 'gone' : failingSince !== undefined && now - failingSince >= deps.disableAfterFailingMs ? 'failing' : undefined;
      if (reason && (await repository.disable(trx, endpoint.id, reason, now))) {
        outcomes.push('disabled');
        await deps.audit
          .statement(SYSTEM, {
            type: 'webhook_endpoint.disabled',
            outcome: 'success',
            reason: gone ? 'the receiver answered 410 Gone' : `every attempt failed for ${Math.round((now - (failingSince ?? now)) / 1000)} s`,
            data: { endpointId: endpoint.id, reason },
          })
          .execute(trx);
      }
    }
  }

  /** The outcomes of attempts made under `lease`, in one commit: each delivery (if this node still holds it), its log row, the endpoints' state. */
  async function record(sent: Sent[], lease: number): Promise<void> {
    const outcomes: Outcome[] = [];
    await db.transaction().execute(async (trx) => {
      const now = clock.now();
      const mine: AttemptOutcome[] = [];
      for (const s of sent) {
        const done = outcomeOf(s, now);
        // Another node took it over after our lease ran out: it records its own attempt.
        if (await repository.finishAttempt(trx, s.delivery.id, lease, done.change)) mine.push(done);
      }
      await writeOutcomes(trx, mine, outcomes);
    });
    for (const outcome of outcomes) deps.observer?.delivery(outcome);
  }

  function jitter(): number {
    const b = deps.random.bytes(2);
    return ((b[0] ?? 0) * 256 + (b[1] ?? 0)) / 65_536;
  }

  async function deliverDue(): Promise<number> {
    const now = clock.now();
    // Long enough for one attempt with its timeout, then another node may take the delivery over.
    const lease = now + 2 * deps.timeoutMs + 5_000;
    const claimed = await repository.claimDue(db, now, lease, DELIVERIES_PER_PASS);
    if (claimed.length === 0) return 0;
    const endpoints = new Map((await repository.findEndpoints(db, [...new Set(claimed.map((d) => d.endpoint_id))])).map((e) => [e.id, e]));
    const sent = (await Promise.all(claimed.map((delivery) => send(delivery, endpoints.get(delivery.endpoint_id))))).filter((s) => s !== undefined);
    await record(sent, lease);
    return claimed.length;
  }

  async function runOnce(): Promise<boolean> {
    const fanned = await fanOut();
    const sent = await deliverDue();
    return fanned === FAN_OUT_BATCH || sent === DELIVERIES_PER_PASS;
  }

  function schedule(delay: number): void {
    if (stopped) return;
    timer = setTimeout(() => {
      timer = undefined;
      again = false;
      running = runOnce()
        .then((more) => {
          // A full batch: the backlog is worked off without waiting a poll interval.
          if (more) again = true;
        })
        .catch(onError)
        .finally(() => {
          running = undefined;
          schedule(again ? 0 : deps.pollIntervalMs);
        });
    }, delay);
    timer.unref();
  }

  return {
    fanOut,
    deliverDue,
    runOnce,
    kick() {
      again = true;
      if (timer && !running) {
        clearTimeout(timer);
        schedule(0);
      }
    },
    get active() {
      return active;
    },
    async backlog() {
      const now = clock.now();
      const [pending, position, newest] = await Promise.all([repository.pendingDeliveries(db), repository.fanoutPosition(db), deps.chain.newestSeq()]);
      const unread = (await repository.enabledEndpoints(db)).length > 0 ? Math.max(0, newest - position) : 0;
      const oldestUnread = unread > 0 ? (await deps.chain.readSealedAfter(position, 1))[0]?.event.at : undefined;
      const oldest = [pending.oldest, oldestUnread].filter((v): v is number => typeof v === 'number');
      return { depth: pending.depth + unread, oldestAgeSeconds: oldest.length > 0 ? Math.max(0, (now - Math.min(...oldest)) / 1000) : 0 };
    },
    start(handler) {
      onError = handler;
      schedule(deps.pollIntervalMs);
    },
    async close() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await running;
      await Promise.all(inFlight);
      await repository.releaseFanout(db, owner).catch(() => undefined);
    },
  };
}

export function newDelivery(id: string, endpointId: string, messageId: string, type: string, payload: string, now: number): WebhookDeliveriesTable {
  return {
    id,
    endpoint_id: endpointId,
    message_id: messageId,
    event_type: type,
    payload,
    created_at: now,
    status: 'pending',
    attempts: 0,
    next_attempt_at: now,
    lease_until: null,
    last_attempt_at: null,
    last_status_code: null,
    last_error: null,
    delivered_at: null,
  };
}
