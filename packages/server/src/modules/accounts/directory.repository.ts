import { sql, type Insertable, type Kysely, type Updateable } from 'kysely';
import type { Database } from '../../db/database.ts';
import type { Selectable } from 'kysely';
import { dialectOf } from '../../db/columns.ts';
import type { UsersTable } from './accounts.tables.ts';

/**
 * The user directory as the management API sees it (issue 11): lookups by every identifier a
 * company's backend holds, a paged listing, profile and status changes, and erasure. Part of the
 * accounts module because it owns the users table.
 */
export interface DirectoryUser {
  id: string;
  username: string;
  displayName: string;
  email: string | null;
  externalId: string | null;
  status: 'active' | 'disabled';
  createdAt: number;
  /** Rollout segment (modules/rollout), null when none. */
  segment: string | null;
}

/** Where a listing continues: after this (created_at, id). */
export interface DirectoryPosition {
  createdAt: number;
  id: string;
}

const COLUMNS = ['id', 'username', 'display_name', 'email', 'external_id', 'status', 'created_at', 'segment'] as const;

function toUser(row: Pick<Selectable<UsersTable>, (typeof COLUMNS)[number]>): DirectoryUser {
  return {
    id: row.id,
    username: row.username,
    displayName: row.display_name,
    email: row.email,
    externalId: row.external_id,
    status: row.status === 'active' ? 'active' : 'disabled',
    createdAt: Number(row.created_at),
    segment: row.segment ?? null,
  };
}

/** A LIKE prefix pattern with `!` as the escape character, so `%` and `_` in the input match themselves. */
function prefixPattern(text: string): string {
  return `${text.replace(/[!%_]/g, (c) => `!${c}`)}%`;
}

/** Above every code point: `key < prefix + TOP` holds for every key that starts with `prefix`. */
const TOP = '\u{10FFFF}';

export type DirectoryLookup = { id: string } | { externalId: string } | { usernameKey: string } | { emailKey: string };

