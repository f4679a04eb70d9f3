/**
 * Where the `jti`s of used login results are remembered. `consume` returns true the first time a
 * `jti` is seen and false every time after, until `expiresAt` (after which the token is refused
 * as expired anyway, so the entry may go).
 *
 * With several backend instances, the store must be shared by all of them (Redis `SET jti 1 NX
 * PXAT expiresAt`, or a database table with a unique key), or a login result could be used once
 * per instance.
 *
 * @example
 * // Redis (node-redis v4+):
 * const replayStore = {
 *   async consume(jti, expiresAt) {
 *     return (await redis.set(`latchkey:jti:${jti}`, '1', { NX: true, PXAT: expiresAt.getTime() })) === 'OK';
 *   },
 * };
 */
export interface ReplayStore {
  consume(jti: string, expiresAt: Date): Promise<boolean>;
}

/**
 * The default store: in this process's memory, entries dropped after they expire. Right for a
 * single instance; see `ReplayStore` for several.
 */
export function createMemoryReplayStore(options: { now?: () => number; maxEntries?: number } = {}): ReplayStore & { readonly size: number } {
  const now = options.now ?? Date.now;
  const maxEntries = options.maxEntries ?? 100_000;
  const seen = new Map<string, number>();
  let nextSweep = 0;
  function sweep(at: number): void {
    for (const [jti, until] of seen) if (until <= at) seen.delete(jti);
    nextSweep = at + 60_000;
  }
  return {
    get size() {
      return seen.size;
    },
    async consume(jti, expiresAt) {
      const at = now();
      if (at >= nextSweep || seen.size >= maxEntries) sweep(at);
      const until = seen.get(jti);
      if (until !== undefined && until > at) return false;
      // Full of live entries: refusing is safer than forgetting one (which would allow a replay).
      if (seen.size >= maxEntries) return false;
      seen.set(jti, expiresAt.getTime());
      return true;
    },
  };
}
