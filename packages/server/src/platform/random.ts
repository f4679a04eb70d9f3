import { randomBytes, randomFillSync, randomUUID } from 'node:crypto';

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
  timeOrderedUuid: () => uuidV7At(Date.now(), pool, takeRandom10()),
};

// Random bytes for time-ordered UUIDs, fetched from the CSPRNG 4 KiB at a time and each byte used
// once (what node:crypto's randomUUID does for its own): one randomBytes(10) per UUID was a call
// into OpenSSL and a Buffer each, and a sign-in makes several UUIDs (audit rows, session, webhook
// deliveries).
const POOL_BYTES = 4096;
const pool = Buffer.alloc(POOL_BYTES);
/** The first byte of `pool` not handed out yet. */
let poolNext = POOL_BYTES;
/** Where 10 fresh random bytes start in `pool`. */
function takeRandom10(): number {
  if (poolNext + 10 > POOL_BYTES) {
    randomFillSync(pool);
    poolNext = 0;
  }
  const at = poolNext;
  poolNext += 10;
  return at;
}

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

/** RFC 9562 §5.7: 48-bit Unix milliseconds, version 7, 12 + 62 random bits, variant 10. */
export function uuidV7(unixMs: number, random: Uint8Array): string {
  return uuidV7At(unixMs, random, 0);
}

/** `uuidV7` with the 10 random bytes at `at` in `random` (the first 74 bits used). */
function uuidV7At(unixMs: number, random: Uint8Array, at: number): string {
  const time = unixMs.toString(16).padStart(12, '0').slice(-12);
  const hex = (i: number) => HEX[random[at + i] as number] as string;
  // Random hex digits r0…r18: r0-r2 after the version, r3's low two bits in the variant digit, r4-r6, then r7-r18.
  const r1 = hex(1);
  const variant = ((Number.parseInt(r1.charAt(1), 16) & 0x3) | 0x8).toString(16);
  const r3 = hex(3);
  const r4to6 = hex(2) + r3.charAt(0);
  const r7to18 = r3.charAt(1) + hex(4) + hex(5) + hex(6) + hex(7) + hex(8) + hex(9).charAt(0);
  return `${time.slice(0, 8)}-${time.slice(8, 12)}-7${hex(0)}${r1.charAt(0)}-${variant}${r4to6}-${r7to18}`;
}