export function createDirectoryRepository() {
  return {
    /** Inserts, or names the unique field another user already has (none of the row is written then). */
    async insert(db: Kysely<Database>, row: Insertable<UsersTable>): Promise<'ok' | 'username' | 'confusable' | 'external_id' | 'email'> {
      const result = await db.insertInto('users').values(row).onConflict((oc) => oc.doNothing()).executeTakeFirst();
      if (Number(result.numInsertedOrUpdatedRows ?? 0) === 1) return 'ok';
      const clash = await db
        .selectFrom('users')
        .select(['username_key', 'username_skeleton', 'external_id', 'email_key'])
        .where((eb) =>
          eb.or([
            eb('username_key', '=', row.username_key),
            ...(row.username_skeleton ? [eb('username_skeleton', '=', row.username_skeleton)] : []),
            ...(row.external_id ? [eb('external_id', '=', row.external_id)] : []),
            ...(row.email_key ? [eb('email_key', '=', row.email_key)] : []),
          ]),
        )
        .executeTakeFirst();
      if (clash?.username_key === row.username_key) return 'username';
      if (row.username_skeleton && clash?.username_skeleton === row.username_skeleton) return 'confusable';
      if (row.external_id && clash?.external_id === row.external_id) return 'external_id';
      // Otherwise the e-mail key (a 64-byte random user handle does not collide).
      return 'email';
    },

    async find(db: Kysely<Database>, by: DirectoryLookup): Promise<DirectoryUser | undefined> {
      let query = db.selectFrom('users').select(COLUMNS);
      if ('id' in by) query = query.where('id', '=', by.id);
      else if ('externalId' in by) query = query.where('external_id', '=', by.externalId);
      else if ('usernameKey' in by) query = query.where('username_key', '=', by.usernameKey);
      else query = query.where('email_key', '=', by.emailKey);
      const row = await query.executeTakeFirst();
      return row && toUser(row);
    },

    /**
     * One page in (created_at, id) order, after `after`; `limit + 1` rows are read so the caller
     * knows whether there is more. `usernameKeyPrefix` / `emailKeyPrefix` narrow it (either matches).
     */
    async page(
      db: Kysely<Database>,
      input: { after?: DirectoryPosition; limit: number; usernameKeyPrefix?: string; emailKeyPrefix?: string; status?: 'active' | 'disabled' },
    ): Promise<DirectoryUser[]> {
      let query = db.selectFrom('users').select(COLUMNS);
      const after = input.after;
      if (after) {
        query = query.where((eb) => eb.or([eb('created_at', '>', after.createdAt), eb.and([eb('created_at', '=', after.createdAt), eb('id', '>', after.id)])]));
      }
      if (input.status) query = query.where('status', '=', input.status);
      const { usernameKeyPrefix, emailKeyPrefix } = input;
      if (usernameKeyPrefix !== undefined || emailKeyPrefix !== undefined) {
        query = query.where((eb) =>
          eb.or([
            ...(usernameKeyPrefix !== undefined ? [sql<boolean>`${sql.ref('username_key')} like ${prefixPattern(usernameKeyPrefix)} escape '!'`] : []),
            ...(emailKeyPrefix !== undefined ? [sql<boolean>`${sql.ref('email_key')} like ${prefixPattern(emailKeyPrefix)} escape '!'`] : []),
          ]),
        );
      }
      const rows = await query.orderBy('created_at').orderBy('id').limit(input.limit).execute();
      return rows.map(toUser);
    },

    /**
     * Users whose username key starts with one of `prefixes`, at most `perPrefix` per prefix (the
     * shortest keys first), in one statement: one index range scan per prefix, never a table scan.
     * PostgreSQL compares in code point order on its `COLLATE "C"` index (migration
     * 2026_12_04_console_search); SQLite's BINARY order already is. Returns which prefix found each.
     */
    async findByUsernameKeyPrefixes(db: Kysely<Database>, prefixes: readonly string[], perPrefix: number): Promise<{ prefix: string; user: DirectoryUser }[]> {
      if (prefixes.length === 0) return [];
      const columns = sql.join(COLUMNS.map((c) => sql.ref(c)));
      type Found = Pick<Selectable<UsersTable>, (typeof COLUMNS)[number]> & { p: number | string };
      if (dialectOf(db) === 'postgres') {
        // One small statement however many prefixes: an index range scan per array element.
        const key = sql`username_key COLLATE "C"`;
        const { rows } = await sql<Found>`
          SELECT q.i AS p, u.* FROM unnest(${[...prefixes]}::text[], ${prefixes.map((p) => p + TOP)}::text[]) WITH ORDINALITY AS q(lo, hi, i)
          CROSS JOIN LATERAL (SELECT ${columns} FROM users WHERE ${key} >= q.lo AND ${key} < q.hi ORDER BY ${key} LIMIT ${sql.lit(perPrefix)}) AS u`.execute(db);
        return rows.map((r) => ({ prefix: prefixes[Number(r.p) - 1] ?? '', user: toUser(r) }));
      }
      // SQLite: one statement too, a VALUES list of ranges; the correlated subquery keeps each
      // range to its first `perPrefix` keys (an index range search per row of the list).
      const ranges = sql.join(prefixes.map((prefix, i) => sql`(${sql.lit(i)}, ${prefix}, ${prefix + TOP})`));
      const { rows } = await sql<Found>`
        WITH q(i, lo, hi) AS (VALUES ${ranges})
        SELECT q.i AS p, ${sql.join(COLUMNS.map((c) => sql.ref(`u.${c}`)))} FROM q JOIN users u ON u.rowid IN (
          SELECT rowid FROM users WHERE username_key >= q.lo AND username_key < q.hi ORDER BY username_key LIMIT ${sql.lit(perPrefix)}
        )`.execute(db);
      return rows.map((r) => ({ prefix: prefixes[Number(r.p)] ?? '', user: toUser(r) }));
    },

    /**
     * An imported user: 'created'; 'same' when a user with this id, username and user handle is
     * already there (a re-run); otherwise the field that clashes with another user, nothing written.
     */
    async importUser(db: Kysely<Database>, row: Insertable<UsersTable>): Promise<'created' | 'same' | 'id' | 'username' | 'external_id' | 'email' | 'user_handle'> {
      const existing = await db.selectFrom('users').select(['username_key', 'user_handle']).where('id', '=', row.id).executeTakeFirst();
      if (existing) return existing.username_key === row.username_key && existing.user_handle === row.user_handle ? 'same' : 'id';
      const handle = await db.selectFrom('users').select('id').where('user_handle', '=', row.user_handle).executeTakeFirst();
      if (handle) return 'user_handle';
      // An imported account already exists elsewhere: a look-alike of one here is kept, like a pair
      // found by the skeleton migration, and the account here keeps the look-alike key.
      const lookAlike = row.username_skeleton
        ? await db.selectFrom('users').select('id').where('username_skeleton', '=', row.username_skeleton).executeTakeFirst()
        : undefined;
      const outcome = await this.insert(db, lookAlike ? { ...row, username_skeleton: null } : row);
      if (outcome === 'confusable') return 'username';
      return outcome === 'ok' ? 'created' : outcome;
    },

    /** The WebAuthn user handles of a batch of users, for an export (a passkey is bound to its user handle). */
    async userHandles(db: Kysely<Database>, ids: readonly string[]): Promise<Map<string, string>> {
      if (ids.length === 0) return new Map();
      const rows = await db.selectFrom('users').select(['id', 'user_handle']).where('id', 'in', [...ids]).execute();
      return new Map(rows.map((r) => [r.id, r.user_handle]));
    },

    /** False when no such user; 'email' when another user has the address. */
    async updateProfile(
      db: Kysely<Database>,
      id: string,
      changes: { displayName?: string; email?: { address: string; key: string } | null; segment?: string | null },
      now: number,
    ): Promise<boolean | 'email'> {
      if (changes.email) {
        const taken = await db.selectFrom('users').select('id').where('email_key', '=', changes.email.key).where('id', '!=', id).executeTakeFirst();
        if (taken) return 'email';
      }
      const set: Updateable<UsersTable> = {};
      if (changes.displayName !== undefined) set.display_name = changes.displayName;
      if (changes.segment !== undefined) set.segment = changes.segment;
      if (changes.email !== undefined) {
        set.email = changes.email?.address ?? null;
        set.email_key = changes.email?.key ?? null;
        set.email_verified_at = changes.email ? now : null;
      }
      if (Object.keys(set).length === 0) return (await db.selectFrom('users').select('id').where('id', '=', id).executeTakeFirst()) !== undefined;
      const result = await db.updateTable('users').set(set).where('id', '=', id).executeTakeFirst();
      return Number(result.numUpdatedRows) === 1;
    },

    /** True when the status changed (false: unknown user, or it already had that status). */
    async setStatus(db: Kysely<Database>, id: string, status: 'active' | 'disabled'): Promise<boolean> {
      const result = await db.updateTable('users').set({ status }).where('id', '=', id).where('status', '!=', status).executeTakeFirst();
      return Number(result.numUpdatedRows) === 1;
    },

    /** Erases the user row; passkeys, sessions, codes, passwords and TOTP seeds go with it (ON DELETE CASCADE). */
    async delete(db: Kysely<Database>, id: string): Promise<boolean> {
      const result = await db.deleteFrom('users').where('id', '=', id).executeTakeFirst();
      return Number(result.numDeletedRows) === 1;
    },
  };
}

export type DirectoryRepository = ReturnType<typeof createDirectoryRepository>;
