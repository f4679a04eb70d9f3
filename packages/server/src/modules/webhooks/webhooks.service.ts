import type { Kysely } from 'kysely';
import type { Database } from '../../db/database.ts';
import type { Clock } from '../../platform/clock.ts';
import type { Random } from '../../platform/random.ts';
import type { RequestContext } from '../../platform/request-context.ts';
import type { SecretBox } from '../../platform/secret-box.ts';
import type { AuditService } from '../audit/audit.module.ts';
import { checkWebhookUrl, type EgressAllowlist } from './webhooks.address.ts';
import { messageIdOf, parseEventFilter } from './webhooks.catalogue.ts';
import { newDelivery } from './webhooks.dispatcher.ts';
import { WebhookErrors } from './webhooks.errors.ts';
import { webhooksRepository as repository, SIGNIN_SETTING, SUMMARIZED_UNTIL, type AttemptRow, type DeliveryRow, type EndpointRow } from './webhooks.repository.ts';
import { newEndpointSecret } from './webhooks.signing.ts';
import type { WebhookEndpointsTable } from './webhooks.tables.ts';
import { OUTCOMES, parseSigninDelivery, SIGNIN_OUTCOMES, storedSigninDelivery, type SigninDelivery, type SigninOutcome } from './webhooks.signin-delivery.ts';

export interface WebhookEndpointView {
  id: string;
  url: string;
  description: string;
  eventTypes: string[];
  /** How sign-in failures are received: each, sampled or summarized (webhooks.signin-delivery.ts). */
  signinFailed: SigninDelivery;
  /** How successful sign-ins are received, likewise. */
  signinSucceeded: SigninDelivery;
  enabled: boolean;
  disabledReason: string | null;
  disabledAt: number | null;
  /** Until then the secret before the last rotation signs too. */
  previousSecretExpiresAt: number | null;
  failingSince: number | null;
  createdAt: number;
  updatedAt: number;
}

export interface DeliveryView {
  id: string;
  messageId: string;
  eventType: string;
  status: DeliveryRow['status'];
  attempts: number;
  nextAttemptAt: number | null;
  lastAttemptAt: number | null;
  lastStatusCode: number | null;
  lastError: string | null;
  deliveredAt: number | null;
  createdAt: number;
}

export interface AttemptView {
  at: number;
  outcome: 'success' | 'failure';
  statusCode: number | null;
  latencyMs: number;
  error: string | null;
  responseExcerpt: string | null;
}

export interface EndpointInput {
  url?: string | undefined;
  eventTypes?: readonly string[] | undefined;
  description?: string | undefined;
  enabled?: boolean | undefined;
  /** Checked here (`webhook_signin_failed_invalid`), not by the route's schema. */
  signinFailed?: unknown;
  /** Checked here (`webhook_signin_succeeded_invalid`), not by the route's schema. */
  signinSucceeded?: unknown;
}

export interface WebhooksService {
  create(input: EndpointInput & { url: string; eventTypes: readonly string[] }, context: RequestContext): Promise<{ endpoint: WebhookEndpointView; secret: string }>;
  list(): Promise<WebhookEndpointView[]>;
  get(id: string): Promise<WebhookEndpointView>;
  update(id: string, input: EndpointInput, context: RequestContext): Promise<WebhookEndpointView>;
  remove(id: string, context: RequestContext): Promise<void>;
  rotateSecret(id: string, context: RequestContext): Promise<{ endpoint: WebhookEndpointView; secret: string }>;
  deliveries(id: string, options: { limit: number; status?: string | undefined; before?: number | undefined }): Promise<DeliveryView[]>;
  delivery(id: string, deliveryId: string): Promise<DeliveryView & { payload: unknown; attemptLog: AttemptView[] }>;
  redeliver(id: string, deliveryId: string, context: RequestContext): Promise<DeliveryView>;
  test(id: string, context: RequestContext): Promise<DeliveryView>;
}

