import type { Kysely } from 'kysely';
import type { Database } from '../../db/database.ts';
import { CommonErrors } from '../../errors/common.errors.ts';
import type { Clock } from '../../platform/clock.ts';
import { sha256Base64Url, toBase32, toBase64Url } from '../../platform/encoding.ts';
import type { Random } from '../../platform/random.ts';
import type { RequestContext } from '../../platform/request-context.ts';
import type { AccountsService } from '../accounts/accounts.module.ts';
import { AppendTokenErrors } from '../append-tokens/append-tokens.module.ts';
import type { AuditService } from '../audit/audit.module.ts';
import type { Mailer } from '../mail/mail.module.ts';
import { replacedSessionEvent, type AuthenticatedSession, type SessionsService, type SessionView } from '../sessions/sessions.module.ts';
import { StaffErrors } from './staff.errors.ts';
import { createSupportRecoveryRepository } from './support-recovery.repository.ts';

/** Short-lived: a support recovery is for the call the agent is on (README). */
export const SUPPORT_RECOVERY_TTL_MS = 15 * 60_000;
/** What a mailed link carries: 256 random bits, never typed by a person. */
const LINK_PREFIX = 'lk_recover_';
const LINK_SHAPE = /^lk_recover_[A-Za-z0-9_-]{43}$/;

/**
 * A code read out on the phone: 12 base32 characters (60 bits) as XXXX-XXXX-XXXX. Guessing is
 * bounded by its 15 minutes, one live code per user and the per-IP limit on redemption.
 */
function readableCode(bytes: Uint8Array): string {
  return (toBase32(bytes).slice(0, 12).match(/.{4}/g) ?? []).join('-');
}

/** What the user may type: any case, with or without dashes and spaces; a link token as it is. */
export function normalizeSupportCode(input: string): string {
  const trimmed = input.trim();
  return LINK_SHAPE.test(trimmed) ? trimmed : trimmed.toUpperCase().replace(/[^A-Z2-7]/g, '');
}

const hashOf = (normalized: string) => sha256Base64Url(`support-recovery:${normalized}`);

export interface SupportRecoveryService {
  /**
   * Starts an account recovery for a user a staff member (or key) vouches for: e-mail sends a
   * one-time link to the verified address, code returns a one-time code to read out (shown once).
   */
  start(input: { userId: string; method: 'email' | 'code'; context: RequestContext }): Promise<{ method: 'email' | 'code'; expiresAt: number; code?: string }>;
  /** Redeems a code or link: the restricted recovery session (it can only enrol a passkey, SEC-39). */
  redeem(input: { code: string; context: RequestContext; carried?: AuthenticatedSession | undefined }): Promise<{ userId: string; session: SessionView & { token: string } }>;
  sweep(): Promise<number>;
}

export function createSupportRecoveryService(deps: {
  db: Kysely<Database>;
  clock: Clock;
  random: Random;
  audit: AuditService;
  accounts: Pick<AccountsService, 'findById' | 'emailOf'>;
  sessions: SessionsService;
  mailer: Mailer;
  rpName: string;
  /** The app's page that redeems a link: the link is this URL + `#support-code=<token>`. */
  recoveryUrl: string;
}): SupportRecoveryService {
  const repository = createSupportRecoveryRepository();
  return {
    async start({ userId, method, context }) {
      const user = await deps.accounts.findById(userId);
      if (!user) throw CommonErrors.not_found({ detail: 'No such user' });
      if (user.status !== 'active') throw AppendTokenErrors.user_disabled();
      const email = method === 'email' ? await deps.accounts.emailOf(userId) : undefined;
      if (method === 'email' && !email) throw StaffErrors.recovery_email_missing();
      const secret = method === 'email' ? `${LINK_PREFIX}${toBase64Url(deps.random.bytes(32))}` : readableCode(deps.random.bytes(8));
      const now = deps.clock.now();
      const expiresAt = now + SUPPORT_RECOVERY_TTL_MS;
      const id = deps.random.uuid();
      await deps.db.transaction().execute(async (trx) => {
        await repository.replaceForUser(trx, {
          id,
          secret_hash: hashOf(normalizeSupportCode(secret)),
          user_id: userId,
          method,
          created_at: now,
          expires_at: expiresAt,
          created_by_kind: context.actor?.kind ?? 'cli',
          created_by_id: context.actor?.id ?? null,
          used_at: null,
        });
        await deps.audit.record(trx, context, {
          type: 'recovery.support_started',
          outcome: 'success',
          subjectUserId: userId,
          data: { method, supportRecoveryId: id, expiresAt: new Date(expiresAt).toISOString() },
        });
      });
      if (method === 'code') return { method, expiresAt, code: secret };
      // After the commit, as every mail (mailer.ts): the link is the only copy of the token.
      deps.mailer.send({
        to: email ?? '',
        subject: `${deps.rpName}: recover your account`,
        text: [
          `Support started an account recovery for ${user.username} at ${deps.rpName}, as you asked.`,
          '',
          'Open this link within 15 minutes to add a new passkey (it works once):',
          '',
          `${deps.recoveryUrl}#support-code=${secret}`,
          '',
          'If you did not ask support for this, do not open the link, and tell us: someone may be trying to take over your account.',
        ].join('\n'),
      });
      return { method, expiresAt };
    },

    async redeem({ code, context, carried }) {
      const now = deps.clock.now();
      return deps.db.transaction().execute(async (trx) => {
        const used = await repository.use(trx, hashOf(normalizeSupportCode(code)), now);
        if (!used) throw StaffErrors.support_code_invalid();
        const user = await deps.accounts.findById(used.userId, trx);
        // Disabled after the code was made: it must not open a session.
        if (user?.status !== 'active') throw StaffErrors.support_code_invalid({ internal: 'account is not active' });
        const session = await deps.sessions.create(trx, { userId: used.userId, amr: ['otp'], userVerified: false, context, scope: 'recovery', replaces: carried?.session });
        if (carried) await deps.audit.record(trx, context, replacedSessionEvent(carried, session.id));
        await deps.audit.record(trx, context, { type: 'recovery.started', outcome: 'success', subjectUserId: used.userId, sessionId: session.id, data: { via: 'support', method: used.method, supportRecoveryId: used.id } });
        await deps.audit.record(trx, context, { type: 'session.created', outcome: 'success', subjectUserId: used.userId, sessionId: session.id, data: { scope: 'recovery' } });
        return { userId: used.userId, session };
      });
    },

    sweep: () => repository.deleteExpired(deps.db, deps.clock.now() - 3_600_000),
  };
}
