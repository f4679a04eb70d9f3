import type { Kysely } from 'kysely';
import type { Database } from '../../db/database.ts';
import type { Dialect } from '../../db/create-db.ts';
import { searchAuditEvents, verifyRecentAuditChain, type AuditFilter, type AuditPublicJwk, type AuditRecord, type Checkpoint } from '../audit/audit.module.ts';
import { decodeCursor, encodeCursor } from '../management/management.module.ts';

export type AuditQuery = Omit<AuditFilter, 'before' | 'after' | 'order' | 'limit'>;

export interface ChainVerdict {
  ok: boolean;
  /** Chain rows verified (up to the first bad one). */
  checkedEvents: number;
  /** 'since_checkpoint': from a signed checkpoint on (bounded); 'whole_chain': from the start (or the retention anchor). */
  scope: 'since_checkpoint' | 'whole_chain';
  fromSeq: number;
  toSeq: number;
  startCheckpoint: Checkpoint | null;
  lastCheckpoint: Checkpoint | null;
  /** Recent events not sealed yet (the sealer runs about every second). */
  pending: number;
  firstBad: { seq: number | null; eventId: string | null; tampering: string; detail: string } | null;
  durationMs: number;
}

export interface AuditSearchService {
  list(query: AuditQuery, page: { cursor?: string; limit: number }): Promise<{ items: AuditRecord[]; nextCursor: string | null }>;
  /** Every matching event, oldest first, a batch at a time (constant memory, any length). */
  stream(query: AuditQuery): AsyncGenerator<AuditRecord>;
  verify(): Promise<ChainVerdict>;
}

/** Events read per query while exporting. */
const EXPORT_BATCH = 500;

/**
 * The auditors' view of the whole log (issue 13): search with filters, a streamed export, and the
 * hash chain's verdict over a bounded window (`minRows` back to a signed checkpoint; the CLI's
 * `audit verify` checks everything).
 */
export function createAuditSearchService(deps: {
  db: Kysely<Database>;
  dialect: Dialect;
  checkpointKey: AuditPublicJwk;
  /** At least this many of the newest chain rows are verified (default 10,000: a checkpoint's worth by default). */
  verifyMinRows?: number;
  now(): number;
}): AuditSearchService {
  const { db } = deps;
  return {
    async list(query, page) {
      const before = page.cursor === undefined ? undefined : decodeCursor(page.cursor);
      const rows = await searchAuditEvents(db, { ...query, limit: page.limit + 1, ...(before ? { before } : {}) });
      const items = rows.slice(0, page.limit);
      const last = items.at(-1);
      return { items, nextCursor: rows.length > page.limit && last ? encodeCursor(last.at, last.id) : null };
    },

    async *stream(query) {
      // Up to now: what is written while the export runs is not part of it.
      const to = Math.min(query.to ?? Number.MAX_SAFE_INTEGER, deps.now() + 1);
      let after: { at: number; id: string } | undefined;
      for (;;) {
        const rows = await searchAuditEvents(db, { ...query, to, order: 'asc', limit: EXPORT_BATCH, ...(after ? { after } : {}) });
        yield* rows;
        const last = rows.at(-1);
        if (!last || rows.length < EXPORT_BATCH) return;
        after = { at: last.at, id: last.id };
      }
    },

    async verify() {
      const started = performance.now();
      const { result, startAt } = await verifyRecentAuditChain(db, deps.dialect, { keys: [deps.checkpointKey], minRows: deps.verifyMinRows ?? 10_000 });
      const fromSeq = (startAt?.seq ?? 0) + 1;
      const base = { scope: startAt ? ('since_checkpoint' as const) : ('whole_chain' as const), startCheckpoint: startAt ?? null, durationMs: Math.round(performance.now() - started) };
      if (result.ok) {
        return { ...base, ok: true, checkedEvents: result.events, fromSeq: result.firstSeq, toSeq: result.lastSeq, lastCheckpoint: result.lastCheckpoint ?? null, pending: result.pending, firstBad: null };
      }
      const toSeq = result.seq ?? fromSeq - 1;
      return {
        ...base,
        ok: false,
        checkedEvents: Math.max(0, toSeq - fromSeq),
        fromSeq,
        toSeq,
        lastCheckpoint: null,
        pending: 0,
        firstBad: { seq: result.seq, eventId: result.eventId, tampering: result.tampering, detail: result.detail },
      };
    },
  };
}

const CSV_COLUMNS = ['id', 'at', 'type', 'outcome', 'actor_kind', 'actor_id', 'subject_user_id', 'credential_id', 'session_id', 'error_code', 'reason', 'request_id', 'ip', 'user_agent', 'os', 'browser', 'device', 'data'] as const;

/**
 * One CSV cell (RFC 4180), safe to open in a spreadsheet: a cell starting with = + - @ (or a tab
 * or carriage return) gets a leading apostrophe so it is never taken as a formula (OWASP CSV
 * injection), then quotes wherever a comma, quote or line break needs them.
 */
export function csvCell(value: string | null): string {
  if (value === null) return '';
  const safe = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

export function csvHeader(): string {
  return `${CSV_COLUMNS.join(',')}\r\n`;
}

export function csvLine(e: AuditRecord): string {
  const values: Record<(typeof CSV_COLUMNS)[number], string | null> = {
    id: e.id,
    at: new Date(e.at).toISOString(),
    type: e.type,
    outcome: e.outcome,
    actor_kind: e.actor.kind,
    actor_id: e.actor.id,
    subject_user_id: e.subjectUserId,
    credential_id: e.credentialId,
    session_id: e.sessionId,
    error_code: e.errorCode,
    reason: e.reason,
    request_id: e.requestId,
    ip: e.ip,
    user_agent: e.userAgent,
    os: e.os,
    browser: e.browser,
    device: e.device,
    data: e.data ? JSON.stringify(e.data) : null,
  };
  return `${CSV_COLUMNS.map((c) => csvCell(values[c])).join(',')}\r\n`;
}

/** One NDJSON line: the event as the search returns it, the time as ISO 8601. */
export function ndjsonLine(e: AuditRecord): string {
  return `${JSON.stringify(auditEventJson(e))}\n`;
}

export function auditEventJson(e: AuditRecord) {
  return { ...e, at: new Date(e.at).toISOString() };
}
