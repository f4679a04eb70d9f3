import { Readable } from 'node:stream';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { PasskeySchema } from '../../contract/schemas.ts';
import { CommonErrors } from '../../errors/common.errors.ts';
import { requestContext, type Auth } from '../../http/auth.ts';
import { installScopeGuard } from '../../http/scopes.ts';
import type { RequestContext } from '../../platform/request-context.ts';
import type { DirectoryUser } from '../accounts/accounts.module.ts';
import { auditEventJson, csvHeader, csvLine, ndjsonLine, type AuditQuery, type AuditSearchService } from './audit-search.service.ts';
import type { Language } from './explanations.ts';
import type { SupportService, TimelineItem } from './support.service.ts';
import type { UserSearchService } from './user-search.service.ts';

export interface SupportRouteDeps {
  auth: Auth;
  search: UserSearchService;
  support: SupportService;
  auditSearch: AuditSearchService;
  /** Audits a successful read (`management.read`, the caller as actor, no subject). */
  recordRead(context: RequestContext, read: { operation: string; userId?: string; count?: number; filters?: Record<string, unknown> }): Promise<void>;
}

const Nullable = <T extends ReturnType<typeof Type.String>>(schema: T) => Type.Union([schema, Type.Null()]);
const Str = () => Type.String();
const DateTime = () => Type.String({ format: 'date-time' });
const Explanation = Type.Object({
  key: Type.String({ description: 'Where it comes from: `code:<error code>`, `client:<DOMException name or outcome>` or `reason:<id>` (README "What each failure means")' }),
  meaning: Type.String(),
  tellUser: Type.String(),
  severity: Type.Union([Type.Literal('info'), Type.Literal('warning'), Type.Literal('danger')]),
});
const Actor = Type.Object({
  kind: Nullable(Str()),
  id: Nullable(Str()),
}, { description: 'Who acted: "user" (the user themself), "api_key", "staff", "cli", "append_token"; null if unknown' });
const TimelineItemSchema = Type.Object({
  id: Type.String(),
  at: DateTime(),
  type: Type.String(),
  outcome: Type.Union([Type.Literal('success'), Type.Literal('failure'), Type.Literal('info')]),
  title: Type.String(),
  actor: Actor,
  device: Type.Union([Type.Object({ browser: Nullable(Str()), os: Nullable(Str()), platform: Nullable(Str()) }), Type.Null()]),
  ip: Nullable(Str()),
  credentialId: Nullable(Str()),
  code: Nullable(Str()),
  reason: Nullable(Str()),
  explanation: Type.Union([Explanation, Type.Null()]),
  data: Type.Union([Type.Record(Type.String(), Type.Unknown()), Type.Null()]),
});
const UserFields = {
  id: Type.String(),
  username: Type.String(),
  displayName: Type.String(),
  email: Nullable(Str()),
  externalId: Nullable(Str()),
  status: Type.Union([Type.Literal('active'), Type.Literal('disabled')]),
};
const SearchItem = Type.Object({
  ...UserFields,
  passkeyCount: Type.Integer(),
  match: Type.Union(['id', 'credential', 'email', 'external_id', 'prefix', 'fuzzy'].map((m) => Type.Literal(m)), {
    description: 'How it was found: an exact identifier, the start of the username, or the start of the username one typo away',
  }),
});
const AuditEventItem = Type.Object({
  id: Type.String(),
  at: DateTime(),
  type: Type.String(),
  outcome: Type.Union([Type.Literal('success'), Type.Literal('failure')]),
  actor: Actor,
  subjectUserId: Nullable(Str()),
  credentialId: Nullable(Str()),
  sessionId: Nullable(Str()),
  errorCode: Nullable(Str()),
  reason: Nullable(Str()),
  requestId: Nullable(Str()),
  ip: Nullable(Str()),
  userAgent: Nullable(Str()),
  os: Nullable(Str()),
  browser: Nullable(Str()),
  device: Nullable(Str()),
  data: Type.Union([Type.Record(Type.String(), Type.Unknown()), Type.Null()]),
});
const CheckpointSchema = Type.Union([
  Type.Object({ kind: Type.Union([Type.Literal('periodic'), Type.Literal('retention')]), seq: Type.Integer(), hash: Type.String(), createdAt: DateTime(), keyId: Type.String() }),
  Type.Null(),
]);

// Query strings are not coerced (ajv coerceTypes: false): numbers are digits, checked here.
const Limit = (max: number, fallback: number) =>
  Type.Optional(Type.String({ pattern: '^[0-9]{1,3}$', description: `Page size, 1 to ${max} (default ${fallback})` }));
