import type { Kysely } from 'kysely';
import type { CeremonyReport } from '../../contract/schemas.ts';
import type { Database } from '../../db/database.ts';
import type { RequestContext } from '../../platform/request-context.ts';
import type { AuditService } from '../audit/audit.module.ts';

const FAILED = new Set<CeremonyReport['outcome']>(['cancelled', 'timed_out', 'error']);

/** What passkey intelligence keeps of a report that names its device (modules/intelligence), in the report's commit. */
export type DeviceReportHook = (
  trx: Kysely<Database>,
  input: { deviceId: string; ceremony: CeremonyReport['ceremony']; outcome: CeremonyReport['outcome']; credentialId?: string | undefined; userId: string | null; userAgent: string | null },
) => Promise<void>;

/**
 * Client-side outcomes of WebAuthn ceremonies (what the server never sees: offers, cancels,
 * timeouts, browser errors), kept as audit events so the funnel and the server-side outcomes
 * live in one place. The user agent is parsed by the audit module; the only identity kept is
 * the user id of the session, if any. A report with a device id also feeds that device's
 * history (passkey intelligence), in the same commit; the device id itself is not in the audit row.
 */
export function createTelemetryService(deps: { db: Kysely<Database>; audit: AuditService; onDeviceReport?: DeviceReportHook }) {
  return {
    async recordCeremony(context: RequestContext, report: CeremonyReport, userId: string | null): Promise<void> {
      const { deviceId, credentialId, ...data } = report;
      const event = {
        type: 'ceremony.reported' as const,
        outcome: FAILED.has(report.outcome) ? ('failure' as const) : ('success' as const),
        actorUserId: userId,
        subjectUserId: userId,
        data: { ...data },
      };
      const hook = deps.onDeviceReport;
      if (!deviceId || !hook) {
        await deps.audit.record(deps.db, context, event);
        return;
      }
      await deps.db.transaction().execute(async (trx) => {
        await deps.audit.record(trx, context, event);
        await hook(trx, { deviceId, ceremony: report.ceremony, outcome: report.outcome, credentialId, userId, userAgent: context.userAgent });
      });
    },
  };
}

export type TelemetryService = ReturnType<typeof createTelemetryService>;
