import type { Kysely } from 'kysely';
import type { Database } from '../../db/database.ts';
import type { Dialect } from '../../db/create-db.ts';
import type { Clock } from '../../platform/clock.ts';
import { serialPasses } from '../../platform/passes.ts';
import { CANONICAL_VERSION, GENESIS_HASH, chainHash } from './audit-chain.encoding.ts';
import { checkpointMessage, type AuditPublicJwk, type CheckpointSigner } from './audit-chain.keys.ts';
import { createRecentSealed } from './audit-chain.recent.ts';
import { createAuditChainRepository, type Checkpoint } from './audit-chain.repository.ts';
import type { AuditRecord } from './audit.query.ts';
import { toAuditRecord } from './audit.query.ts';
import type { AuditChainTable, AuditEventsTable } from './audit.tables.ts';

/** Events sealed per transaction; a pass repeats until a batch comes back short. */
const SEAL_BATCH = 1000;
/**
 * How far before the newest sealed `created_at` the sealer still looks for unsealed events (in
 * PostgreSQL a commit with an earlier time can become visible after a later one). Every pass looks
 * back `FRESH_LOOKBACK_MS`; every `LATE_SCAN_EVERY_MS` a pass looks back the whole
 * `SEAL_LOOKBACK_MS` (PostgreSQL only). So a commit visible up to ~50 s after its timestamp is still sealed; one
 * later than that (or a row inserted afterwards with an old time) never is, and
 * `latchkey audit verify` reports it as inserted. The windows bound what a pass scans (the rows of
 * the last few seconds, of the last minute now and then), whatever the size of the log.
 */
export const SEAL_LOOKBACK_MS = 60_000;
const FRESH_LOOKBACK_MS = 5_000;
const LATE_SCAN_EVERY_MS = 10_000;
/** Chain rows the retention sweep checks and deletes per transaction. */
const RETENTION_CHUNK = 1000;
const ANCHOR_EVERY_MS = 3_600_000;
/** Sealed events kept in memory for the readers (a few passes' worth at a high sign-in rate). */
const RECENT_SEALED_EVENTS = 4096;
const DAY_MS = 86_400_000;
/** Chain rows read at a time while passing over rows whose events are gone (readSealedAfter). */
const SKIP_CHUNK = 1000;

export interface SealedEvent {
  seq: number;
  hash: string;
  /** The previous chain row's hash (a consumer that keeps the last hash can check the link). */
  prevHash: string;
  sealedAt: number;
  event: AuditRecord;
  /** Why it failed, in words for operators (sanitized; never sent to clients, fine for a SIEM). */
  reason: string | null;
}

export interface AuditChainService {
  /** The key checkpoints are signed with (GET /.well-known/latchkey-audit-key). */
  readonly publicJwk: AuditPublicJwk;
  /** Seals every committed event not yet sealed; 0 when another node holds the sealer lock. */
  seal(): Promise<number>;
  /** Retention: deletes sealed events older than the retention age, with the chain rows below a signed anchor. */
  sweep(): Promise<number>;
  /**
   * Sealed events after `seq`, in chain order (at most `limit`): the ordered stream webhooks, the
   * SIEM export and the analytics consume. Keep the last `seq` you handled and pass it next time.
   * What this node sealed lately comes from memory (possibly fewer than are sealed by then: the
   * next call reads on from the database); the events are shared, read-only. Chain rows whose
   * events were deleted by hand are passed over: their seqs are missing from the answer.
   */
  readSealedAfter(seq: number, limit: number): Promise<SealedEvent[]>;
  /** The last seq sealed (0 when the chain is empty): how far a consumer has to go. */
  newestSeq(): Promise<number>;
  /** Seals every `intervalMs` until `close`. */
  start(onError: (error: unknown) => void): void;
  /** Stops the loop and seals what is left (best effort). */
  close(): Promise<void>;
}

export interface AuditChainDeps {
  db: Kysely<Database>;
  dialect: Dialect;
  clock: Clock;
  signer: CheckpointSigner;
  /** Sealer period. */
  sealIntervalMs: number;
  /** A periodic checkpoint once this long since the last one (0: after every pass that sealed something). */
  checkpointIntervalSeconds: number;
  /** …or once this many events were sealed since the last one. */
  checkpointEveryEvents: number;
  /** Sealed events older than this many days are deleted by `sweep`; 0 keeps them forever. */
  retentionDays: number;
  /** Sealed events kept in memory for the readers (default 4096; 0: every read goes to the database). */
  recentSealed?: number;
}

