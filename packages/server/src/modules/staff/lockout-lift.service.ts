import type { Kysely } from 'kysely';
import type { Database } from '../../db/database.ts';
import { CommonErrors } from '../../errors/common.errors.ts';
import type { RequestContext } from '../../platform/request-context.ts';
import type { AuditService } from '../audit/audit.module.ts';
import type { LiftedLock, Lockout } from '../fallback/fallback.module.ts';

/**
 * Support lifts a user's lockout (issue 13): every failure counter of the account goes in one
 * commit with its `lockout.lifted` audit row (what was lifted, the reason on the row).
 */
export function createLockoutLifter(deps: { db: Kysely<Database>; audit: AuditService; lockout: Pick<Lockout, 'liftUser'>; userExists(db: Kysely<Database>, userId: string): Promise<boolean> }) {
  return {
    async lift(userId: string, context: RequestContext): Promise<LiftedLock[]> {
      return deps.db.transaction().execute(async (trx) => {
        if (!(await deps.userExists(trx, userId))) throw CommonErrors.not_found({ detail: 'No such user' });
        const lifted = await deps.lockout.liftUser(trx, userId);
        await deps.audit.record(trx, context, { type: 'lockout.lifted', outcome: 'success', subjectUserId: userId, data: { lifted } });
        return lifted;
      });
    },
  };
}

export type LockoutLifter = ReturnType<typeof createLockoutLifter>;