/**
 * Webhook endpoints for the management API: each change and its audit row in one commit, with
 * the API key as actor; secrets shown once and stored sealed (associated data: the endpoint id).
 */
export function createWebhooksService(deps: {
  db: Kysely<Database>;
  clock: Clock;
  random: Random;
  audit: AuditService;
  box: SecretBox;
  allowHttp: boolean;
  allowlist: EgressAllowlist;
  secretOverlapMs: number;
  /** Told after every change and queued delivery: the dispatcher looks for work at once. */
  kick: () => void;
}): WebhooksService {
  const { db, clock, audit } = deps;
  const aad = (id: string) => `webhook-endpoint:${id}`;

  function checkUrl(url: string): string {
    const verdict = checkWebhookUrl(url, { allowHttp: deps.allowHttp, allowlist: deps.allowlist });
    if (verdict.ok) return verdict.url;
    throw (verdict.refused ? WebhookErrors.webhook_url_refused : WebhookErrors.webhook_url_invalid)({ detail: `url: ${verdict.problem}` });
  }
  function checkFilter(types: readonly string[]): string[] {
    const parsed = parseEventFilter(types);
    if (!parsed.ok) throw WebhookErrors.webhook_event_types_invalid({ detail: `eventTypes: ${parsed.problem}` });
    return parsed.filter;
  }
  /** The settings a request names, checked (outcomes it leaves out are absent). */
  function checkSignin(input: EndpointInput): Partial<Record<SigninOutcome, SigninDelivery>> {
    const settings: Partial<Record<SigninOutcome, SigninDelivery>> = {};
    for (const outcome of OUTCOMES) {
      const { field } = SIGNIN_OUTCOMES[outcome];
      if (input[field] === undefined) continue;
      const parsed = parseSigninDelivery(input[field]);
      if (!parsed.ok) throw WebhookErrors[outcome === 'failed' ? 'webhook_signin_failed_invalid' : 'webhook_signin_succeeded_invalid']({ detail: `${field}: ${parsed.problem}` });
      settings[outcome] = parsed.value;
    }
    return settings;
  }
  /** The settings as the audit row records them (`signinFailed`, `signinSucceeded`). */
  const auditedSignin = (settings: Partial<Record<SigninOutcome, SigninDelivery>>) => Object.fromEntries(OUTCOMES.filter((o) => settings[o]).map((o) => [SIGNIN_OUTCOMES[o].field, settings[o]]));
  async function found(id: string, from: Kysely<Database> = db): Promise<EndpointRow> {
    const row = await repository.findEndpoint(from, id);
    if (!row) throw WebhookErrors.webhook_endpoint_not_found();
    return row;
  }
  const hostOf = (url: string) => new URL(url).host;

  return {
    async create(input, context) {
      const url = checkUrl(input.url);
      const filter = checkFilter(input.eventTypes);
      const chosen = checkSignin(input);
      const signin = { failed: chosen.failed ?? storedSigninDelivery(null), succeeded: chosen.succeeded ?? storedSigninDelivery(null) };
      const id = deps.random.uuid();
      const secret = newEndpointSecret(deps.random.bytes);
      const now = clock.now();
      await db.transaction().execute(async (trx) => {
        await repository.insertEndpoint(trx, {
          id,
          url,
          description: input.description ?? '',
          event_types: JSON.stringify(filter),
          enabled: input.enabled === false ? 0 : 1,
          disabled_reason: input.enabled === false ? 'manual' : null,
          disabled_at: input.enabled === false ? now : null,
          secret_sealed: deps.box.seal(secret, aad(id)),
          previous_secret_sealed: null,
          previous_secret_expires_at: null,
          failing_since: null,
          created_at: now,
          updated_at: now,
          signin_failed: JSON.stringify(signin.failed),
          signin_succeeded: JSON.stringify(signin.succeeded),
          // Summaries start with the sign-ins from now on.
          signin_failed_summarized_until: signin.failed.mode === 'summary' ? now : null,
          signin_succeeded_summarized_until: signin.succeeded.mode === 'summary' ? now : null,
        });
        await audit.record(trx, context, { type: 'webhook_endpoint.created', outcome: 'success', data: { endpointId: id, host: hostOf(url), eventTypes: filter, ...auditedSignin(signin) } });
      });
      deps.kick();
      return { endpoint: toView(await found(id)), secret };
    },

    async list() {
      return (await repository.listEndpoints(db)).map(toView);
    },

    async get(id) {
      return toView(await found(id));
    },

    async update(id, input, context) {
      const url = input.url === undefined ? undefined : checkUrl(input.url);
      const filter = input.eventTypes === undefined ? undefined : checkFilter(input.eventTypes);
      const signin = checkSignin(input);
      const now = clock.now();
      await db.transaction().execute(async (trx) => {
        const before = await found(id, trx);
        const enabling = input.enabled === true && before.enabled !== 1;
        const disabling = input.enabled === false && before.enabled === 1;
        // Per outcome, summaries start (again) from now when the mode becomes summary or a disabled
        // endpoint comes back: no summary of sign-ins it was not receiving; they stop when the mode changes.
        const signinColumns: Partial<WebhookEndpointsTable> = {};
        for (const outcome of OUTCOMES) {
          const wasSummary = storedSigninDelivery(before[SIGNIN_SETTING[outcome]]).mode === 'summary';
          const chosen = signin[outcome];
          const isSummary = chosen ? chosen.mode === 'summary' : wasSummary;
          if (chosen) signinColumns[SIGNIN_SETTING[outcome]] = JSON.stringify(chosen);
          if (isSummary && (!wasSummary || enabling)) signinColumns[SUMMARIZED_UNTIL[outcome]] = now;
          else if (!isSummary && wasSummary) signinColumns[SUMMARIZED_UNTIL[outcome]] = null;
        }
        await repository.updateEndpoint(trx, id, {
          ...(url === undefined ? {} : { url }),
          ...(filter === undefined ? {} : { event_types: JSON.stringify(filter) }),
          ...(input.description === undefined ? {} : { description: input.description }),
          ...signinColumns,
          ...(enabling ? { enabled: 1, disabled_reason: null, disabled_at: null, failing_since: null } : {}),
          ...(disabling ? { enabled: 0, disabled_reason: 'manual', disabled_at: now } : {}),
          updated_at: now,
        });
        const fields = Object.entries(input).filter(([, v]) => v !== undefined).map(([k]) => k);
        await audit.record(trx, context, { type: 'webhook_endpoint.updated', outcome: 'success', data: { endpointId: id, fields, ...(url ? { host: hostOf(url) } : {}), ...(filter ? { eventTypes: filter } : {}), ...auditedSignin(signin) } });
      });
      deps.kick();
      return toView(await found(id));
    },

    async remove(id, context) {
      await db.transaction().execute(async (trx) => {
        if (!(await repository.deleteEndpoint(trx, id))) throw WebhookErrors.webhook_endpoint_not_found();
        await audit.record(trx, context, { type: 'webhook_endpoint.deleted', outcome: 'success', data: { endpointId: id } });
      });
      deps.kick();
    },

    async rotateSecret(id, context) {
      const secret = newEndpointSecret(deps.random.bytes);
      const now = clock.now();
      const overlapUntil = now + deps.secretOverlapMs;
      await db.transaction().execute(async (trx) => {
        const before = await found(id, trx);
        await repository.updateEndpoint(trx, id, {
          secret_sealed: deps.box.seal(secret, aad(id)),
          // The secret being replaced keeps signing for the overlap, so receivers can switch at their pace.
          previous_secret_sealed: deps.secretOverlapMs > 0 ? before.secret_sealed : null,
          previous_secret_expires_at: deps.secretOverlapMs > 0 ? overlapUntil : null,
          updated_at: now,
        });
        await audit.record(trx, context, { type: 'webhook_endpoint.secret_rotated', outcome: 'success', data: { endpointId: id, previousSecretExpiresAt: new Date(overlapUntil).toISOString() } });
      });
      return { endpoint: toView(await found(id)), secret };
    },

    async deliveries(id, options) {
      await found(id);
      return (await repository.listDeliveries(db, id, options)).map(deliveryView);
    },

    async delivery(id, deliveryId) {
      await found(id);
      const row = await repository.findDelivery(db, id, deliveryId);
      if (!row) throw WebhookErrors.webhook_delivery_not_found();
      const attempts = await repository.attemptsOf(db, deliveryId);
      return { ...deliveryView(row), payload: JSON.parse(row.payload) as unknown, attemptLog: attempts.map(attemptView) };
    },

    async redeliver(id, deliveryId, context) {
      const now = clock.now();
      await db.transaction().execute(async (trx) => {
        const endpoint = await found(id, trx);
        if (endpoint.enabled !== 1) throw WebhookErrors.webhook_endpoint_disabled();
        if (!(await repository.requeue(trx, id, deliveryId, now))) throw WebhookErrors.webhook_delivery_not_found();
        await audit.record(trx, context, { type: 'webhook_delivery.redelivered', outcome: 'success', data: { endpointId: id, deliveryId } });
      });
      deps.kick();
      const row = await repository.findDelivery(db, id, deliveryId);
      if (!row) throw WebhookErrors.webhook_delivery_not_found();
      return deliveryView(row);
    },

    async test(id, context) {
      const now = clock.now();
      const deliveryId = deps.random.timeOrderedUuid();
      await db.transaction().execute(async (trx) => {
        const endpoint = await found(id, trx);
        if (endpoint.enabled !== 1) throw WebhookErrors.webhook_endpoint_disabled();
        const payload = JSON.stringify({ type: 'webhook.test', timestamp: new Date(now).toISOString(), data: { endpointId: id } });
        await repository.insertDelivery(trx, newDelivery(deliveryId, id, messageIdOf(deps.random.timeOrderedUuid()), 'webhook.test', payload, now));
        await audit.record(trx, context, { type: 'webhook_endpoint.tested', outcome: 'success', data: { endpointId: id, deliveryId } });
      });
      deps.kick();
      const row = await repository.findDelivery(db, id, deliveryId);
      if (!row) throw WebhookErrors.webhook_delivery_not_found();
      return deliveryView(row);
    },
  };
}

