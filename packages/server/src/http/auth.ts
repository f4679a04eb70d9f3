import type { FastifyRequest } from 'fastify';
import { CommonErrors } from '../errors/common.errors.ts';
import type { Clock } from '../platform/clock.ts';
import type { RequestContext } from '../platform/request-context.ts';
import { SessionErrors } from '../modules/sessions/sessions.errors.ts';
import type { AuthenticatedSession, SecondFactor, SessionScope, SessionsService } from '../modules/sessions/sessions.module.ts';
import type { ApiKeyPrincipal, ApiKeyScope, ApiKeysService } from '../modules/api-keys/api-keys.module.ts';
import { StaffErrors, scopesOf, type StaffRole } from '../modules/staff/staff.module.ts';
import type { AppError } from '../errors/app-error.ts';
import type { CookiePolicy } from './cookies.ts';

const resolved = new WeakMap<FastifyRequest, Promise<AuthenticatedSession | undefined>>();
const principals = new WeakMap<FastifyRequest, Promise<Resolved>>();
/** The principal `authorize` let through, for `requestContext` (the audit row's actor). */
const authorized = new WeakMap<FastifyRequest, Principal>();
/** The written reason of a destructive action (`confirmDestructive`), for `requestContext`. */
const reasons = new WeakMap<FastifyRequest, string>();

/**
 * Who is making a request: a user's own session (no management scopes), a staff member's session
 * (the scopes of their role, staff.roles.ts) or an API key (its scopes).
 */
export type Principal =
  | { kind: 'user'; session: AuthenticatedSession; scopes: readonly ApiKeyScope[] }
  | { kind: 'staff'; session: AuthenticatedSession; staff: { userId: string; role: StaffRole }; scopes: readonly ApiKeyScope[] }
  | { kind: 'api_key'; key: ApiKeyPrincipal; scopes: readonly ApiKeyScope[] };

/** A principal, or why a credential that was presented cannot be one (a staff session without a UV passkey). */
type Resolved = { principal: Principal; refusal?: undefined } | { principal?: undefined; refusal: AppError } | { principal?: undefined; refusal?: undefined };

