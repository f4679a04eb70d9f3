import { sql, type Kysely } from 'kysely';
import { chunkedInsert } from '../../db/chunked-insert.ts';
import type { Database } from '../../db/database.ts';
import type { Dialect } from '../../db/create-db.ts';
import { GENESIS_HASH } from './audit-chain.encoding.ts';
import type { AuditChainTable, AuditCheckpointsTable, AuditEventsTable } from './audit.tables.ts';

/** A chain row with its event's columns; `event` is null when the event row is gone. */
export interface ChainRowWithEvent {
  row: AuditChainTable;
  event: AuditEventsTable | null;
}

export interface Checkpoint {
  kind: 'periodic' | 'retention';
  seq: number;
  hash: string;
  createdAt: number;
  keyId: string;
  signature: string;
}

/** pg_try_advisory_xact_lock key of the sealer (and of the retention sweep): "LKAUDIT1" in ASCII. */
const SEALER_LOCK_KEY = 0x4c4b_4155_4449_5431n;

const EVENT_COLUMNS = [
  'id', 'created_at', 'type', 'outcome', 'actor_user_id', 'actor_kind', 'actor_id', 'subject_user_id', 'credential_id', 'session_id',
  'error_code', 'reason', 'request_id', 'ip', 'user_agent', 'os', 'browser', 'device', 'data',
] as const;

/**
 * `append` inserts chain rows a power-of-two chunk at a time (512, 256, … 1 rows: at most 10
 * statements for a batch of 1000), each chunk size one SQL text (db/chunked-insert.ts).
 */
const insertChainRows = chunkedInsert<AuditChainTable, never>({
  columns: ['seq', 'event_id', 'prev_hash', 'hash', 'version', 'sealed_at'],
  maxChunk: 512,
  build: (db, rows) => db.insertInto('audit_chain').values(rows),
});

const toCheckpoint = (r: AuditCheckpointsTable): Checkpoint => ({
  kind: r.kind,
  seq: Number(r.seq),
  hash: r.hash,
  createdAt: Number(r.created_at),
  keyId: r.key_id,
  signature: r.signature,
});

