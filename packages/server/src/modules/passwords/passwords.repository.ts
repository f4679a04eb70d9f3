import type { Kysely } from 'kysely';
import type { Database } from '../../db/database.ts';

export function createPasswordsRepository() {
  return {
    /** One query: the user a username names, and their hash if they have a password. */
    async findByUsernameKey(db: Kysely<Database>, usernameKey: string): Promise<{ userId: string; status: string; hash: string | null } | undefined> {
      const row = await db
        .selectFrom('users as u')
        .leftJoin('passwords as p', 'p.user_id', 'u.id')
        .select(['u.id', 'u.status', 'p.hash'])
        .where('u.username_key', '=', usernameKey)
        .executeTakeFirst();
      return row && { userId: row.id, status: row.status, hash: row.hash ?? null };
    },
    async hasPassword(db: Kysely<Database>, userId: string): Promise<boolean> {
      return (await db.selectFrom('passwords').select('user_id').where('user_id', '=', userId).executeTakeFirst()) !== undefined;
    },
    async upsert(db: Kysely<Database>, userId: string, hash: string, now: number): Promise<void> {
      await db
        .insertInto('passwords')
        .values({ user_id: userId, hash, updated_at: now })
        .onConflict((oc) => oc.column('user_id').doUpdateSet({ hash, updated_at: now }))
        .execute();
    },
  };
}
