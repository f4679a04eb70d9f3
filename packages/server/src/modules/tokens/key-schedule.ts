/**
 * When a token signing key is published, signs, and leaves the JWKS: pure functions of the keys
 * and the time, so every node decides the same and the rules are tested without a server.
 *
 * A key's life: created (published in the JWKS at once) → activated `publishLeadMs` later (signs;
 * by then every verifier that cached the JWKS before the key existed has refetched it) → retired
 * when a newer key activates (stops signing, still published) → unpublished `retentionMs` after
 * retirement (by then every token it signed has expired and every cached JWKS has been refetched).
 */

/** How long verifiers may cache the JWKS (`Cache-Control: public, max-age`). */
export const JWKS_MAX_AGE_SECONDS = 300;
/** Each node reloads the keys this often (and lazily when its clock passes the interval). */
export const KEY_REFRESH_MS = 60_000;
/**
 * A new key is published this long before it signs: the JWKS max-age, plus a node's refresh
 * interval, plus a minute for clock skew and slow fetches (7 minutes).
 */
export const PUBLISH_LEAD_MS = JWKS_MAX_AGE_SECONDS * 1000 + KEY_REFRESH_MS + 60_000;

/** A retired key stays published this long: max-age, the longest token lifetime, a refresh interval. */
export function retentionMs(longestTokenLifetimeSeconds: number): number {
  return (JWKS_MAX_AGE_SECONDS + longestTokenLifetimeSeconds) * 1000 + KEY_REFRESH_MS;
}

export interface ScheduledKey {
  kid: string;
  seq: number;
  createdAt: number;
  activatedAt: number;
  retiredAt: number | null;
  publishedUntil: number | null;
}

export interface KeySchedule<K extends ScheduledKey> {
  /** The key that signs now: the newest by `seq` among those activated; undefined before any is. */
  signing: K | undefined;
  /** The keys in the JWKS now, newest first. */
  published: K[];
  /** The next time this answer changes (a key activates or leaves the JWKS); Infinity when none is due. */
  changesAt: number;
}

export function keySchedule<K extends ScheduledKey>(keys: readonly K[], now: number): KeySchedule<K> {
  const bySeq = [...keys].sort((a, b) => b.seq - a.seq);
  const signing = bySeq.find((k) => k.activatedAt <= now);
  const published = bySeq.filter((k) => k.createdAt <= now && (k.publishedUntil === null || now < k.publishedUntil));
  let changesAt = Number.POSITIVE_INFINITY;
  for (const k of bySeq) {
    for (const at of [k.createdAt, k.activatedAt, k.publishedUntil]) if (at !== null && at > now && at < changesAt) changesAt = at;
  }
  return { signing, published, changesAt };
}

/**
 * The next key to make, if any: the first key on a fresh install (active at once: no verifier
 * can have cached a JWKS yet), or a rotation when the newest key is `rotationDays` old (0: only
 * by hand). The caller inserts it with `seq` (a unique column: a node that loses the race reloads).
 */
export function nextKeyDue(keys: readonly ScheduledKey[], now: number, rotationDays: number): { seq: number; activatedAt: number } | undefined {
  const newest = [...keys].sort((a, b) => b.seq - a.seq)[0];
  if (!newest) return { seq: 1, activatedAt: now };
  if (rotationDays > 0 && now - newest.createdAt >= rotationDays * 86_400_000) return rotationAt(keys, now);
  return undefined;
}

/** A rotation now (scheduled or by hand): the next `seq`, signing after the publish lead. */
export function rotationAt(keys: readonly ScheduledKey[], now: number): { seq: number; activatedAt: number } {
  const top = keys.reduce((max, k) => Math.max(max, k.seq), 0);
  return { seq: top + 1, activatedAt: now + PUBLISH_LEAD_MS };
}
