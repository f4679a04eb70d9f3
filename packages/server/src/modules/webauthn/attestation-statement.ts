import type { CborKey, CborValue } from './cbor.ts';

/**
 * The attestation statement's structure for its format (WebAuthn L3 §8, the "Syntax" of each
 * format, and §7.1 steps 21-22), checked before the library verifies it: the library reads the
 * members it needs and can accept a statement the spec calls invalid (a packed self attestation
 * whose `alg` differs from the credential key's, a `none` statement that is not empty). Extra
 * members are ignored, as CBOR extensibility intends; missing or mistyped ones are refused.
 *
 * | fmt | required members |
 * | --- | --- |
 * | none (§8.7) | none: the map is empty |
 * | packed (§8.2) | alg (int), sig (bytes); x5c (non-empty array of bytes) or, for self attestation, alg = the credential key's alg; no ecdaaKeyId (ECDAA is gone from L3) |
 * | tpm (§8.3) | ver "2.0", alg (int), x5c, sig, certInfo, pubArea (bytes) |
 * | android-key (§8.4) | alg (int), sig (bytes), x5c |
 * | android-safetynet (§8.5) | ver (non-empty text), response (bytes) |
 * | fido-u2f (§8.6) | sig (bytes), x5c of exactly one certificate; the credential key is ES256 (P-256) |
 * | apple (§8.8) | x5c |
 *
 * Any other `fmt` is refused (§7.1 step 21: no supported format matches).
 */
export function attestationStatementProblem(fmt: CborValue, attStmt: CborValue, credentialAlg: number): string | undefined {
  if (typeof fmt !== 'string') return 'attestation object fmt is not a text string';
  if (!(attStmt instanceof Map)) return 'attestation statement (attStmt) is not a map';
  const check = Object.hasOwn(FORMATS, fmt) ? FORMATS[fmt] : undefined;
  if (!check) return `unsupported attestation statement format "${fmt}"`;
  const problem = check(attStmt, credentialAlg);
  return problem ? `${fmt} attestation: ${problem}` : undefined;
}

type Statement = Map<CborKey, CborValue>;

const isBytes = (v: CborValue): v is Uint8Array => v instanceof Uint8Array && v.length > 0;
const isInt = (v: CborValue): v is number => typeof v === 'number' && Number.isInteger(v);

function x5cProblem(stmt: Statement, exactlyOne = false): string | undefined {
  const x5c = stmt.get('x5c');
  if (!Array.isArray(x5c) || x5c.length === 0) return 'x5c must be a non-empty array of certificates';
  if (!x5c.every(isBytes)) return 'x5c must hold DER certificates as byte strings';
  if (exactlyOne && x5c.length !== 1) return 'x5c must hold exactly one certificate';
  return undefined;
}

function required(stmt: Statement, members: Record<string, (v: CborValue) => boolean>): string | undefined {
  for (const [name, valid] of Object.entries(members)) {
    const value = stmt.get(name);
    if (value === undefined) return `${name} is missing`;
    if (!valid(value)) return `${name} has the wrong type`;
  }
  return undefined;
}

const FORMATS: Record<string, (stmt: Statement, credentialAlg: number) => string | undefined> = {
  none: (stmt) => (stmt.size === 0 ? undefined : 'the statement must be an empty map'),
  packed: (stmt, credentialAlg) => {
    const problem = required(stmt, { alg: isInt, sig: isBytes });
    if (problem) return problem;
    if (stmt.has('ecdaaKeyId')) return 'ECDAA (ecdaaKeyId) is not supported';
    if (stmt.has('x5c')) return x5cProblem(stmt);
    // §8.2 verification, self attestation: "Validate that alg matches the algorithm of the credentialPublicKey in authenticatorData."
    if (stmt.get('alg') !== credentialAlg) return `self attestation alg ${String(stmt.get('alg'))} differs from the credential key's alg ${credentialAlg}`;
    return undefined;
  },
  tpm: (stmt) =>
    required(stmt, { ver: (v) => v === '2.0', alg: isInt, sig: isBytes, certInfo: isBytes, pubArea: isBytes }) ??
    (stmt.has('ecdaaKeyId') ? 'ECDAA (ecdaaKeyId) is not supported' : x5cProblem(stmt)),
  'android-key': (stmt) => required(stmt, { alg: isInt, sig: isBytes }) ?? x5cProblem(stmt),
  'android-safetynet': (stmt) => required(stmt, { ver: (v) => typeof v === 'string' && v.length > 0, response: isBytes }),
  'fido-u2f': (stmt, credentialAlg) =>
    required(stmt, { sig: isBytes }) ??
    x5cProblem(stmt, true) ??
    // §8.6 verification step 3: the credential public key must be an EC2 P-256 key.
    (credentialAlg === -7 ? undefined : `the credential key must be ES256 (P-256), not alg ${credentialAlg}`),
  apple: (stmt) => x5cProblem(stmt),
};
