import type { Kysely } from 'kysely';
import type { Database } from '../../db/database.ts';
import type { BoundStatement } from '../../db/prepared-query.ts';
import type { Clock } from '../../platform/clock.ts';
import { sha256Base64Url, toBase64Url } from '../../platform/encoding.ts';
import type { Random } from '../../platform/random.ts';
import type { RequestContext } from '../../platform/request-context.ts';
import type { ParsedUserAgent } from '../../platform/user-agent.ts';
import type { AuditEvent } from '../audit/audit.service.ts';
import { createSessionsRepository } from './sessions.repository.ts';

/** Authentication methods references (RFC 8176 where one exists). */
export type Amr = 'passkey' | 'otp' | 'pwd' | 'totp' | 'mfa';

/**
 * 'full'; 'recovery': may only enrol a passkey (SEC-39); 'second_factor': a password was right
 * but the account's passkey must still be shown (step-up) before anything else.
 */
export type SessionScope = 'full' | 'recovery' | 'second_factor';
const SCOPES: readonly SessionScope[] = ['full', 'recovery', 'second_factor'];

/** What completes a 'second_factor' session: recorded on it at sign-in, and nothing else does. */
export type SecondFactor = 'passkey' | 'totp';
const SECOND_FACTORS: readonly SecondFactor[] = ['passkey', 'totp'];

export interface SessionView {
  id: string;
  /** A recovery session may only enrol a new passkey (SEC-39). */
  scope: SessionScope;
  /** With scope 'second_factor': the one factor that finishes the sign-in; null otherwise. */
  secondFactor: SecondFactor | null;
  /** Only present right after sign-in: the one time the token leaves the server. */
  token?: string;
  userId: string;
  amr: Amr[];
  userVerified: boolean;
  authTime: number;
  createdAt: number;
  expiresAt: number;
  idleExpiresAt: number;
  /** When the session was used before this request (set by `authenticate`; updated at most once a minute). */
  lastSeenAt?: number;
}

export interface DeviceSession {
  id: string;
  amr: Amr[];
  createdAt: number;
  lastSeenAt: number;
  expiresAt: number;
  ip: string | null;
  os: string | null;
  browser: string | null;
}

export interface AuthenticatedSession {
  session: SessionView;
  user: { id: string; username: string; displayName: string; userHandle: string };
}

/**
 * NIST SP 800-63B-4 assurance level of a session: 2 for a user-verified passkey (a multi-factor
 * cryptographic authenticator) or for two factors ("mfa"); 1 for an e-mail code or a password alone.
 * A recovery session is never more than 1.
 */
export function assuranceLevel(session: Pick<SessionView, 'amr' | 'userVerified' | 'scope'>): 1 | 2 {
  if (session.scope !== 'full') return 1;
  if (session.amr.includes('mfa')) return 2;
  return session.amr.includes('passkey') && session.userVerified ? 2 : 1;
}

/** The methods after a passkey step-up: "passkey" added; "mfa" when it completes a password sign-in. */
export function stepUpAmr(amr: readonly Amr[], secondFactor = false): Amr[] {
  const out = amr.includes('passkey') ? [...amr] : [...amr, 'passkey' as const];
  if (secondFactor && !out.includes('mfa')) out.push('mfa');
  return out;
}

/**
 * The audit row for the session a sign-in request carried, which the sign-in ended (issue 9):
 * written in the sign-in's commit, next to its `session.created`.
 */
export function replacedSessionEvent(carried: AuthenticatedSession, replacedBy: string): AuditEvent {
  return { type: 'session.revoked', outcome: 'success', subjectUserId: carried.user.id, sessionId: carried.session.id, data: { by: 'sign_in', replacedBy } };
}

/**
 * A restricted session (recovery, or a password waiting for its second factor) must be finished
 * quickly: after this long it stops working, whatever its absolute and idle expiry say.
 */
export const RESTRICTED_SESSION_MS = 15 * 60_000;

/** Only refresh last-seen this often: a read must not cost a write on every request. */
const TOUCH_INTERVAL_MS = 60_000;

