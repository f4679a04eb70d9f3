import type { Kysely } from 'kysely';
import type { Database } from '../../db/database.ts';
import { CommonErrors } from '../../errors/common.errors.ts';
import type { RequestContext } from '../../platform/request-context.ts';
import type { DirectoryUser, UserDirectory } from '../accounts/accounts.module.ts';
import { searchAuditEvents, type AuditRecord, type AuditService } from '../audit/audit.module.ts';
import { exportPasskeys, type PasskeysService } from '../webauthn/webauthn.module.ts';
import { SessionErrors, type SessionsService } from '../sessions/sessions.module.ts';
import { decodeCursor, encodeCursor } from './management.cursor.ts';
import { importUsers, type ImportReport } from './management.import.ts';
import type { Clock } from '../../platform/clock.ts';
import { AppError } from '../../errors/app-error.ts';
import { AccountErrors } from '../accounts/accounts.module.ts';
import { StaffErrors } from '../staff/staff.module.ts';
import { AppendTokenErrors, type AppendTokensService, type IssuedAppendToken } from '../append-tokens/append-tokens.module.ts';

/** Whose append token: a known user, or the user with this external id (created when there is none yet). */
export type AppendTokenFor = { userId: string } | { externalId: string; username?: string | undefined; displayName?: string | undefined };

export type UserLookup = { id: string } | { externalId: string } | { username: string } | { email: string };

export interface Page<T> {
  items: T[];
  /** Pass back as `cursor` for the next page; null on the last one. */
  nextCursor: string | null;
}

/** Users read per batch while exporting. */
const EXPORT_BATCH = 200;

const noSuchUser = () => CommonErrors.not_found({ detail: 'No such user' });

/**
 * The management API's use-cases (issue 11): users as a company's backend manages them, and a
 * user's passkeys, sessions and audit trail. Every change commits with its audit row; the actor
 * is whoever `context.actor` names (the API key), the user only the subject.
 */
