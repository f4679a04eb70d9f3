import type { Kysely } from 'kysely';
import type { Database } from '../../db/database.ts';
import type { AuditEventsTable } from './audit.tables.ts';

/** An audit event as the management API returns it (no user agent string; the parsed parts). */
export interface AuditRecord {
  id: string;
  at: number;
  type: string;
  outcome: 'success' | 'failure';
  actor: { kind: string | null; id: string | null };
  subjectUserId: string | null;
  credentialId: string | null;
  sessionId: string | null;
  errorCode: string | null;
  requestId: string | null;
  ip: string | null;
  os: string | null;
  browser: string | null;
  /** desktop, mobile, tablet, … (ua-parser-js device type). */
  device: string | null;
  data: Record<string, unknown> | null;
}

export interface AuditFilter {
  subjectUserId: string;
  types?: readonly string[];
  outcome?: 'success' | 'failure';
  /** Epoch ms, inclusive. */
  from?: number;
  /** Epoch ms, exclusive. */
  to?: number;
  /** Newest first: continue with events older than this (created_at, id). */
  before?: { at: number; id: string };
  limit: number;
}

/** One page of a user's audit events, newest first (audit_events_subject index). */
export async function searchAuditEvents(db: Kysely<Database>, filter: AuditFilter): Promise<AuditRecord[]> {
  let query = db.selectFrom('audit_events').selectAll().where('subject_user_id', '=', filter.subjectUserId);
  if (filter.types && filter.types.length > 0) query = query.where('type', 'in', [...filter.types]);
  if (filter.outcome) query = query.where('outcome', '=', filter.outcome);
  if (filter.from !== undefined) query = query.where('created_at', '>=', filter.from);
  if (filter.to !== undefined) query = query.where('created_at', '<', filter.to);
  const before = filter.before;
  if (before) {
    query = query.where((eb) => eb.or([eb('created_at', '<', before.at), eb.and([eb('created_at', '=', before.at), eb('id', '<', before.id)])]));
  }
  const rows = await query.orderBy('created_at', 'desc').orderBy('id', 'desc').limit(filter.limit).execute();
  return rows.map(toAuditRecord);
}

/** The management API's view of a stored row (no user agent string; the parsed parts). */
export function toAuditRecord(r: AuditEventsTable): AuditRecord {
  return {
    id: r.id,
    at: Number(r.created_at),
    type: r.type,
    outcome: r.outcome,
    actor: { kind: r.actor_kind ?? (r.actor_user_id ? 'user' : null), id: r.actor_id ?? r.actor_user_id },
    subjectUserId: r.subject_user_id,
    credentialId: r.credential_id,
    sessionId: r.session_id,
    errorCode: r.error_code,
    requestId: r.request_id,
    ip: r.ip,
    os: r.os,
    browser: r.browser,
    device: r.device,
    data: r.data ? (JSON.parse(r.data) as Record<string, unknown>) : null,
  };
}

/**
 * Every event created in [from, to) in (created_at, id) order, a page at a time after `after`
 * (audit_events_created_at index): the analytics' BI export of the event stream.
 */
export async function listAuditEventsBetween(
  db: Kysely<Database>,
  range: { from: number; to: number; after?: { at: number; id: string }; limit: number },
): Promise<AuditRecord[]> {
  let query = db.selectFrom('audit_events').selectAll().where('created_at', '>=', range.from).where('created_at', '<', range.to);
  const after = range.after;
  if (after) query = query.where((eb) => eb.or([eb('created_at', '>', after.at), eb.and([eb('created_at', '=', after.at), eb('id', '>', after.id)])]));
  const rows = await query.orderBy('created_at').orderBy('id').limit(range.limit).execute();
  return rows.map(toAuditRecord);
}
