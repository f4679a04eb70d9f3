import { randomBytes, randomUUID } from 'node:crypto';

/** CSPRNG access, injected so tests can see what was generated. */
export interface Random {
  bytes(length: number): Uint8Array;
  /** A random (version 4) UUID: reveals nothing, for IDs handed to other systems (users). */
  uuid(): string;
  /**
   * A time-ordered (version 7, RFC 9562) UUID with 74 random bits, for rows written on the hot
   * path (sessions, audit events): new keys land on the last page of the primary-key index
   * instead of a random one, so a sign-in dirties fewer database pages.
   */
  timeOrderedUuid(): string;
}

export const cryptoRandom: Random = {
  bytes: (length) => new Uint8Array(randomBytes(length)),
  uuid: () => randomUUID(),
  timeOrderedUuid: () => uuidV7(Date.now(), randomBytes(10)),
};

/** RFC 9562 §5.7: 48-bit Unix milliseconds, version 7, 12 + 62 random bits, variant 10. */
export function uuidV7(unixMs: number, random: Uint8Array): string {
  const hex = unixMs.toString(16).padStart(12, '0').slice(-12);
  const r = Buffer.from(random.subarray(0, 10)).toString('hex');
  const variant = ((Number.parseInt(r.slice(3, 4), 16) & 0x3) | 0x8).toString(16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-7${r.slice(0, 3)}-${variant}${r.slice(4, 7)}-${r.slice(7, 19)}`;
}