function limitOf(value: string | undefined, max: number, fallback: number): number {
  const limit = value === undefined ? fallback : Number(value);
  if (limit < 1 || limit > max) throw CommonErrors.invalid_request({ detail: `/limit: must be 1 to ${max}` });
  return limit;
}
const Cursor = Type.Optional(Type.String({ minLength: 1, maxLength: 512, description: 'nextCursor of the previous page, as returned' }));
const Lang = Type.Optional(Type.Union([Type.Literal('en'), Type.Literal('de')], { description: 'Language of titles and explanations (default en)' }));
const AuditFilters = {
  type: Type.Optional(Type.String({ maxLength: 1000, description: 'Comma-separated event types, e.g. passkey.authentication_failed,ceremony.reported' })),
  actorKind: Type.Optional(Type.String({ minLength: 1, maxLength: 32, description: '"user", "api_key", "staff", "cli", "append_token"' })),
  actorId: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
  userId: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: 'The user the events are about (subject)' })),
  outcome: Type.Optional(Type.Union([Type.Literal('success'), Type.Literal('failure')])),
  from: Type.Optional(Type.String({ format: 'date-time', description: 'Inclusive' })),
  to: Type.Optional(Type.String({ format: 'date-time', description: 'Exclusive' })),
};
type AuditFilterQuery = { type?: string; actorKind?: string; actorId?: string; userId?: string; outcome?: 'success' | 'failure'; from?: string; to?: string };
function auditQueryOf(q: AuditFilterQuery): AuditQuery {
  const types = q.type?.split(',').map((t) => t.trim()).filter(Boolean);
  return {
    ...(types && types.length > 0 ? { types } : {}),
    ...(q.actorKind !== undefined ? { actorKind: q.actorKind } : {}),
    ...(q.actorId !== undefined ? { actorId: q.actorId } : {}),
    ...(q.userId !== undefined ? { subjectUserId: q.userId } : {}),
    ...(q.outcome ? { outcome: q.outcome } : {}),
    ...(q.from !== undefined ? { from: Date.parse(q.from) } : {}),
    ...(q.to !== undefined ? { to: Date.parse(q.to) } : {}),
  };
}

const iso = (ms: number) => new Date(ms).toISOString();
const userJson = (u: DirectoryUser) => ({ id: u.id, username: u.username, displayName: u.displayName, email: u.email, externalId: u.externalId, status: u.status });
const timelineJson = (t: TimelineItem) => ({ ...t, at: iso(t.at) });
const checkpointJson = (c: { kind: 'periodic' | 'retention'; seq: number; hash: string; createdAt: number; keyId: string } | null) =>
  c && { kind: c.kind, seq: c.seq, hash: c.hash, createdAt: iso(c.createdAt), keyId: c.keyId };

/**
 * The support console's data (issue 13) under /api/admin/v1: find users as you type, a user's
 * timeline with explanations and overview, and the auditors' search, export and chain verdict.
 * Scoped like every management route (API keys, and staff once they have roles); every
 * successful read is audited as `management.read` before the answer leaves.
 */
