import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { SessionSchema, UserSchema } from '../../contract/schemas.ts';
import type { Auth } from '../../http/auth.ts';
import { requestContext } from '../../http/auth.ts';
import type { CookiePolicy } from '../../http/cookies.ts';
import type { AuditService } from '../audit/audit.module.ts';
import { sessionJson, userJson } from '../webauthn/webauthn.module.ts';
import type { SessionsService } from './sessions.service.ts';
import type { Kysely } from 'kysely';
import type { Database } from '../../db/database.ts';

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
    schema: { tags, summary: 'The current session and its user', response: { 200: Type.Object({ user: UserSchema, session: SessionSchema }), 401: problem } },
  }, async (request) => {
    const { user, session } = await deps.auth.requireSession(request);
    return { user: userJson(user), session: sessionJson({ ...session, token: undefined }) };
  });

  r.delete('/api/v1/session', {
    schema: { tags, summary: 'Sign out: the token stops working at once', response: { 204: Type.Null(), 401: problem } },
  }, async (request, reply) => {
    const { user, session } = await deps.auth.requireSession(request);
    await deps.db.transaction().execute(async (trx) => {
      await deps.sessions.revoke(trx, session.id);
      await deps.audit.record(trx, requestContext(request), { type: 'session.revoked', outcome: 'success', subjectUserId: user.id, sessionId: session.id });
    });
    deps.cookies.clearSession(reply);
    return reply.code(204).send(null);
  });
}
