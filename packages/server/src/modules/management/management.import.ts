import type { Kysely } from 'kysely';
import type { Database } from '../../db/database.ts';
import type { RequestContext } from '../../platform/request-context.ts';
import type { ImportableUser, UserDirectory } from '../accounts/accounts.module.ts';
import type { AuditService } from '../audit/audit.module.ts';
import { insertImportedPasskey, parseImportedPasskey, type ImportedPasskey } from '../webauthn/webauthn.module.ts';
import { ManagementErrors } from './management.errors.ts';

export const IMPORT_MAX_LINES = 10_000;
const MAX_PASSKEYS = 100;
const LINE_FIELDS = new Set(['type', 'id', 'username', 'displayName', 'email', 'externalId', 'status', 'createdAt', 'userHandle', 'passkeys']);

export interface ImportReport {
  created: number;
  /** Existing users (same id, username and user handle) that got passkeys they did not have. */
  updated: number;
  /** Lines already imported before: nothing to do. */
  unchanged: number;
  /** Lines that clash with what the database holds (another user has the username, a passkey…). */
  failed: { line: number; message: string }[];
}

interface Entry {
  line: number;
  user: ImportableUser;
  passkeys: ImportedPasskey[];
}

type Problem = { line: number; message: string };

/** Phase 1: every line checked and cross-checked against the others; nothing touches the database. */
function parseLines(ndjson: string, directory: UserDirectory, now: number): { entries: Entry[]; problems: Problem[] } {
  const entries: Entry[] = [];
  const problems: Problem[] = [];
  const seen = new Map<string, number>();
  const claim = (line: number, kind: string, value: string | null | undefined): string | undefined => {
    if (!value) return undefined;
    const earlier = seen.get(`${kind}\u0000${value}`);
    if (earlier !== undefined) return `${kind} is the same as on line ${earlier}`;
    seen.set(`${kind}\u0000${value}`, line);
    return undefined;
  };
  const lines = ndjson.split('\n');
  let endLine: { line: number; users: unknown } | undefined;
  let records = 0;
  for (const [index, raw] of lines.entries()) {
    const line = index + 1;
    const text = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (text.trim() === '') continue;
    if (!/^\s*\{\s*"type"\s*:\s*"end"/.test(text)) records++;
    if (line > IMPORT_MAX_LINES) {
      problems.push({ line, message: `at most ${IMPORT_MAX_LINES} lines per import` });
      break;
    }
    if (endLine) {
      problems.push({ line, message: 'nothing may follow the "end" line' });
      continue;
    }
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      problems.push({ line, message: 'not JSON' });
      continue;
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      problems.push({ line, message: 'must be a JSON object' });
      continue;
    }
    const record = value as Record<string, unknown>;
    if (record.type === 'end') {
      endLine = { line, users: record.users };
      continue;
    }
    if (record.type !== 'user') {
      problems.push({ line, message: '/type: must be "user" (or "end")' });
      continue;
    }
    const unknown = Object.keys(record).find((k) => !LINE_FIELDS.has(k));
    if (unknown) {
      problems.push({ line, message: `/${unknown.slice(0, 40)}: unknown field` });
      continue;
    }
    const prepared = directory.prepareImport(record);
    if (!prepared.ok) {
      problems.push({ line, message: prepared.problem });
      continue;
    }
    const rawPasskeys = record.passkeys ?? [];
    if (!Array.isArray(rawPasskeys) || rawPasskeys.length > MAX_PASSKEYS) {
      problems.push({ line, message: `/passkeys: must be a list of at most ${MAX_PASSKEYS}` });
      continue;
    }
    if (rawPasskeys.length > 0 && record.userHandle === undefined) {
      // A passkey is bound to the user handle it was made for; a new one would break discoverable sign-in.
      problems.push({ line, message: '/userHandle: required with passkeys' });
      continue;
    }
    const passkeys: ImportedPasskey[] = [];
    let bad: string | undefined;
    for (const [j, p] of rawPasskeys.entries()) {
      const parsed = parseImportedPasskey(p, now);
      if (!parsed.ok) {
        bad = `/passkeys/${j}${parsed.problem.startsWith('/') ? parsed.problem : `: ${parsed.problem}`}`;
        break;
      }
      passkeys.push(parsed.passkey);
    }
    const { user } = prepared;
    bad ??=
      claim(line, 'id', user.id) ??
      claim(line, 'username', user.usernameKey) ??
      claim(line, 'externalId', user.externalId) ??
      claim(line, 'email', user.email?.key) ??
      claim(line, 'userHandle', user.userHandle) ??
      passkeys.map((p) => claim(line, 'passkey id', p.id)).find(Boolean);
    if (bad) {
      problems.push({ line, message: bad });
      continue;
    }
    entries.push({ line, user, passkeys });
  }
  if (endLine && endLine.users !== records) {
    problems.push({ line: endLine.line, message: `the "end" line says ${String(endLine.users).slice(0, 20)} users, the file has ${records}: it was cut or changed` });
  }
  return { entries, problems };
}

