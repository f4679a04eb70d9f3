import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { fromBase64Url, toBase64Url } from '../../platform/encoding.ts';

/**
 * Sign-in challenges that carry their own state (SEC-01..03), so asking for sign-in options
 * writes nothing: the challenge is 16 CSPRNG bytes plus what it is bound to — expiry, ceremony,
 * the user it was issued for, a hash of the client's ceremony binding — under an HMAC with a key
 * derived from the server secret. Single use is kept by the verify: it records the nonce in
 * `consumed_challenges` in the same transaction as the sign-in (or with the failure's audit row),
 * and refuses a nonce already there. A login so costs one commit instead of three
 * (bench/RESULTS.md). Registration challenges stay rows: they carry the pending user.
 *
 * Layout (then base64url): version 1 | nonce 16 | expires-at ms 6 | ceremony 1 | binding tag 16 |
 * user-id length 1 | user id (UTF-8) | HMAC-SHA-256 truncated to 16.
 */
export type SignInCeremony = 'authentication' | 'step_up';

export interface ChallengeClaims {
  /** base64url of the 16 random bytes; the key of the single-use record. */
  nonce: string;
  expiresAt: number;
  ceremony: SignInCeremony;
  /** The user the options were for (identifier-first, step-up); null for discoverable sign-in. */
  userId: string | null;
  /** Identifier-first for a username without an account: no credential may answer. */
  nobody: boolean;
  bindingTag: Buffer;
}

const VERSION = 1;
const NONCE_BYTES = 16;
const TAG_BYTES = 16;
const MAC_BYTES = 16;
const HEADER_BYTES = 1 + NONCE_BYTES + 6 + 1 + TAG_BYTES + 1;
const CEREMONY_CODES: Record<SignInCeremony, number> = { authentication: 1, step_up: 2 };
const NOBODY_FLAG = 0x80;
/** Longer than any challenge we issue (user ids are UUIDs); refused before any work. */
const MAX_TOKEN_CHARS = 256;

export function bindingTag(binding: string): Buffer {
  return createHash('sha256').update(binding).digest().subarray(0, TAG_BYTES);
}

export function createChallengeCodec(key: Uint8Array) {
  const mac = (bytes: Uint8Array) => createHmac('sha256', key).update(bytes).digest().subarray(0, MAC_BYTES);

  return {
    issue(input: { nonce: Uint8Array; expiresAt: number; ceremony: SignInCeremony; userId: string | null; nobody: boolean; binding: string }): string {
      const userId = Buffer.from(input.userId ?? '', 'utf8');
      if (userId.length > 255 || input.nonce.length !== NONCE_BYTES) throw new Error('challenge token: bad input');
      const body = Buffer.alloc(HEADER_BYTES + userId.length);
      body[0] = VERSION;
      body.set(input.nonce, 1);
      body.writeUIntBE(input.expiresAt, 1 + NONCE_BYTES, 6);
      body[1 + NONCE_BYTES + 6] = CEREMONY_CODES[input.ceremony] | (input.nobody ? NOBODY_FLAG : 0);
      body.set(bindingTag(input.binding), 1 + NONCE_BYTES + 7);
      body[HEADER_BYTES - 1] = userId.length;
      body.set(userId, HEADER_BYTES);
      return toBase64Url(Buffer.concat([body, mac(body)]));
    },

    /** The claims of a challenge this server issued, or undefined for anything else (forged, garbled, another ceremony's). */
    open(token: string): ChallengeClaims | undefined {
      if (token.length > MAX_TOKEN_CHARS) return undefined;
      const decoded = fromBase64Url(token);
      if (!decoded) return undefined;
      const bytes = Buffer.from(decoded.buffer, decoded.byteOffset, decoded.byteLength);
      if (bytes.length < HEADER_BYTES + MAC_BYTES || bytes[0] !== VERSION) return undefined;
      const body = bytes.subarray(0, bytes.length - MAC_BYTES);
      if (!timingSafeEqual(mac(body), bytes.subarray(bytes.length - MAC_BYTES))) return undefined;
      const userIdLength = body[HEADER_BYTES - 1] ?? 0;
      if (body.length !== HEADER_BYTES + userIdLength) return undefined;
      const code = body[1 + NONCE_BYTES + 6] ?? 0;
      const ceremony = (Object.keys(CEREMONY_CODES) as SignInCeremony[]).find((c) => CEREMONY_CODES[c] === (code & ~NOBODY_FLAG));
      if (!ceremony) return undefined;
      return {
        nonce: toBase64Url(body.subarray(1, 1 + NONCE_BYTES)),
        expiresAt: body.readUIntBE(1 + NONCE_BYTES, 6),
        ceremony,
        nobody: (code & NOBODY_FLAG) !== 0,
        bindingTag: body.subarray(1 + NONCE_BYTES + 7, 1 + NONCE_BYTES + 7 + TAG_BYTES),
        userId: userIdLength > 0 ? body.subarray(HEADER_BYTES).toString('utf8') : null,
      };
    },
  };
}

export type ChallengeCodec = ReturnType<typeof createChallengeCodec>;
