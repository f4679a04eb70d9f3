import type { FastifyRequest } from 'fastify';
import { CommonErrors } from '../errors/common.errors.ts';
import type { Clock } from '../platform/clock.ts';
import type { RequestContext } from '../platform/request-context.ts';
import { SessionErrors } from '../modules/sessions/sessions.errors.ts';
import type { AuthenticatedSession, SecondFactor, SessionScope, SessionsService } from '../modules/sessions/sessions.module.ts';
import type { ApiKeyPrincipal, ApiKeyScope, ApiKeysService } from '../modules/api-keys/api-keys.module.ts';
import type { CookiePolicy } from './cookies.ts';

const resolved = new WeakMap<FastifyRequest, Promise<AuthenticatedSession | undefined>>();
const principals = new WeakMap<FastifyRequest, Promise<Principal | undefined>>();
/** The principal `authorize` let through, for `requestContext` (the audit row's actor). */
const authorized = new WeakMap<FastifyRequest, Principal>();

/**
 * Who is making a request. A user's session holds no management scopes (yet); staff members
 * come with a later issue and will be a third kind.
 */
export type Principal =
  | { kind: 'user'; session: AuthenticatedSession; scopes: readonly ApiKeyScope[] }
  | { kind: 'api_key'; key: ApiKeyPrincipal; scopes: readonly ApiKeyScope[] };

export interface StepUpPolicy {
  clock: Clock;
  maxAgeSeconds: number;
  /** Whether the user has a passkey: then only a user-verified passkey counts as step-up. */
  hasPasskey(userId: string): Promise<boolean>;
}

/**
 * Resolves (once per request) the session a request carries, by bearer token or cookie, and
 * applies the two session rules every route shares: a recovery session may only enrol a passkey
 * (SEC-39), and sensitive operations need a recent re-authentication (SEC-31).
 */
export function createAuth(
  sessions: SessionsService,
  cookies: CookiePolicy,
  stepUp: StepUpPolicy,
  apiKeys: Pick<ApiKeysService, 'authenticate' | 'deny'>,
) {
  function optionalSession(request: FastifyRequest): Promise<AuthenticatedSession | undefined> {
    let found = resolved.get(request);
    if (!found) {
      const carried = cookies.sessionToken(request);
      found = carried ? sessions.authenticate(carried.token) : Promise.resolve(undefined);
      resolved.set(request, found);
    }
    return found;
  }
  /**
   * A live session; a restricted one (recovery, pending second factor) only where `allow` names
   * its scope. A route that finishes a sign-in with a factor (`finishes`) lets a session waiting
   * for its second factor through only when that is the factor recorded on it at sign-in.
   */
  async function requireSession(
    request: FastifyRequest,
    options: { allow?: readonly SessionScope[]; finishes?: SecondFactor } = {},
  ): Promise<AuthenticatedSession> {
    const session = await optionalSession(request);
    if (!session) throw CommonErrors.unauthorized();
    const { scope, secondFactor } = session.session;
    if (scope !== 'full' && !options.allow?.includes(scope)) {
      throw scope === 'second_factor' ? SessionErrors.second_factor_required() : SessionErrors.recovery_session_restricted();
    }
    if (scope === 'second_factor' && options.finishes !== undefined && secondFactor !== options.finishes) {
      throw SessionErrors.second_factor_mismatch({ detail: `This sign-in must be finished with the ${secondFactor ?? 'unknown'} factor.`, internal: `needs ${secondFactor}, got ${options.finishes}` });
    }
    return session;
  }
  /**
   * SEC-31: the strongest factor on the account, recently. With a passkey on the account that is
   * a user-verified passkey authentication (sign-in or step-up) at most `maxAgeSeconds` old; an
   * account without one (after its last passkey was removed) needs a fresh sign-in of any kind.
   */
  async function isRecentlyVerified(found: AuthenticatedSession): Promise<boolean> {
    const { session, user } = found;
    const fresh = stepUp.clock.now() - session.authTime <= stepUp.maxAgeSeconds * 1000;
    if (!fresh || session.scope !== 'full') return false;
    if (session.amr.includes('passkey') && session.userVerified) return true;
    return !(await stepUp.hasPasskey(user.id));
  }
  /** The principal of a request, resolved once: an API key (by its prefix) first, else the session. */
  function principal(request: FastifyRequest): Promise<Principal | undefined> {
    let found = principals.get(request);
    if (!found) {
      const key = cookies.apiKey(request);
      found = key
        ? apiKeys.authenticate(key, requestContext(request)).then((k) => ({ kind: 'api_key' as const, key: k, scopes: k.scopes }))
        : optionalSession(request).then((s) => (s && s.session.scope === 'full' ? { kind: 'user' as const, session: s, scopes: [] } : undefined));
      principals.set(request, found);
    }
    return found;
  }
  /**
   * The one authorisation check of scoped routes (SEC-44): 401 without valid credentials (an
   * API key's own 401 codes: invalid, expired, revoked), 403 insufficient_scope naming the scope
   * when they do not hold it (audited as authorization.denied).
   */
  async function authorize(request: FastifyRequest, scope: ApiKeyScope): Promise<Principal> {
    const found = await principal(request);
    if (!found) throw CommonErrors.unauthorized();
    if (!found.scopes.includes(scope)) throw await apiKeys.deny(contextOf(request, found), scope);
    authorized.set(request, found);
    return found;
  }
  return {
    optionalSession,
    requireSession,
    authorize,
    isRecentlyVerified,
    /** A full session with a recent step-up, or 403 step_up_required. */
    async requireStepUp(request: FastifyRequest): Promise<AuthenticatedSession> {
      const found = await requireSession(request);
      if (!(await isRecentlyVerified(found))) throw SessionErrors.step_up_required();
      return found;
    },
  };
}

export type Auth = ReturnType<typeof createAuth>;

/** The request's context for audit rows; after `authorize` let an API key through, the key is the actor. */
export function requestContext(request: FastifyRequest): RequestContext {
  return contextOf(request, authorized.get(request));
}

function contextOf(request: FastifyRequest, principal: Principal | undefined): RequestContext {
  const ua = request.headers['user-agent'];
  const context: RequestContext = { requestId: request.id, ip: request.ip ?? null, userAgent: typeof ua === 'string' ? ua : null };
  if (principal?.kind === 'api_key') context.actor = { kind: 'api_key', id: principal.key.id };
  else if (principal?.kind === 'user') context.actor = { kind: 'user', id: principal.session.user.id };
  return context;
}
