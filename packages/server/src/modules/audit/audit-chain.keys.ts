import { createHash, createPrivateKey, createPublicKey, sign, verify, type KeyObject } from 'node:crypto';

/** The Ed25519 public key checkpoints are signed with, as published at /.well-known/latchkey-audit-key. */
export interface AuditPublicJwk {
  kty: 'OKP';
  crv: 'Ed25519';
  x: string;
  /** RFC 7638 thumbprint of the key; each checkpoint names the key that signed it. */
  kid: string;
  alg: 'EdDSA';
  use: 'sig';
}

export interface CheckpointSigner {
  readonly jwk: AuditPublicJwk;
  sign(message: string): string;
}

/** RFC 8410 PKCS#8 header of an Ed25519 private key; the 32-byte seed follows. */
const PKCS8_ED25519_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');

function jwkOf(publicKey: KeyObject): AuditPublicJwk {
  const { x } = publicKey.export({ format: 'jwk' }) as { x: string };
  // RFC 7638 §3.2: the required members in lexicographic order, no whitespace.
  const kid = createHash('sha256').update(`{"crv":"Ed25519","kty":"OKP","x":"${x}"}`).digest('base64url');
  return { kty: 'OKP', crv: 'Ed25519', x, kid, alg: 'EdDSA', use: 'sig' };
}

/** The checkpoint signer of a 32-byte seed (the server secret's `auditCheckpoints` HKDF subkey). */
export function createCheckpointSigner(seed: Uint8Array): CheckpointSigner {
  if (seed.length !== 32) throw new TypeError('audit checkpoints: the Ed25519 seed must be 32 bytes');
  const privateKey = createPrivateKey({ key: Buffer.concat([PKCS8_ED25519_PREFIX, seed]), format: 'der', type: 'pkcs8' });
  const jwk = jwkOf(createPublicKey(privateKey));
  return {
    jwk,
    sign: (message) => sign(null, Buffer.from(message, 'utf8'), privateKey).toString('base64url'),
  };
}

/** Checks a checkpoint signature with a published JWK (for `latchkey audit verify` and auditors). */
export function verifyCheckpointSignature(jwk: Pick<AuditPublicJwk, 'x'>, message: string, signature: string): boolean {
  try {
    const key = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: jwk.x }, format: 'jwk' });
    return verify(null, Buffer.from(message, 'utf8'), key, Buffer.from(signature, 'base64url'));
  } catch {
    return false;
  }
}

/**
 * The bytes a checkpoint signature covers (UTF-8), version 1: five lines joined by LF, no trailing LF:
 * `latchkey-audit-checkpoint/v1`, the kind (`periodic` or `retention`), the seq (decimal), the
 * chain hash at that seq (lowercase hex), and the time (epoch milliseconds, decimal).
 */
export function checkpointMessage(checkpoint: { kind: string; seq: number; hash: string; createdAt: number }): string {
  return ['latchkey-audit-checkpoint/v1', checkpoint.kind, String(checkpoint.seq), checkpoint.hash, String(checkpoint.createdAt)].join('\n');
}
