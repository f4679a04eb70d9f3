import { createPublicKey, type JsonWebKey } from 'node:crypto';
import type { CborKey, CborValue } from './cbor.ts';

/**
 * The credential public key checks @simplewebauthn/server leaves to us (it only reads `alg` at
 * registration; a malformed key would be stored and fail at every sign-in). WebAuthn L3 §7.1
 * step 23 ("the credential public key ... alg ... one of pubKeyCredParams"), §6.5.1.1 and
 * RFC 9053 §7 / RFC 8230 §4 for the key shapes:
 *
 * | alg | kty | required | checked |
 * | --- | --- | --- | --- |
 * | -8 EdDSA | 1 OKP | crv 6 (Ed25519), x | x is 32 bytes and decodes to a curve point (RFC 8032 §5.1.3) |
 * | -7 ES256 | 2 EC2 | crv 1 (P-256), x, y | x and y are 32 bytes, uncompressed, and (x, y) is on P-256 |
 * | -257 RS256 | 3 RSA | n, e | 2048 <= bits(n) <= 16384, n odd; e odd with 2^16 < e < 2^256 (FIPS 186-5 §A.1.1) |
 *
 * Any other kty, a `crv` or `kty` that does not agree with `alg`, an `alg` that was not offered,
 * and private-key parameters (d, p, q, ...) are refused.
 */
export interface CoseKeyCheck {
  alg: number;
}

const KTY = 1;
const ALG = 3;
const CRV = -1;
/** EC2/OKP x, RSA e (RFC 9053 §7.1, RFC 8230 §4). */
const X_OR_E = -2;
const Y = -3;
const N = -1;
/** Private parts: EC2/OKP d (-4); RSA d, p, q, dP, dQ, qInv, other, r_i, d_i, t_i (-3 .. -12). */
const PRIVATE = { ec: [-4], rsa: [-3, -4, -5, -6, -7, -8, -9, -10, -11, -12] };

const RSA_MIN_BITS = 2048;
const RSA_MAX_BITS = 16384;

/** What each offered algorithm requires of the key. */
const SHAPES: Record<number, { kty: number; crv?: number; name: string }> = {
  [-8]: { kty: 1, crv: 6, name: 'EdDSA needs an OKP key on Ed25519 (kty 1, crv 6)' },
  [-7]: { kty: 2, crv: 1, name: 'ES256 needs an EC2 key on P-256 (kty 2, crv 1)' },
  [-257]: { kty: 3, name: 'RS256 needs an RSA key (kty 3)' },
};

function bytes(map: Map<CborKey, CborValue>, label: number): Uint8Array | undefined {
  const value = map.get(label);
  return value instanceof Uint8Array ? value : undefined;
}

function b64(data: Uint8Array): string {
  return Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('base64url');
}

function toBigInt(data: Uint8Array): bigint {
  return data.length === 0 ? 0n : BigInt(`0x${Buffer.from(data).toString('hex')}`);
}

/** A problem with the COSE_Key `key`, or its algorithm when it is a well-formed key of an offered one. */
export function checkCoseKey(key: CborValue, offered: readonly number[]): { ok: true; alg: number } | { ok: false; problem: string } {
  if (!(key instanceof Map)) return { ok: false, problem: 'credential public key is not a COSE_Key map' };
  const kty = key.get(KTY);
  const alg = key.get(ALG);
  if (typeof kty !== 'number') return { ok: false, problem: 'credential public key has no integer kty' };
  if (typeof alg !== 'number') return { ok: false, problem: 'credential public key has no integer alg' };
  if (!offered.includes(alg)) return { ok: false, problem: `credential public key alg ${alg} was not offered (${offered.join(', ')})` };
  const shape = SHAPES[alg];
  if (!shape) return { ok: false, problem: `credential public key alg ${alg} is not supported` };
  if (kty !== shape.kty) return { ok: false, problem: `alg ${alg} with kty ${kty}: ${shape.name}` };
  if (shape.crv !== undefined && key.get(CRV) !== shape.crv) return { ok: false, problem: `alg ${alg} with crv ${String(key.get(CRV))}: ${shape.name}` };
  for (const label of kty === 3 ? PRIVATE.rsa : PRIVATE.ec) {
    if (key.has(label)) return { ok: false, problem: 'credential public key carries private key parameters' };
  }
  const problem = kty === 1 ? okpProblem(key) : kty === 2 ? ec2Problem(key) : rsaProblem(key);
  return problem ? { ok: false, problem } : { ok: true, alg };
}

