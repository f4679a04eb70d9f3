import { sql, type Kysely } from 'kysely';
import type { Database } from '../db/database.ts';
import { CommonErrors } from '../errors/common.errors.ts';
import type { Clock } from '../platform/clock.ts';

/**
 * A fixed-window counter kept in the database, so the limit holds across several nodes.
 * One upsert per hit: the window resets when it has passed, otherwise the count grows.
 */
export function createRateLimiter(deps: { db: Kysely<Database>; clock: Clock; limit: number; windowSeconds: number }) {
  const windowMs = deps.windowSeconds * 1000;
  return {
    async hit(key: string): Promise<void> {
      const now = deps.clock.now();
      const expired = now - windowMs;
      const row = await deps.db
        .insertInto('rate_limits')
        .values({ key, window_start: now, count: 1 })
        .onConflict((oc) =>
          oc.column('key').doUpdateSet({
            count: sql<number>`CASE WHEN rate_limits.window_start <= ${expired} THEN 1 ELSE rate_limits.count + 1 END`,
            window_start: sql<number>`CASE WHEN rate_limits.window_start <= ${expired} THEN ${now} ELSE rate_limits.window_start END`,
          }),
        )
        .returning(['count', 'window_start'])
        .executeTakeFirstOrThrow();
      if (row.count > deps.limit) {
        const retryAfter = Math.max(1, Math.ceil((Number(row.window_start) + windowMs - now) / 1000));
        throw CommonErrors.rate_limited({ headers: { 'retry-after': String(retryAfter) }, detail: `Try again in ${retryAfter} seconds` });
      }
    },
    async sweep(): Promise<void> {
      await deps.db.deleteFrom('rate_limits').where('window_start', '<=', deps.clock.now() - windowMs).execute();
    },
  };
}

export type RateLimiter = ReturnType<typeof createRateLimiter>;
