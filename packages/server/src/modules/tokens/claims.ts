import type { Amr, SessionScope } from '../sessions/sessions.module.ts';
import { assuranceLevel } from '../sessions/sessions.module.ts';

/** The two kinds of signed token, told apart by the JWS header `typ` (RFC 8725 §3.11). */
export const TOKEN_TYPES = {
  /** For the app's own backend, once, right after a sign-in (single use by jti). */
  login_result: 'latchkey-login+jwt',
  /** For other backends the user calls (RFC 9068 header type). */
  access_token: 'at+jwt',
} as const;

export type TokenKind = keyof typeof TOKEN_TYPES;

export interface TokenClaims {
  iss: string;
  aud: string;
  sub: string;
  latchkey_uid: string;
  auth_time: number;
  amr: string[];
  acr: 'aal1' | 'aal2';
  jti: string;
  iat: number;
  exp: number;
}

/**
 * The claims of a token about a signed-in session. `sub` is the user's external id when the
 * company set one (so its backend can use its own id), else Latchkey's; `latchkey_uid` is always
 * Latchkey's. `amr` is what the session recorded (`passkey`, `pwd`, `otp` for an e-mailed code,
 * `totp`, `mfa`) plus `user` when the passkey verified the user (RFC 8176); `acr` is the NIST
 * assurance level. Times in seconds.
 */
export function tokenClaims(input: {
  issuer: string;
  audience: string;
  user: { id: string; externalId: string | null };
  session: { amr: readonly Amr[]; userVerified: boolean; scope: SessionScope; authTime: number };
  jti: string;
  now: number;
  lifetimeSeconds: number;
}): TokenClaims {
  const iat = Math.floor(input.now / 1000);
  const amr: string[] = [...input.session.amr];
  if (input.session.userVerified && !amr.includes('user')) amr.push('user');
  return {
    iss: input.issuer,
    aud: input.audience,
    sub: input.user.externalId ?? input.user.id,
    latchkey_uid: input.user.id,
    auth_time: Math.floor(input.session.authTime / 1000),
    amr,
    acr: assuranceLevel({ ...input.session, amr: [...input.session.amr] }) === 2 ? 'aal2' : 'aal1',
    jti: input.jti,
    iat,
    exp: iat + input.lifetimeSeconds,
  };
}

/** Whether an audience may be asked for: exactly one of the configured ones (no patterns). */
export function isAllowedAudience(audience: string, allowed: readonly string[]): boolean {
  return allowed.includes(audience);
}
