import { generateKeyPair, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { base64urlDecode } from './base64url.ts';
import { encodeCbor } from './cbor.ts';

/** COSE algorithm identifiers the soft authenticator supports: ES256 (P-256), EdDSA (Ed25519), RS256 (RSA 2048). */
export type CoseAlg = -7 | -8 | -257;

/** The supported algorithms, in the order the authenticator prefers them. */
export const SUPPORTED_ALGS: readonly CoseAlg[] = [-7, -8, -257];

/** True if `alg` is one of {@link SUPPORTED_ALGS}. */
export function isSupportedAlg(alg: number): alg is CoseAlg {
  return alg === -7 || alg === -8 || alg === -257;
}

/** A credential key pair as node:crypto `KeyObject`s, created once and reused for every signature. */
export interface CredentialKeyPair {
  privateKey: KeyObject;
  publicKey: KeyObject;
}

/**
 * Generates a key pair for `alg`. ES256/EdDSA are generated synchronously (sub-millisecond);
 * RSA 2048 runs on the libuv thread pool since it takes ~100 ms or more.
 */
export async function generateCredentialKeyPair(alg: CoseAlg): Promise<CredentialKeyPair> {
  switch (alg) {
    case -7:
      return generateKeyPairSync('ec', { namedCurve: 'P-256' });
    case -8:
      return generateKeyPairSync('ed25519');
    case -257:
      return new Promise((resolve, reject) => {
        generateKeyPair('rsa', { modulusLength: 2048, publicExponent: 0x10001 }, (err, publicKey, privateKey) => {
          if (err) reject(err);
          else resolve({ publicKey, privateKey });
        });
      });
  }
}

/** The `KeyObject` asymmetric key type each algorithm needs. */
export function keyTypeFor(alg: CoseAlg): 'ec' | 'ed25519' | 'rsa' {
  return alg === -7 ? 'ec' : alg === -8 ? 'ed25519' : 'rsa';
}

function jwkBytes(value: string | undefined, what: string): Uint8Array {
  if (value === undefined) throw new TypeError(`public key JWK has no ${what}`);
  return base64urlDecode(value);
}

/**
 * Encodes a public key as a COSE_Key (RFC 9052/9053): EC2 `{1:2, 3:-7, -1:1, -2:x, -3:y}`,
 * OKP `{1:1, 3:-8, -1:6, -2:x}` or RSA `{1:3, 3:-257, -1:n, -2:e}`.
 *
 * @param claimedAlg written as the COSE `alg` (label 3) instead of `alg`, to produce a key
 *   whose declared algorithm lies about its type.
 */
export function encodeCosePublicKey(publicKey: KeyObject, alg: CoseAlg, claimedAlg: number = alg): Uint8Array<ArrayBuffer> {
  const jwk = publicKey.export({ format: 'jwk' });
  switch (alg) {
    case -7:
      return encodeCbor(
        new Map<number, number | Uint8Array>([
          [1, 2],
          [3, claimedAlg],
          [-1, 1],
          [-2, jwkBytes(jwk.x, 'x')],
          [-3, jwkBytes(jwk.y, 'y')],
        ]),
      );
    case -8:
      return encodeCbor(
        new Map<number, number | Uint8Array>([
          [1, 1],
          [3, claimedAlg],
          [-1, 6],
          [-2, jwkBytes(jwk.x, 'x')],
        ]),
      );
    case -257:
      return encodeCbor(
        new Map<number, number | Uint8Array>([
          [1, 3],
          [3, claimedAlg],
          [-1, jwkBytes(jwk.n, 'n')],
          [-2, jwkBytes(jwk.e, 'e')],
        ]),
      );
  }
}

/** The public key as DER SubjectPublicKeyInfo (what `AuthenticatorAttestationResponse.getPublicKey()` returns). */
export function spkiDer(publicKey: KeyObject): Uint8Array<ArrayBuffer> {
  const der = publicKey.export({ format: 'der', type: 'spki' });
  return new Uint8Array(der.buffer, der.byteOffset, der.byteLength);
}

/**
 * Signs `data` the way a WebAuthn authenticator does for `alg`: ES256 → ECDSA P-256/SHA-256 with
 * a DER-encoded signature, EdDSA → Ed25519 (pure), RS256 → RSASSA-PKCS1-v1_5/SHA-256.
 * Synchronous, no key import: pass the `KeyObject` made once per credential.
 */
export function signData(alg: CoseAlg, privateKey: KeyObject, data: Uint8Array): Uint8Array {
  return sign(alg === -8 ? null : 'sha256', data, privateKey);
}
