import { sql, type Kysely } from 'kysely';
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
  /** Why: a staff member's written reason for the action, or why it failed (for operators and staff, never sent to the user). */
  reason: string | null;
  requestId: string | null;
  ip: string | null;
  /** The user agent as sent (sanitised, at most 512 characters): auditors' exports only. */
  userAgent: string | null;
  os: string | null;
  browser: string | null;
  /** 'desktop', 'mobile', 'tablet', … as parsed from the user agent. */
  device: string | null;
  data: Record<string, unknown> | null;
}

export interface AuditFilter {
  /** Events about this user (index audit_events_subject). */
  subjectUserId?: string;
  /** Events by this kind of actor ('user', 'api_key', 'cli', 'staff', …), and this actor id (index audit_events_actor). */
  actorKind?: string;
  actorId?: string;
  types?: readonly string[];
  outcome?: 'success' | 'failure';
  /** Epoch ms, inclusive. */
  from?: number;
  /** Epoch ms, exclusive. */
  to?: number;
  /** Newest first (default): continue with events older than this (created_at, id). */
  before?: { at: number; id: string };
  /** Oldest first: continue with events newer than this (created_at, id). */
  after?: { at: number; id: string };
  order?: 'desc' | 'asc';
  limit: number;
}

/**
 * One page of audit events, newest first (or oldest first with `order: 'asc'`), by any
 * combination of filters; each filter has an index that leads with it and continues with
 * created_at (subject, actor, type), or the created_at index serves.
 */
export async function searchAuditEvents(db: Kysely<Database>, filter: AuditFilter): Promise<AuditRecord[]> {
  let query = db.selectFrom('audit_events').selectAll();
  if (filter.subjectUserId !== undefined) query = query.where('subject_user_id', '=', filter.subjectUserId);
  if (filter.actorKind !== undefined) query = query.where('actor_kind', '=', filter.actorKind);
  if (filter.actorId !== undefined) query = query.where('actor_id', '=', filter.actorId);
  if (filter.types && filter.types.length > 0) query = query.where('type', 'in', [...filter.types]);
  if (filter.outcome) query = query.where('outcome', '=', filter.outcome);
  if (filter.from !== undefined) query = query.where('created_at', '>=', filter.from);
  if (filter.to !== undefined) query = query.where('created_at', '<', filter.to);
  const { before, after } = filter;
  if (before) {
    query = query.where((eb) => eb.or([eb('created_at', '<', before.at), eb.and([eb('created_at', '=', before.at), eb('id', '<', before.id)])]));
  }
  if (after) {
    query = query.where((eb) => eb.or([eb('created_at', '>', after.at), eb.and([eb('created_at', '=', after.at), eb('id', '>', after.id)])]));
  }
  const direction = filter.order === 'asc' ? 'asc' : 'desc';
  const rows = await query.orderBy('created_at', direction).orderBy('id', direction).limit(filter.limit).execute();
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
    reason: r.reason,
    requestId: r.request_id,
    ip: r.ip,
    userAgent: r.user_agent,
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

/** How many events of one type and error code were created in one minute (`minute`: its start, epoch ms). */
export interface AuditMinuteCount {
  minute: number;
  type: string;
  errorCode: string | null;
  count: number;
}

/**
 * Events of `types` created in [from, to), counted per minute of `created_at`, type and error
 * code: a range scan of the audit_events_type_created_at index per type, no row leaves the
 * database. The webhooks' `signin.failed.summary` reads its counts here.
 */
export async function countAuditEventsByMinute(db: Kysely<Database>, range: { types: readonly string[]; from: number; to: number }): Promise<AuditMinuteCount[]> {
  if (range.types.length === 0 || range.to <= range.from) return [];
  // Integer division on both dialects: created_at is an integer (SQLite) or a bigint (PostgreSQL).
  const minute = sql<number | string>`(created_at / 60000)`;
  const rows = await db
    .selectFrom('audit_events')
    .select(['type', 'error_code', minute.as('minute'), (eb) => eb.fn.countAll<number | string>().as('n')])
    .where('type', 'in', [...range.types])
    .where('created_at', '>=', range.from)
    .where('created_at', '<', range.to)
    .groupBy(['type', 'error_code', minute])
    .execute();
  return rows.map((r) => ({ minute: Number(r.minute) * 60_000, type: r.type, errorCode: r.error_code, count: Number(r.n) }));
}

/** How many events of one type with the same `data` (and a credential named or not) were created in one minute. */
export interface AuditMinuteShapeCount {
  minute: number;
  type: string;
  /** The rows' `data`, parsed (null when absent or not JSON). */
  data: Record<string, unknown> | null;
  hasCredential: boolean;
  count: number;
}

/**
 * As `countAuditEventsByMinute`, grouped by the rows' `data` and whether they name a credential
 * instead of the error code: for events whose detail is in `data` (a sign-in's method). Meant for
 * types whose `data` takes a handful of shapes (`session.created`: `{"method":"passkey",
 * "userVerified":true}` and a few more), so the groups stay few; no JSON function of either
 * dialect is needed, and a row whose `data` is not JSON counts as null rather than failing the query.
 * The webhooks' `signin.succeeded.summary` reads its counts here.
 */
export async function countAuditEventsByMinuteAndData(db: Kysely<Database>, range: { types: readonly string[]; from: number; to: number }): Promise<AuditMinuteShapeCount[]> {
  if (range.types.length === 0 || range.to <= range.from) return [];
  const minute = sql<number | string>`(created_at / 60000)`;
  const hasCredential = sql<number | boolean>`(credential_id is not null)`;
  const rows = await db
    .selectFrom('audit_events')
    .select(['type', 'data', minute.as('minute'), hasCredential.as('has_credential'), (eb) => eb.fn.countAll<number | string>().as('n')])
    .where('type', 'in', [...range.types])
    .where('created_at', '>=', range.from)
    .where('created_at', '<', range.to)
    .groupBy(['type', 'data', minute, hasCredential])
    .execute();
  return rows.map((r) => ({ minute: Number(r.minute) * 60_000, type: r.type, data: parseData(r.data), hasCredential: r.has_credential === true || Number(r.has_credential) === 1, count: Number(r.n) }));
}

function parseData(json: string | null): Record<string, unknown> | null {
  if (!json) return null;
  try {
    const value: unknown = JSON.parse(json);
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}