/** A reason is 3 to 500 characters once trimmed (README, "Staff and the support console"). */
export const REASON_MIN = 3;
export const REASON_MAX = 500;

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
  staff: {
    roleOf(userId: string): Promise<StaffRole | undefined>;
    /** SEC-49, short admin sessions: admin access ends this long after the last UV passkey authentication… */
    sessionMaxAgeMs: number;
    /** …or after this long unused. */
    idleTimeoutMs: number;
  },
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
  /**
   * A full session's principal. The staff role is read from the database on every request (one
   * primary-key read), so a role change or a removal ends elevated access at once (SEC-49); a
   * disabled user's sessions do not authenticate at all. Staff reach the admin API only with a
   * session from a user-verified passkey (SEC-49: phishing-resistant).
   */
  async function sessionPrincipal(found: AuthenticatedSession | undefined): Promise<Resolved> {
    if (found?.session.scope !== 'full') return {};
    const role = await staff.roleOf(found.user.id);
    if (!role) return { principal: { kind: 'user', session: found, scopes: [] } };
    if (!found.session.amr.includes('passkey') || !found.session.userVerified) return { refusal: StaffErrors.staff_passkey_required() };
    // Short admin sessions (SEC-49): the account's session may live on, its admin access does not.
    const now = stepUp.clock.now();
    const idle = found.session.lastSeenAt !== undefined && now - found.session.lastSeenAt > staff.idleTimeoutMs;
    if (idle || now - found.session.authTime > staff.sessionMaxAgeMs) return { refusal: StaffErrors.staff_session_expired({ detail: idle ? 'Unused for too long' : 'Too long since your last passkey check' }) };
    return { principal: { kind: 'staff', session: found, staff: { userId: found.user.id, role }, scopes: scopesOf(role) } };
  }
  /** The principal of a request, resolved once: an API key (by its prefix) first, else the session. */
  function principal(request: FastifyRequest): Promise<Resolved> {
    let found = principals.get(request);
    if (!found) {
      const key = cookies.apiKey(request);
      found = key
        ? apiKeys.authenticate(key, requestContext(request)).then((k) => ({ principal: { kind: 'api_key' as const, key: k, scopes: k.scopes } }))
        : optionalSession(request).then(sessionPrincipal);
      principals.set(request, found);
    }
    return found;
  }
  /**
   * The one authorisation check of scoped routes (SEC-44): 401 without valid credentials (an
   * API key's own 401 codes: invalid, expired, revoked), 403 staff_passkey_required for a staff
   * session not from a user-verified passkey, 403 insufficient_scope naming the scope when they
   * do not hold it (audited as authorization.denied).
   */
  async function authorize(request: FastifyRequest, scope: ApiKeyScope): Promise<Principal> {
    const { principal: found, refusal } = await principal(request);
    if (refusal) throw refusal;
    if (!found) throw CommonErrors.unauthorized();
    if (!found.scopes.includes(scope)) throw await apiKeys.deny(contextOf(request, found), scope);
    authorized.set(request, found);
    return found;
  }
  /**
   * A destructive management action (route `config.destructive`), after `authorize`: a staff
   * member needs a recent step-up (403 step_up_required) and a written reason (400
   * reason_required); an API key may send a reason (audited) and needs no step-up. Acting on a
   * staff member's own account needs staff:manage (403 staff_target_forbidden), so support can
   * never disable or recover an admin. The reason lands on every audit row of the request.
   */
  async function confirmDestructive(request: FastifyRequest, targetUserId: string | undefined, destructive = true): Promise<void> {
    const found = authorized.get(request);
    if (!found) throw CommonErrors.unauthorized();
    const reason = reasonOf(request);
    if (reason !== undefined) {
      const length = [...reason].length;
      if (length < REASON_MIN || length > REASON_MAX) throw StaffErrors.reason_required({ detail: `The reason must be ${REASON_MIN} to ${REASON_MAX} characters` });
      reasons.set(request, reason);
    }
    if (found.kind === 'staff' && destructive) {
      if (!(await isRecentlyVerified(found.session))) throw SessionErrors.step_up_required();
      if (reason === undefined) throw StaffErrors.reason_required();
    }
    if (targetUserId !== undefined && !found.scopes.includes('staff:manage') && (await staff.roleOf(targetUserId))) {
      // Audited as a refusal for the scope it lacks (SEC-50), answered with the reason.
      await apiKeys.deny(contextOf(request, found), 'staff:manage');
      throw StaffErrors.staff_target_forbidden();
    }
  }
  return {
    optionalSession,
    requireSession,
    authorize,
    confirmDestructive,
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

/**
 * The written reason a request carries: the JSON body's `reason`, or (DELETE has no body) the
 * `Latchkey-Reason` header, percent-encoded UTF-8. Trimmed; undefined when absent or empty.
 */
function reasonOf(request: FastifyRequest): string | undefined {
  const body = request.body;
  let raw: unknown = body !== null && typeof body === 'object' && 'reason' in body ? (body as { reason: unknown }).reason : undefined;
  if (raw === undefined) {
    const header = request.headers['latchkey-reason'];
    if (typeof header === 'string') {
      try {
        raw = decodeURIComponent(header);
      } catch {
        throw StaffErrors.reason_required({ detail: 'The Latchkey-Reason header is not valid percent-encoded UTF-8' });
      }
    }
  }
  if (raw === undefined) return undefined;
  if (typeof raw !== 'string') throw StaffErrors.reason_required({ detail: '/reason: must be a string' });
  const trimmed = raw.trim();
  return trimmed === '' ? undefined : trimmed;
}

/** The request's context for audit rows; after `authorize` let an API key or a staff member through, they are the actor. */
export function requestContext(request: FastifyRequest): RequestContext {
  const context = contextOf(request, authorized.get(request));
  const reason = reasons.get(request);
  if (reason !== undefined) context.reason = reason;
  return context;
}

function contextOf(request: FastifyRequest, principal: Principal | undefined): RequestContext {
  const ua = request.headers['user-agent'];
  const context: RequestContext = { requestId: request.id, ip: request.ip ?? null, userAgent: typeof ua === 'string' ? ua : null };
  if (principal?.kind === 'api_key') context.actor = { kind: 'api_key', id: principal.key.id };
  else if (principal?.kind === 'staff') context.actor = { kind: 'staff', id: principal.staff.userId };
  else if (principal?.kind === 'user') context.actor = { kind: 'user', id: principal.session.user.id };
  return context;
}
