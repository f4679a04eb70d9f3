import type { Kysely } from 'kysely';
import type { Database } from '../../db/database.ts';
import { CommonErrors } from '../../errors/common.errors.ts';
import type { Clock } from '../../platform/clock.ts';
import type { RequestContext } from '../../platform/request-context.ts';
import type { DirectoryUser, UserDirectory } from '../accounts/accounts.module.ts';
import type { AppendTokensService } from '../append-tokens/append-tokens.module.ts';
import type { AuditService } from '../audit/audit.module.ts';
import { StaffErrors } from './staff.errors.ts';
import { createStaffRepository, type StaffMember } from './staff.repository.ts';
import { ROLE_RANK, type StaffRole } from './staff.roles.ts';

export type StaffTarget = { userId: string } | { username: string };

export interface AddedStaffMember {
  member: StaffMember;
  userCreated: boolean;
  /** When the user has no passkey yet: an append token to enrol one (shown once). */
  enrollment?: { token: string; expiresAt: number };
}

export interface StaffService {
  /** The role of a user, read from the database on every call (a change counts on the next request). */
  roleOf(userId: string, db?: Kysely<Database>): Promise<StaffRole | undefined>;
  list(): Promise<StaffMember[]>;
  get(userId: string): Promise<StaffMember | undefined>;
  /** Makes a user (created when `username` names nobody yet) a staff member. 409 already_staff. */
  add(input: { target: StaffTarget; role: StaffRole; context: RequestContext }): Promise<AddedStaffMember>;
  /** 409 last_admin for the last admin's demotion; 403 own_role_raise for oneself. */
  changeRole(input: { userId: string; role: StaffRole; context: RequestContext }): Promise<StaffMember>;
  /** 409 last_admin when the user is the only admin (their account must not be disabled or deleted), in the caller's transaction. */
  refuseIfLastAdmin(db: Kysely<Database>, userId: string): Promise<void>;
  /** The user stays a user; only the role goes. 409 last_admin for the last admin. */
  remove(input: { userId: string; context: RequestContext }): Promise<StaffMember>;
}

/**
 * Staff members (issue 13): ordinary users with a role. Every change commits with its audit row
 * (actor: whoever `context.actor` names, the staff member the subject).
 */
export function createStaffService(deps: {
  db: Kysely<Database>;
  clock: Clock;
  audit: AuditService;
  directory: UserDirectory;
  appendTokens: AppendTokensService;
  countPasskeys(db: Kysely<Database>, userId: string): Promise<number>;
}): StaffService {
  const { db, audit } = deps;
  const repository = createStaffRepository();

  async function memberOf(trx: Kysely<Database>, userId: string): Promise<StaffMember> {
    const [member] = await repository.list(trx, userId);
    if (!member) throw StaffErrors.staff_not_found();
    return member;
  }

  async function findOrCreate(trx: Kysely<Database>, target: StaffTarget, context: RequestContext): Promise<{ user: DirectoryUser; created: boolean }> {
    if ('userId' in target) {
      const user = await deps.directory.findById(trx, target.userId);
      if (!user) throw CommonErrors.not_found({ detail: 'No such user' });
      return { user, created: false };
    }
    const existing = await deps.directory.findByUsername(trx, target.username);
    if (existing) return { user: existing, created: false };
    const user = await deps.directory.create(trx, { username: target.username });
    await audit.record(trx, context, { type: 'account.created', outcome: 'success', subjectUserId: user.id, data: { via: 'staff' } });
    return { user, created: true };
  }

  return {
    roleOf: (userId, trx = db) => repository.roleOf(trx, userId),
    list: () => repository.list(db),
    async get(userId) {
      return (await repository.list(db, userId))[0];
    },

    async refuseIfLastAdmin(trx, userId) {
      if ((await repository.roleOf(trx, userId)) === 'admin' && (await repository.countAdminsLocked(trx)) <= 1) throw StaffErrors.last_admin();
    },

    async add({ target, role, context }) {
      return db.transaction().execute(async (trx) => {
        const { user, created } = await findOrCreate(trx, target, context);
        if (user.status !== 'active') throw CommonErrors.invalid_request({ detail: 'This user is disabled: enable the account first' });
        const by = { kind: context.actor?.kind ?? 'cli', id: context.actor?.id ?? null };
        if (!(await repository.insert(trx, { userId: user.id, role, now: deps.clock.now(), by }))) throw StaffErrors.already_staff();
        await audit.record(trx, context, { type: 'staff.added', outcome: 'success', subjectUserId: user.id, data: { role } });
        const member = await memberOf(trx, user.id);
        if ((await deps.countPasskeys(trx, user.id)) > 0) return { member, userCreated: created };
        const issued = await deps.appendTokens.issue(trx, user.id, context);
        return { member, userCreated: created, enrollment: { token: issued.token, expiresAt: issued.expiresAt } };
      });
    },

    async changeRole({ userId, role, context }) {
      return db.transaction().execute(async (trx) => {
        const admins = await repository.countAdminsLocked(trx);
        const before = await memberOf(trx, userId);
        if (before.role === role) return before;
        if (context.actor?.id === userId && ROLE_RANK[role] > ROLE_RANK[before.role]) throw StaffErrors.own_role_raise();
        if (before.role === 'admin' && admins <= 1) throw StaffErrors.last_admin();
        await repository.setRole(trx, userId, role);
        await audit.record(trx, context, { type: 'staff.role_changed', outcome: 'success', subjectUserId: userId, data: { from: before.role, to: role } });
        return { ...before, role };
      });
    },

    async remove({ userId, context }) {
      return db.transaction().execute(async (trx) => {
        const admins = await repository.countAdminsLocked(trx);
        const before = await memberOf(trx, userId);
        if (before.role === 'admin' && admins <= 1) throw StaffErrors.last_admin();
        await repository.delete(trx, userId);
        await audit.record(trx, context, { type: 'staff.removed', outcome: 'success', subjectUserId: userId, data: { role: before.role } });
        return before;
      });
    },
  };
}