export function createAuditChainService(deps: AuditChainDeps): AuditChainService {
  const { db, clock, signer } = deps;
  const repository = createAuditChainRepository(deps.dialect);
  let timer: NodeJS.Timeout | undefined;
  let lastLateScan = Number.NEGATIVE_INFINITY;

  function signed(kind: Checkpoint['kind'], seq: number, hash: string, createdAt: number): Checkpoint {
    return { kind, seq, hash, createdAt, keyId: signer.jwk.kid, signature: signer.sign(checkpointMessage({ kind, seq, hash, createdAt })) };
  }

  // The batches this node sealed lately: readSealedAfter serves a reader that keeps up from here.
  const recent = createRecentSealed(deps.recentSealed ?? RECENT_SEALED_EVENTS);

  /** One transaction: null when another node seals, else how many events it sealed. */
  async function sealBatch(lookbackMs: number): Promise<number | null> {
    const result = await sealBatchTransaction(lookbackMs);
    if (result === null) return null;
    // After the commit: only what is in the chain for good.
    recent.add(result.sealed);
    return result.count;
  }

  async function sealBatchTransaction(lookbackMs: number): Promise<{ count: number; sealed: SealedEvent[] } | null> {
    return db.transaction().execute(async (trx) => {
      if (!(await repository.tryLock(trx))) return null;
      const head = await repository.head(trx);
      const latest = await repository.latestCheckpoint(trx);
      // Appending after a truncated tail would fork the chain under the signed checkpoint.
      if (latest && latest.seq > head.seq) throw new Error(`audit chain: its last row is seq ${head.seq} but a signed checkpoint names seq ${latest.seq}; run \`latchkey audit verify\``);
      const now = clock.now();
      const highWater = await repository.highWater(trx);
      // SQLite: the rows after the newest sealed one, by rowid (a pass reads only new rows; the
      // window still applies, so a back-dated row is never sealed).
      // PostgreSQL (and an empty chain): unsealed rows of the look-back window, by time.
      const after = await repository.lastSealedRowid(trx);
      const events = after === undefined ? await repository.unsealed(trx, highWater - lookbackMs, SEAL_BATCH) : await repository.insertedAfter(trx, after, highWater - lookbackMs, SEAL_BATCH);
      const rows: AuditChainTable[] = [];
      let { seq, hash } = head;
      let newest = highWater;
      for (const event of events) {
        seq += 1;
        const next = chainHash(hash, seq, event);
        rows.push({ seq, event_id: event.id, prev_hash: hash, hash: next, version: CANONICAL_VERSION, sealed_at: now });
        hash = next;
        newest = Math.max(newest, event.created_at);
      }
      await repository.append(trx, rows);
      // A node whose clock runs ahead cannot push the window past the sealer's present.
      if (rows.length > 0) await repository.setHighWater(trx, Math.min(newest, now));
      const since = latest ?? { seq: 0, createdAt: -Infinity };
      const due = now - since.createdAt >= deps.checkpointIntervalSeconds * 1000 || seq - since.seq >= deps.checkpointEveryEvents;
      if (seq > since.seq && due) await repository.insertCheckpoint(trx, signed('periodic', seq, hash, now));
      // As readSealedAfter makes them from the database, from the same rows.
      const sealed = rows.map((row, i) => {
        const event = events[i] as AuditEventsTable;
        return { seq: row.seq, hash: row.hash, prevHash: row.prev_hash, sealedAt: row.sealed_at, event: toAuditRecord(event), reason: event.reason };
      });
      return { count: rows.length, sealed };
    });
  }

  async function sealAll(): Promise<number> {
    const startedAt = clock.now();
    // SQLite has one writer: rows become visible in commit order, moments after they are stamped.
    const late = deps.dialect === 'postgres' && startedAt - lastLateScan >= LATE_SCAN_EVERY_MS;
    let total = 0;
    for (;;) {
      const sealed = await sealBatch(late ? SEAL_LOOKBACK_MS : FRESH_LOOKBACK_MS);
      if (sealed === null) return total;
      total += sealed;
      if (sealed < SEAL_BATCH) {
        if (late) lastLateScan = startedAt;
        return total;
      }
      await new Promise((resolve) => setImmediate(resolve));
    }
  }

  /**
   * Passes never overlap within a node; a call during a pass gets the next one (the timer's pass
   * may have read its rows before the caller's events committed).
   */
  const seal = serialPasses(sealAll).run;

  /**
   * The retention cut: the last seq of the longest verified chain prefix after the anchor whose
   * events are all older than `cutoff` (read-only, a chunk at a time). Stops before a row that does
   * not verify: an anchor is never signed over evidence of tampering.
   */
  async function findCut(anchor: Checkpoint | undefined, cutoff: number): Promise<{ seq: number; hash: string } | undefined> {
    let cut: { seq: number; hash: string } | undefined;
    let seq = anchor?.seq ?? 0;
    let prev = anchor?.hash ?? GENESIS_HASH;
    for (;;) {
      const rows = await repository.chainAfter(db, seq, RETENTION_CHUNK);
      for (const { row, event } of rows) {
        if (!event || event.created_at >= cutoff || row.seq !== seq + 1) return cut;
        if (row.prev_hash !== prev || chainHash(row.prev_hash, row.seq, event, row.version) !== row.hash) return cut;
        seq = row.seq;
        prev = row.hash;
        cut = { seq, hash: prev };
      }
      if (rows.length < RETENTION_CHUNK) return cut;
      await new Promise((resolve) => setImmediate(resolve));
    }
  }

  /** Deletes the events and chain rows at or below the newest anchor, a chunk per transaction. */
  async function deleteBelowAnchor(): Promise<number> {
    let deleted = 0;
    for (;;) {
      const chunk = await db.transaction().execute(async (trx) => {
        const anchor = await repository.latestAnchor(trx);
        return anchor ? repository.deleteChunkUpTo(trx, anchor.seq, RETENTION_CHUNK) : 0;
      });
      deleted += chunk;
      if (chunk < RETENTION_CHUNK) return deleted;
      await new Promise((resolve) => setImmediate(resolve));
    }
  }

  return {
    publicJwk: signer.jwk,
    seal,
    async sweep() {
      if (!deps.retentionDays) return 0;
      const cutoff = clock.now() - deps.retentionDays * DAY_MS;
      // Old events are deleted only once sealed, so seal first.
      await seal();
      const anchor = await repository.latestAnchor(db);
      // At most one anchor an hour (rows go up to an hour after they pass the age), so checkpoints stay few.
      const cut = !anchor || clock.now() - anchor.createdAt >= ANCHOR_EVERY_MS ? await findCut(anchor, cutoff) : undefined;
      if (cut) {
        // One signed anchor per sweep, at the cut; then the rows below it go, a chunk at a time
        // (a sweep cut short leaves rows below the anchor, which the next one deletes first).
        await db.transaction().execute(async (trx) => {
          await repository.lock(trx);
          if ((await repository.latestAnchor(trx))?.seq !== anchor?.seq) return;
          await repository.allowDeletesBefore(trx, cutoff);
          await repository.insertCheckpoint(trx, signed('retention', cut.seq, cut.hash, clock.now()));
        });
      }
      return deleteBelowAnchor();
    },
    async readSealedAfter(seq, limit) {
      const kept = recent.after(seq, limit);
      if (kept) return kept;
      // Chain rows whose events were deleted by hand (`latchkey audit verify` names them) are
      // passed over: a run of `limit` of them must not read as "nothing new", or every consumer
      // would stop there for good. Past the first chunk, in chunks of at least SKIP_CHUNK (the
      // backlog gauges ask for one event).
      let after = seq;
      let chunk = limit;
      for (;;) {
        const rows = await repository.chainAfter(db, after, chunk);
        const sealed = rows.flatMap(({ row, event }) =>
          event ? [{ seq: row.seq, hash: row.hash, prevHash: row.prev_hash, sealedAt: row.sealed_at, event: toAuditRecord(event), reason: event.reason }] : [],
        );
        const last = rows.at(-1);
        if (sealed.length > 0 || rows.length < chunk || !last) return sealed.slice(0, limit);
        after = last.row.seq;
        chunk = Math.max(limit, SKIP_CHUNK);
      }
    },
    async newestSeq() {
      return (await repository.bounds(db))?.max ?? 0;
    },
    start(onError) {
      if (timer) return;
      timer = setInterval(() => {
        seal().catch(onError);
      }, deps.sealIntervalMs);
      timer.unref();
    },
    async close() {
      if (timer) clearInterval(timer);
      timer = undefined;
      await seal().catch(() => 0);
    },
  };
}
