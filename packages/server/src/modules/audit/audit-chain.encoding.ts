import { createHash } from 'node:crypto';
import type { AuditEventsTable } from './audit.tables.ts';

/**
 * Canonical encoding of a sealed audit event, version 1 (the `version` of its `audit_chain` row).
 *
 * A JSON object, UTF-8, no whitespace, keys in exactly this order, every column present (null as
 * `null`): `v` (the number 1), `seq` and `created_at` as decimal strings (they are 64-bit
 * integers), then every text column of `audit_events` as a JSON string or `null`, escaped as
 * ECMAScript's JSON.stringify does (`"`, `\` and U+0000..U+001F escaped, lone surrogates as
 * `\udxxx`, everything else literal). `data` is the stored JSON text, as a string, never re-parsed.
 *
 *   hash(seq) = SHA-256( prev_hash(seq) || canonical_v1(seq, event) )   (raw 32-byte prev hash)
 *   prev_hash(1) = GENESIS_HASH; prev_hash(n) = hash(n - 1), or a retention anchor's hash
 *
 * A column added to `audit_events` later is a version 2 with its own key list; rows sealed under
 * version 1 keep verifying under version 1.
 */
export const CANONICAL_VERSION = 1;

/** The columns of version 1, in their order (after `v` and `seq`). */
export const CANONICAL_V1_COLUMNS = [
  'id',
  'created_at',
  'type',
  'outcome',
  'actor_user_id',
  'actor_kind',
  'actor_id',
  'subject_user_id',
  'credential_id',
  'session_id',
  'error_code',
  'reason',
  'request_id',
  'ip',
  'user_agent',
  'os',
  'browser',
  'device',
  'data',
] as const satisfies readonly (keyof AuditEventsTable)[];

/** The hash before the first row: 32 zero bytes. */
export const GENESIS_HASH = '0'.repeat(64);

function integerString(value: unknown): string {
  if (typeof value === 'number' && Number.isSafeInteger(value)) return String(value);
  const n = typeof value === 'bigint' ? value : BigInt(Math.trunc(Number(value)));
  return n.toString(10);
}

/** `,"<column>":` for each column, in order: made once (the sealer encodes every event). */
const V1_KEY_PREFIXES = CANONICAL_V1_COLUMNS.map((column) => `,${JSON.stringify(column)}:`);

/** The version-1 bytes of `event` sealed at `seq`. */
export function canonicalEventV1(seq: number, event: AuditEventsTable): string {
  // Decimal strings need no JSON escaping: `"${digits}"` is what JSON.stringify would write.
  let out = `{"v":1,"seq":"${integerString(seq)}"`;
  for (let i = 0; i < CANONICAL_V1_COLUMNS.length; i++) {
    const column = CANONICAL_V1_COLUMNS[i] as (typeof CANONICAL_V1_COLUMNS)[number];
    const value = event[column];
    out += V1_KEY_PREFIXES[i];
    out += column === 'created_at' ? `"${integerString(value)}"` : value === null || value === undefined ? 'null' : JSON.stringify(String(value));
  }
  return `${out}}`;
}

/** hash(seq) as lowercase hex, from the previous row's hex hash and the event. */
export function chainHash(prevHashHex: string, seq: number, event: AuditEventsTable, version = CANONICAL_VERSION): string {
  if (version !== 1) throw new Error(`audit chain: unknown canonical encoding version ${version}`);
  return createHash('sha256').update(Buffer.from(prevHashHex, 'hex')).update(canonicalEventV1(seq, event), 'utf8').digest('hex');
}
