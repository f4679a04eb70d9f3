import type { Kysely } from 'kysely';
import type { Database } from '../../db/database.ts';
import type { Clock } from '../../platform/clock.ts';
import type { Random } from '../../platform/random.ts';
import type { SecretBox } from '../../platform/secret-box.ts';
import type { AuditService } from '../audit/audit.module.ts';
import { filterMatches, messageIdOf } from './webhooks.catalogue.ts';
import type { Webhook } from 'standardwebhooks';
import type { SendResult, WebhookHttpClient } from './webhooks.http.ts';
import { webhooksRepository as repository, type DeliveryRow, type EndpointRow } from './webhooks.repository.ts';
import { nextAttemptAt, signerFor, webhookHeaders, type RetryPolicy } from './webhooks.signing.ts';
import { receivesEvent, storedSigninFailedDelivery } from './webhooks.signin-failed.ts';
import type { WebhookDeliveriesTable, WebhookDeliveryAttemptsTable } from './webhooks.tables.ts';

/** What the dispatcher tells the metrics. */
export interface DispatcherObserver {
  /** `delivered`, `retry` (failed, will try again), `failed` (gave up), `disabled` (410 or long failure). */
  delivery(outcome: 'delivered' | 'retry' | 'failed' | 'disabled'): void;
}

export interface WebhookDispatcher {
  /** Moves outbox rows into per-endpoint deliveries; answers how many outbox rows it took. */
  fanOut(): Promise<number>;
  /** Claims the due deliveries and sends them; answers how many it sent. */
  deliverDue(): Promise<number>;
  /** One pass of both (tests call it; the loop runs it every poll interval); true when a batch was full (more work waits). */
  runOnce(): Promise<boolean>;
  /** Runs a pass soon (after an enqueue on this node). */
  kick(): void;
  start(onError: (err: unknown) => void): void;
  /** Stops the loop and waits for the attempts in flight. */
  close(): Promise<void>;
}

const FAN_OUT_BATCH = 200;
/** Attempts in flight at once per node (a pass that claims this many is followed at once by the next). */
const DELIVERIES_PER_PASS = 32;
const SYSTEM = { requestId: null, ip: null, userAgent: null, actor: { kind: 'system' as const, id: null } };

/**
 * The read side of the outbox (SEC-58). Every node runs it; the database decides who does what:
 * fan-out locks outbox rows (`FOR UPDATE SKIP LOCKED` on PostgreSQL) and, in the same commit,
 * writes one delivery per matching endpoint and deletes them; a delivery is claimed with a lease
 * (`lease_until`), sent outside any transaction, and its outcome written only if the lease is
 * still this node's. All state (attempts, next_attempt_at) is in the database: a node that
 * restarts, or another node, carries on where it stopped. At least once, with a stable
 * `webhook-id`: a node that dies after sending and before recording sends again after the lease.
 */
