import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { CommonErrors } from '../../errors/common.errors.ts';
import { requestContext, type Auth } from '../../http/auth.ts';
import { installScopeGuard } from '../../http/scopes.ts';
import { WEBHOOK_EVENT_TYPES } from './webhooks.catalogue.ts';
import { SIGNIN_OUTCOMES, type SigninOutcome } from './webhooks.signin-delivery.ts';
import type { AttemptView, DeliveryView, WebhookEndpointView, WebhooksService } from './webhooks.service.ts';

const Nullable = <T extends ReturnType<typeof Type.String>>(t: T) => Type.Union([t, Type.Null()]);
const DateTime = Type.String({ format: 'date-time' });

/** The setting of one outcome as the API answers it (`signinFailed`, `signinSucceeded`). */
function signinDeliverySchema(outcome: SigninOutcome) {
  const { eventType, summaryType, noun } = SIGNIN_OUTCOMES[outcome];
  return Type.Union(
    [
      Type.Object({ mode: Type.Literal('each') }, { description: `Every ${eventType} event (the default)` }),
      Type.Object(
        { mode: Type.Literal('sampled'), rate: Type.Number({ exclusiveMinimum: 0, maximum: 1, description: `The share of ${noun}s sent, e.g. 0.1` }) },
        { description: `A deterministic sample of ${eventType} events, decided by the event id (README, "Webhooks")` },
      ),
      Type.Object({ mode: Type.Literal('summary') }, { description: `No ${eventType} events; one ${summaryType} per minute with ${noun}s instead` }),
    ],
    { description: `How the endpoint receives ${eventType} (when its eventTypes let it through)` },
  );
}

const EndpointSchema = Type.Object(
  {
    id: Type.String(),
    url: Type.String(),
    description: Type.String(),
    eventTypes: Type.Array(Type.String(), { description: 'Event types, `prefix.*` patterns or `*`' }),
    signinFailed: signinDeliverySchema('failed'),
    signinSucceeded: signinDeliverySchema('succeeded'),
    enabled: Type.Boolean(),
    disabledReason: Type.Union([Type.String({ description: '"gone" (410), "failing" (failed too long) or "manual"' }), Type.Null()]),
    disabledAt: Nullable(DateTime),
    previousSecretExpiresAt: Type.Union([DateTime, Type.Null()], { description: 'Until then the secret before the last rotation signs too (two signatures)' }),
    failingSince: Nullable(DateTime),
    createdAt: DateTime,
    updatedAt: DateTime,
  },
  { $id: 'WebhookEndpoint' },
);

const DeliverySchema = Type.Object(
  {
    id: Type.String(),
    messageId: Type.String({ description: 'The `webhook-id` header: the same on every attempt and redelivery' }),
    eventType: Type.String(),
    status: Type.Union([Type.Literal('pending'), Type.Literal('delivered'), Type.Literal('failed')]),
    attempts: Type.Integer(),
    nextAttemptAt: Nullable(DateTime),
    lastAttemptAt: Nullable(DateTime),
    lastStatusCode: Type.Union([Type.Integer(), Type.Null()]),
    lastError: Nullable(Type.String()),
    deliveredAt: Nullable(DateTime),
    createdAt: DateTime,
  },
  { $id: 'WebhookDelivery' },
);

const AttemptSchema = Type.Object({
  at: DateTime,
  outcome: Type.Union([Type.Literal('success'), Type.Literal('failure')]),
  statusCode: Type.Union([Type.Integer(), Type.Null()]),
  latencyMs: Type.Integer(),
  error: Nullable(Type.String()),
  responseExcerpt: Type.Union([Type.String({ description: 'The first 1 KiB of the response body' }), Type.Null()]),
});

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
const endpointJson = (e: WebhookEndpointView) => ({
  ...e,
  disabledAt: iso(e.disabledAt),
  previousSecretExpiresAt: iso(e.previousSecretExpiresAt),
  failingSince: iso(e.failingSince),
  createdAt: new Date(e.createdAt).toISOString(),
  updatedAt: new Date(e.updatedAt).toISOString(),
});
const deliveryJson = (d: DeliveryView) => ({
  ...d,
  nextAttemptAt: iso(d.nextAttemptAt),
  lastAttemptAt: iso(d.lastAttemptAt),
  deliveredAt: iso(d.deliveredAt),
  createdAt: new Date(d.createdAt).toISOString(),
});
const attemptJson = (a: AttemptView) => ({ ...a, at: new Date(a.at).toISOString() });

const Id = Type.String({ minLength: 1, maxLength: 64 });
const Url = Type.String({ minLength: 1, maxLength: 2048, description: 'https URL of the receiver (SSRF rules: README, "Webhooks")' });
const EventTypes = Type.Array(Type.String({ minLength: 1, maxLength: 64 }), { minItems: 1, maxItems: 64, description: 'Event types (GET /webhook-event-types), `prefix.*` or `*`' });
const Description = Type.String({ maxLength: 500 });
/**
 * The setting of one outcome as a client sends it: checked by the service, so that every wrong
 * setting is one code (webhook_signin_failed_invalid, webhook_signin_succeeded_invalid).
 */
