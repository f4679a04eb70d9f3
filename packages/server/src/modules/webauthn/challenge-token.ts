import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { fromBase64Url, toBase64Url } from '../../platform/encoding.ts';

/**
 * Sign-in challenges that carry their own state (SEC-01..03), so asking for sign-in options
 * writes nothing: the challenge is 32 CSPRNG bytes plus what it is bound to — expiry, ceremony,
 * a hash of the client's ceremony binding and, with a username or for a step-up, a keyed tag of
 * the user it was issued for — under an HMAC with a key derived from the server secret. Single
 * use is kept by the verify: it records the nonce in `consumed_challenges` in the same commit as
 * the sign-in (or with the failure's audit row), and refuses a nonce already there. A login so
 * costs one commit instead of three (bench/RESULTS.md). Registration challenges stay rows: they
 * carry the pending user.
 *
 * Everything in a challenge is readable by the client, so nothing in it may tell accounts apart
 * (SEC-20): the user is a keyed tag, never the id, and a username without an account gets a tag
 * of the same length (derived from the username) that no account's tag can equal.
 *
 * A step-up challenge is also bound to the session that asked for it (a keyed tag of its id): the
 * same user's other session cannot answer it. Sign-in challenges carry no session tag, so their
 * length and shape stay the same for a known and an unknown username.
 *
 * Layout (then base64url): version 1 | nonce 32 | expires-at ms 6 | flags 1 (ceremony, has-user,
 * has-session) | binding tag 16 | [user tag 16] | [session tag 16, step-up only] | HMAC-SHA-256 of
 * all that, truncated to 16.
 */
export type SignInCeremony = 'authentication' | 'step_up';

/** Who may answer: anyone with a discoverable passkey, one user's passkeys, or nobody (an unknown username). */
export type ChallengeAudience = { userId: string } | { unknownUsernameKey: string } | null;

export interface ChallengeClaims {
  /** base64url of the 32 random bytes; the key of the single-use record. */
  nonce: string;
  expiresAt: number;
  ceremony: SignInCeremony;
  bindingTag: Buffer;
  /** Present when the options named a user (identifier-first, step-up); see `isFor`. */
  userTag: Buffer | null;
  /** Present exactly for a step-up: the session that asked; see `isForSession`. */
  sessionTag: Buffer | null;
}

const VERSION = 1;
const NONCE_BYTES = 32;
const TAG_BYTES = 16;
const MAC_BYTES = 16;
const HEADER_BYTES = 1 + NONCE_BYTES + 6 + 1 + TAG_BYTES;
const CEREMONY_CODES: Record<SignInCeremony, number> = { authentication: 1, step_up: 2 };
const HAS_USER = 0x80;
const HAS_SESSION = 0x40;
/** Longer than any challenge we issue; refused before any work. */
const MAX_TOKEN_CHARS = 256;

export function bindingTag(binding: string): Buffer {
  return createHash('sha256').update(binding).digest().subarray(0, TAG_BYTES);
}

export function createChallengeCodec(key: Uint8Array) {
  const hmac = (data: Uint8Array | string) => createHmac('sha256', key).update(data).digest();
  const userTag = (userId: string) => hmac(`user:${userId}`).subarray(0, TAG_BYTES);
  const sessionTag = (sessionId: string) => hmac(`session:${sessionId}`).subarray(0, TAG_BYTES);

  return {
    /** `sessionId`: the session asking for a step-up; required for one, refused for any other ceremony. */
    issue(input: { nonce: Uint8Array; expiresAt: number; ceremony: SignInCeremony; audience: ChallengeAudience; binding: string; sessionId?: string }): string {
      if (input.nonce.length !== NONCE_BYTES) throw new Error('challenge token: the nonce must be 32 bytes');
      if ((input.ceremony === 'step_up') !== (input.sessionId !== undefined)) throw new Error('challenge token: a step-up, and only a step-up, names its session');
      const tag =
        input.audience === null
          ? undefined
          : 'userId' in input.audience
            ? userTag(input.audience.userId)
            : hmac(`unknown-username:${input.audience.unknownUsernameKey}`).subarray(0, TAG_BYTES);
      const session = input.sessionId === undefined ? undefined : sessionTag(input.sessionId);
      const body = Buffer.alloc(HEADER_BYTES + (tag ? TAG_BYTES : 0) + (session ? TAG_BYTES : 0));
      body[0] = VERSION;
      body.set(input.nonce, 1);
      body.writeUIntBE(input.expiresAt, 1 + NONCE_BYTES, 6);
      body[1 + NONCE_BYTES + 6] = CEREMONY_CODES[input.ceremony] | (tag ? HAS_USER : 0) | (session ? HAS_SESSION : 0);
      body.set(bindingTag(input.binding), 1 + NONCE_BYTES + 7);
      if (tag) body.set(tag, HEADER_BYTES);
      if (session) body.set(session, HEADER_BYTES + (tag ? TAG_BYTES : 0));
      return toBase64Url(Buffer.concat([body, hmac(body).subarray(0, MAC_BYTES)]));
    },

    /** The claims of a challenge this server issued, or undefined for anything else (forged, garbled, another ceremony's). */
    open(token: string): ChallengeClaims | undefined {
      if (token.length > MAX_TOKEN_CHARS) return undefined;
      const decoded = fromBase64Url(token);
      if (!decoded) return undefined;
      const bytes = Buffer.from(decoded.buffer, decoded.byteOffset, decoded.byteLength);
      if (bytes.length < HEADER_BYTES + MAC_BYTES || bytes[0] !== VERSION) return undefined;
      const body = bytes.subarray(0, bytes.length - MAC_BYTES);
      if (!timingSafeEqual(hmac(body).subarray(0, MAC_BYTES), bytes.subarray(bytes.length - MAC_BYTES))) return undefined;
      const flags = body[1 + NONCE_BYTES + 6] ?? 0;
      const hasUser = (flags & HAS_USER) !== 0;
      const hasSession = (flags & HAS_SESSION) !== 0;
      if (body.length !== HEADER_BYTES + (hasUser ? TAG_BYTES : 0) + (hasSession ? TAG_BYTES : 0)) return undefined;
      const ceremony = (Object.keys(CEREMONY_CODES) as SignInCeremony[]).find((c) => CEREMONY_CODES[c] === (flags & ~(HAS_USER | HAS_SESSION)));
      if (!ceremony || (ceremony === 'step_up') !== hasSession) return undefined;
      const userEnd = HEADER_BYTES + (hasUser ? TAG_BYTES : 0);
      return {
        nonce: toBase64Url(body.subarray(1, 1 + NONCE_BYTES)),
        expiresAt: body.readUIntBE(1 + NONCE_BYTES, 6),
        ceremony,
        bindingTag: body.subarray(1 + NONCE_BYTES + 7, HEADER_BYTES),
        userTag: hasUser ? body.subarray(HEADER_BYTES, userEnd) : null,
        sessionTag: hasSession ? body.subarray(userEnd) : null,
      };
    },

    /** Whether a challenge that names a user was issued for this one (false for an unknown username's). */
    isFor(claims: ChallengeClaims, userId: string): boolean {
      return claims.userTag !== null && timingSafeEqual(claims.userTag, userTag(userId));
    },

    /** Whether a step-up challenge was asked for by this session (false for any other challenge). */
    isForSession(claims: ChallengeClaims, sessionId: string): boolean {
      return claims.sessionTag !== null && timingSafeEqual(claims.sessionTag, sessionTag(sessionId));
    },
  };
}

export type ChallengeCodec = ReturnType<typeof createChallengeCodec>;
