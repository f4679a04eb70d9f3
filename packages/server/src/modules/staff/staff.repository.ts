import { sql, type Kysely } from 'kysely';
import type { Database } from '../../db/database.ts';
import { dialectOf } from '../../db/columns.ts';
import { isStaffRole, type StaffRole } from './staff.roles.ts';

export interface StaffMember {
  userId: string;
  username: string;
  displayName: string;
  role: StaffRole;
  createdAt: number;
  createdBy: { kind: string; id: string | null };
}

/** Intention-named queries on `staff_members`; domain types out. */
export function createStaffRepository() {
  return {
    /** One primary-key read: run on every admin request, so a role change or removal counts at once. */
    async roleOf(db: Kysely<Database>, userId: string): Promise<StaffRole | undefined> {
      const row = await db.selectFrom('staff_members').select('role').where('user_id', '=', userId).executeTakeFirst();
      return row && isStaffRole(row.role) ? row.role : undefined;
    },

    async list(db: Kysely<Database>, userId?: string): Promise<StaffMember[]> {
      let query = db
        .selectFrom('staff_members')
        .innerJoin('users', 'users.id', 'staff_members.user_id')
        .select(['staff_members.user_id', 'users.username', 'users.display_name', 'staff_members.role', 'staff_members.created_at', 'staff_members.created_by_kind', 'staff_members.created_by_id'])
        .orderBy('staff_members.created_at')
        .orderBy('staff_members.user_id');
      if (userId !== undefined) query = query.where('staff_members.user_id', '=', userId);
      const rows = await query.execute();
      return rows.flatMap((r) =>
        isStaffRole(r.role)
          ? [{ userId: r.user_id, username: r.username, displayName: r.display_name, role: r.role, createdAt: Number(r.created_at), createdBy: { kind: r.created_by_kind, id: r.created_by_id } }]
          : [],
      );
    },

    /** False when the user is staff already (the primary key). */
    async insert(db: Kysely<Database>, row: { userId: string; role: StaffRole; now: number; by: { kind: string; id: string | null } }): Promise<boolean> {
      const result = await db
        .insertInto('staff_members')
        .values({ user_id: row.userId, role: row.role, created_at: row.now, created_by_kind: row.by.kind, created_by_id: row.by.id })
        .onConflict((oc) => oc.column('user_id').doNothing())
        .executeTakeFirst();
      return Number(result.numInsertedOrUpdatedRows ?? 0) === 1;
    },

    async setRole(db: Kysely<Database>, userId: string, role: StaffRole): Promise<boolean> {
      const result = await db.updateTable('staff_members').set({ role }).where('user_id', '=', userId).executeTakeFirst();
      return Number(result.numUpdatedRows) === 1;
    },

    async delete(db: Kysely<Database>, userId: string): Promise<boolean> {
      const result = await db.deleteFrom('staff_members').where('user_id', '=', userId).executeTakeFirst();
      return Number(result.numDeletedRows) === 1;
    },

    /**
     * The number of admins, in the caller's transaction. On PostgreSQL the admin rows are locked
     * until it commits, so two admins demoting each other at once cannot both pass the last-admin
     * check; SQLite runs one write transaction at a time.
     */
    async countAdminsLocked(db: Kysely<Database>): Promise<number> {
      if (dialectOf(db) === 'postgres') {
        const { rows } = await sql<{ user_id: string }>`select user_id from staff_members where role = 'admin' for update`.execute(db);
        return rows.length;
      }
      const row = await db.selectFrom('staff_members').select((eb) => eb.fn.countAll<number>().as('n')).where('role', '=', 'admin').executeTakeFirstOrThrow();
      return Number(row.n);
    },
  };
}

export type StaffRepository = ReturnType<typeof createStaffRepository>;
