import type { Kysely } from 'kysely';
import type { Database } from '../../db/database.ts';
import type { Clock } from '../../platform/clock.ts';
import type { RequestContext } from '../../platform/request-context.ts';
import type { AccountsService, User } from '../accounts/accounts.module.ts';
import type { AuditService } from '../audit/audit.module.ts';
import type { Notifier } from '../mail/mail.module.ts';
import { replacedSessionEvent, type AuthenticatedSession, type SessionsService, type SessionView } from '../sessions/sessions.module.ts';
import type { EmailCodesService } from './email-codes.service.ts';
import { FallbackErrors } from './fallback.errors.ts';

/** Sign-in with an e-mailed code, and the user's own address (set and change by code). */
export function createFallbackService(deps: {
  db: Kysely<Database>;
  clock: Clock;
  accounts: AccountsService;
  sessions: SessionsService;
  audit: AuditService;
  notifier: Notifier;
  emailCodes: EmailCodesService;
}) {
  return {
    /**
     * SEC-37: a session from an e-mail code is low assurance (amr ["otp"], AAL1, not user
     * verified): it cannot pass step-up, so nothing sensitive happens without a passkey.
     */
    async signIn(input: { binding: string | undefined; code: string; context: RequestContext; carried?: AuthenticatedSession | undefined }): Promise<{ user: User; session: SessionView & { token: string } }> {
      const { userId } = await deps.emailCodes.verify({ purpose: 'sign_in', binding: input.binding, code: input.code, context: input.context });
      const user = await deps.accounts.findById(userId);
      if (user?.status !== 'active') throw FallbackErrors.code_invalid({ internal: 'account is not active' });
      const session = await deps.db.transaction().execute(async (trx) => {
        const created = await deps.sessions.create(trx, { userId, amr: ['otp'], userVerified: false, context: input.context, replaces: input.carried?.session });
        await deps.audit.record(trx, input.context, { type: 'session.created', outcome: 'success', subjectUserId: userId, sessionId: created.id, data: { method: 'email_code' } });
        if (input.carried) await deps.audit.record(trx, input.context, replacedSessionEvent(input.carried, created.id));
        return created;
      });
      return { user, session };
    },

    /** Proves the address the signed-in user asked for; the old address hears about the change (SEC-33). */
    async confirmEmail(input: { found: AuthenticatedSession; binding: string | undefined; code: string; context: RequestContext }): Promise<{ email: string }> {
      const { userId, email } = await deps.emailCodes.verify({ purpose: 'verify_email', binding: input.binding, code: input.code, context: input.context });
      if (userId !== input.found.user.id) throw FallbackErrors.code_invalid({ internal: 'code was asked for by another user' });
      const previous = await deps.accounts.emailOf(userId);
      await deps.db.transaction().execute(async (trx) => {
        await deps.accounts.setVerifiedEmail(trx, userId, email);
        await deps.audit.record(trx, input.context, {
          type: previous ? 'email.changed' : 'email.verified',
          outcome: 'success',
          subjectUserId: userId,
          sessionId: input.found.session.id,
        });
      });
      if (previous && previous.toLowerCase() !== email.key) {
        const at = deps.clock.now();
        deps.notifier.notify(userId, 'email_changed', { to: previous, at, detail: `to ${email.address}` });
        deps.notifier.notify(userId, 'email_changed', { to: email.address, at });
      }
      return { email: email.address };
    },
  };
}

export type FallbackService = ReturnType<typeof createFallbackService>;
