import type { Kysely } from 'kysely';
import type { Database } from '../../db/database.ts';

export function createRedeemedRepository() {
  return {
    /** Records the jti; false when it was recorded before (a replay). */
    async insertIfAbsent(db: Kysely<Database>, row: { jti: string; expiresAt: number; redeemedAt: number }): Promise<boolean> {
      const result = await db
        .insertInto('redeemed_login_results')
        .values({ jti: row.jti, expires_at: row.expiresAt, redeemed_at: row.redeemedAt })
        .onConflict((oc) => oc.column('jti').doNothing())
        .executeTakeFirst();
      return Number(result.numInsertedOrUpdatedRows ?? 0) === 1;
    },
    /** Drops jtis whose token has expired: it can no longer be redeemed anyway. */
    async deleteExpired(db: Kysely<Database>, now: number): Promise<void> {
      await db.deleteFrom('redeemed_login_results').where('expires_at', '<=', now).execute();
    },
  };
}
