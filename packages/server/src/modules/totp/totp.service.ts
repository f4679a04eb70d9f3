import type { Kysely } from 'kysely';
import { generateURI } from 'otplib';
import type { Database } from '../../db/database.ts';
import type { Clock } from '../../platform/clock.ts';
import { toBase32 } from '../../platform/encoding.ts';
import type { Random } from '../../platform/random.ts';
import type { RequestContext } from '../../platform/request-context.ts';
import { CURRENT_BOX_VERSION, type SecretBox } from '../../platform/secret-box.ts';
import type { AuditService } from '../audit/audit.module.ts';
import type { Lockout } from '../fallback/fallback.module.ts';
import { CommonErrors } from '../../errors/common.errors.ts';
import { SessionErrors } from '../sessions/sessions.errors.ts';
import type { AuthenticatedSession, SessionsService, SessionView } from '../sessions/sessions.module.ts';
import { TOTP_SECRET_BYTES, totpStep } from './totp.ts';
import { TotpErrors } from './totp.errors.ts';
import { createTotpRepository } from './totp.repository.ts';

/** TOTP as the legacy second factor after a password (SEC-40). */
export function createTotpService(deps: {
  db: Kysely<Database>;
  clock: Clock;
  random: Random;
  box: SecretBox;
  lockout: Lockout;
  sessions: SessionsService;
  audit: AuditService;
  issuer: string;
}) {
  const repository = createTotpRepository();

  /** Checks a code with the per-user failure counter and the once-per-step rule. */
  async function check(userId: string, code: string, options: { confirming: boolean }): Promise<void> {
    const row = await repository.find(deps.db, userId);
    if (!row || (row.confirmed_at === null) !== options.confirming) throw TotpErrors.totp_not_enrolled();
    const counterKey = `totp:${userId}`;
    const attempt = await deps.lockout.begin(counterKey);
    const secret = deps.box.open(row.secret_enc, userId);
    const now = deps.clock.now();
    const step = await totpStep(secret, code.replace(/\s/g, ''), now);
    if (step === undefined || !(await repository.useStep(deps.db, userId, step, options.confirming ? now : null))) {
      await attempt.failed();
      throw TotpErrors.totp_invalid({ internal: step === undefined ? 'wrong code' : 'time step already used' });
    }
    await attempt.succeeded();
  }

  return {
    /**
     * Re-seals every seed an older secret-box version sealed (run at start; idempotent and safe
     * with several nodes: each row is a compare-and-set). A row that does not open is left as it
     * is and counted, so a wrong LATCHKEY_ENCRYPTION_KEY destroys nothing.
     */
    async resealLegacySecrets(): Promise<{ resealed: number; unreadable: number }> {
      let resealed = 0;
      let unreadable = 0;
      let after = '';
      for (;;) {
        const rows = await repository.findSealedBefore(deps.db, `${CURRENT_BOX_VERSION}.`, after, 500);
        for (const row of rows) {
          let seed: string;
          try {
            seed = deps.box.open(row.secret_enc, row.user_id);
          } catch {
            unreadable++;
            continue;
          }
          if (await repository.reseal(deps.db, row.user_id, row.secret_enc, deps.box.seal(seed, row.user_id))) resealed++;
        }
        const last = rows.at(-1);
        if (!last || rows.length < 500) return { resealed, unreadable };
        after = last.user_id;
      }
    },

    async isEnrolled(userId: string): Promise<boolean> {
      const row = await repository.find(deps.db, userId);
      return row?.confirmed_at != null;
    },

    /** A fresh 160-bit seed, shown once (as an otpauth:// URI for a QR code); active after `confirm`. */
    async enrol(found: AuthenticatedSession, context: RequestContext): Promise<{ secret: string; otpauthUrl: string }> {
      const secret = toBase32(deps.random.bytes(TOTP_SECRET_BYTES));
      const now = deps.clock.now();
      await deps.db.transaction().execute(async (trx) => {
        await repository.replace(trx, { user_id: found.user.id, secret_enc: deps.box.seal(secret, found.user.id), last_step: null, created_at: now, confirmed_at: null });
        await deps.audit.record(trx, context, { type: 'totp.enrolment_started', outcome: 'success', subjectUserId: found.user.id, sessionId: found.session.id });
      });
      return { secret, otpauthUrl: generateURI({ issuer: deps.issuer, label: found.user.username, secret }) };
    },

    async confirm(found: AuthenticatedSession, code: string, context: RequestContext): Promise<void> {
      await check(found.user.id, code, { confirming: true });
      await deps.audit.record(deps.db, context, { type: 'totp.enrolled', outcome: 'success', subjectUserId: found.user.id, sessionId: found.session.id });
    },

    async remove(found: AuthenticatedSession, context: RequestContext): Promise<void> {
      await deps.db.transaction().execute(async (trx) => {
        if (!(await repository.remove(trx, found.user.id))) throw TotpErrors.totp_not_enrolled();
        await deps.audit.record(trx, context, { type: 'totp.removed', outcome: 'success', subjectUserId: found.user.id, sessionId: found.session.id });
      });
    },

    /**
     * The second step of a password sign-in that was told secondFactor "totp" (the route checked
     * the factor recorded on the session): amr pwd+totp+mfa, AAL2, a full session.
     */
    async completeSignIn(found: AuthenticatedSession, code: string, context: RequestContext): Promise<SessionView & { token: string }> {
      if (found.session.scope !== 'second_factor' || found.session.secondFactor !== 'totp') {
        throw SessionErrors.second_factor_mismatch({ detail: 'This session is not waiting for an authenticator code.' });
      }
      await check(found.user.id, code, { confirming: false });
      const amr = [...found.session.amr.filter((m) => m !== 'mfa'), 'totp' as const, 'mfa' as const];
      const token = await deps.db.transaction().execute(async (trx) => {
        // Compare-and-set: the session must still be live and waiting for this factor. It gets a new token (SEC-24).
        const raised = await deps.sessions.recordStepUp(trx, found.session, { userVerified: false, amr, scope: 'full' });
        if (!raised) throw CommonErrors.unauthorized({ internal: 'session ended or changed before its second factor was recorded' });
        await deps.audit.record(trx, context, { type: 'session.stepped_up', outcome: 'success', subjectUserId: found.user.id, sessionId: found.session.id, data: { method: 'totp' } });
        return raised;
      });
      return { ...found.session, token, amr, scope: 'full', secondFactor: null, authTime: deps.clock.now() };
    },
  };
}

export type TotpService = ReturnType<typeof createTotpService>;
