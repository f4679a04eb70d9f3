import { Readable } from 'node:stream';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { PasskeySchema } from '../../contract/schemas.ts';
import { CommonErrors } from '../../errors/common.errors.ts';
import { requestContext, type Auth } from '../../http/auth.ts';
import { installScopeGuard } from '../../http/scopes.ts';
import type { DirectoryUser } from '../accounts/accounts.module.ts';
import type { ApiKeyScope, ApiKeysService } from '../api-keys/api-keys.module.ts';
import { apiKeyRoutes } from '../api-keys/api-keys.routes.ts';
import type { AuditRecord } from '../audit/audit.module.ts';
import type { ManagementService } from './management.service.ts';

/** Every management route lives under this prefix: under `/api/`, so no-store and CORS rules apply. */
export const MANAGEMENT_PREFIX = '/api/admin/v1';

export const ManagedUserSchema = Type.Object(
  {
    id: Type.String({ description: 'Latchkey user id (a random UUID)' }),
    username: Type.String(),
    displayName: Type.String(),
    email: Type.Union([Type.String(), Type.Null()], { description: 'Verified address, or null' }),
    externalId: Type.Union([Type.String(), Type.Null()], { description: "The id in the company's own user store (unique)" }),
    status: Type.Union([Type.Literal('active'), Type.Literal('disabled')]),
    createdAt: Type.String({ format: 'date-time' }),
    segment: Type.Union([Type.String(), Type.Null()], { description: 'Rollout segment (rollout rules can target it), or null' }),
  },
  { $id: 'ManagedUser' },
);

const AuditEventSchema = Type.Object({
  id: Type.String(),
  at: Type.String({ format: 'date-time' }),
  type: Type.String(),
  outcome: Type.Union([Type.Literal('success'), Type.Literal('failure')]),
  actor: Type.Object({
    kind: Type.Union([Type.String(), Type.Null()], { description: '"user", "staff", "api_key", "append_token" or "cli"' }),
    id: Type.Union([Type.String(), Type.Null()], { description: 'User id (also of a staff member) or API key id' }),
  }),
  credentialId: Type.Union([Type.String(), Type.Null()]),
  sessionId: Type.Union([Type.String(), Type.Null()]),
  errorCode: Type.Union([Type.String(), Type.Null()]),
  reason: Type.Union([Type.String(), Type.Null()], { description: "A staff member's written reason for the action (or why a request was refused)" }),
  requestId: Type.Union([Type.String(), Type.Null()]),
  ip: Type.Union([Type.String(), Type.Null()]),
  os: Type.Union([Type.String(), Type.Null()]),
  browser: Type.Union([Type.String(), Type.Null()]),
  data: Type.Union([Type.Record(Type.String(), Type.Unknown()), Type.Null()]),
});

const ManagedSessionSchema = Type.Object({
  id: Type.String(),
  amr: Type.Array(Type.String()),
  createdAt: Type.String({ format: 'date-time' }),
  lastSeenAt: Type.String({ format: 'date-time' }),
  expiresAt: Type.String({ format: 'date-time' }),
  ip: Type.Union([Type.String(), Type.Null()]),
  os: Type.Union([Type.String(), Type.Null()]),
  browser: Type.Union([Type.String(), Type.Null()]),
});

const iso = (ms: number) => new Date(ms).toISOString();
const userJson = (u: DirectoryUser) => ({ ...u, createdAt: iso(u.createdAt) });
const auditJson = (e: AuditRecord) => {
  // The reason stays (a staff member's written reason is part of the record); the rest is in the audit search.
  const { at, subjectUserId: _subject, device: _device, userAgent: _userAgent, ...rest } = e;
  return { ...rest, at: iso(at) };
};

const UserId = Type.String({ minLength: 1, maxLength: 64 });
const Segment = Type.String({ minLength: 1, maxLength: 64, description: 'Rollout segment: letters, digits, "_", "." or "-" (rollout rules target it)' });
// Query strings are not coerced (ajv coerceTypes: false): the limit is digits, checked here.
const Limit = Type.Optional(Type.String({ pattern: '^[0-9]{1,3}$', description: 'Page size, 1 to 200 (default 50)' }));
function limitOf(value: string | undefined): number {
  const limit = value === undefined ? 50 : Number(value);
  if (limit < 1 || limit > 200) throw CommonErrors.invalid_request({ detail: '/limit: must be 1 to 200' });
  return limit;
}
const Cursor = Type.Optional(Type.String({ minLength: 1, maxLength: 512, description: 'nextCursor of the previous page, as returned' }));

