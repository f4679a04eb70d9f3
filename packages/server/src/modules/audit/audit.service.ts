import type { Kysely } from 'kysely';
import type { Database } from '../../db/database.ts';
import type { Clock } from '../../platform/clock.ts';
import type { Random } from '../../platform/random.ts';
import type { RequestContext } from '../../platform/request-context.ts';
import type { ParsedUserAgent } from '../../platform/user-agent.ts';
import type { AuditEventType } from './audit.events.ts';
import { createAuditRepository } from './audit.repository.ts';
import type { BoundStatement } from '../../db/prepared-query.ts';
import type { AuditEventsTable } from './audit.tables.ts';

export interface AuditEvent {
  type: AuditEventType;
  outcome: 'success' | 'failure';
  actorUserId?: string | null;
  subjectUserId?: string | null;
  credentialId?: string | null;
  sessionId?: string | null;
  errorCode?: string | null;
  /** Operator-facing reason; control characters are escaped before storage (SEC-51). */
  reason?: string | null;
  data?: Record<string, unknown>;
}

export interface AuditEntry {
  id: string;
  at: string;
  type: string;
  outcome: 'success' | 'failure';
  credentialId: string | null;
  errorCode: string | null;
  ip: string | null;
  os: string | null;
  browser: string | null;
}

/** Replaces CR, LF and other control characters so a reason cannot forge log lines (SEC-51). */
export function sanitizeForLog(text: string, max = 500): string {
  return text.slice(0, max).replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** Addresses a tally remembers between two flushes (the busiest are named in the summary row). */
const TALLY_MAX_IPS = 1000;

interface Tally {
  since: number;
  count: number;
  byErrorCode: Map<string, number>;
  byIp: Map<string, number>;
}

export function createAuditService(deps: {
  clock: Clock;
  random: Random;
  parseUserAgent: (ua: string | null) => ParsedUserAgent;
  /** Told of each request `tally` counts instead of writing (metrics). */
  onTally?: (summaryType: AuditEventType, errorCode: string) => void;
}) {
  const repository = createAuditRepository();
  /** Per summary type: requests counted instead of written, since the last flush. */
  const tallies = new Map<AuditEventType, Tally>();
  /** The insert `record` makes, for the caller's `writeBatch`. */
  /** `requestId` null: a row the server writes on its own (a tally's summary), not for one request. */
  function statement(context: Omit<RequestContext, 'requestId'> & { requestId: string | null }, event: AuditEvent): BoundStatement {
    const ua = deps.parseUserAgent(context.userAgent);
    // An API key or the CLI acting on a user is the actor, the user only the subject.
    const actorUserId = context.actor
      ? (event.actorUserId ?? (context.actor.kind === 'user' || context.actor.kind === 'staff' ? context.actor.id : null))
      : (event.actorUserId ?? event.subjectUserId ?? null);
    const row: AuditEventsTable = {
      id: deps.random.timeOrderedUuid(),
      created_at: deps.clock.now(),
      type: event.type,
      outcome: event.outcome,
      actor_user_id: actorUserId,
      actor_kind: context.actor?.kind ?? (actorUserId ? 'user' : null),
      actor_id: context.actor ? context.actor.id : actorUserId,
      subject_user_id: event.subjectUserId ?? null,
      credential_id: event.credentialId ?? null,
      session_id: event.sessionId ?? null,
      error_code: event.errorCode ?? null,
      reason: event.reason ? sanitizeForLog(event.reason) : context.reason ? sanitizeForLog(context.reason) : null,
      request_id: context.requestId,
      ip: context.ip,
      user_agent: context.userAgent ? sanitizeForLog(context.userAgent, 512) : null,
      os: ua.os,
      browser: ua.browser,
      device: ua.device,
      data: event.data ? JSON.stringify(event.data) : null,
    };
    return repository.insert(row);
  }

  return {
    /** Writes one event with `db` — pass the transaction of the change being recorded. */
    async record(db: Kysely<Database>, context: RequestContext, event: AuditEvent): Promise<void> {
      await statement(context, event).execute(db);
    },

    statement,

    /**
     * Counts a refused request instead of writing a row for it: for junk that names no ceremony
     * of ours (an unparseable clientDataJSON, an unknown challenge), which anyone can send by the
     * thousand and which would otherwise fill the log one row each. `flushTallies` writes one
     * `summaryType` row with the counts.
     */
    tally(context: RequestContext, summaryType: AuditEventType, errorCode: string): void {
      deps.onTally?.(summaryType, errorCode);
      let tally = tallies.get(summaryType);
      if (!tally) {
        tally = { since: deps.clock.now(), count: 0, byErrorCode: new Map(), byIp: new Map() };
        tallies.set(summaryType, tally);
      }
      tally.count += 1;
      tally.byErrorCode.set(errorCode, (tally.byErrorCode.get(errorCode) ?? 0) + 1);
      const ip = context.ip ?? 'unknown';
      if (tally.byIp.has(ip) || tally.byIp.size < TALLY_MAX_IPS) tally.byIp.set(ip, (tally.byIp.get(ip) ?? 0) + 1);
    },

    /** Writes one row per summary type that counted anything since the last flush (the sweeper calls it once a minute). */
    async flushTallies(db: Kysely<Database>): Promise<number> {
      let written = 0;
      for (const [type, tally] of [...tallies]) {
        tallies.delete(type);
        const busiest = [...tally.byIp].sort((a, b) => b[1] - a[1]).slice(0, 5);
        await statement(
          { requestId: null, ip: busiest.length === 1 ? (busiest[0]?.[0] ?? null) : null, userAgent: null },
          {
            type,
            outcome: 'failure',
            reason: `${tally.count} request(s) refused before any ceremony was found`,
            data: {
              count: tally.count,
              since: new Date(tally.since).toISOString(),
              byErrorCode: Object.fromEntries(tally.byErrorCode),
              busiestIps: busiest.map(([ip, count]) => ({ ip, count })),
              distinctIps: tally.byIp.size,
            },
          },
        ).execute(db);
        written += 1;
      }
      return written;
    },

    async listForUser(db: Kysely<Database>, userId: string, limit = 50): Promise<AuditEntry[]> {
      const rows = await repository.listForUser(db, userId, limit);
      return rows.map((r) => ({
        id: r.id,
        at: new Date(r.created_at).toISOString(),
        type: r.type,
        outcome: r.outcome,
        credentialId: r.credential_id,
        errorCode: r.error_code,
        ip: r.ip,
        os: r.os,
        browser: r.browser,
      }));
    },
  };
}

export type AuditService = ReturnType<typeof createAuditService>;