function signinDeliveryInput(outcome: SigninOutcome) {
  const { eventType, summaryType, noun } = SIGNIN_OUTCOMES[outcome];
  return Type.Object(
    {
      mode: Type.Optional(Type.String({ maxLength: 32, description: '"each" (default), "sampled" or "summary"' })),
      rate: Type.Optional(Type.Number({ description: 'With "sampled" only: the share sent, above 0 and at most 1' })),
    },
    {
      description: `How ${eventType} reaches this endpoint: {"mode": "each"} (default), {"mode": "sampled", "rate": 0.1} or {"mode": "summary"} (one ${summaryType} a minute instead, counting the ${noun}s); 400 webhook_signin_${outcome}_invalid otherwise`,
    },
  );
}
const SigninFailedInput = signinDeliveryInput('failed');
const SigninSucceededInput = signinDeliveryInput('succeeded');

/**
 * Webhook endpoints in the management API (issue 12): `webhooks:manage` changes, `webhooks:read`
 * reads. The secret is in the create and rotate answers only.
 */
/** Why a staff member changes an endpoint (step-up and a reason, as every destructive admin action): audited. */
const Reason = Type.String({ maxLength: 2000, description: 'Why (3 to 500 characters; required for staff): audited' });

export async function webhookRoutes(app: FastifyInstance, deps: { webhooks: WebhooksService; auth: Auth }): Promise<void> {
  installScopeGuard(app, deps.auth);
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  const w = deps.webhooks;
  const tags = ['management: webhooks'];
  const security = [{ apiKey: [] }];
  const problem = { $ref: 'Problem#' };
  const errors = { 400: problem, 401: problem, 403: problem };
  const withEndpoint = { ...errors, 404: problem };
  const endpointParams = Type.Object({ id: Id });
  const deliveryParams = Type.Object({ id: Id, deliveryId: Id });
  const WithSecret = Type.Object({ endpoint: EndpointSchema, secret: Type.String({ description: 'The `whsec_…` signing secret: shown once, store it now' }) });

  r.get('/webhook-event-types', {
    config: { scope: 'webhooks:read' },
    schema: {
      tags,
      security,
      operationId: 'listWebhookEventTypes',
      summary: 'The event catalogue an endpoint can subscribe to',
      response: { 200: Type.Object({ eventTypes: Type.Array(Type.Object({ type: Type.String(), description: Type.String() })) }), ...errors },
    },
  }, async () => ({ eventTypes: Object.entries(WEBHOOK_EVENT_TYPES).map(([type, description]) => ({ type, description })) }));

  r.post('/webhook-endpoints', {
    config: { scope: 'webhooks:manage', destructive: true },
    schema: {
      tags,
      security,
      operationId: 'createWebhookEndpoint',
      summary: 'Add a webhook endpoint; its signing secret is in this answer only',
      description: '400 webhook_url_invalid, webhook_url_refused (an internal address, SEC-59), webhook_event_types_invalid, webhook_signin_failed_invalid or webhook_signin_succeeded_invalid.',
      body: Type.Object({ url: Url, eventTypes: EventTypes, signinFailed: Type.Optional(SigninFailedInput), signinSucceeded: Type.Optional(SigninSucceededInput), description: Type.Optional(Description), enabled: Type.Optional(Type.Boolean()), reason: Type.Optional(Reason) }, { additionalProperties: false }),
      response: { 201: WithSecret, ...errors },
    },
  }, async (request, reply) => {
    const { reason: _reason, ...endpoint } = request.body;
    const made = await w.create(endpoint, requestContext(request));
    return reply.code(201).send({ endpoint: endpointJson(made.endpoint), secret: made.secret });
  });

  r.get('/webhook-endpoints', {
    config: { scope: 'webhooks:read' },
    schema: { tags, security, operationId: 'listWebhookEndpoints', summary: 'Every webhook endpoint (never a secret)', response: { 200: Type.Object({ endpoints: Type.Array(EndpointSchema) }), ...errors } },
  }, async () => ({ endpoints: (await w.list()).map(endpointJson) }));

  r.get('/webhook-endpoints/:id', {
    config: { scope: 'webhooks:read' },
    schema: { tags, security, operationId: 'getWebhookEndpoint', summary: 'One webhook endpoint', params: endpointParams, response: { 200: EndpointSchema, ...withEndpoint } },
  }, async (request) => endpointJson(await w.get(request.params.id)));

  r.patch('/webhook-endpoints/:id', {
    config: { scope: 'webhooks:manage', destructive: true },
    schema: {
      tags,
      security,
      operationId: 'updateWebhookEndpoint',
      summary: 'Change the URL, event types, sign-in modes or description; disable or enable',
      description: 'Enabling an endpoint that was disabled (410, failing) clears its failure state; its pending deliveries resume.',
      params: endpointParams,
      body: Type.Object(
        { url: Type.Optional(Url), eventTypes: Type.Optional(EventTypes), signinFailed: Type.Optional(SigninFailedInput), signinSucceeded: Type.Optional(SigninSucceededInput), description: Type.Optional(Description), enabled: Type.Optional(Type.Boolean()), reason: Type.Optional(Reason) },
        { additionalProperties: false, minProperties: 1 },
      ),
      response: { 200: EndpointSchema, ...withEndpoint },
    },
  }, async (request) => {
    const { reason: _reason, ...changes } = request.body;
    return endpointJson(await w.update(request.params.id, changes, requestContext(request)));
  });

  r.delete('/webhook-endpoints/:id', {
    config: { scope: 'webhooks:manage', destructive: true },
    schema: { tags, security, operationId: 'deleteWebhookEndpoint', summary: 'Delete an endpoint with its deliveries and their log', params: endpointParams, response: { 204: Type.Null(), ...withEndpoint } },
  }, async (request, reply) => {
    await w.remove(request.params.id, requestContext(request));
    return reply.code(204).send(null);
  });

  r.post('/webhook-endpoints/:id/rotate-secret', {
    config: { scope: 'webhooks:manage', destructive: true },
    schema: {
      tags,
      security,
      operationId: 'rotateWebhookSecret',
      summary: 'A new signing secret; the old one signs too until previousSecretExpiresAt',
      description: 'During the overlap (LATCHKEY_WEBHOOK_SECRET_OVERLAP_SECONDS, 24 h) `webhook-signature` carries both signatures, space-separated.',
      params: endpointParams,
      response: { 200: WithSecret, ...withEndpoint },
    },
  }, async (request) => {
    const rotated = await w.rotateSecret(request.params.id, requestContext(request));
    return { endpoint: endpointJson(rotated.endpoint), secret: rotated.secret };
  });

  r.get('/webhook-endpoints/:id/deliveries', {
    config: { scope: 'webhooks:read' },
    schema: {
      tags,
      security,
      operationId: 'listWebhookDeliveries',
      summary: 'The delivery log of an endpoint, newest first',
      params: endpointParams,
      querystring: Type.Object(
        {
          status: Type.Optional(Type.Union([Type.Literal('pending'), Type.Literal('delivered'), Type.Literal('failed')])),
          limit: Type.Optional(Type.String({ pattern: '^[0-9]{1,3}$', description: 'Page size, 1 to 200 (default 50)' })),
          before: Type.Optional(Type.String({ format: 'date-time', description: 'Only deliveries created before this time (the createdAt of the last one seen)' })),
        },
        { additionalProperties: false },
      ),
      response: { 200: Type.Object({ deliveries: Type.Array(DeliverySchema) }), ...withEndpoint },
    },
  }, async (request) => {
    const limit = request.query.limit === undefined ? 50 : Number(request.query.limit);
    if (limit < 1 || limit > 200) throw CommonErrors.invalid_request({ detail: '/limit: must be 1 to 200' });
    const before = request.query.before === undefined ? undefined : Date.parse(request.query.before);
    const deliveries = await w.deliveries(request.params.id, { limit, status: request.query.status, before });
    return { deliveries: deliveries.map(deliveryJson) };
  });

  r.get('/webhook-endpoints/:id/deliveries/:deliveryId', {
    config: { scope: 'webhooks:read' },
    schema: {
      tags,
      security,
      operationId: 'getWebhookDelivery',
      summary: 'One delivery with its payload and every attempt (status, latency, response excerpt, error)',
      params: deliveryParams,
      response: { 200: Type.Object({ ...DeliverySchema.properties, payload: Type.Unknown(), attemptLog: Type.Array(AttemptSchema) }), ...withEndpoint },
    },
  }, async (request) => {
    const found = await w.delivery(request.params.id, request.params.deliveryId);
    return { ...deliveryJson(found), payload: found.payload, attemptLog: found.attemptLog.map(attemptJson) };
  });

  r.post('/webhook-endpoints/:id/deliveries/:deliveryId/redeliver', {
    config: { scope: 'webhooks:manage' },
    schema: {
      tags,
      security,
      operationId: 'redeliverWebhook',
      summary: 'Send a delivery again, now, with the same webhook-id and a fresh set of attempts',
      params: deliveryParams,
      response: { 202: DeliverySchema, ...withEndpoint, 409: problem },
    },
  }, async (request, reply) => reply.code(202).send(deliveryJson(await w.redeliver(request.params.id, request.params.deliveryId, requestContext(request)))));

  r.post('/webhook-endpoints/:id/test', {
    config: { scope: 'webhooks:manage' },
    schema: {
      tags,
      security,
      operationId: 'testWebhookEndpoint',
      summary: 'Send a webhook.test event to this endpoint only',
      params: endpointParams,
      response: { 202: DeliverySchema, ...withEndpoint, 409: problem },
    },
  }, async (request, reply) => reply.code(202).send(deliveryJson(await w.test(request.params.id, requestContext(request)))));
}
