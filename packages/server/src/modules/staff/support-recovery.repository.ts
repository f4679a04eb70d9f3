import type { Kysely } from 'kysely';
import type { Database } from '../../db/database.ts';
import type { SupportRecoveriesTable } from './staff.tables.ts';

/** Queries on `support_recoveries`: single use is one conditional UPDATE. */
export function createSupportRecoveryRepository() {
  return {
    /** One live recovery per user: a new one replaces any unused one. */
    async replaceForUser(db: Kysely<Database>, row: SupportRecoveriesTable): Promise<void> {
      await db.deleteFrom('support_recoveries').where('user_id', '=', row.user_id).where('used_at', 'is', null).execute();
      await db.insertInto('support_recoveries').values(row).execute();
    },
    /** Marks the live recovery with this hash used; its user and id, or undefined (unknown, used, expired). */
    async use(db: Kysely<Database>, secretHash: string, now: number): Promise<{ id: string; userId: string; method: string } | undefined> {
      const row = await db
        .updateTable('support_recoveries')
        .set({ used_at: now })
        .where('secret_hash', '=', secretHash)
        .where('used_at', 'is', null)
        .where('expires_at', '>', now)
        .returning(['id', 'user_id', 'method'])
        .executeTakeFirst();
      return row ? { id: row.id, userId: row.user_id, method: row.method } : undefined;
    },
    async deleteExpired(db: Kysely<Database>, before: number): Promise<number> {
      const result = await db.deleteFrom('support_recoveries').where('expires_at', '<', before).executeTakeFirst();
      return Number(result.numDeletedRows);
    },
  };
}