export interface OpenInput {
  userId: string;
  amr: Amr[];
  userVerified: boolean;
  context: RequestContext;
  /** 'full' by default; a `secondFactor` makes it 'second_factor'. */
  scope?: SessionScope;
  /** A password sign-in that must still be finished: the one factor that may finish it. */
  secondFactor?: SecondFactor;
  /** The live session the sign-in request carried: ended in the same commit. */
  replaces?: { id: string; userId: string } | undefined;
}

export function createSessionsService(deps: {
  db: Kysely<Database>;
  clock: Clock;
  random: Random;
  idleTimeoutSeconds: number;
  absoluteTimeoutSeconds: number;
  parseUserAgent: (ua: string | null) => ParsedUserAgent;
}) {
  const repository = createSessionsRepository();
  const idleMs = deps.idleTimeoutSeconds * 1000;
  const absoluteMs = deps.absoluteTimeoutSeconds * 1000;

  /**
   * A new session and the statements that open it, for the caller's `writeBatch`: a fresh 32-byte
   * token on every sign-in (SEC-24), of which only the SHA-256 is stored. `replaces` is the
   * session the sign-in request carried: it ends in the same commit (signing in again never
   * leaves the old session alive), and costs nothing when the request carried none.
   */
  function open(input: OpenInput): { view: SessionView & { token: string }; statements: BoundStatement[] } {
    const now = deps.clock.now();
    const token = toBase64Url(deps.random.bytes(32));
    const secondFactor = input.secondFactor ?? null;
    const view = {
      id: deps.random.timeOrderedUuid(),
      scope: secondFactor ? ('second_factor' as const) : (input.scope ?? ('full' as const)),
      secondFactor,
      token,
      userId: input.userId,
      amr: input.amr,
      userVerified: input.userVerified,
      authTime: now,
      createdAt: now,
      expiresAt: now + absoluteMs,
      idleExpiresAt: Math.min(now + idleMs, now + absoluteMs),
    };
    const insert = repository.insert({
      id: view.id,
      token_hash: sha256Base64Url(token),
      user_id: view.userId,
      amr: JSON.stringify(view.amr),
      user_verified: view.userVerified ? 1 : 0,
      auth_time: now,
      created_at: now,
      last_seen_at: now,
      expires_at: view.expiresAt,
      idle_expires_at: view.idleExpiresAt,
      revoked_at: null,
      ip: input.context.ip,
      user_agent: input.context.userAgent?.slice(0, 512) ?? null,
      scope: view.scope,
      second_factor: secondFactor,
    });
    const statements = [insert];
    if (input.replaces) statements.push(repository.revokeStatement(input.replaces, now));
    return { view, statements };
  }

  /**
   * The update `recordStepUp` makes, for the caller's `writeBatch` (run it with `expectOne`): by
   * the session's id and its user's, and only while the session is live and still has the scope
   * (and pending second factor) it was read with. Raising a session's assurance is a
   * re-authentication: it gets a fresh 32-byte token in the same statement (SEC-24), only the
   * SHA-256 stored; the old token stops working with the commit. The caller hands `token` to the
   * client the way sign-in does.
   */
  function stepUpStatement(session: SessionView, input: { userVerified: boolean; scope?: SessionScope; amr?: Amr[] }): { statement: BoundStatement; token: string } {
    const amr = input.amr ?? stepUpAmr(session.amr);
    const token = toBase64Url(deps.random.bytes(32));
    const statement = repository.refreshAuth({
      id: session.id,
      user_id: session.userId,
      from_scope: session.scope,
      from_second_factor: session.secondFactor ?? '',
      token_hash: sha256Base64Url(token),
      amr: JSON.stringify(amr),
      user_verified: input.userVerified ? 1 : 0,
      auth_time: deps.clock.now(),
      scope: input.scope ?? session.scope,
    });
    return { statement, token };
  }

  return {
    /** Opens a session inside the caller's transaction (see `open`). */
    async create(db: Kysely<Database>, input: OpenInput): Promise<SessionView & { token: string }> {
      const { view, statements } = open(input);
      for (const statement of statements) await statement.execute(db);
      return view;
    },

    open,

    /** The live session a token names, sliding its idle expiry; undefined when unknown, expired or revoked. */
    async authenticate(token: string): Promise<AuthenticatedSession | undefined> {
      if (token.length < 16 || token.length > 128) return undefined;
      const now = deps.clock.now();
      const found = await repository.findLiveByTokenHash(deps.db, sha256Base64Url(token), now);
      if (found?.user.status !== 'active') return undefined;
      const s = found.session;
      if (s.scope !== 'full' && now - Number(s.auth_time) > RESTRICTED_SESSION_MS) return undefined;
      let idleExpiresAt = s.idle_expires_at;
      if (now - s.last_seen_at >= TOUCH_INTERVAL_MS) {
        idleExpiresAt = Math.min(now + idleMs, s.expires_at);
        await repository.touch(deps.db, { id: s.id, userId: s.user_id }, now, idleExpiresAt);
      }
      return {
        session: {
          id: s.id,
          scope: SCOPES.find((scope) => scope === s.scope) ?? 'recovery',
          secondFactor: SECOND_FACTORS.find((factor) => factor === s.second_factor) ?? null,
          userId: s.user_id,
          amr: JSON.parse(s.amr) as Amr[],
          userVerified: s.user_verified === 1,
          authTime: s.auth_time,
          createdAt: s.created_at,
          expiresAt: s.expires_at,
          idleExpiresAt,
          lastSeenAt: s.last_seen_at,
        },
        user: found.user,
      };
    },

    /** The user's live sessions, newest use first, for "where am I signed in" (SEC-28). */
    async listForUser(userId: string): Promise<DeviceSession[]> {
      const rows = await repository.listLiveByUser(deps.db, userId, deps.clock.now());
      return rows.map((r) => {
        const ua = deps.parseUserAgent(r.user_agent);
        return {
          id: r.id,
          amr: JSON.parse(r.amr) as Amr[],
          createdAt: r.created_at,
          lastSeenAt: r.last_seen_at,
          expiresAt: r.expires_at,
          ip: r.ip,
          os: ua.os,
          browser: ua.browser,
        };
      });
    },

    /**
     * A fresh user-verified passkey authentication on an existing session (step-up, SEC-31):
     * adds "passkey" to its methods and moves its auth time to now. A recovery session becomes a
     * full one only when it registers a passkey. Answers the session's new token (see
     * `stepUpStatement`), or undefined when the session ended or changed since it was read.
     */
    async recordStepUp(db: Kysely<Database>, session: SessionView, input: { userVerified: boolean; scope?: SessionScope; amr?: Amr[] }): Promise<string | undefined> {
      const { statement, token } = stepUpStatement(session, input);
      return (await statement.execute(db)) === 1 ? token : undefined;
    },

    stepUpStatement,

    async revokeOwn(db: Kysely<Database>, userId: string, sessionId: string): Promise<boolean> {
      return repository.revokeOwn(db, userId, sessionId, deps.clock.now());
    },

    /** "Sign out everywhere else" (SEC-29): every live session of the user but the current one. */
    async revokeOthers(db: Kysely<Database>, userId: string, keepSessionId: string): Promise<string[]> {
      return repository.revokeOthers(db, userId, keepSessionId, deps.clock.now());
    },

    /** Every session of the user ends at once (SEC-28: account disabled, or ended by an administrator). */
    async revokeAll(db: Kysely<Database>, userId: string): Promise<string[]> {
      return repository.revokeAll(db, userId, deps.clock.now());
    },

    /** Ends one session of its user ("sign out"). */
    async revoke(db: Kysely<Database>, session: { id: string; userId: string }): Promise<boolean> {
      return (await repository.revokeStatement(session, deps.clock.now()).execute(db)) === 1;
    },

    async sweepExpired(): Promise<number> {
      return repository.deleteExpired(deps.db, deps.clock.now());
    },
  };
}

export type SessionsService = ReturnType<typeof createSessionsService>;