function ec2Problem(key: Map<CborKey, CborValue>): string | undefined {
  const x = bytes(key, X_OR_E);
  const y = bytes(key, Y);
  if (x?.length !== 32) return 'EC2 P-256 key: x must be a 32-byte string';
  // WebAuthn L3 §6.5.1.1: credential public keys are uncompressed (y is a byte string, not a sign bit).
  if (y?.length !== 32) return 'EC2 P-256 key: y must be a 32-byte string (compressed points are not allowed)';
  try {
    // OpenSSL checks that the point is on the curve (and not the point at infinity).
    createPublicKey({ key: { kty: 'EC', crv: 'P-256', x: b64(x), y: b64(y) } satisfies JsonWebKey, format: 'jwk' });
  } catch {
    return 'EC2 P-256 key: (x, y) is not a point on P-256';
  }
  return undefined;
}

// Ed25519 (RFC 8032 §5.1): p = 2^255 - 19, d = -121665/121666 mod p.
const P = 2n ** 255n - 19n;
const D = 37095705934669439343138083508754565189542113879843219016388785533085940283555n;
const SQRT_M1 = 19681161376707505956807079304988542015446066515923890162744021073123829784752n;

function modPow(base: bigint, exponent: bigint): bigint {
  let result = 1n;
  let b = base % P;
  for (let e = exponent; e > 0n; e >>= 1n) {
    if (e & 1n) result = (result * b) % P;
    b = (b * b) % P;
  }
  return result;
}

/** RFC 8032 §5.1.3: whether 32 bytes decode to a point of edwards25519. */
export function isEd25519Point(encoded: Uint8Array): boolean {
  if (encoded.length !== 32) return false;
  const le = Uint8Array.from(encoded).reverse();
  const xSign = (le[0] as number) >> 7;
  le[0] = (le[0] as number) & 0x7f;
  const y = toBigInt(le);
  if (y >= P) return false;
  const y2 = (y * y) % P;
  const u = (y2 - 1n + P) % P;
  const v = (D * y2 + 1n) % P;
  const v3 = (v * v * v) % P;
  let x = (u * v3 * modPow(u * v3 * v3 * v, (P - 5n) / 8n)) % P;
  const vx2 = (v * x * x) % P;
  if (vx2 !== u) {
    if (vx2 !== (P - u) % P) return false;
    x = (x * SQRT_M1) % P;
  }
  return !(x === 0n && xSign === 1);
}

function okpProblem(key: Map<CborKey, CborValue>): string | undefined {
  const x = bytes(key, X_OR_E);
  if (x?.length !== 32) return 'OKP Ed25519 key: x must be a 32-byte string';
  if (!isEd25519Point(x)) return 'OKP Ed25519 key: x is not a point on Ed25519';
  return undefined;
}

function rsaProblem(key: Map<CborKey, CborValue>): string | undefined {
  const nBytes = bytes(key, N);
  const eBytes = bytes(key, X_OR_E);
  if (!nBytes || !eBytes) return 'RSA key: n and e must be byte strings';
  const n = toBigInt(nBytes);
  const bits = n.toString(2).length;
  if (n === 0n || bits < RSA_MIN_BITS || bits > RSA_MAX_BITS) return `RSA key: modulus of ${n === 0n ? 0 : bits} bits (${RSA_MIN_BITS} to ${RSA_MAX_BITS} accepted)`;
  if ((n & 1n) === 0n) return 'RSA key: modulus is even';
  const e = toBigInt(eBytes);
  if ((e & 1n) === 0n || e <= 2n ** 16n || e >= 2n ** 256n) return 'RSA key: exponent must be odd and between 2^16 and 2^256 (e.g. 65537)';
  try {
    createPublicKey({ key: { kty: 'RSA', n: b64(nBytes), e: b64(eBytes) } satisfies JsonWebKey, format: 'jwk' });
  } catch {
    return 'RSA key: not a usable RSA public key';
  }
  return undefined;
}
