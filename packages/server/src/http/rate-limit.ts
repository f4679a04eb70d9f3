import { sql, type Kysely } from 'kysely';
import type { Database } from '../db/database.ts';
import { CommonErrors } from '../errors/common.errors.ts';
import type { Clock } from '../platform/clock.ts';

/**
 * A fixed-window counter kept in the database, so the limit holds across several nodes.
 * One upsert per hit: the window resets when it has passed, otherwise the count grows.
 */
export function createRateLimiter(deps: { db: Kysely<Database>; clock: Clock; limit: number; windowSeconds: number; onRefused?: () => void }): RateLimiter {
  const windowMs = deps.windowSeconds * 1000;
  return {
    async hit(key: string): Promise<void> {
      const now = deps.clock.now();
      const row = await addHits(deps.db, key, 1, now, windowMs);
      if (row.count > deps.limit) {
        deps.onRefused?.();
        throw refusal(row.windowStart + windowMs - now);
      }
    },
    sweep: () => sweep(deps.db, deps.clock.now() - windowMs),
    flush: async () => {},
  };
}

export interface RateLimiter {
  /** Counts one request for `key`; throws 429 `rate_limited` with Retry-After over the limit. */
  hit(key: string): Promise<void>;
  /** Deletes windows that have passed. */
  sweep(): Promise<void>;
  /** Writes counts not yet in the database (the batched limiter; a no-op for the exact one). */
  flush(): Promise<void>;
}

/** Adds `hits` to the key's window (a new window once the old one has passed), in one upsert. */
async function addHits(db: Kysely<Database>, key: string, hits: number, now: number, windowMs: number): Promise<{ count: number; windowStart: number }> {
  const expired = now - windowMs;
  const row = await db
    .insertInto('rate_limits')
    .values({ key, window_start: now, count: hits })
    .onConflict((oc) =>
      oc.column('key').doUpdateSet({
        count: sql<number>`CASE WHEN rate_limits.window_start <= ${expired} THEN ${hits} ELSE rate_limits.count + ${hits} END`,
        window_start: sql<number>`CASE WHEN rate_limits.window_start <= ${expired} THEN ${now} ELSE rate_limits.window_start END`,
      }),
    )
    .returning(['count', 'window_start'])
    .executeTakeFirstOrThrow();
  return { count: Number(row.count), windowStart: Number(row.window_start) };
}

function refusal(remainingMs: number) {
  const retryAfter = Math.max(1, Math.ceil(remainingMs / 1000));
  return CommonErrors.rate_limited({ headers: { 'retry-after': String(retryAfter) }, detail: `Try again in ${retryAfter} seconds` });
}

async function sweep(db: Kysely<Database>, expired: number): Promise<void> {
  await db.deleteFrom('rate_limits').where('window_start', '<=', expired).execute();
}

/**
 * The same fixed-window limit for high-volume endpoints (passkey sign-in, which every user hits),
 * without a database write per request: hits are counted in memory at once (so one node enforces
 * the limit exactly) and added to the shared row every `flushMs`, when the node also learns the
 * other nodes' hits. Across N nodes the limit can be overshot by what the others counted in the
 * last `flushMs`; a restart loses at most that much. Use the exact limiter where a few extra
 * requests matter (codes, passwords, sign-up).
 */
export function createBatchedRateLimiter(deps: {
  db: Kysely<Database>;
  clock: Clock;
  limit: number;
  windowSeconds: number;
  flushMs?: number;
  /** Called on each refusal (metrics). */
  onRefused?: () => void;
}): RateLimiter {
  const windowMs = deps.windowSeconds * 1000;
  const flushMs = deps.flushMs ?? 1000;
  /** Per key: hits not yet written, the count the database last reported, and its window. */
  const counts = new Map<string, { pending: number; stored: number; windowStart: number }>();
  let timer: NodeJS.Timeout | undefined;
  let flushing: Promise<void> | undefined;

  async function flush(): Promise<void> {
    timer = undefined;
    const now = deps.clock.now();
    let unwritten = false;
    for (const [key, entry] of counts) {
      if (entry.pending === 0) {
        if (now - entry.windowStart >= windowMs) counts.delete(key);
        continue;
      }
      const pending = entry.pending;
      entry.pending = 0;
      try {
        const row = await addHits(deps.db, key, pending, now, windowMs);
        // The database's count includes this node's pending hits and every other node's.
        entry.stored = row.count;
        entry.windowStart = row.windowStart;
      } catch {
        entry.pending += pending; // the database is away: keep counting locally, write later
        unwritten = true;
      }
    }
    if (unwritten) scheduleFlush();
  }

  function scheduleFlush(): void {
    if (timer) return;
    timer = setTimeout(() => {
      flushing = flush().finally(() => {
        flushing = undefined;
      });
    }, flushMs);
    timer.unref();
  }

  return {
    async hit(key: string): Promise<void> {
      const now = deps.clock.now();
      let entry = counts.get(key);
      if (!entry || now - entry.windowStart >= windowMs) {
        entry = { pending: entry?.pending ?? 0, stored: 0, windowStart: now };
        counts.set(key, entry);
      }
      entry.pending += 1;
      scheduleFlush();
      if (entry.stored + entry.pending > deps.limit) {
        deps.onRefused?.();
        throw refusal(entry.windowStart + windowMs - now);
      }
    },
    sweep: () => sweep(deps.db, deps.clock.now() - windowMs),
    async flush(): Promise<void> {
      if (timer) clearTimeout(timer);
      await flushing;
      await flush();
    },
  };
}
