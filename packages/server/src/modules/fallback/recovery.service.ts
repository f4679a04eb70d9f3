import { timingSafeEqual } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Database } from '../../db/database.ts';
import type { Clock } from '../../platform/clock.ts';
import { sha256, toBase32 } from '../../platform/encoding.ts';
import type { Random } from '../../platform/random.ts';
import type { RequestContext } from '../../platform/request-context.ts';
import type { AuditService } from '../audit/audit.module.ts';
import type { Notifier } from '../mail/mail.module.ts';
import { replacedSessionEvent, type AuthenticatedSession, type SessionsService, type SessionView } from '../sessions/sessions.module.ts';
import type { EmailCodesService } from './email-codes.service.ts';
import { FallbackErrors } from './fallback.errors.ts';
import type { FallbackRepository } from './fallback.repository.ts';
import type { Lockout } from './lockout.service.ts';

export const RECOVERY_CODE_COUNT = 10;
/** 15 bytes = 120 bits per code (SEC-38 asks for at least 112). */
const RECOVERY_CODE_BYTES = 15;
/** What the user may type: any case, with or without the dashes and spaces. */
export function normalizeRecoveryCode(code: string): string {
  return code.toUpperCase().replace(/[^A-Z2-7]/g, '');
}

const hashOf = (normalized: string) => Buffer.from(sha256(`recovery-code:${normalized}`)).toString('base64url');

/**
 * Recovery codes (SEC-38) and account recovery when every passkey is lost (SEC-39): the e-mailed
 * code and a recovery code together open a restricted session that can only enrol a passkey.
 */
export function createRecoveryService(deps: {
  db: Kysely<Database>;
  clock: Clock;
  random: Random;
  repository: FallbackRepository;
  sessions: SessionsService;
  audit: AuditService;
  notifier: Notifier;
  emailCodes: EmailCodesService;
  lockout: Lockout;
  /** Whether the account may sign in at all (a disabled one may not recover either). */
  isActive(userId: string): Promise<boolean>;
}) {
  /** Constant-time over every unused code of the user; marks the match used with a compare-and-set. */
  async function useCode(trx: Kysely<Database>, userId: string, code: string): Promise<boolean> {
    const given = Buffer.from(hashOf(normalizeRecoveryCode(code)));
    let match: string | undefined;
    for (const stored of await deps.repository.unusedRecoveryHashes(trx, userId)) {
      const candidate = Buffer.from(stored);
      if (candidate.length === given.length && timingSafeEqual(candidate, given)) match = stored;
    }
    return match !== undefined && (await deps.repository.useRecoveryCode(trx, userId, match, deps.clock.now()));
  }

  return {
    /** Ten new codes, shown once; the old ones stop working. The caller checked step-up. */
    async regenerate(found: AuthenticatedSession, context: RequestContext): Promise<string[]> {
      const codes = Array.from({ length: RECOVERY_CODE_COUNT }, () => toBase32(deps.random.bytes(RECOVERY_CODE_BYTES)).match(/.{4}/g)?.join('-') ?? '');
      const now = deps.clock.now();
      await deps.db.transaction().execute(async (trx) => {
        await deps.repository.replaceRecoveryCodes(trx, found.user.id, codes.map((c) => hashOf(normalizeRecoveryCode(c))), now);
        await deps.audit.record(trx, context, { type: 'recovery_codes.generated', outcome: 'success', subjectUserId: found.user.id, sessionId: found.session.id, data: { count: codes.length } });
      });
      deps.notifier.notify(found.user.id, 'recovery_codes_regenerated', { at: now });
      return codes;
    },

    async remaining(userId: string): Promise<number> {
      return (await deps.repository.unusedRecoveryHashes(deps.db, userId)).length;
    },

    /**
     * The e-mailed code (first factor: the mailbox) and a recovery code (second: something the
     * user kept) give a recovery session: it can only register a passkey (SEC-39), and doing so
     * signs out every other session.
     */
    async recover(input: {
      binding: string | undefined;
      code: string;
      recoveryCode: string;
      context: RequestContext;
      carried?: AuthenticatedSession | undefined;
    }): Promise<{ userId: string; session: SessionView & { token: string } }> {
      const { userId } = await deps.emailCodes.verify({ purpose: 'recovery', binding: input.binding, code: input.code, context: input.context });
      // A code mailed before the account was disabled must not spend a recovery code or open a session.
      if (!(await deps.isActive(userId))) throw FallbackErrors.code_invalid({ internal: 'account is not active' });
      const counterKey = `recovery:${userId}`;
      const attempt = await deps.lockout.begin(counterKey);
      const session = await deps.db.transaction().execute(async (trx) => {
        if (!(await useCode(trx, userId, input.recoveryCode))) return undefined;
        await deps.audit.record(trx, input.context, { type: 'recovery_code.used', outcome: 'success', subjectUserId: userId });
        const created = await deps.sessions.create(trx, { userId, amr: ['otp'], userVerified: false, context: input.context, scope: 'recovery', replaces: input.carried?.session });
        if (input.carried) await deps.audit.record(trx, input.context, replacedSessionEvent(input.carried, created.id));
        await deps.audit.record(trx, input.context, { type: 'recovery.started', outcome: 'success', subjectUserId: userId, sessionId: created.id });
        await deps.audit.record(trx, input.context, { type: 'session.created', outcome: 'success', subjectUserId: userId, sessionId: created.id, data: { scope: 'recovery' } });
        return created;
      });
      if (!session) {
        const failures = await attempt.failed();
        await deps.audit.record(deps.db, input.context, { type: 'recovery.failed', outcome: 'failure', subjectUserId: userId, errorCode: 'recovery_failed', data: { consecutiveFailures: failures } });
        throw FallbackErrors.recovery_failed({ internal: 'recovery code wrong or used' });
      }
      await attempt.succeeded();
      deps.notifier.notify(userId, 'recovery_code_used', { at: deps.clock.now(), detail: 'account recovery was started' });
      return { userId, session };
    },
  };
}

export type RecoveryService = ReturnType<typeof createRecoveryService>;
