import { createCipheriv, createDecipheriv } from 'node:crypto';
import { fromBase64Url, toBase64Url } from './encoding.ts';
import type { AtRestKeys } from './keys.ts';

/** What `seal` writes now; `open` also reads v1 (an older key derivation, see keys.ts). */
export const CURRENT_BOX_VERSION = 'v2';

/**
 * AES-256-GCM for secrets at rest (TOTP seeds; SEC-40): `v2.<iv>.<ciphertext>.<tag>`, with the
 * version and the caller's associated data (e.g. the user id) authenticated. The key is an HKDF
 * subkey (keys.ts) of LATCHKEY_ENCRYPTION_KEY when set, otherwise of the server secret — then
 * whoever reads the server_secrets table can decrypt too, which is why production should set it.
 * Boxes sealed by v1 (before subkeys) still open; `isCurrent` tells which ones to re-seal.
 */
export function createSecretBox(input: { keys: AtRestKeys; randomBytes(n: number): Uint8Array }) {
  function decrypt(key: Uint8Array, iv: Uint8Array, body: Uint8Array, tag: Uint8Array, aad: string): string {
    const decipher = createDecipheriv('aes-256-gcm', key, iv);
    decipher.setAAD(Buffer.from(aad));
    decipher.setAuthTag(tag);
    return Buffer.concat([decipher.update(body), decipher.final()]).toString('utf8');
  }
  return {
    seal(plaintext: string, associatedData: string): string {
      const iv = input.randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', input.keys.current, iv);
      cipher.setAAD(Buffer.from(`${CURRENT_BOX_VERSION}:${associatedData}`));
      const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
      return [CURRENT_BOX_VERSION, toBase64Url(iv), toBase64Url(body), toBase64Url(cipher.getAuthTag())].join('.');
    },
    /** Throws when the box was tampered with, sealed for other associated data or with another key. */
    open(sealed: string, associatedData: string): string {
      const [version, ...rest] = sealed.split('.');
      const parts = rest.map((p) => fromBase64Url(p));
      if (parts.length !== 3 || parts.some((p) => p === undefined || p.length === 0)) throw new Error('not a secret box');
      const [iv, body, tag] = parts as [Uint8Array, Uint8Array, Uint8Array];
      if (version === CURRENT_BOX_VERSION) return decrypt(input.keys.current, iv, body, tag, `${CURRENT_BOX_VERSION}:${associatedData}`);
      if (version === 'v1') return decrypt(input.keys.legacyV1, iv, body, tag, associatedData);
      throw new Error(`unknown secret box version ${String(version).slice(0, 8)}`);
    },
    /** False for a box an older version sealed: open it and seal it again. */
    isCurrent(sealed: string): boolean {
      return sealed.startsWith(`${CURRENT_BOX_VERSION}.`);
    },
  };
}

export type SecretBox = ReturnType<typeof createSecretBox>;
