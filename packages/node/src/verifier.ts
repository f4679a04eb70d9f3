import { createRemoteJWKSet, decodeProtectedHeader, errors, jwtVerify, type JWTPayload } from 'jose';
import { LatchkeyTokenError } from './errors.ts';
import { createMemoryReplayStore, type ReplayStore } from './replay-store.ts';

/** `typ` of a login result: a short-lived (120 s), single-use proof of one sign-in, for your backend. */
export const LOGIN_RESULT_TYPE = 'latchkey-login+jwt';
/** `typ` of an access token (RFC 9068). */
export const ACCESS_TOKEN_TYPE = 'at+jwt';
/** Lifetime of a login result as Latchkey issues it. */
export const LOGIN_RESULT_LIFETIME_SECONDS = 120;
const MAX_CLOCK_TOLERANCE_SECONDS = 60;

/** Who signed in, from a verified Latchkey token. */
export interface LatchkeyIdentity {
  /** Your id for the user (the `externalId` you set through the management API), else the Latchkey user id. */
  sub: string;
  /** The Latchkey user id (`latchkey_uid`), whatever `sub` is. */
  userId: string;
  /** When the user authenticated (`auth_time`). */
  authTime: Date;
  /** How (`amr`), e.g. `['passkey', 'user']` (a user-verified passkey), `['pwd', 'passkey', 'mfa']`, `['otp']` (an e-mailed code). */
  amr: string[];
  /** Assurance level: `aal2` for a user-verified passkey, `aal1` otherwise. */
  acr: 'aal1' | 'aal2';
  /** The token's id. */
  jti: string;
  expiresAt: Date;
  /** The `aud` the token was issued for (your configured audience). */
  audience: string;
}

export interface VerifierOptions {
  /** The Latchkey server's issuer: by default the first of its `LATCHKEY_ORIGINS`, e.g. `https://auth.example.com`. */
  issuer: string;
  /** The audience your tokens are issued for (a string; tokens for any other audience are refused). */
  audience: string;
  /** Where the keys are; default `<issuer>/.well-known/jwks.json`. */
  jwksUrl?: string | URL;
  /** Allowed clock difference for `exp`, `iat` and `nbf`, in seconds: default 30, at most 60. */
  clockToleranceSeconds?: number;
  /**
   * Remembers used login results (single use by `jti`). Default: in memory, which is right for one
   * backend instance only; with several, pass a shared store (see `ReplayStore`).
   */
  replayStore?: ReplayStore;
  /** Minimum seconds between two JWKS fetches caused by an unknown `kid` (default 30). */
  jwksCooldownSeconds?: number;
  /** How long fetched keys are used before they are fetched again (default 600). */
  jwksCacheMaxAgeSeconds?: number;
  /** JWKS fetch timeout in milliseconds (default 5000). */
  jwksTimeoutMs?: number;
  /** The current time (tests); default the system clock. */
  now?: () => Date;
}

export interface Verifier {
  /**
   * Verifies a login result (`typ: latchkey-login+jwt`) and uses it up: a second call with the
   * same token throws `replayed`. Call it once, in the request that receives it from the browser.
   */
  verifyLoginResult(jwt: string): Promise<LatchkeyIdentity>;
  /** Verifies an access token (`typ: at+jwt`); it may be presented many times until it expires. */
  verifyAccessToken(jwt: string): Promise<LatchkeyIdentity>;
}

const JOSE_CODES: Record<string, LatchkeyTokenError['code']> = {
  ERR_JWT_EXPIRED: 'expired',
  ERR_JOSE_ALG_NOT_ALLOWED: 'unsupported_alg',
  ERR_JOSE_NOT_SUPPORTED: 'unsupported_alg',
  ERR_JWS_SIGNATURE_VERIFICATION_FAILED: 'invalid_signature',
  ERR_JWKS_NO_MATCHING_KEY: 'unknown_key',
  ERR_JWKS_MULTIPLE_MATCHING_KEYS: 'unknown_key',
  ERR_JWKS_TIMEOUT: 'jwks_unavailable',
  ERR_JWKS_INVALID: 'jwks_unavailable',
  ERR_JWS_INVALID: 'malformed',
  ERR_JWT_INVALID: 'malformed',
};