export function createManagementService(deps: {
  db: Kysely<Database>;
  directory: UserDirectory;
  sessions: SessionsService;
  passkeys: PasskeysService;
  audit: AuditService;
  clock: Clock;
  appendTokens: AppendTokensService;
  /** Whether a user is a staff member: their account is changed only by holders of staff:manage. */
  isStaff(db: Kysely<Database>, userId: string): Promise<boolean>;
  /** 409 last_admin for the only admin's account: disabling or deleting it would leave nobody to run the console. */
  refuseIfLastAdmin(db: Kysely<Database>, userId: string): Promise<void>;
}) {
  const { db, directory, audit } = deps;

  async function existing(userId: string, trx: Kysely<Database> = db): Promise<DirectoryUser> {
    const user = await directory.findById(trx, userId);
    if (!user) throw noSuchUser();
    return user;
  }

  async function revokeAll(trx: Kysely<Database>, userId: string, context: RequestContext, by: string): Promise<number> {
    const ids = await deps.sessions.revokeAll(trx, userId);
    for (const id of ids) await audit.record(trx, context, { type: 'session.revoked', outcome: 'success', subjectUserId: userId, sessionId: id, data: { by } });
    return ids.length;
  }

  return {
    async createUser(input: Parameters<UserDirectory['create']>[1], context: RequestContext): Promise<DirectoryUser> {
      return db.transaction().execute(async (trx) => {
        const user = await directory.create(trx, input);
        await audit.record(trx, context, { type: 'account.created', outcome: 'success', subjectUserId: user.id, data: { via: 'management_api' } });
        return user;
      });
    },

    async findUser(by: UserLookup): Promise<DirectoryUser> {
      const user =
        'id' in by
          ? await directory.findById(db, by.id)
          : 'externalId' in by
            ? await directory.findByExternalId(db, by.externalId)
            : 'username' in by
              ? await directory.findByUsername(db, by.username)
              : await directory.findByEmail(db, by.email);
      if (!user) throw noSuchUser();
      return user;
    },

    async listUsers(input: { cursor?: string; limit: number; query?: string; status?: 'active' | 'disabled' }): Promise<Page<DirectoryUser>> {
      const after = input.cursor === undefined ? undefined : decodeCursor(input.cursor);
      const rows = await directory.page(db, {
        limit: input.limit + 1,
        ...(after ? { after: { createdAt: after.at, id: after.id } } : {}),
        ...(input.query !== undefined ? { query: input.query } : {}),
        ...(input.status ? { status: input.status } : {}),
      });
      const items = rows.slice(0, input.limit);
      const last = items.at(-1);
      return { items, nextCursor: rows.length > input.limit && last ? encodeCursor(last.createdAt, last.id) : null };
    },

    async updateUser(id: string, input: { displayName?: string; email?: string | null; segment?: string | null }, context: RequestContext): Promise<DirectoryUser> {
      return db.transaction().execute(async (trx) => {
        const user = await directory.updateProfile(trx, id, input);
        const fields = Object.keys(input).filter((k) => k === 'displayName' || k === 'email' || k === 'segment');
        await audit.record(trx, context, {
          type: 'account.updated',
          outcome: 'success',
          subjectUserId: id,
          data: { fields, ...(input.segment !== undefined ? { segment: input.segment } : {}) },
        });
        if (input.email !== undefined) {
          await audit.record(trx, context, { type: 'email.changed', outcome: 'success', subjectUserId: id, data: { removed: input.email === null } });
        }
        return user;
      });
    },

    /** Disabled: no sign-in by any method, and every session ends in the same commit (SEC-28). */
    async disableUser(id: string, context: RequestContext): Promise<DirectoryUser> {
      return db.transaction().execute(async (trx) => {
        await deps.refuseIfLastAdmin(trx, id);
        const changed = await directory.setStatus(trx, id, 'disabled');
        const revoked = await revokeAll(trx, id, context, 'account_disabled');
        if (changed) await audit.record(trx, context, { type: 'account.disabled', outcome: 'success', subjectUserId: id, data: { sessionsRevoked: revoked } });
        return existing(id, trx);
      });
    },

    /** Sessions ended by disabling stay ended: the user signs in again. */
    async enableUser(id: string, context: RequestContext): Promise<DirectoryUser> {
      return db.transaction().execute(async (trx) => {
        if (await directory.setStatus(trx, id, 'active')) await audit.record(trx, context, { type: 'account.enabled', outcome: 'success', subjectUserId: id });
        return existing(id, trx);
      });
    },

    /**
     * Erasure: the users row goes, and with it (ON DELETE CASCADE) passkeys, sessions, e-mail
     * codes, recovery codes, password hash and TOTP seed. Audit rows are append-only and keep the
     * user's id: a random UUID that, once the row is gone, links to no name or address.
     */
    async deleteUser(id: string, context: RequestContext): Promise<void> {
      await db.transaction().execute(async (trx) => {
        await deps.refuseIfLastAdmin(trx, id);
        if (!(await directory.delete(trx, id))) throw noSuchUser();
        await audit.record(trx, context, { type: 'account.deleted', outcome: 'success', subjectUserId: id });
      });
    },

    /**
     * Reads are audited too, with the key as actor and without a subject (so a user's own trail
     * stays about them): which operation, and which user when it named one.
     */
    async recordRead(context: RequestContext, read: { operation: string; userId?: string; count?: number; filters?: Record<string, unknown> }): Promise<void> {
      await audit.record(db, context, { type: 'management.read', outcome: 'success', data: read });
    },

    /**
     * Every user with their passkeys as NDJSON lines, read a batch at a time in (created_at, id)
     * order: `{"type":"user",…,"passkeys":[…]}` per user, then `{"type":"end","users":N}`, so a
     * reader can tell a complete export from one cut off by an error mid-stream.
     */
    async *exportUsers(): AsyncGenerator<string> {
      let after: { createdAt: number; id: string } | undefined;
      let count = 0;
      for (;;) {
        const users = await directory.page(db, { limit: EXPORT_BATCH, ...(after ? { after } : {}) });
        if (users.length === 0) break;
        const ids = users.map((u) => u.id);
        const [handles, passkeys] = await Promise.all([directory.userHandles(db, ids), exportPasskeys(db, ids)]);
        for (const u of users) {
          const line = {
            type: 'user',
            id: u.id,
            username: u.username,
            displayName: u.displayName,
            email: u.email,
            externalId: u.externalId,
            status: u.status,
            createdAt: new Date(u.createdAt).toISOString(),
            userHandle: handles.get(u.id) ?? null,
            passkeys: passkeys.get(u.id) ?? [],
          };
          count++;
          yield `${JSON.stringify(line)}\n`;
        }
        const last = users.at(-1);
        if (!last || users.length < EXPORT_BATCH) break;
        after = { createdAt: last.createdAt, id: last.id };
      }
      yield `${JSON.stringify({ type: 'end', users: count })}\n`;
    },

    /** See management.import.ts: all lines checked first, then one commit per line; re-runs change nothing. */
    async importUsers(ndjson: string, context: RequestContext, canManageStaff = false): Promise<ImportReport> {
      const mayChange = async (trx: Kysely<Database>, userId: string) => canManageStaff || !(await deps.isStaff(trx, userId));
      return importUsers({ db, directory, audit, now: deps.clock.now(), mayChange }, ndjson, context);
    },

    /**
     * An append token (issue 11 item 3) for a user by id, or by external id: a user the company's
     * store knows but Latchkey does not yet is created first (username: the one given, else the
     * external id if it is a valid username), in the same commit as the token.
     */
    async issueAppendToken(input: AppendTokenFor, context: RequestContext, canManageStaff = false): Promise<IssuedAppendToken & { user: DirectoryUser; userCreated: boolean }> {
      const attempt = () =>
        db.transaction().execute(async (trx) => {
          let user = 'userId' in input ? await directory.findById(trx, input.userId) : await directory.findByExternalId(trx, input.externalId);
          let userCreated = false;
          if (!user) {
            if ('userId' in input) throw noSuchUser();
            user = await directory.create(trx, { username: input.username ?? input.externalId, displayName: input.displayName, externalId: input.externalId });
            userCreated = true;
            await audit.record(trx, context, { type: 'account.created', outcome: 'success', subjectUserId: user.id, data: { via: 'append_token' } });
          }
          if (user.status !== 'active') throw AppendTokenErrors.user_disabled();
          // A passkey on a staff member's account signs in as staff: only staff:manage may hand one out.
          if (!userCreated && !canManageStaff && (await deps.isStaff(trx, user.id))) throw StaffErrors.staff_target_forbidden();
          return { ...(await deps.appendTokens.issue(trx, user.id, context)), user, userCreated };
        });
      try {
        return await attempt();
      } catch (error) {
        // Two first issuances for one new external id at once: the loser finds the winner's user.
        if (error instanceof AppError && error.code === 'external_id_taken' && 'externalId' in input) return attempt();
        if (error instanceof AppError && error.code === 'username_invalid' && 'externalId' in input && input.username === undefined) {
          throw AccountErrors.username_invalid({ detail: 'The externalId is not a valid username: pass a username for the new user.' });
        }
        throw error;
      }
    },

    async listPasskeys(userId: string) {
      await existing(userId);
      return deps.passkeys.list(userId);
    },

    /** An administrator may remove the last passkey (the user can be sent through recovery or append again). */
    async deletePasskey(userId: string, credentialId: string, context: RequestContext): Promise<void> {
      await existing(userId);
      await deps.passkeys.delete({ userId, id: credentialId, confirmLast: true, context });
    },

    async listSessions(userId: string) {
      await existing(userId);
      return deps.sessions.listForUser(userId);
    },

    async revokeSession(userId: string, sessionId: string, context: RequestContext): Promise<void> {
      await db.transaction().execute(async (trx) => {
        if (!(await deps.sessions.revokeOwn(trx, userId, sessionId))) throw SessionErrors.session_not_found();
        await audit.record(trx, context, { type: 'session.revoked', outcome: 'success', subjectUserId: userId, sessionId, data: { by: 'management_api' } });
      });
    },

    async revokeAllSessions(userId: string, context: RequestContext): Promise<number> {
      await existing(userId);
      return db.transaction().execute((trx) => revokeAll(trx, userId, context, 'management_api'));
    },

    async listAuditEvents(
      userId: string,
      input: { types?: string[]; outcome?: 'success' | 'failure'; from?: number; to?: number; cursor?: string; limit: number },
    ): Promise<Page<AuditRecord>> {
      const before = input.cursor === undefined ? undefined : decodeCursor(input.cursor);
      const rows = await searchAuditEvents(db, {
        subjectUserId: userId,
        limit: input.limit + 1,
        ...(input.types ? { types: input.types } : {}),
        ...(input.outcome ? { outcome: input.outcome } : {}),
        ...(input.from !== undefined ? { from: input.from } : {}),
        ...(input.to !== undefined ? { to: input.to } : {}),
        ...(before ? { before } : {}),
      });
      const items = rows.slice(0, input.limit);
      const last = items.at(-1);
      return { items, nextCursor: rows.length > input.limit && last ? encodeCursor(last.at, last.id) : null };
    },
  };
}

export type ManagementService = ReturnType<typeof createManagementService>;
