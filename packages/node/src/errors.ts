/**
 * Why a Latchkey token was refused. Stable: switch on it.
 *
 * - `malformed`: not a compact JWS, or a claim is missing or of the wrong type.
 * - `unsupported_alg`: the header's `alg` is not `ES256` (this also refuses `none` and HS256).
 * - `wrong_type`: the header's `typ` is not the one expected (`latchkey-login+jwt` or `at+jwt`).
 * - `unknown_key`: no key in the issuer's JWKS has the token's `kid`, even after a refetch.
 * - `invalid_signature`: the signature does not verify with the issuer's key.
 * - `wrong_issuer`, `wrong_audience`: `iss` or `aud` is not the configured one.
 * - `expired`: `exp` is past, beyond the clock tolerance.
 * - `not_yet_valid`: `iat` (or `nbf`) is in the future, beyond the clock tolerance; or a login result older than its lifetime.
 * - `replayed`: a login result whose `jti` was already used.
 * - `jwks_unavailable`: the JWKS could not be fetched or read (a transient failure on your side, not the token's).
 * - `missing_token`: (middlewares) the request carries no `Authorization: Bearer` token.
 */
export type LatchkeyTokenErrorCode =
  | 'malformed'
  | 'unsupported_alg'
  | 'wrong_type'
  | 'unknown_key'
  | 'invalid_signature'
  | 'wrong_issuer'
  | 'wrong_audience'
  | 'expired'
  | 'not_yet_valid'
  | 'replayed'
  | 'jwks_unavailable'
  | 'missing_token';

/**
 * A token that did not verify.
 *
 * @example
 * try {
 *   await verifier.verifyLoginResult(jwt);
 * } catch (error) {
 *   if (error instanceof LatchkeyTokenError && error.code === 'expired') askToSignInAgain();
 *   else throw error;
 * }
 */
export class LatchkeyTokenError extends Error {
  readonly code: LatchkeyTokenErrorCode;
  constructor(code: LatchkeyTokenErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'LatchkeyTokenError';
    this.code = code;
  }
}