const CLASH: Record<string, string> = {
  id: 'another user has this id (with another username or user handle)',
  username: '/username: another user has it',
  external_id: '/externalId: another user has it',
  email: '/email: another user has it',
  user_handle: '/userHandle: another user has it',
};

/**
 * Imports users with their passkeys from NDJSON in the export's format (issue 11). Every line is
 * checked first; if any is bad, nothing is imported and 400 import_invalid lists them by number.
 * Then each line commits on its own with its audit rows: running the same file again changes
 * nothing (same id, username and user handle = the same user; a passkey it has is skipped), and a
 * line that clashes with the database is reported and skipped. A passkey ID already held by
 * another user is never moved (SEC-12).
 */
export async function importUsers(
  deps: {
    db: Kysely<Database>;
    directory: UserDirectory;
    audit: AuditService;
    now: number;
    /** Whether this caller may add passkeys to this existing user (a staff member's account needs staff:manage). */
    mayChange?: (trx: Kysely<Database>, userId: string) => Promise<boolean>;
  },
  ndjson: string,
  context: RequestContext,
): Promise<ImportReport> {
  const { entries, problems } = parseLines(ndjson, deps.directory, deps.now);
  if (problems.length > 0) {
    throw ManagementErrors.import_invalid({ detail: `${problems.length} line(s) are not valid; nothing was imported`, extensions: { lines: problems.slice(0, 100) } });
  }
  const report: ImportReport = { created: 0, updated: 0, unchanged: 0, failed: [] };
  for (const entry of entries) {
    const outcome = await deps.db
      .transaction()
      .execute(async (trx) => {
        const stored = await deps.directory.importUser(trx, entry.user);
        if (stored !== 'created' && stored !== 'same') return { failed: CLASH[stored] ?? String(stored) };
        if (stored === 'same' && entry.passkeys.length > 0 && deps.mayChange && !(await deps.mayChange(trx, entry.user.id))) {
          throw new LineFailure("/id: a staff member's account: adding passkeys to it needs the scope staff:manage");
        }
        if (stored === 'created') {
          await deps.audit.record(trx, context, { type: 'account.imported', outcome: 'success', subjectUserId: entry.user.id, data: { status: entry.user.status } });
        }
        let added = 0;
        for (const [j, passkey] of entry.passkeys.entries()) {
          const result = await insertImportedPasskey(trx, entry.user.id, passkey);
          if (result === 'taken') throw new LineFailure(`/passkeys/${j}/id: another user has this passkey`);
          if (result === 'inserted') {
            added++;
            await deps.audit.record(trx, context, { type: 'passkey.imported', outcome: 'success', subjectUserId: entry.user.id, credentialId: passkey.id });
          }
        }
        return { stored, added };
      })
      .catch((error: unknown) => {
        if (error instanceof LineFailure) return { failed: error.message };
        throw error;
      });
    if ('failed' in outcome) report.failed.push({ line: entry.line, message: outcome.failed ?? 'failed' });
    else if (outcome.stored === 'created') report.created++;
    else if (outcome.added > 0) report.updated++;
    else report.unchanged++;
  }
  return report;
}

/** Rolls one line's transaction back and reports it. */
class LineFailure extends Error {}
