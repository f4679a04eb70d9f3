import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { SessionSchema, UserSchema } from '../../contract/schemas.ts';
import type { Auth } from '../../http/auth.ts';
import { requestContext } from '../../http/auth.ts';
import type { CookiePolicy } from '../../http/cookies.ts';
import type { AuditService } from '../audit/audit.module.ts';
import { sessionJson, userJson } from '../webauthn/webauthn.module.ts';
import { SessionErrors } from './sessions.errors.ts';
import type { SessionsService } from './sessions.service.ts';
import type { Kysely } from 'kysely';
import type { Database } from '../../db/database.ts';
import { OPTIONAL_SESSION, SIGNED_IN } from '../../http/openapi.ts';

export interface SessionRouteDeps {
  db: Kysely<Database>;
  sessions: SessionsService;
  audit: AuditService;
  auth: Auth;
  cookies: CookiePolicy;
}

export async function sessionRoutes(app: FastifyInstance, deps: SessionRouteDeps): Promise<void> {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  const tags = ['session'];
  const problem = { $ref: 'Problem#' };

  r.get('/api/v1/session', {
    schema: { operationId: 'getSession', security: SIGNED_IN, tags, summary: 'The current session and its user', response: { 200: Type.Object({ user: UserSchema, session: SessionSchema }), 401: problem } },
  }, async (request) => {
    const { user, session } = await deps.auth.requireSession(request, { allow: ['recovery', 'second_factor'] });
    return { user: userJson(user), session: sessionJson(session) };
  });

  // The contract keeps `GET /session` at 401 when signed out; a page that only wants to know
  // whether someone is signed in asks here and gets a 200 either way, so that a signed-out visit
  // does not show up as a failed request (a console error) in the browser.
  r.get('/api/v1/session/status', {
    schema: {
      tags,
      operationId: 'getSessionStatus',
      security: OPTIONAL_SESSION,
      summary: 'Whether the request carries a session: 200 either way',
      description: 'Signed out (no session, or an ended one): `{"signedIn": false}`. Signed in: `{"signedIn": true, user, session}` as `GET /api/v1/session` answers (restricted sessions included). The web components probe with this.',
      response: {
        200: Type.Union([
          Type.Object({ signedIn: Type.Literal(false) }),
          Type.Object({ signedIn: Type.Literal(true), user: UserSchema, session: SessionSchema }),
        ]),
        400: { $ref: 'Problem#' },
      },
    },
  }, async (request) => {
    const found = await deps.auth.optionalSession(request);
    if (!found) return { signedIn: false as const };
    return { signedIn: true as const, user: userJson(found.user), session: sessionJson(found.session) };
  });

  const DeviceSessionSchema = Type.Object({
    id: Type.String(),
    current: Type.Boolean({ description: 'The session this request is made with' }),
    amr: Type.Array(Type.String()),
    createdAt: Type.String({ format: 'date-time' }),
    lastSeenAt: Type.String({ format: 'date-time' }),
    expiresAt: Type.String({ format: 'date-time' }),
    ip: Type.Union([Type.String(), Type.Null()]),
    os: Type.Union([Type.String(), Type.Null()]),
    browser: Type.Union([Type.String(), Type.Null()]),
  });
  const iso = (ms: number) => new Date(ms).toISOString();

  r.get('/api/v1/sessions', {
    schema: { operationId: 'listSessions', security: SIGNED_IN, tags, summary: "Where the user is signed in: the user's live sessions", response: { 200: Type.Object({ sessions: Type.Array(DeviceSessionSchema) }), 401: problem } },
  }, async (request) => {
    const { user, session } = await deps.auth.requireSession(request);
    const sessions = await deps.sessions.listForUser(user.id);
    return {
      sessions: sessions.map((s) => ({ ...s, current: s.id === session.id, createdAt: iso(s.createdAt), lastSeenAt: iso(s.lastSeenAt), expiresAt: iso(s.expiresAt) })),
    };
  });

  r.delete('/api/v1/sessions/:id', {
    schema: {
      operationId: 'revokeSession',
      security: SIGNED_IN,
      tags,
      summary: 'End one of your sessions (e.g. a lost device)',
      params: Type.Object({ id: Type.String({ maxLength: 64 }) }),
      response: { 204: Type.Null(), 401: problem, 404: problem },
    },
  }, async (request, reply) => {
    const { user } = await deps.auth.requireSession(request);
    await deps.db.transaction().execute(async (trx) => {
      if (!(await deps.sessions.revokeOwn(trx, user.id, request.params.id))) throw SessionErrors.session_not_found();
      await deps.audit.record(trx, requestContext(request), { type: 'session.revoked', outcome: 'success', subjectUserId: user.id, sessionId: request.params.id });
    });
    return reply.code(204).send(null);
  });

  r.delete('/api/v1/sessions', {
    schema: { operationId: 'revokeOtherSessions', security: SIGNED_IN, tags, summary: 'Sign out everywhere else: every session but this one', response: { 200: Type.Object({ revoked: Type.Integer() }), 401: problem } },
  }, async (request) => {
    const { user, session } = await deps.auth.requireSession(request);
    const revoked = await deps.db.transaction().execute(async (trx) => {
      const ids = await deps.sessions.revokeOthers(trx, user.id, session.id);
      for (const id of ids) {
        await deps.audit.record(trx, requestContext(request), { type: 'session.revoked', outcome: 'success', subjectUserId: user.id, sessionId: id, data: { by: 'sign_out_others' } });
      }
      return ids.length;
    });
    return { revoked };
  });

  r.delete('/api/v1/session', {
    schema: { operationId: 'deleteSession', security: SIGNED_IN, tags, summary: 'Sign out: the token stops working at once', response: { 204: Type.Null(), 401: problem } },
  }, async (request, reply) => {
    const { user, session } = await deps.auth.requireSession(request, { allow: ['recovery', 'second_factor'] });
    await deps.db.transaction().execute(async (trx) => {
      await deps.sessions.revoke(trx, session);
      await deps.audit.record(trx, requestContext(request), { type: 'session.revoked', outcome: 'success', subjectUserId: user.id, sessionId: session.id });
    });
    deps.cookies.clearSession(reply);
    return reply.code(204).send(null);
  });
}
