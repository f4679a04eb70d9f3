import { sql, type Kysely } from 'kysely';
import type { Database } from '../../db/database.ts';
import { preparedInsert, preparedQuery, type BoundStatement } from '../../db/prepared-query.ts';
import type { SessionsTable } from './sessions.tables.ts';

export interface SessionWithUser {
  session: SessionsTable;
  user: { id: string; username: string; displayName: string; userHandle: string; status: string };
}

// Every sign-in and every signed-in request run these; compiled once (db/prepared-query.ts).
const insertSession = preparedInsert<SessionsTable>('sessions');
const findLiveByTokenHash = preparedQuery<
  { tokenHash: string; now: number },
  SessionsTable & { username: string; display_name: string; user_handle: string; status: string }
>((db, p) =>
  db
    .selectFrom('sessions as s')
    .innerJoin('users as u', 'u.id', 's.user_id')
    .selectAll('s')
    .select(['u.username', 'u.display_name', 'u.user_handle', 'u.status'])
    .where('s.token_hash', '=', p('tokenHash'))
    .where('s.revoked_at', 'is', null)
    .where('s.expires_at', '>', p('now'))
    .where('s.idle_expires_at', '>', p('now')),
);

type AuthRefresh = Pick<SessionsTable, 'token_hash' | 'amr' | 'user_verified' | 'auth_time' | 'scope'> & {
  id: string;
  user_id: string;
  /** The scope and pending second factor ('' for none) the session must still have: a compare-and-set. */
  from_scope: string;
  from_second_factor: string;
};
/**
 * A step-up, a completed second factor or a finished recovery: only the session's own user's, live,
 * and unchanged since it was read. The raised session gets a new token in the same statement
 * (SEC-24), so the token it had stops working at once.
 */
const refreshAuth = preparedQuery<AuthRefresh, never>((db, p) =>
  db
    .updateTable('sessions')
    .set({ token_hash: p('token_hash'), amr: p('amr'), user_verified: p('user_verified'), auth_time: p('auth_time'), scope: p('scope'), second_factor: null })
    .where('id', '=', p('id'))
    .where('user_id', '=', p('user_id'))
    .where('revoked_at', 'is', null)
    .where('scope', '=', p('from_scope'))
    .where(sql<string>`coalesce(second_factor, '')`, '=', p('from_second_factor')),
);

/** Ends one session of one user (the one a sign-in request carried), in the sign-in's own commit. */
const revokeOne = preparedQuery<{ id: string; user_id: string; now: number }, never>((db, p) =>
  db
    .updateTable('sessions')
    .set({ revoked_at: p('now') })
    .where('id', '=', p('id'))
    .where('user_id', '=', p('user_id'))
    .where('revoked_at', 'is', null),
);

export function createSessionsRepository() {
  return {
    insert(row: SessionsTable): BoundStatement {
      return insertSession.with(row);
    },
    /** One query: the live session for a token hash and its user. */
    async findLiveByTokenHash(db: Kysely<Database>, tokenHash: string, now: number): Promise<SessionWithUser | undefined> {
      const row = await findLiveByTokenHash.first(db, { tokenHash, now });
      if (!row) return undefined;
      const { username, display_name, user_handle, status, ...session } = row;
      return { session, user: { id: session.user_id, username, displayName: display_name, userHandle: user_handle, status } };
    },
    async touch(db: Kysely<Database>, session: { id: string; userId: string }, now: number, idleExpiresAt: number): Promise<void> {
      await db
        .updateTable('sessions')
        .set({ last_seen_at: now, idle_expires_at: idleExpiresAt })
        .where('id', '=', session.id)
        .where('user_id', '=', session.userId)
        .execute();
    },
    refreshAuth(values: AuthRefresh): BoundStatement {
      return refreshAuth.with(values);
    },
    revokeStatement(session: { id: string; userId: string }, now: number): BoundStatement {
      return revokeOne.with({ id: session.id, user_id: session.userId, now });
    },
    async listLiveByUser(db: Kysely<Database>, userId: string, now: number): Promise<SessionsTable[]> {
      return db
        .selectFrom('sessions')
        .selectAll()
        .where('user_id', '=', userId)
        .where('revoked_at', 'is', null)
        .where('expires_at', '>', now)
        .where('idle_expires_at', '>', now)
        .orderBy('last_seen_at', 'desc')
        .limit(100)
        .execute();
    },
    /** Revokes one of the user's own live sessions; false for someone else's or an ended one. */
    async revokeOwn(db: Kysely<Database>, userId: string, id: string, now: number): Promise<boolean> {
      const result = await db
        .updateTable('sessions')
        .set({ revoked_at: now })
        .where('id', '=', id)
        .where('user_id', '=', userId)
        .where('revoked_at', 'is', null)
        .executeTakeFirst();
      return Number(result.numUpdatedRows) === 1;
    },
    async revokeOthers(db: Kysely<Database>, userId: string, keepId: string, now: number): Promise<string[]> {
      const rows = await db
        .updateTable('sessions')
        .set({ revoked_at: now })
        .where('user_id', '=', userId)
        .where('id', '!=', keepId)
        .where('revoked_at', 'is', null)
        .returning('id')
        .execute();
      return rows.map((r) => r.id);
    },
    /** Ends every live session of the user; expired ones are left to the sweeper. */
    async revokeAll(db: Kysely<Database>, userId: string, now: number): Promise<string[]> {
      const rows = await db
        .updateTable('sessions')
        .set({ revoked_at: now })
        .where('user_id', '=', userId)
        .where('revoked_at', 'is', null)
        .where('expires_at', '>', now)
        .where('idle_expires_at', '>', now)
        .returning('id')
        .execute();
      return rows.map((r) => r.id);
    },
    /** Expired and long-revoked sessions are removed by the sweeper. */
    async deleteExpired(db: Kysely<Database>, now: number): Promise<number> {
      const result = await db
        .deleteFrom('sessions')
        .where((eb) => eb.or([eb('expires_at', '<=', now), eb('idle_expires_at', '<=', now), eb('revoked_at', '<=', now)]))
        .executeTakeFirst();
      return Number(result.numDeletedRows);
    },
  };
}
