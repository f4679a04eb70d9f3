import { timingSafeEqual } from 'node:crypto';
import { sha256Base64Url, toBase64Url } from '../../platform/encoding.ts';
import { bindingTag, type ChallengeClaims } from './challenge-token.ts';
import type { ChallengeRow } from './webauthn.repository.ts';
import { WebauthnErrors } from './webauthn.errors.ts';

/** 32 CSPRNG bytes (SEC-01), base64url as it will appear in clientDataJSON. */
export function newChallenge(bytes: (n: number) => Uint8Array): string {
  return toBase64Url(bytes(32));
}

export function bindingHash(binding: string): string {
  return sha256Base64Url(binding);
}

/** What a challenge was issued for, whichever way it is kept. */
interface IssuedFor<C extends string> {
  expiresAt: number;
  ceremony: C;
  /** Whether the request's binding is the one of the client that asked for the challenge. */
  boundTo(binding: string): boolean;
}

/**
 * Checks a challenge against the ceremony at hand: not expired, the right ceremony type, and
 * asked for by this client (the binding cookie or Latchkey-Ceremony header). Returns the
 * operator-facing reason, or undefined when it is fine.
 */
function issuedProblem<C extends string>(issued: IssuedFor<C>, expected: { ceremony: C; binding: string | undefined; now: number }): string | undefined {
  if (issued.expiresAt <= expected.now) return 'challenge expired';
  if (issued.ceremony !== expected.ceremony) return `challenge was issued for ${issued.ceremony}`;
  if (!expected.binding) return 'request carries no ceremony binding (cookie or Latchkey-Ceremony header)';
  if (!issued.boundTo(expected.binding)) return 'ceremony binding does not match the client that asked for the challenge';
  return undefined;
}

/** `issuedProblem` for a consumed challenge row (registration). */
export function challengeProblem(
  row: ChallengeRow,
  expected: { ceremony: ChallengeRow['ceremony']; binding: string | undefined; now: number },
): string | undefined {
  return issuedProblem({ expiresAt: row.expires_at, ceremony: row.ceremony, boundTo: (b) => bindingHash(b) === row.binding_hash }, expected);
}

/** `issuedProblem` for a sign-in challenge's claims (challenge-token.ts). */
export function signInChallengeProblem(
  claims: ChallengeClaims,
  expected: { ceremony: ChallengeClaims['ceremony']; binding: string | undefined; now: number },
): string | undefined {
  return issuedProblem({ ...claims, boundTo: (b) => timingSafeEqual(bindingTag(b), claims.bindingTag) }, expected);
}

export function challengeError(reason: string) {
  const detail = reason.startsWith('challenge expired')
    ? 'The ceremony expired; start again.'
    : reason.includes('binding')
      ? 'This ceremony was started by another client; start again.'
      : reason.includes('issued for')
        ? 'This challenge belongs to another kind of ceremony.'
        : 'Unknown or already used challenge; start again.';
  return WebauthnErrors.challenge_invalid({ detail, internal: reason });
}
