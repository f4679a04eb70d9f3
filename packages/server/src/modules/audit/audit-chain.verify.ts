import type { Kysely } from 'kysely';
import type { Database } from '../../db/database.ts';
import type { Dialect } from '../../db/create-db.ts';
import { GENESIS_HASH, chainHash } from './audit-chain.encoding.ts';
import { checkpointMessage, verifyCheckpointSignature, type AuditPublicJwk } from './audit-chain.keys.ts';
import { createAuditChainRepository, type Checkpoint } from './audit-chain.repository.ts';
import { SEAL_LOOKBACK_MS } from './audit-chain.service.ts';

export type Tampering = 'edited' | 'deleted' | 'reordered' | 'inserted' | 'truncated';

export type VerifyResult =
  | {
      ok: true;
      /** Chain rows checked. */
      events: number;
      /** First and last seq checked (first - 1 is the retention anchor, or 0). */
      firstSeq: number;
      lastSeq: number;
      lastCheckpoint: Checkpoint | undefined;
      /** Events committed recently and not sealed yet (within the sealer's look-back). */
      pending: number;
    }
  | { ok: false; seq: number | null; eventId: string | null; tampering: Tampering; detail: string };

export interface VerifyOptions {
  /** Keys checkpoints may be signed with (by `kid`). */
  keys: readonly AuditPublicJwk[];
  /** Chain rows read per query. */
  chunk?: number;
  /** Called after each chunk. */
  onProgress?: (done: number, total: number) => void;
  /**
   * Verify only the rows after this checkpoint (its signature checked like every other), taking
   * its hash as the chain's state there: bounded work for a quick verdict. Rows at or below it
   * are not re-hashed (the CLI's full verify does that).
   */
  startAt?: Checkpoint;
}

/**
 * A bounded verify (the console's verdict): from the newest signed checkpoint at least
 * `minRows` rows below the chain's top, else from the start of the chain (a short chain, or one
 * without checkpoints yet). Returns the result and the checkpoint it started from.
 */
export async function verifyRecentAuditChain(
  db: Kysely<Database>,
  dialect: Dialect,
  options: Omit<VerifyOptions, 'startAt'> & { minRows: number },
): Promise<{ result: VerifyResult; startAt: Checkpoint | undefined }> {
  const repository = createAuditChainRepository(dialect);
  const top = (await repository.bounds(db))?.max ?? 0;
  const checkpoints = await repository.checkpoints(db);
  const anchorSeq = checkpoints.filter((c) => c.kind === 'retention').at(-1)?.seq ?? 0;
  const startAt = checkpoints
    .filter((c) => c.seq > anchorSeq && c.seq <= top - options.minRows)
    .reduce<Checkpoint | undefined>((a, c) => (!a || c.seq > a.seq ? c : a), undefined);
  return { result: await verifyAuditChain(db, dialect, { ...options, ...(startAt ? { startAt } : {}) }), startAt };
}

/**
 * Recomputes the whole chain in seq order, a chunk at a time (any length, constant memory), and
 * stops at the first bad row. Per row: the seq follows the previous one (else `deleted`), its
 * event exists (else `deleted`), its `prev_hash` is the previous row's hash ("link") and its hash
 * is SHA-256(prev_hash || event) ("content"):
 *   link ok, content bad  → this event was `edited` (or the row points at another event);
 *   link bad, content ok  → the previous row was `edited` and its hash rewritten to match;
 *   both bad              → a row was `inserted` before this one (its prev_hash is the hash two
 *                           rows back), else rows were `reordered`.
 * Every signed checkpoint must verify, the chain must pass through each one's hash, and reach the
 * newest (else `truncated`); an event older than the sealer's look-back left unsealed was `inserted`.
 */
