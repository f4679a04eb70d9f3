import type { Kysely } from 'kysely';
import type { CeremonyReport } from '../../contract/schemas.ts';
import type { Database } from '../../db/database.ts';
import type { RequestContext } from '../../platform/request-context.ts';
import type { AuditService } from '../audit/audit.module.ts';

const FAILED = new Set<CeremonyReport['outcome']>(['cancelled', 'timed_out', 'error']);

/**
 * Client-side outcomes of WebAuthn ceremonies (what the server never sees: offers, cancels,
 * timeouts, browser errors), kept as audit events so the funnel and the server-side outcomes
 * live in one place. The user agent is parsed by the audit module; the only identity kept is
 * the user id of the session, if any.
 */
export function createTelemetryService(deps: { db: Kysely<Database>; audit: AuditService }) {
  return {
    async recordCeremony(context: RequestContext, report: CeremonyReport, userId: string | null): Promise<void> {
      await deps.audit.record(deps.db, context, {
        type: 'ceremony.reported',
        outcome: FAILED.has(report.outcome) ? 'failure' : 'success',
        actorUserId: userId,
        subjectUserId: userId,
        data: { ...report },
      });
    },
  };
}

export type TelemetryService = ReturnType<typeof createTelemetryService>;
