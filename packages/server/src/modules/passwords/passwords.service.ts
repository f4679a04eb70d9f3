import type { Kysely } from 'kysely';
import type { Database } from '../../db/database.ts';
import type { Clock } from '../../platform/clock.ts';
import type { RequestContext } from '../../platform/request-context.ts';
import type { AccountsService, User } from '../accounts/accounts.module.ts';
import type { AuditService } from '../audit/audit.module.ts';
import type { Lockout } from '../fallback/fallback.module.ts';
import type { Notifier } from '../mail/mail.module.ts';
import { replacedSessionEvent, type AuthenticatedSession, type SessionsService, type SessionView } from '../sessions/sessions.module.ts';
import type { PasswordHasher } from './password-hasher.ts';
import { normalizePassword, passwordProblem } from './password-policy.ts';
import { PasswordErrors } from './passwords.errors.ts';
import { createPasswordsRepository } from './passwords.repository.ts';

/** Passwords, when a deployment enables them (SEC-41..43). */
export function createPasswordsService(deps: {
  db: Kysely<Database>;
  clock: Clock;
  accounts: AccountsService;
  sessions: SessionsService;
  audit: AuditService;
  notifier: Notifier;
  lockout: Lockout;
  hasher: PasswordHasher;
  minLength: number;
  passkeyFirst: boolean;
  rpName: string;
  countPasskeys(userId: string): Promise<number>;
  /** Whether the user has a confirmed authenticator app (TOTP enabled). */
  hasTotp(userId: string): Promise<boolean>;
}) {
  const repository = createPasswordsRepository();
  return {
    async hasPassword(userId: string): Promise<boolean> {
      return repository.hasPassword(deps.db, userId);
    },

    /** SEC-42: set or change (the route checked step-up); other sessions end, the user hears of it. */
    async setPassword(found: AuthenticatedSession, password: string, context: RequestContext): Promise<{ sessionsRevoked: number }> {
      const problem = passwordProblem(password, { minLength: deps.minLength, contextWords: [found.user.username, found.user.displayName, deps.rpName, 'latchkey'] });
      if (problem) throw PasswordErrors.password_rejected({ detail: `password ${problem}` });
      const hash = await deps.hasher.hash(normalizePassword(password));
      const had = await repository.hasPassword(deps.db, found.user.id);
      const revoked = await deps.db.transaction().execute(async (trx) => {
        await repository.upsert(trx, found.user.id, hash, deps.clock.now());
        const ids = await deps.sessions.revokeOthers(trx, found.user.id, found.session.id);
        await deps.audit.record(trx, context, { type: 'password.changed', outcome: 'success', subjectUserId: found.user.id, sessionId: found.session.id, data: { first: !had, sessionsRevoked: ids.length } });
        return ids.length;
      });
      deps.notifier.notify(found.user.id, 'password_changed', { at: deps.clock.now() });
      return { sessionsRevoked: revoked };
    },

    /**
     * Username and password. The same work and the same answer for an unknown user, a user
     * without a password and a wrong password (a dummy argon2 verification; SEC-43). With
     * passkey-first, an account that has a passkey gets a `second_factor` session that must
     * finish with the passkey (step-up) before it is usable; an account with an authenticator app
     * (and no passkey-first rule in force) finishes with a TOTP code.
     */
    async signIn(input: { username: string; password: string; context: RequestContext; carried?: AuthenticatedSession | undefined }): Promise<{ user: User; session: SessionView & { token: string }; secondFactor: 'passkey' | 'totp' | null }> {
      const key = deps.accounts.lookupKeyOf(input.username);
      const counterKey = `pwd:${key}`;
      const attempt = await deps.lockout.begin(counterKey);
      const found = await repository.findByUsernameKey(deps.db, key);
      const ok = await deps.hasher.verifyOrDummy(found?.hash ?? undefined, normalizePassword(input.password));
      if (!ok || !found || found.status !== 'active') {
        const failures = await attempt.failed();
        await deps.audit.record(deps.db, input.context, {
          type: 'password.failed',
          outcome: 'failure',
          subjectUserId: found?.userId ?? null,
          errorCode: 'invalid_credentials',
          data: { consecutiveFailures: failures },
        });
        throw PasswordErrors.invalid_credentials();
      }
      await attempt.succeeded();
      const user = (await deps.accounts.findById(found.userId)) as User;
      const needsPasskey = deps.passkeyFirst && (await deps.countPasskeys(user.id)) > 0;
      const secondFactor = needsPasskey ? 'passkey' : (await deps.hasTotp(user.id)) ? 'totp' : null;
      const session = await deps.db.transaction().execute(async (trx) => {
        // The factor that must finish this sign-in is recorded on the session: only it does (issue 9).
        const created = await deps.sessions.create(trx, {
          userId: user.id,
          amr: ['pwd'],
          userVerified: false,
          context: input.context,
          ...(secondFactor ? { secondFactor } : {}),
          replaces: input.carried?.session,
        });
        await deps.audit.record(trx, input.context, { type: 'session.created', outcome: 'success', subjectUserId: user.id, sessionId: created.id, data: { method: 'password', scope: created.scope, secondFactor } });
        if (input.carried) await deps.audit.record(trx, input.context, replacedSessionEvent(input.carried, created.id));
        return created;
      });
      return { user, session, secondFactor };
    },
  };
}

export type PasswordsService = ReturnType<typeof createPasswordsService>;
