import type { Insertable, Kysely } from 'kysely';
import type { Database } from '../../db/database.ts';
import type { UsersTable } from './accounts.tables.ts';

export interface User {
  id: string;
  username: string;
  displayName: string;
  userHandle: string;
  status: string;
  createdAt: number;
}

function toUser(row: Pick<UsersTable, 'id' | 'username' | 'display_name' | 'user_handle' | 'status' | 'created_at'>): User {
  return { id: row.id, username: row.username, displayName: row.display_name, userHandle: row.user_handle, status: row.status, createdAt: row.created_at };
}

const COLUMNS = ['id', 'username', 'display_name', 'user_handle', 'status', 'created_at'] as const;

export function createAccountsRepository() {
  return {
    async findById(db: Kysely<Database>, id: string): Promise<User | undefined> {
      const row = await db.selectFrom('users').select(COLUMNS).where('id', '=', id).executeTakeFirst();
      return row && toUser(row);
    },
    /** Whether an account has this username key ('taken') or, failing that, this look-alike key ('confusable'). */
    async usernameConflict(db: Kysely<Database>, key: string, skeleton: string): Promise<'taken' | 'confusable' | undefined> {
      const rows = await db
        .selectFrom('users')
        .select('username_key')
        .where((eb) => eb.or([eb('username_key', '=', key), eb('username_skeleton', '=', skeleton)]))
        .limit(2)
        .execute();
      if (rows.some((r) => r.username_key === key)) return 'taken';
      return rows.length > 0 ? 'confusable' : undefined;
    },
    /** The verified address of a user, if any. */
    async findEmail(db: Kysely<Database>, id: string): Promise<string | undefined> {
      const row = await db.selectFrom('users').select('email').where('id', '=', id).where('email_verified_at', 'is not', null).executeTakeFirst();
      return row?.email ?? undefined;
    },
    /** The active account with this verified address, and the address as it was verified. */
    async findActiveByEmailKey(db: Kysely<Database>, emailKey: string): Promise<{ id: string; email: string } | undefined> {
      const row = await db
        .selectFrom('users')
        .select(['id', 'email'])
        .where('email_key', '=', emailKey)
        .where('email_verified_at', 'is not', null)
        .where('status', '=', 'active')
        .executeTakeFirst();
      return row?.email ? { id: row.id, email: row.email } : undefined;
    },
    /** False when another account already has the address (unique email_key). */
    async setEmail(db: Kysely<Database>, id: string, email: string, emailKey: string, now: number): Promise<boolean> {
      const taken = await db.selectFrom('users').select('id').where('email_key', '=', emailKey).where('id', '!=', id).executeTakeFirst();
      if (taken) return false;
      const result = await db.updateTable('users').set({ email, email_key: emailKey, email_verified_at: now }).where('id', '=', id).executeTakeFirst();
      return Number(result.numUpdatedRows) === 1;
    },
    /** Returns false when the username, its look-alike key or the handle is already taken (a concurrent sign-up won). */
    async insert(db: Kysely<Database>, row: Insertable<UsersTable>): Promise<boolean> {
      const result = await db.insertInto('users').values(row).onConflict((oc) => oc.doNothing()).executeTakeFirst();
      return Number(result.numInsertedOrUpdatedRows ?? 0) === 1;
    },
  };
}