/**
 * The management API (issue 11) for a company's backend: API-key authenticated, every route
 * with its scope in `config.scope` (a route without one fails startup, SEC-44).
 */
export async function managementRoutes(app: FastifyInstance, deps: { management: ManagementService; apiKeys: ApiKeysService; auth: Auth }): Promise<void> {
  installScopeGuard(app, deps.auth);
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  const m = deps.management;
  const tags = ['management: users'];
  const security = [{ apiKey: [] }];
  const problem = { $ref: 'Problem#' };
  const errors = { 400: problem, 401: problem, 403: problem };
  const withUser = { ...errors, 404: problem };
  const userParams = Type.Object({ id: UserId });


  /** Whether the caller (already authorised for `scope`) may change staff members' accounts. */
  const canManageStaff = async (request: FastifyRequest, scope: ApiKeyScope) => (await deps.auth.authorize(request, scope)).scopes.includes('staff:manage');

  // Every successful read is audited before the answer leaves (no audit row, no data).
  const reads = new WeakMap<FastifyRequest, { userId?: string; count?: number }>();
  const read = <T>(request: FastifyRequest, value: T, note: { userId?: string; count?: number }): T => {
    reads.set(request, note);
    return value;
  };
  app.addHook('onSend', async (request, reply, payload) => {
    // Reads: every GET, and the lookup (a POST only so the person looked up is not in the URL).
    if ((request.method !== 'GET' && !reads.has(request)) || reply.statusCode >= 300) return payload;
    const operation = (request.routeOptions.schema as { operationId?: string } | undefined)?.operationId ?? request.routeOptions.url ?? 'unknown';
    await m.recordRead(requestContext(request), { operation, ...reads.get(request) });
    return payload;
  });

  await app.register(apiKeyRoutes, { apiKeys: deps.apiKeys, authorize: deps.auth.authorize });

  r.post('/users', {
    config: { scope: 'users:write' },
    schema: {
      tags,
      security,
      operationId: 'createUser',
      summary: 'Create a user (no passkey yet)',
      description: 'The e-mail address, if given, is taken as verified: your backend vouches for it. 409 username_taken, external_id_taken or email_taken.',
      body: Type.Object(
        {
          username: Type.String({ minLength: 1, maxLength: 256 }),
          displayName: Type.Optional(Type.String({ minLength: 1, maxLength: 256 })),
          email: Type.Optional(Type.String({ minLength: 1, maxLength: 320 })),
          externalId: Type.Optional(Type.String({ minLength: 1, maxLength: 255 })),
          segment: Type.Optional(Segment),
        },
        { additionalProperties: false },
      ),
      response: { 201: ManagedUserSchema, ...errors, 409: problem },
    },
  }, async (request, reply) => reply.code(201).send(userJson(await m.createUser(request.body, requestContext(request)))));

  r.get('/users', {
    config: { scope: 'users:read' },
    schema: {
      tags,
      security,
      operationId: 'listUsers',
      summary: 'List or search users, oldest first, a page at a time',
      querystring: Type.Object(
        {
          query: Type.Optional(Type.String({ minLength: 1, maxLength: 256, description: 'Start of the username (case-insensitive) or of the e-mail address' })),
          status: Type.Optional(Type.Union([Type.Literal('active'), Type.Literal('disabled')])),
          cursor: Cursor,
          limit: Limit,
        },
        { additionalProperties: false },
      ),
      response: { 200: Type.Object({ users: Type.Array(ManagedUserSchema), nextCursor: Type.Union([Type.String(), Type.Null()]) }), ...errors },
    },
  }, async (request) => {
    const { query, status, cursor } = request.query;
    const limit = limitOf(request.query.limit);
    const page = await m.listUsers({ limit, ...(query !== undefined ? { query } : {}), ...(status ? { status } : {}), ...(cursor !== undefined ? { cursor } : {}) });
    return read(request, { users: page.items.map(userJson), nextCursor: page.nextCursor }, { count: page.items.length });
  });

  r.get('/users/export', {
    config: { scope: 'users:export' },
    schema: {
      tags,
      security,
      operationId: 'exportUsers',
      summary: 'Every user with their passkeys, streamed as NDJSON',
      description:
        'Content-Type application/x-ndjson. One `{"type":"user", id, username, displayName, email, externalId, status, createdAt, userHandle, passkeys: [{id, publicKey (COSE, base64url), signCount, aaguid, transports, deviceType, backedUp, uvInitialized, attestationFormat, name, createdAt, lastUsedAt}]}` per line, oldest user first, then `{"type":"end","users":N}`: an export without that last line was cut off. No secrets: sessions, codes and password hashes are never exported.',
      produces: ['application/x-ndjson'],
      response: { 200: { description: 'NDJSON, one line per user, then the end line', content: { 'application/x-ndjson': { schema: { type: 'string' } } } }, ...errors },
    },
  }, async (request, reply) => {
    reads.set(request, {});
    return reply.type('application/x-ndjson').send(Readable.from(m.exportUsers()));
  });

  // Imports are NDJSON (the export's format), read whole: up to 10 MiB in one request.
  app.addContentTypeParser('application/x-ndjson', { parseAs: 'string', bodyLimit: 10 * 1024 * 1024 }, (_request, body, done) => done(null, body));
  r.post('/users/import', {
    config: { scope: 'users:import' },
    bodyLimit: 10 * 1024 * 1024,
    schema: {
      tags,
      security,
      operationId: 'importUsers',
      summary: 'Import users with their passkeys from NDJSON (the export format)',
      description:
        'Content-Type application/x-ndjson, at most 10,000 lines. Every line is checked first (fields as in createUser; passkeys: credential ID ≤ 1023 bytes, an EdDSA, ES256 or RS256 COSE key in canonical CBOR, userHandle required with passkeys); if any is bad, nothing is imported and 400 import_invalid lists the lines by number. Then each line commits on its own. Idempotent: a user with the same id, username and user handle is the same user, and a passkey it already has is skipped; a line that clashes with another user is reported in `failed` and skipped. A passkey ID held by another user is never moved.',
      consumes: ['application/x-ndjson'],
      body: Type.String({ description: 'NDJSON: one user per line' }),
      response: {
        200: Type.Object({
          created: Type.Integer(),
          updated: Type.Integer({ description: 'Existing users that got passkeys they did not have' }),
          unchanged: Type.Integer(),
          failed: Type.Array(Type.Object({ line: Type.Integer(), message: Type.String() })),
        }),
        ...errors,
        413: problem,
        415: problem,
      },
    },
  }, async (request) => m.importUsers(request.body, requestContext(request), await canManageStaff(request, 'users:import')));

  r.get('/users/:id', {
    config: { scope: 'users:read' },
    schema: { tags, security, operationId: 'getUser', summary: 'A user by Latchkey id', params: userParams, response: { 200: ManagedUserSchema, ...withUser } },
  }, async (request) => {
    const user = await m.findUser({ id: request.params.id });
    return read(request, userJson(user), { userId: user.id });
  });

  const lookupField = (name: 'externalId' | 'username' | 'email', schema: ReturnType<typeof Type.String>) =>
    Type.Object({ [name]: schema }, { additionalProperties: false });
  r.post('/users/lookup', {
    config: { scope: 'users:read' },
    schema: {
      tags,
      security,
      operationId: 'lookUpUser',
      summary: 'A user by the id in your own user store, by username or by e-mail address',
      description:
        'Exactly one of `externalId`, `username` (case-insensitive, as at sign-in) or `email` (the verified address, case-insensitive). A POST so that the person looked up is never part of a URL (access logs, proxies). Audited as a read.',
      body: Type.Union([
        lookupField('externalId', Type.String({ minLength: 1, maxLength: 255 })),
        lookupField('username', Type.String({ minLength: 1, maxLength: 256 })),
        lookupField('email', Type.String({ minLength: 1, maxLength: 320 })),
      ]),
      response: { 200: ManagedUserSchema, ...withUser },
    },
  }, async (request) => {
    const user = await m.findUser(request.body as { externalId: string } | { username: string } | { email: string });
    return read(request, userJson(user), { userId: user.id });
  });

  r.patch('/users/:id', {
    config: { scope: 'users:write' },
    schema: {
      tags,
      security,
      operationId: 'updateUser',
      summary: 'Change display name, e-mail address and/or rollout segment (null removes it)',
      params: userParams,
      body: Type.Object(
        {
          displayName: Type.Optional(Type.String({ minLength: 1, maxLength: 256 })),
          email: Type.Optional(Type.Union([Type.String({ minLength: 1, maxLength: 320 }), Type.Null()])),
          segment: Type.Optional(Type.Union([Segment, Type.Null()])),
        },
        { additionalProperties: false, minProperties: 1 },
      ),
      response: { 200: ManagedUserSchema, ...withUser, 409: problem },
    },
  }, async (request) => userJson(await m.updateUser(request.params.id, request.body, requestContext(request))));

  r.post('/users/:id/disable', {
    config: { scope: 'users:write', destructive: true },
    schema: {
      tags,
      security,
      operationId: 'disableUser',
      summary: 'Disable: no sign-in by any method, every session ends now',
      params: userParams,
      response: { 200: ManagedUserSchema, ...withUser },
    },
  }, async (request) => userJson(await m.disableUser(request.params.id, requestContext(request))));

  r.post('/users/:id/enable', {
    config: { scope: 'users:write', destructive: true },
    schema: { tags, security, operationId: 'enableUser', summary: 'Re-enable a disabled user', params: userParams, response: { 200: ManagedUserSchema, ...withUser } },
  }, async (request) => userJson(await m.enableUser(request.params.id, requestContext(request))));

  r.delete('/users/:id', {
    config: { scope: 'users:delete', destructive: true },
    schema: {
      tags,
      security,
      operationId: 'deleteUser',
      summary: 'Erase a user: profile, passkeys, sessions and codes are deleted',
      description: 'Audit events are kept (append-only) under the user id, a random UUID that no longer links to any personal data.',
      params: userParams,
      response: { 204: Type.Null(), ...withUser },
    },
  }, async (request, reply) => {
    await m.deleteUser(request.params.id, requestContext(request));
    return reply.code(204).send(null);
  });

  r.get('/users/:id/passkeys', {
    config: { scope: 'users:read' },
    schema: { tags, security, operationId: 'listUserPasskeys', summary: "A user's passkeys", params: userParams, response: { 200: Type.Object({ passkeys: Type.Array(PasskeySchema) }), ...withUser } },
  }, async (request) => read(request, { passkeys: await m.listPasskeys(request.params.id) }, { userId: request.params.id }));

  r.delete('/users/:id/passkeys/:credentialId', {
    config: { scope: 'users:write', destructive: true },
    schema: {
      tags,
      security,
      operationId: 'deleteUserPasskey',
      summary: "Delete one of a user's passkeys (also the last one)",
      params: Type.Object({ id: UserId, credentialId: Type.String({ minLength: 1, maxLength: 1400 }) }),
      response: { 204: Type.Null(), ...withUser },
    },
  }, async (request, reply) => {
    await m.deletePasskey(request.params.id, request.params.credentialId, requestContext(request));
    return reply.code(204).send(null);
  });

  r.get('/users/:id/sessions', {
    config: { scope: 'users:read' },
    schema: { tags, security, operationId: 'listUserSessions', summary: "A user's live sessions", params: userParams, response: { 200: Type.Object({ sessions: Type.Array(ManagedSessionSchema) }), ...withUser } },
  }, async (request) => {
    const sessions = await m.listSessions(request.params.id);
    const body = { sessions: sessions.map((s) => ({ ...s, createdAt: iso(s.createdAt), lastSeenAt: iso(s.lastSeenAt), expiresAt: iso(s.expiresAt) })) };
    return read(request, body, { userId: request.params.id });
  });

  r.delete('/users/:id/sessions/:sessionId', {
    config: { scope: 'sessions:write', destructive: true },
    schema: {
      tags,
      security,
      operationId: 'revokeUserSession',
      summary: "End one of a user's sessions",
      params: Type.Object({ id: UserId, sessionId: Type.String({ minLength: 1, maxLength: 64 }) }),
      response: { 204: Type.Null(), ...withUser },
    },
  }, async (request, reply) => {
    await m.revokeSession(request.params.id, request.params.sessionId, requestContext(request));
    return reply.code(204).send(null);
  });

  r.delete('/users/:id/sessions', {
    config: { scope: 'sessions:write', destructive: true },
    schema: { tags, security, operationId: 'revokeUserSessions', summary: "End every session of a user", params: userParams, response: { 200: Type.Object({ revoked: Type.Integer() }), ...withUser } },
  }, async (request) => ({ revoked: await m.revokeAllSessions(request.params.id, requestContext(request)) }));

  r.get('/users/:id/audit-events', {
    config: { scope: 'audit:read' },
    schema: {
      tags,
      security,
      operationId: 'listUserAuditEvents',
      summary: "A user's audit events, newest first, a page at a time",
      params: userParams,
      querystring: Type.Object(
        {
          type: Type.Optional(Type.String({ maxLength: 1000, description: 'Comma-separated event types, e.g. passkey.authenticated,session.revoked' })),
          outcome: Type.Optional(Type.Union([Type.Literal('success'), Type.Literal('failure')])),
          from: Type.Optional(Type.String({ format: 'date-time', description: 'Inclusive' })),
          to: Type.Optional(Type.String({ format: 'date-time', description: 'Exclusive' })),
          cursor: Cursor,
          limit: Limit,
        },
        { additionalProperties: false },
      ),
      response: { 200: Type.Object({ events: Type.Array(AuditEventSchema), nextCursor: Type.Union([Type.String(), Type.Null()]) }), ...errors },
    },
  }, async (request) => {
    const { type, outcome, from, to, cursor } = request.query;
    const limit = limitOf(request.query.limit);
    const types = type?.split(',').map((t) => t.trim()).filter(Boolean);
    const page = await m.listAuditEvents(request.params.id, {
      limit,
      ...(types && types.length > 0 ? { types } : {}),
      ...(outcome ? { outcome } : {}),
      ...(from !== undefined ? { from: Date.parse(from) } : {}),
      ...(to !== undefined ? { to: Date.parse(to) } : {}),
      ...(cursor !== undefined ? { cursor } : {}),
    });
    return read(request, { events: page.items.map(auditJson), nextCursor: page.nextCursor }, { userId: request.params.id, count: page.items.length });
  });

  r.post('/append-tokens', {
    config: { scope: 'append_tokens:issue' },
    schema: {
      tags: ['management: append tokens'],
      security,
      operationId: 'createAppendToken',
      summary: 'Issue a one-time token that lets a user add a passkey without a Latchkey sign-in',
      description:
        'After your own sign-in, for {"userId"} or {"externalId"}. By externalId, a user Latchkey does not know yet is created (username: the one given, else the externalId if it is a valid username, else 400 username_invalid; 409 username_taken). The token (lk_append_…) is shown once, is good for one passkey registration within its lifetime (LATCHKEY_APPEND_TOKEN_TTL_SECONDS, default 300 s), and opens no session: pass it to <latchkey-passkey-append append-token> or the SDK\'s appendToken. 409 user_disabled for a disabled user.',
      body: Type.Union([
        Type.Object({ userId: UserId }, { additionalProperties: false }),
        Type.Object(
          {
            externalId: Type.String({ minLength: 1, maxLength: 255 }),
            username: Type.Optional(Type.String({ minLength: 1, maxLength: 256, description: 'For a new user; default: the externalId' })),
            displayName: Type.Optional(Type.String({ minLength: 1, maxLength: 256, description: 'For a new user; default: the username' })),
          },
          { additionalProperties: false },
        ),
      ]),
      response: {
        201: Type.Object({
          token: Type.String({ description: 'lk_append_…: shown once' }),
          expiresAt: Type.String({ format: 'date-time' }),
          user: ManagedUserSchema,
          userCreated: Type.Boolean({ description: 'Whether this call created the user (by externalId)' }),
        }),
        ...withUser,
        409: problem,
      },
    },
  }, async (request, reply) => {
    const issued = await m.issueAppendToken(request.body, requestContext(request), await canManageStaff(request, 'append_tokens:issue'));
    return reply.code(201).send({ token: issued.token, expiresAt: iso(issued.expiresAt), user: userJson(issued.user), userCreated: issued.userCreated });
  });
}