export async function verifyAuditChain(db: Kysely<Database>, dialect: Dialect, options: VerifyOptions): Promise<VerifyResult> {
  const repository = createAuditChainRepository(dialect);
  const chunk = options.chunk ?? 5000;
  const keys = new Map(options.keys.map((k) => [k.kid, k]));
  const bad = (seq: number | null, eventId: string | null, tampering: Tampering, detail: string): VerifyResult => ({ ok: false, seq, eventId, tampering, detail });

  const checkpoints = await repository.checkpoints(db);
  for (const c of checkpoints) {
    const key = keys.get(c.keyId);
    if (!key || !verifyCheckpointSignature(key, checkpointMessage(c), c.signature)) {
      return bad(c.seq, null, 'edited', `the ${c.kind} checkpoint at seq ${c.seq} (${new Date(c.createdAt).toISOString()}) has no valid signature${key ? '' : ` (unknown key ${c.keyId})`}`);
    }
  }
  const bySeq = new Map<number, Checkpoint[]>();
  for (const c of checkpoints) bySeq.set(c.seq, [...(bySeq.get(c.seq) ?? []), c]);
  const anchor = checkpoints.filter((c) => c.kind === 'retention').at(-1);
  const latest = checkpoints.reduce<Checkpoint | undefined>((a, c) => (!a || c.seq > a.seq ? c : a), undefined);

  const bounds = await repository.bounds(db);
  const from = options.startAt && options.startAt.seq > (anchor?.seq ?? 0) ? options.startAt : anchor;
  const anchorSeq = from?.seq ?? 0;
  // The chain starts right after the newest retention anchor (or at 1). Rows at or below the
  // anchor are covered by its signature and wait for the next sweep to delete them.
  const start = anchorSeq + 1;
  const prevHash0 = from?.hash ?? GENESIS_HASH;
  const firstAfter = (await repository.chainAfter(db, anchorSeq, 1))[0]?.row.seq;
  if (firstAfter !== undefined && firstAfter > start) {
    return bad(start, null, 'deleted', `chain rows seq ${start}..${firstAfter - 1} are missing (the chain must go on right after ${from ? `the ${from.kind} checkpoint at seq ${anchorSeq}` : 'genesis'})`);
  }
  const total = bounds ? Math.max(0, bounds.max - start + 1) : 0;

  let expected = start;
  let prevHash = prevHash0;
  let prevPrevHash: string | undefined;
  let prevEventId: string | null = null;
  let newestCreatedAt = Number.NEGATIVE_INFINITY;
  let lastMatched = from;
  for (;;) {
    const rows = await repository.chainAfter(db, expected - 1, chunk);
    for (const { row, event } of rows) {
      if (row.seq !== expected) return bad(expected, null, 'deleted', `chain row seq ${expected} is missing (the next is seq ${row.seq})`);
      if (!event) return bad(row.seq, row.event_id, 'deleted', 'the sealed event is gone from audit_events');
      const link = row.prev_hash === prevHash;
      const content = chainHash(row.prev_hash, row.seq, event, row.version) === row.hash;
      if (!content && link) return bad(row.seq, row.event_id, 'edited', 'the event differs from what was sealed');
      if (content && !link) {
        return row.seq > start
          ? bad(row.seq - 1, prevEventId, 'edited', `its chain row was rewritten to match (seq ${row.seq} chains from another hash)`)
          : bad(row.seq, row.event_id, 'edited', `the first row does not chain from ${from ? `the ${from.kind} checkpoint at seq ${anchorSeq}` : 'genesis'}`);
      }
      if (!content && !link) {
        return row.prev_hash === prevPrevHash
          ? bad(row.seq - 1, prevEventId, 'inserted', `seq ${row.seq} chains from seq ${row.seq - 2}: the row at seq ${row.seq - 1} was put in between`)
          : bad(row.seq, row.event_id, 'reordered', 'the row was sealed at another position');
      }
      for (const c of bySeq.get(row.seq) ?? []) {
        if (c.hash !== row.hash) {
          return bad(row.seq, row.event_id, 'edited', `the chain differs from the signed ${c.kind} checkpoint at seq ${c.seq} of ${new Date(c.createdAt).toISOString()}: rows after seq ${lastMatched?.seq ?? 0} were rewritten`);
        }
        lastMatched = c;
      }
      prevPrevHash = prevHash;
      prevHash = row.hash;
      prevEventId = row.event_id;
      newestCreatedAt = Math.max(newestCreatedAt, event.created_at);
      expected += 1;
    }
    options.onProgress?.(expected - start, total);
    if (rows.length < chunk) break;
  }
  const lastSeq = expected - 1;
  if (latest && latest.seq > lastSeq) {
    return bad(lastSeq + 1, null, 'truncated', `the chain ends at seq ${lastSeq} but a checkpoint signed ${new Date(latest.createdAt).toISOString()} covers up to seq ${latest.seq}`);
  }
  const { oldestHidden, pending } = await repository.unsealedSummary(db, Number.isFinite(newestCreatedAt) ? newestCreatedAt - SEAL_LOOKBACK_MS : Number.MIN_SAFE_INTEGER);
  if (oldestHidden) {
    return bad(null, oldestHidden.id, 'inserted', `the event of ${new Date(oldestHidden.created_at).toISOString()} is older than sealed events by more than the sealer's ${SEAL_LOOKBACK_MS / 1000}-second look-back and is not in the chain`);
  }
  return { ok: true, events: lastSeq - start + 1, firstSeq: start, lastSeq, lastCheckpoint: latest, pending };
}
