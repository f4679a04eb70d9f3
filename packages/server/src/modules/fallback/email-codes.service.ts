import type { Kysely } from 'kysely';
import type { Config } from '../../config/schema.ts';
import type { Database } from '../../db/database.ts';
import { CommonErrors } from '../../errors/common.errors.ts';
import type { RateLimiter } from '../../http/rate-limit.ts';
import type { Clock } from '../../platform/clock.ts';
import { hmacSha256, safeEqual, sha256Base64Url, toBase64Url } from '../../platform/encoding.ts';
import type { Random } from '../../platform/random.ts';
import type { RequestContext } from '../../platform/request-context.ts';
import { AccountErrors, normalizeEmail, type AccountsService } from '../accounts/accounts.module.ts';
import type { AuditService } from '../audit/audit.module.ts';
import type { Mailer } from '../mail/mail.module.ts';
import { FallbackErrors } from './fallback.errors.ts';
import type { FallbackRepository } from './fallback.repository.ts';
import type { Lockout } from './lockout.service.ts';

export type CodePurpose = 'sign_in' | 'verify_email' | 'recovery';

export const CODE_DIGITS = 6;
const UINT32_LIMIT = 4_294_000_000; // the largest multiple of 10^6 below 2^32: no modulo bias

/** Six digits from the CSPRNG by rejection sampling (SEC-36). */
export function newNumericCode(random: Random): string {
  for (;;) {
    const bytes = random.bytes(4);
    const n = ((bytes[0] ?? 0) * 2 ** 24 + ((bytes[1] ?? 0) << 16) + ((bytes[2] ?? 0) << 8) + (bytes[3] ?? 0)) >>> 0;
    if (n < UINT32_LIMIT) return String(n % 10 ** CODE_DIGITS).padStart(CODE_DIGITS, '0');
  }
}

const SUBJECTS: Record<CodePurpose, string> = {
  sign_in: 'sign-in code',
  verify_email: 'code to confirm your e-mail address',
  recovery: 'account recovery code',
};

/**
 * E-mailed one-time codes (SEC-36): six CSPRNG digits, valid 10 minutes, single use, stored as
 * an HMAC, at most 5 tries each, bound to the client that asked (the ceremony binding), and a
 * request for an unknown address is answered — and stored, and counted — exactly like a known one.
 */