export function createWebhookDispatcher(deps: {
  db: Kysely<Database>;
  clock: Clock;
  random: Random;
  box: SecretBox;
  audit: AuditService;
  http: WebhookHttpClient;
  policy: RetryPolicy;
  timeoutMs: number;
  pollIntervalMs: number;
  secretOverlapMs: number;
  disableAfterFailingMs: number;
  isActive: () => boolean;
  observer?: DispatcherObserver;
}): WebhookDispatcher {
  const { db, clock } = deps;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let stopped = false;
  let again = false;

  async function fanOut(): Promise<number> {
    return db.transaction().execute(async (trx) => {
      const rows = await repository.claimOutbox(trx, FAN_OUT_BATCH);
      if (rows.length === 0) return 0;
      const endpoints = (await repository.enabledFilters(trx)).map((e) => ({ ...e, filter: JSON.parse(e.event_types) as string[], signinFailed: storedSigninFailedDelivery(e.signin_failed) }));
      const now = clock.now();
      const deliveries: WebhookDeliveriesTable[] = [];
      for (const row of rows) {
        for (const endpoint of endpoints) {
          // An endpoint gets the events that happened after it was made, never older ones.
          if (endpoint.created_at > row.created_at || !filterMatches(endpoint.filter, row.event_type)) continue;
          if (!receivesEvent(endpoint.signinFailed, row.event_type, row.id)) continue; // sign-in failures: each, sampled or summarized
          deliveries.push(newDelivery(deps.random.timeOrderedUuid(), endpoint.id, messageIdOf(row.id), row.event_type, row.payload, now));
        }
      }
      await repository.insertDeliveries(trx, deliveries);
      await repository.deleteOutbox(trx, rows.map((r) => r.id));
      return rows.length;
    });
  }

  // Opened secrets and their signers, by sealed box: an AES-GCM open and a key decode per endpoint
  // and rotation, not per delivery. Bounded; a rotation makes new boxes, so stale ones just age out.
  const signers = new Map<string, Webhook>();
  function signerOf(endpointId: string, sealed: string): Webhook {
    let signer = signers.get(sealed);
    if (!signer) {
      if (signers.size >= 256) signers.clear();
      signer = signerFor(deps.box.open(sealed, `webhook-endpoint:${endpointId}`));
      signers.set(sealed, signer);
    }
    return signer;
  }
  function signersOf(endpoint: EndpointRow, now: number): Webhook[] {
    const list = [signerOf(endpoint.id, endpoint.secret_sealed)];
    if (endpoint.previous_secret_sealed && (endpoint.previous_secret_expires_at ?? 0) > now) list.push(signerOf(endpoint.id, endpoint.previous_secret_sealed));
    return list;
  }

  interface Sent {
    delivery: DeliveryRow;
    endpoint: EndpointRow;
    sentAt: number;
    result: SendResult;
  }

  async function send(delivery: DeliveryRow, endpoint: EndpointRow | undefined): Promise<Sent | undefined> {
    if (endpoint?.enabled !== 1) return undefined; // the lease runs out; an enable picks it up again
    const sentAt = clock.now();
    const headers = webhookHeaders({ messageId: delivery.message_id, timestampMs: sentAt, body: delivery.payload, signers: signersOf(endpoint, sentAt) });
    return { delivery, endpoint, sentAt, result: await deps.http.post(endpoint.url, headers, delivery.payload) };
  }

  /** The outcomes of one pass, in one commit: each delivery (if this node still holds it), its log row, the endpoints' state. */
  async function record(sent: Sent[], lease: number): Promise<void> {
    const now = clock.now();
    const outcomes: ('delivered' | 'retry' | 'failed' | 'disabled')[] = [];
    await db.transaction().execute(async (trx) => {
      const log: WebhookDeliveryAttemptsTable[] = [];
      const endpoints = new Map<string, { endpoint: EndpointRow; succeeded: boolean; failedAt?: number; gone: boolean }>();
      for (const { delivery, endpoint, sentAt, result } of sent) {
        const success = result.status !== null && result.status >= 200 && result.status < 300;
        const attempts = delivery.attempts + 1;
        // 3xx is a failure: redirects are never followed (SEC-58), the endpoint URL is what it says.
        const error = success ? null : (result.error ?? `http_${result.status}`);
        const gone = result.status === 410;
        const next = success || gone ? null : nextAttemptAt({ now, attempts, policy: deps.policy, jitter: jitter(), retryAfterSeconds: result.retryAfterSeconds });
        const mine = await repository.finishAttempt(trx, delivery.id, lease, {
          status: success ? 'delivered' : next === null ? 'failed' : 'pending',
          attempts,
          next_attempt_at: next,
          lease_until: null,
          last_attempt_at: sentAt,
          last_status_code: result.status,
          last_error: error,
          delivered_at: success ? now : null,
        });
        if (!mine) continue; // another node took it over after our lease ran out; it records its own attempt
        outcomes.push(success ? 'delivered' : next === null ? 'failed' : 'retry');
        log.push({
          id: deps.random.timeOrderedUuid(),
          delivery_id: delivery.id,
          attempted_at: sentAt,
          outcome: success ? 'success' : 'failure',
          status_code: result.status,
          latency_ms: result.latencyMs,
          error,
          response_excerpt: result.excerpt,
        });
        const state = endpoints.get(endpoint.id) ?? { endpoint, succeeded: false, gone: false };
        if (success) state.succeeded = true;
        else state.failedAt = Math.min(state.failedAt ?? sentAt, sentAt);
        if (gone) state.gone = true;
        endpoints.set(endpoint.id, state);
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

  function schedule(delay: number, onError: (err: unknown) => void): void {
    if (stopped) return;
    timer = setTimeout(() => {
      timer = undefined;
      if (!deps.isActive() && !again) return schedule(deps.pollIntervalMs, onError);
      again = false;
      running = runOnce()
        .then((more) => {
          // A full batch: the backlog is worked off without waiting a poll interval.
          if (more) again = true;
        })
        .catch(onError)
        .finally(() => {
          running = undefined;
          schedule(again ? 0 : deps.pollIntervalMs, onError);
        });
    }, delay);
    timer.unref();
  }

  let errorHandler: (err: unknown) => void = () => {};
  return {
    fanOut,
    deliverDue,
    runOnce,
    kick() {
      again = true;
      if (timer && !running) {
        clearTimeout(timer);
        schedule(0, errorHandler);
      }
    },
    start(onError) {
      errorHandler = onError;
      schedule(deps.pollIntervalMs, onError);
    },
    async close() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await running;
    },
  };
}

function newDelivery(id: string, endpointId: string, messageId: string, type: string, payload: string, now: number): WebhookDeliveriesTable {
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

export { newDelivery };
