import { createCipheriv, createDecipheriv, createHash } from 'node:crypto';
import { fromBase64Url, hmacSha256, toBase64Url } from './encoding.ts';

/**
 * AES-256-GCM for secrets at rest (TOTP seeds; SEC-40). The key is SHA-256 of
 * LATCHKEY_ENCRYPTION_KEY when set, otherwise derived from the server secret (HMAC) — then
 * whoever reads the server_secrets table can decrypt too, which is why production should set it.
 */
export function createSecretBox(input: { encryptionKey: string | undefined; serverSecret: Uint8Array; randomBytes(n: number): Uint8Array }) {
  const key = input.encryptionKey
    ? new Uint8Array(createHash('sha256').update(input.encryptionKey).digest())
    : hmacSha256(input.serverSecret, 'latchkey secret-box key v1');
  return {
    seal(plaintext: string, associatedData: string): string {
      const iv = input.randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', key, iv);
      cipher.setAAD(Buffer.from(associatedData));
      const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
      return ['v1', toBase64Url(iv), toBase64Url(body), toBase64Url(cipher.getAuthTag())].join('.');
    },
    /** Throws when the box was tampered with, sealed for other associated data or with another key. */
    open(sealed: string, associatedData: string): string {
      const [version, iv, body, tag] = sealed.split('.');
      const parts = [iv, body, tag].map((p) => (p === undefined ? undefined : fromBase64Url(p)));
      if (version !== 'v1' || parts.some((p) => p === undefined)) throw new Error('not a v1 secret box');
      const [ivBytes, bodyBytes, tagBytes] = parts as Uint8Array[];
      const decipher = createDecipheriv('aes-256-gcm', key, ivBytes as Uint8Array);
      decipher.setAAD(Buffer.from(associatedData));
      decipher.setAuthTag(tagBytes as Uint8Array);
      return Buffer.concat([decipher.update(bodyBytes as Uint8Array), decipher.final()]).toString('utf8');
    },
  };
}

export type SecretBox = ReturnType<typeof createSecretBox>;
