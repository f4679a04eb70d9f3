import type { FastifyRequest } from 'fastify';
import { CommonErrors } from '../errors/common.errors.ts';
import type { RequestContext } from '../platform/request-context.ts';
import type { AuthenticatedSession, SessionsService } from '../modules/sessions/sessions.module.ts';
import type { CookiePolicy } from './cookies.ts';

const resolved = new WeakMap<FastifyRequest, Promise<AuthenticatedSession | undefined>>();

/** Resolves (once per request) the session a request carries, by bearer token or cookie. */
export function createAuth(sessions: SessionsService, cookies: CookiePolicy) {
  function optionalSession(request: FastifyRequest): Promise<AuthenticatedSession | undefined> {
    let found = resolved.get(request);
    if (!found) {
      const carried = cookies.sessionToken(request);
      found = carried ? sessions.authenticate(carried.token) : Promise.resolve(undefined);
      resolved.set(request, found);
    }
    return found;
  }
  return {
    optionalSession,
    async requireSession(request: FastifyRequest): Promise<AuthenticatedSession> {
      const session = await optionalSession(request);
      if (!session) throw CommonErrors.unauthorized();
      return session;
    },
  };
}

export type Auth = ReturnType<typeof createAuth>;

export function requestContext(request: FastifyRequest): RequestContext {
  const ua = request.headers['user-agent'];
  return { requestId: request.id, ip: request.ip ?? null, userAgent: typeof ua === 'string' ? ua : null };
}