export async function supportRoutes(app: FastifyInstance, deps: SupportRouteDeps): Promise<void> {
  installScopeGuard(app, deps.auth.authorize);
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  const security = [{ apiKey: [] }];
  const problem = { $ref: 'Problem#' };
  const errors = { 400: problem, 401: problem, 403: problem };
  const withUser = { ...errors, 404: problem };
  const userParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) });
  const usersTags = ['support: users'];
  const auditTags = ['support: audit'];

  const reads = new WeakMap<FastifyRequest, { userId?: string; count?: number; filters?: Record<string, unknown> }>();
  const read = <T>(request: FastifyRequest, value: T, note: { userId?: string; count?: number; filters?: Record<string, unknown> }): T => {
    reads.set(request, note);
    return value;
  };
  app.addHook('onSend', async (request, reply, payload) => {
    const note = reads.get(request);
    if (!note || reply.statusCode >= 300) return payload;
    const operation = (request.routeOptions.schema as { operationId?: string } | undefined)?.operationId ?? 'unknown';
    await deps.recordRead(requestContext(request), { operation, ...note });
    return payload;
  });

  r.get('/users/search', {
    config: { scope: 'users:read' },
    schema: {
      tags: usersTags,
      security,
      operationId: 'searchUsers',
      summary: 'Find users as you type: exact identifiers, username prefix, one typo tolerated',
      description:
        'Exact matches on user id, credential id (base64url), e-mail address (case-insensitive) and external id rank first; then usernames starting with `q` (case-insensitive, as usernames are unique); then, if there is room, usernames starting with a string one edit (substitution, insertion, deletion, swap of neighbours) away from `q` (3 to 16 characters). Every lookup is an index range; nothing scans the users table. Audited as a read.',
      querystring: Type.Object({ q: Type.String({ minLength: 1, maxLength: 1400 }), limit: Limit(50, 20) }, { additionalProperties: false }),
      response: { 200: Type.Object({ items: Type.Array(SearchItem) }), ...errors },
    },
  }, async (request) => {
    const hits = await deps.search.search(request.query.q, limitOf(request.query.limit, 50, 20));
    const items = hits.map((h) => ({ ...userJson(h.user), passkeyCount: h.passkeyCount, match: h.match }));
    return read(request, { items }, { count: items.length });
  });

  r.get('/users/:id/timeline', {
    config: { scope: 'audit:read' },
    schema: {
      tags: usersTags,
      security,
      operationId: 'getUserTimeline',
      summary: "A user's timeline: every audit event about them, newest first, failures explained",
      description:
        "Sign-ins and their failures, client-side ceremony reports (`ceremony.reported`) of the user's sessions, changes, and what staff or API keys did to the account (`actor`). A failure carries `explanation`: what it means and what to tell the user, in `lang`.",
      params: userParams,
      querystring: Type.Object({ cursor: Cursor, limit: Limit(200, 50), lang: Lang }, { additionalProperties: false }),
      response: { 200: Type.Object({ items: Type.Array(TimelineItemSchema), nextCursor: Type.Union([Type.String(), Type.Null()]) }), ...withUser },
    },
  }, async (request) => {
    const { cursor, lang } = request.query;
    const page = await deps.support.timeline(request.params.id, {
      limit: limitOf(request.query.limit, 200, 50),
      language: (lang ?? 'en') as Language,
      ...(cursor !== undefined ? { cursor } : {}),
    });
    return read(request, { items: page.items.map(timelineJson), nextCursor: page.nextCursor }, { userId: request.params.id, count: page.items.length });
  });

  r.get('/users/:id/overview', {
    config: { scope: 'users:read' },
    schema: {
      tags: usersTags,
      security,
      operationId: 'getUserOverview',
      summary: 'Everything about how a user signs in: passkeys, sessions, fallbacks, lockouts',
      description:
        'Passkeys with provider name and icons (from the AAGUID), synced (backup state) or device-bound, created and last used; live sessions with browser, OS, IP and last seen; recovery codes left; whether the e-mail address is verified; which fallbacks are set up; and the failure counters that delay or lock a factor (`locked`: too many failed codes).',
      params: userParams,
      response: {
        200: Type.Object({
          user: Type.Object({ ...UserFields, createdAt: DateTime() }),
          passkeys: Type.Array(Type.Object({
            ...PasskeySchema.properties,
            backupEligible: Type.Boolean({ description: 'BE flag: a passkey that can be synced (multi-device)' }),
            synced: Type.Boolean({ description: 'BS flag at its last use: backed up, i.e. synced to the provider' }),
          })),
          sessions: Type.Array(Type.Object({
            id: Type.String(),
            amr: Type.Array(Type.String()),
            createdAt: DateTime(),
            lastSeenAt: DateTime(),
            expiresAt: DateTime(),
            ip: Nullable(Str()),
            os: Nullable(Str()),
            browser: Nullable(Str()),
          })),
          recoveryCodesLeft: Type.Integer(),
          emailVerified: Type.Boolean(),
          fallbacks: Type.Object({ password: Type.Boolean(), totp: Type.Boolean(), emailCode: Type.Boolean(), recoveryCodes: Type.Boolean() }),
          lockouts: Type.Array(Type.Object({
            factor: Type.Union([Type.Literal('password'), Type.Literal('totp'), Type.Literal('recovery_code'), Type.Literal('email_code')]),
            failures: Type.Integer(),
            locked: Type.Boolean(),
            lastFailureAt: DateTime(),
            delayedUntil: Type.Union([DateTime(), Type.Null()]),
          })),
        }),
        ...withUser,
      },
    },
  }, async (request) => {
    const o = await deps.support.overview(request.params.id);
    return read(request, {
      user: { ...userJson(o.user), createdAt: iso(o.user.createdAt) },
      passkeys: o.passkeys.map((p) => ({ ...p, backupEligible: p.deviceType === 'multiDevice', synced: p.backedUp })),
      sessions: o.sessions.map((s) => ({ ...s, createdAt: iso(s.createdAt), lastSeenAt: iso(s.lastSeenAt), expiresAt: iso(s.expiresAt) })),
      recoveryCodesLeft: o.recoveryCodesLeft,
      emailVerified: o.emailVerified,
      fallbacks: o.fallbacks,
      lockouts: o.lockouts.map((l) => ({ ...l, lastFailureAt: iso(l.lastFailureAt), delayedUntil: l.delayedUntil === null ? null : iso(l.delayedUntil) })),
    }, { userId: o.user.id });
  });

  r.get('/audit/events', {
    config: { scope: 'audit:read' },
    schema: {
      tags: auditTags,
      security,
      operationId: 'searchAuditEvents',
      summary: 'Search the whole audit log, newest first, a page at a time',
      description: 'Filters combine (AND). `type` takes a comma-separated list. Audited as a read, with the filters.',
      querystring: Type.Object({ ...AuditFilters, cursor: Cursor, limit: Limit(200, 50) }, { additionalProperties: false }),
      response: { 200: Type.Object({ items: Type.Array(AuditEventItem), nextCursor: Type.Union([Type.String(), Type.Null()]) }), ...errors },
    },
  }, async (request) => {
    const { cursor, limit, ...filters } = request.query;
    const page = await deps.auditSearch.list(auditQueryOf(filters), { limit: limitOf(limit, 200, 50), ...(cursor !== undefined ? { cursor } : {}) });
    return read(request, { items: page.items.map(auditEventJson), nextCursor: page.nextCursor }, { count: page.items.length, filters });
  });

  r.get('/audit/export', {
    config: { scope: 'audit:export' },
    schema: {
      tags: auditTags,
      security,
      operationId: 'exportAuditEvents',
      summary: 'Export the audit log (the same filters), streamed as CSV or NDJSON, oldest first',
      description:
        'Streamed a batch at a time (never held in memory), up to the moment the export began. CSV: RFC 4180 with a header line; a cell starting with = + - @ gets a leading apostrophe so no spreadsheet runs it as a formula. NDJSON: one event per line, as `searchAuditEvents` returns them. The export itself is audited (`management.read`, operation exportAuditEvents, with the filters) before the first byte.',
      querystring: Type.Object({ format: Type.Union([Type.Literal('csv'), Type.Literal('ndjson')]), ...AuditFilters }, { additionalProperties: false }),
      produces: ['text/csv', 'application/x-ndjson'],
      response: {
        200: {
          description: 'The events',
          content: { 'text/csv': { schema: { type: 'string' } }, 'application/x-ndjson': { schema: { type: 'string' } } },
        },
        ...errors,
      },
    },
  }, async (request, reply) => {
    const { format, ...filters } = request.query;
    const query = auditQueryOf(filters);
    // Audited before the first byte: a stream cannot be taken back once it has begun.
    await deps.recordRead(requestContext(request), { operation: 'exportAuditEvents', filters: { format, ...filters } });
    const events = deps.auditSearch.stream(query);
    async function* lines(): AsyncGenerator<string> {
      if (format === 'csv') yield csvHeader();
      for await (const e of events) yield format === 'csv' ? csvLine(e) : ndjsonLine(e);
    }
    const stamp = new Date().toISOString().slice(0, 19).replace(/[:T]/g, '-');
    return reply
      .type(format === 'csv' ? 'text/csv; charset=utf-8' : 'application/x-ndjson')
      .header('content-disposition', `attachment; filename="latchkey-audit-${stamp}.${format === 'csv' ? 'csv' : 'ndjson'}"`)
      .send(Readable.from(lines()));
  });

  r.get('/audit/verification', {
    config: { scope: 'audit:read' },
    schema: {
      tags: auditTags,
      security,
      operationId: 'getAuditVerification',
      summary: "The audit hash chain's verdict over its newest part",
      description:
        'Bounded: verifies the chain from the newest signed checkpoint that is at least LATCHKEY_AUDIT_CHECKPOINT_EVERY_EVENTS (10,000) rows below the top (`scope: since_checkpoint`, `fromSeq`), or the whole chain when it is shorter or has no such checkpoint (`whole_chain`): every hash, every sealed event unchanged, every checkpoint signature. Older rows are covered by the checkpoint’s signature; `npm run latchkey -- audit verify` checks the whole chain. `firstBad` names the first bad row (edited, deleted, reordered, inserted, truncated).',
      response: {
        200: Type.Object({
          ok: Type.Boolean(),
          checkedEvents: Type.Integer(),
          scope: Type.Union([Type.Literal('since_checkpoint'), Type.Literal('whole_chain')]),
          fromSeq: Type.Integer(),
          toSeq: Type.Integer(),
          startCheckpoint: CheckpointSchema,
          lastCheckpoint: CheckpointSchema,
          pending: Type.Integer({ description: 'Recent events not sealed yet (about a second behind)' }),
          firstBad: Type.Union([
            Type.Object({ seq: Type.Union([Type.Integer(), Type.Null()]), eventId: Nullable(Str()), tampering: Type.String(), detail: Type.String() }),
            Type.Null(),
          ]),
          durationMs: Type.Integer(),
        }),
        ...errors,
      },
    },
  }, async (request) => {
    const v = await deps.auditSearch.verify();
    return read(request, { ...v, startCheckpoint: checkpointJson(v.startCheckpoint), lastCheckpoint: checkpointJson(v.lastCheckpoint) }, {});
  });
}