/** SQL of the audit chain: only the sealer, the retention sweep and the verifier call it. */
export function createAuditChainRepository(dialect: Dialect) {
  function joined(db: Kysely<Database>) {
    return db
      .selectFrom('audit_chain as c')
      .leftJoin('audit_events as e', 'e.id', 'c.event_id')
      .select(['c.seq', 'c.event_id', 'c.prev_hash', 'c.hash', 'c.version', 'c.sealed_at'])
      .select(EVENT_COLUMNS.map((column) => `e.${column}` as const));
  }
  type JoinedRow = Awaited<ReturnType<ReturnType<typeof joined>['execute']>>[number];
  const split = (r: JoinedRow): ChainRowWithEvent => ({
    row: { seq: Number(r.seq), event_id: r.event_id, prev_hash: r.prev_hash, hash: r.hash, version: Number(r.version), sealed_at: Number(r.sealed_at) },
    // Spelled out (not Object.fromEntries over EVENT_COLUMNS): this runs per row read by the SIEM
    // export and the analytics rollup, and the generic form cost ~3 µs a row.
    event:
      r.id === null
        ? null
        : ({
            id: r.id,
            created_at: Number(r.created_at),
            type: r.type,
            outcome: r.outcome,
            actor_user_id: r.actor_user_id,
            actor_kind: r.actor_kind,
            actor_id: r.actor_id,
            subject_user_id: r.subject_user_id,
            credential_id: r.credential_id,
            session_id: r.session_id,
            error_code: r.error_code,
            reason: r.reason,
            request_id: r.request_id,
            ip: r.ip,
            user_agent: r.user_agent,
            os: r.os,
            browser: r.browser,
            device: r.device,
            data: r.data,
          } as AuditEventsTable),
  });

  async function latestAnchor(db: Kysely<Database>): Promise<Checkpoint | undefined> {
    const row = await db.selectFrom('audit_checkpoints').selectAll().where('kind', '=', 'retention').orderBy('seq', 'desc').limit(1).executeTakeFirst();
    return row && toCheckpoint(row);
  }

  return {
    /**
     * One sealer at a time across every node: a PostgreSQL advisory lock held until the
     * transaction ends (false: another node holds it). SQLite's BEGIN IMMEDIATE already serializes.
     */
    async tryLock(trx: Kysely<Database>): Promise<boolean> {
      if (dialect !== 'postgres') return true;
      const { rows } = await sql<{ ok: boolean }>`SELECT pg_try_advisory_xact_lock(${sql.raw(SEALER_LOCK_KEY.toString())}::bigint) AS ok`.execute(trx);
      return rows[0]?.ok === true;
    },

    /** The same lock, waiting for the holder's transaction (a seal pass: milliseconds) to end. */
    async lock(trx: Kysely<Database>): Promise<void> {
      if (dialect === 'postgres') await sql`SELECT pg_advisory_xact_lock(${sql.raw(SEALER_LOCK_KEY.toString())}::bigint)`.execute(trx);
    },

    /** The last sealed (seq, hash): the chain's top row, else the newest retention anchor, else genesis. */
    async head(trx: Kysely<Database>): Promise<{ seq: number; hash: string }> {
      const top = await trx.selectFrom('audit_chain').select(['seq', 'hash']).orderBy('seq', 'desc').limit(1).executeTakeFirst();
      if (top) return { seq: Number(top.seq), hash: top.hash };
      const anchor = await latestAnchor(trx);
      return anchor ? { seq: anchor.seq, hash: anchor.hash } : { seq: 0, hash: GENESIS_HASH };
    },

    async highWater(trx: Kysely<Database>): Promise<number> {
      const row = await trx.selectFrom('audit_seal_state').select('high_water').where('id', '=', 1).executeTakeFirst();
      return Number(row?.high_water ?? 0);
    },

    async setHighWater(trx: Kysely<Database>, value: number): Promise<void> {
      await trx.updateTable('audit_seal_state').set({ high_water: value }).where('id', '=', 1).where('high_water', '<', value).execute();
    },

    /** Committed events not in the chain, created at or after `since`, in (created_at, id) order. */
    /**
     * SQLite only: the rowid of the newest sealed event, or undefined (an empty chain, or its head's
     * event gone to retention). One writer means rows are inserted, and become visible, in rowid
     * order, and audit rows are never deleted from the top: every event after it is unsealed.
     */
    async lastSealedRowid(trx: Kysely<Database>): Promise<number | undefined> {
      if (dialect !== 'sqlite') return undefined;
      const row = await sql<{ r: number }>`SELECT e.rowid AS r FROM audit_chain c JOIN audit_events e ON e.id = c.event_id ORDER BY c.seq DESC LIMIT 1`.execute(trx);
      const found = row.rows[0]?.r;
      return found === undefined || found === null ? undefined : Number(found);
    },

    /**
     * SQLite only: the events inserted after `rowid`, in insertion order (no re-read of sealed
     * rows) and not sealed yet (after tampering with the chain's tail, some may be), that are not older than `since`: a row slipped in later with an old time stays
     * unsealed, as with the time window, and `audit verify` names it as inserted.
     */
    async insertedAfter(trx: Kysely<Database>, rowid: number, since: number, limit: number): Promise<AuditEventsTable[]> {
      const result = await sql<AuditEventsTable>`SELECT e.* FROM audit_events e LEFT JOIN audit_chain c ON c.event_id = e.id WHERE e.rowid > ${rowid} AND e.created_at >= ${since} AND c.seq IS NULL ORDER BY e.rowid LIMIT ${limit}`.execute(trx);
      const rows = result.rows;
      for (const row of rows) if (typeof row.created_at !== 'number') row.created_at = Number(row.created_at);
      return rows;
    },

    async unsealed(trx: Kysely<Database>, since: number, limit: number): Promise<AuditEventsTable[]> {
      const rows = await trx
        .selectFrom('audit_events as e')
        .leftJoin('audit_chain as c', 'c.event_id', 'e.id')
        .selectAll('e')
        .where('e.created_at', '>=', since)
        .where('c.seq', 'is', null)
        .orderBy('e.created_at')
        .orderBy('e.id')
        .limit(limit)
        .execute();
      // In place: a copy of each row (19 columns, ~1,600 rows a pass at 800 sign-ins/s) cost more than the query's own scan.
      for (const row of rows) if (typeof row.created_at !== 'number') row.created_at = Number(row.created_at);
      return rows;
    },

    /** Appends `rows` in their order. */
    async append(trx: Kysely<Database>, rows: AuditChainTable[]): Promise<void> {
      await insertChainRows(trx, rows);
    },

    async latestCheckpoint(db: Kysely<Database>): Promise<Checkpoint | undefined> {
      const row = await db.selectFrom('audit_checkpoints').selectAll().orderBy('seq', 'desc').orderBy('created_at', 'desc').limit(1).executeTakeFirst();
      return row && toCheckpoint(row);
    },

    latestAnchor,

    async insertCheckpoint(trx: Kysely<Database>, c: Checkpoint): Promise<void> {
      await trx
        .insertInto('audit_checkpoints')
        .values({ kind: c.kind, seq: c.seq, hash: c.hash, created_at: c.createdAt, key_id: c.keyId, signature: c.signature })
        .execute();
    },

    async checkpoints(db: Kysely<Database>): Promise<Checkpoint[]> {
      const rows = await db.selectFrom('audit_checkpoints').selectAll().orderBy('seq').orderBy('created_at').execute();
      return rows.map(toCheckpoint);
    },

    /** Chain rows after `afterSeq` with their events (left join: a missing event is null), in seq order. */
    async chainAfter(db: Kysely<Database>, afterSeq: number, limit: number): Promise<ChainRowWithEvent[]> {
      const rows = await joined(db).where('c.seq', '>', afterSeq).orderBy('c.seq').limit(limit).execute();
      return rows.map(split);
    },

    /**
     * The first and last seq. Two scalar subqueries, not `min(seq), max(seq)` in one select: SQLite
     * answers min() or max() alone from the index but scans the whole index for both together
     * (~1 ms at 14,000 rows, growing with the chain), and this runs on every webhook fan-out pass.
     */
    async bounds(db: Kysely<Database>): Promise<{ min: number; max: number } | undefined> {
      const row = await db
        .selectNoFrom([sql<number | null>`(SELECT min(seq) FROM audit_chain)`.as('min'), sql<number | null>`(SELECT max(seq) FROM audit_chain)`.as('max')])
        .executeTakeFirst();
      return row && row.min !== null ? { min: Number(row.min), max: Number(row.max) } : undefined;
    },

    /** The oldest event not in the chain created before `before`, and how many newer ones wait to be sealed. */
    async unsealedSummary(db: Kysely<Database>, before: number): Promise<{ oldestHidden: AuditEventsTable | undefined; pending: number }> {
      const base = () => db.selectFrom('audit_events as e').leftJoin('audit_chain as c', 'c.event_id', 'e.id').where('c.seq', 'is', null);
      const hidden = await base().selectAll('e').where('e.created_at', '<', before).orderBy('e.created_at').orderBy('e.id').limit(1).executeTakeFirst();
      const pending = await base().select(sql<number>`count(*)`.as('n')).where('e.created_at', '>=', before).executeTakeFirstOrThrow();
      return { oldestHidden: hidden && { ...hidden, created_at: Number(hidden.created_at) }, pending: Number(pending.n) };
    },

    /** Retention: lets the append-only trigger allow deleting events created before `cutoff` (never moves back). */
    async allowDeletesBefore(trx: Kysely<Database>, cutoff: number): Promise<void> {
      await trx
        .updateTable('audit_retention')
        .set({ purge_before: sql<number>`CASE WHEN purge_before < ${cutoff} THEN ${cutoff} ELSE purge_before END` })
        .where('id', '=', 1)
        .execute();
    },

    /**
     * Retention: deletes up to `limit` of the oldest chain rows at or below the anchor `uptoSeq`,
     * with their events (the triggers allow both). Returns how many chain rows went.
     */
    async deleteChunkUpTo(trx: Kysely<Database>, uptoSeq: number, limit: number): Promise<number> {
      const rows = await trx.selectFrom('audit_chain').select(['seq', 'event_id']).where('seq', '<=', uptoSeq).orderBy('seq').limit(limit).execute();
      const last = rows.at(-1);
      if (!last) return 0;
      await trx.deleteFrom('audit_events').where('id', 'in', rows.map((r) => r.event_id)).execute();
      await trx.deleteFrom('audit_chain').where('seq', '<=', Number(last.seq)).execute();
      return rows.length;
    },
  };
}

export type AuditChainRepository = ReturnType<typeof createAuditChainRepository>;