export function createEmailCodesService(deps: {
  db: Kysely<Database>;
  config: Readonly<Config>;
  clock: Clock;
  random: Random;
  repository: FallbackRepository;
  accounts: AccountsService;
  audit: AuditService;
  mailer: Mailer;
  lockout: Lockout;
  /** Codes per address and client (ceremony binding): the quota a client can use up for itself. */
  perClientLimiter: RateLimiter;
  /** Codes per address from all clients together: a ceiling well above the per-client quota. */
  perAddressLimiter: RateLimiter;
  /** The `emailCodes` subkey (platform/keys.ts): codes are stored as an HMAC under it. */
  codeKey: Uint8Array;
}) {
  const { emailCode } = deps.config;
  const hashCode = (id: string, code: string) => toBase64Url(hmacSha256(deps.codeKey, `email-code:${id}:${code}`));

  return {
    async start(input: { purpose: CodePurpose; email: string; binding: string; userId?: string; context: RequestContext }): Promise<{ expiresAt: number }> {
      const email = normalizeEmail(input.email);
      if (!email.ok) throw AccountErrors.email_invalid({ detail: `email ${email.problem}` });
      const now = deps.clock.now();
      // The cooldown and the quota count per address *and* client (the ceremony binding that will
      // have to present the code), so a stranger asking for codes to someone's address makes only
      // the stranger wait; all clients together stop at a ceiling well above one client's quota.
      const bindingHash = sha256Base64Url(input.binding);
      const last = await deps.repository.latestCodeTimeForClient(deps.db, email.key, bindingHash);
      if (last !== undefined && now - last < emailCode.resendCooldownSeconds * 1000) {
        const wait = Math.max(1, Math.ceil((last + emailCode.resendCooldownSeconds * 1000 - now) / 1000));
        throw CommonErrors.rate_limited({ headers: { 'retry-after': String(wait) }, detail: `A code was sent moments ago; ask again in ${wait} seconds` });
      }
      await deps.perClientLimiter.hit(`email-code:${email.key}:${bindingHash}`);
      await deps.perAddressLimiter.hit(`email-code:${email.key}`);
      // A code to confirm an address goes to that address (it becomes the account's once confirmed);
      // a sign-in or recovery code goes to the account's verified address as stored, not as typed.
      const account = input.purpose === 'verify_email' ? undefined : await deps.accounts.findByEmailKey(email.key);
      const userId = input.purpose === 'verify_email' ? (input.userId ?? null) : (account?.userId ?? null);
      const recipient = account?.email ?? email.address;
      const id = deps.random.uuid();
      const code = newNumericCode(deps.random);
      const expiresAt = now + emailCode.ttlSeconds * 1000;
      await deps.db.transaction().execute(async (trx) => {
        await deps.repository.replaceCode(trx, {
          id,
          purpose: input.purpose,
          binding_hash: bindingHash,
          email_key: email.key,
          email: recipient,
          user_id: userId,
          code_hash: hashCode(id, code),
          attempts: 0,
          created_at: now,
          expires_at: expiresAt,
        });
        // The address is not recorded: an unknown one is personal data of nobody we know.
        await deps.audit.record(trx, input.context, { type: 'email_code.sent', outcome: 'success', subjectUserId: userId, data: { purpose: input.purpose, known: userId !== null } });
      });
      // Mail leaves after the commit and in the background, so a known address costs no more time than an unknown one.
      if (userId !== null) {
        deps.mailer.send({
          to: recipient,
          subject: `${deps.config.rp.name}: your ${SUBJECTS[input.purpose]}`,
          text: `Your ${SUBJECTS[input.purpose]} is ${code}\n\nIt expires in ${Math.round(emailCode.ttlSeconds / 60)} minutes and works once, in the browser that asked for it.\nIf you did not ask for it, ignore this mail; nobody can use it without also having this mailbox.`,
        });
      }
      return { expiresAt };
    },

    /**
     * Checks a code for the flow that asked for it. Every failure answers code_invalid. Failures
     * count per address and client (SEC-34: they survive new codes, delays grow from
     * LATCHKEY_LOCKOUT_FREE_FAILURES) and per address across clients (which only locks, at
     * LATCHKEY_LOCKOUT_HARD_LIMIT); a success clears both.
     */
    async verify(input: { purpose: CodePurpose; binding: string | undefined; code: string; context: RequestContext }): Promise<{ userId: string; email: { address: string; key: string } }> {
      const invalid = (internal: string) => FallbackErrors.code_invalid({ internal });
      if (!input.binding) throw invalid('request carries no flow binding');
      const row = await deps.repository.findCodeForFlow(deps.db, sha256Base64Url(input.binding), input.purpose);
      if (!row) throw invalid('no code for this flow');
      const attempt = await deps.lockout.beginShared({
        clientKey: `otp:${row.email_key}:${row.binding_hash}`,
        // The key a passkey sign-in of the account clears (fallback.repository.ts clearCountersOfUser).
        sharedKey: `otp:${row.email_key}`,
        lockedDetail: 'E-mail codes for this address are locked after too many wrong codes; sign in with a passkey to lift the lock, or ask support.',
      });
      const now = deps.clock.now();
      if (Number(row.expires_at) <= now) {
        await deps.repository.consumeCode(deps.db, row.id);
        throw FallbackErrors.code_invalid({ detail: 'The code expired; ask for a new one.', internal: 'code expired' });
      }
      const attempts = await deps.repository.spendAttempt(deps.db, row.id, emailCode.maxAttempts);
      if (attempts === undefined) {
        await deps.repository.consumeCode(deps.db, row.id);
        throw invalid('code has no tries left');
      }
      const given = input.code.replace(/[\s-]/g, '');
      const matches = safeEqual(hashCode(row.id, given), row.code_hash);
      if (!matches || row.user_id === null) {
        const failures = await attempt.failed();
        if (attempts >= emailCode.maxAttempts) await deps.repository.consumeCode(deps.db, row.id);
        await deps.audit.record(deps.db, input.context, {
          type: 'email_code.failed',
          outcome: 'failure',
          subjectUserId: row.user_id,
          errorCode: 'code_invalid',
          data: { purpose: input.purpose, attempts, consecutiveFailures: failures },
        });
        throw invalid(row.user_id === null ? 'address has no account' : 'wrong code');
      }
      if (!(await deps.repository.consumeCode(deps.db, row.id))) throw invalid('code used by a concurrent request');
      await attempt.succeeded();
      return { userId: row.user_id, email: { address: row.email, key: row.email_key } };
    },

    async sweep(): Promise<void> {
      await deps.repository.deleteExpiredCodes(deps.db, deps.clock.now());
    },
  };
}

export type EmailCodesService = ReturnType<typeof createEmailCodesService>;