function translate(error: unknown): LatchkeyTokenError {
  if (error instanceof LatchkeyTokenError) return error;
  if (error instanceof errors.JWTClaimValidationFailed) {
    const code = error.claim === 'iss' ? 'wrong_issuer' : error.claim === 'aud' ? 'wrong_audience' : error.claim === 'typ' ? 'wrong_type' : error.reason === 'check_failed' && (error.claim === 'iat' || error.claim === 'nbf') ? 'not_yet_valid' : 'malformed';
    return new LatchkeyTokenError(code, error.message, { cause: error });
  }
  if (error instanceof errors.JOSEError) {
    // A non-200 JWKS answer is a plain JOSEError.
    return new LatchkeyTokenError(JOSE_CODES[error.code] ?? 'jwks_unavailable', error.message, { cause: error });
  }
  // Anything else comes from fetching the JWKS (a network error, an abort).
  return new LatchkeyTokenError('jwks_unavailable', `the JWKS could not be fetched: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
}

function identityOf(payload: JWTPayload, audience: string): LatchkeyIdentity {
  const { sub, jti, exp } = payload;
  const uid = payload.latchkey_uid;
  const authTime = payload.auth_time;
  const amr = payload.amr;
  const acr = payload.acr;
  const bad = (claim: string) => new LatchkeyTokenError('malformed', `the "${claim}" claim is missing or not valid`);
  if (typeof sub !== 'string' || sub === '') throw bad('sub');
  if (typeof uid !== 'string' || uid === '') throw bad('latchkey_uid');
  if (typeof authTime !== 'number' || !Number.isFinite(authTime)) throw bad('auth_time');
  if (!Array.isArray(amr) || !amr.every((m) => typeof m === 'string')) throw bad('amr');
  if (acr !== 'aal1' && acr !== 'aal2') throw bad('acr');
  if (typeof jti !== 'string' || jti === '') throw bad('jti');
  if (typeof exp !== 'number') throw bad('exp');
  return { sub, userId: uid, authTime: new Date(authTime * 1000), amr: amr as string[], acr, jti, expiresAt: new Date(exp * 1000), audience };
}

/**
 * A verifier of the tokens a Latchkey server issues, against its published keys (JWKS, fetched
 * once and cached; a token with a `kid` not in the cache makes it refetch, at most once per
 * cooldown, which is how key rotation is picked up). Only ES256 is accepted.
 *
 * @example
 * import { createVerifier } from '@latchkey/node';
 * const verifier = createVerifier({ issuer: 'https://auth.example.com', audience: 'shop-backend' });
 * const identity = await verifier.verifyLoginResult(request.body.loginResult);
 * // identity.sub: your user id (externalId) or Latchkey's; identity.acr: 'aal2' after a user-verified passkey
 */
export function createVerifier(options: VerifierOptions): Verifier {
  const tolerance = options.clockToleranceSeconds ?? 30;
  if (!Number.isFinite(tolerance) || tolerance < 0 || tolerance > MAX_CLOCK_TOLERANCE_SECONDS) {
    throw new RangeError(`clockToleranceSeconds must be 0 to ${MAX_CLOCK_TOLERANCE_SECONDS}`);
  }
  if (!options.issuer) throw new TypeError('issuer is required');
  if (!options.audience) throw new TypeError('audience is required');
  const now = options.now ?? (() => new Date());
  const jwksUrl = new URL(options.jwksUrl ?? `${options.issuer.replace(/\/+$/, '')}/.well-known/jwks.json`);
  const jwks = createRemoteJWKSet(jwksUrl, {
    cooldownDuration: (options.jwksCooldownSeconds ?? 30) * 1000,
    cacheMaxAge: (options.jwksCacheMaxAgeSeconds ?? 600) * 1000,
    timeoutDuration: options.jwksTimeoutMs ?? 5000,
  });
  const replayStore = options.replayStore ?? createMemoryReplayStore({ now: () => now().getTime() });

  async function verify(jwt: string, typ: string, maxTokenAge?: number): Promise<LatchkeyIdentity> {
    if (typeof jwt !== 'string' || jwt.split('.').length !== 3) throw new LatchkeyTokenError('malformed', 'not a compact JWS');
    let header: ReturnType<typeof decodeProtectedHeader>;
    try {
      header = decodeProtectedHeader(jwt);
    } catch (error) {
      throw new LatchkeyTokenError('malformed', 'the header is not valid', { cause: error });
    }
    // Refused before any key is looked up: `none`, HS256 with the public key as secret, RS256…
    if (header.alg !== 'ES256') throw new LatchkeyTokenError('unsupported_alg', `alg ${String(header.alg)} is not accepted (only ES256)`);
    if (header.typ !== typ) throw new LatchkeyTokenError('wrong_type', `typ ${String(header.typ)} is not ${typ}`);
    try {
      const { payload } = await jwtVerify(jwt, jwks, {
        algorithms: ['ES256'],
        typ,
        issuer: options.issuer,
        audience: options.audience,
        clockTolerance: tolerance,
        currentDate: now(),
        requiredClaims: ['iss', 'aud', 'sub', 'exp', 'iat', 'jti'],
        ...(maxTokenAge !== undefined ? { maxTokenAge } : {}),
      });
      if (typeof payload.aud !== 'string') throw new LatchkeyTokenError('wrong_audience', 'aud must be a single string');
      // jose checks a future iat only with maxTokenAge; bounded skew for access tokens too.
      if (typeof payload.iat !== 'number' || payload.iat > now().getTime() / 1000 + tolerance) {
        throw new LatchkeyTokenError('not_yet_valid', 'iat is in the future');
      }
      return identityOf(payload, payload.aud);
    } catch (error) {
      throw translate(error);
    }
  }

  return {
    async verifyLoginResult(jwt) {
      const identity = await verify(jwt, LOGIN_RESULT_TYPE, LOGIN_RESULT_LIFETIME_SECONDS);
      // Kept until the token could no longer pass the expiry check anyway.
      const until = new Date(identity.expiresAt.getTime() + tolerance * 1000);
      if (!(await replayStore.consume(identity.jti, until))) throw new LatchkeyTokenError('replayed', 'this login result was already used');
      return identity;
    },
    verifyAccessToken(jwt) {
      return verify(jwt, ACCESS_TOKEN_TYPE);
    },
  };
}