function toView(row: EndpointRow): WebhookEndpointView {
  return {
    id: row.id,
    url: row.url,
    description: row.description,
    eventTypes: JSON.parse(row.event_types) as string[],
    signinFailed: storedSigninDelivery(row.signin_failed),
    signinSucceeded: storedSigninDelivery(row.signin_succeeded),
    enabled: row.enabled === 1,
    disabledReason: row.disabled_reason,
    disabledAt: nullableNumber(row.disabled_at),
    previousSecretExpiresAt: nullableNumber(row.previous_secret_expires_at),
    failingSince: nullableNumber(row.failing_since),
    createdAt: Number(row.created_at),
    updatedAt: Number(row.updated_at),
  };
}

function deliveryView(row: DeliveryRow): DeliveryView {
  return {
    id: row.id,
    messageId: row.message_id,
    eventType: row.event_type,
    status: row.status,
    attempts: Number(row.attempts),
    nextAttemptAt: nullableNumber(row.next_attempt_at),
    lastAttemptAt: nullableNumber(row.last_attempt_at),
    lastStatusCode: nullableNumber(row.last_status_code),
    lastError: row.last_error,
    deliveredAt: nullableNumber(row.delivered_at),
    createdAt: Number(row.created_at),
  };
}

function attemptView(row: AttemptRow): AttemptView {
  return {
    at: Number(row.attempted_at),
    outcome: row.outcome,
    statusCode: nullableNumber(row.status_code),
    latencyMs: Number(row.latency_ms),
    error: row.error,
    responseExcerpt: row.response_excerpt,
  };
}

const nullableNumber = (v: number | null | undefined): number | null => (v === null || v === undefined ? null : Number(v));
