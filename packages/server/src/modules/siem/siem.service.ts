import type { AuditChainService, SealedEvent } from '../audit/audit.module.ts';
import type { Clock } from '../../platform/clock.ts';
import type { Random } from '../../platform/random.ts';
import { toOcsfForJson, type OcsfContext } from './siem.ocsf.ts';
import type { SiemRepository } from './siem.repository.ts';
import type { SiemLine, SiemSink } from './siem.sink.ts';

/** A lease outlives a stalled node by this much; renewed on every pass (about once a second). */
const LEASE_MS = 30_000;
const BACKOFF_FIRST_MS = 500;
const BACKOFF_MAX_MS = 30_000;
/**
 * An event whose OCSF JSON is larger than this goes without its `unmapped.latchkey.data` (rsyslog's
 * default maxMessageSize is 8 KiB, the frame's header included).
 */
export const MAX_EVENT_BYTES = 7680;

/** Why an event did not reach a sink whole (latchkey_siem_events_dropped_total). */
export type DropReason = 'expired' | 'data_truncated';

/** What the exporter reports (the metrics module counts it). */
export interface SiemObserver {
  exported(sink: string, count: number): void;
  sendError(sink: string): void;
  dropped(sink: string, reason: DropReason, count: number): void;
}

export interface SiemLag {
  sink: string;
  /** Sealed events not delivered yet: the newest seq minus the sink's cursor. */
  events: number;
  /** Age of the oldest event not delivered yet (0 when none). */
  seconds: number;
}

export interface SiemService {
  /** Starts one export loop per sink, off the request path. */
  start(): void;
  /** Stops the loops, closes the sinks (a graceful close counts what was written as delivered) and gives the leases up. */
  close(): Promise<void>;
  lag(): Promise<SiemLag[]>;
}

export interface SiemDeps {
  chain: Pick<AuditChainService, 'readSealedAfter' | 'newestSeq'>;
  repository: SiemRepository;
  clock: Clock;
  random: Pick<Random, 'uuid'>;
  sinks: readonly SiemSink[];
  ocsf: Omit<OcsfContext, 'userName'>;
  /** Usernames by user id, when they are exported (`LATCHKEY_SIEM_INCLUDE_USERNAME`). */
  userNames?: ((userIds: readonly string[]) => Promise<Map<string, string>>) | undefined;
  batchSize: number;
  pollIntervalMs: number;
  /** Where a sink without a cursor starts: the first sealed event, or the newest (history is not sent). */
  startFrom: 'beginning' | 'now';
  observer?: SiemObserver | undefined;
  log: { warn(object: object, message: string): void; info(object: object, message: string): void };
}

class SendError extends Error {}

interface Written {
  seq: number;
  count: number;
  at: number;
}

/**
 * The SIEM export: reads the sealed audit chain in order after each sink's persisted cursor, maps
 * every event to OCSF and sends it; the cursor moves only once a batch is delivered. The database
 * is the buffer: a slow or dead receiver makes the cursor wait (nothing is dropped, sign-ins never
 * wait for it), and at most one batch per sink is in memory (besides the last events this
 * node sealed, which a sink that keeps up takes instead of reading them back). With several nodes,
 * the node holding a sink's lease row exports it. Delivery is at least once: after a lost connection or a lost lease
 * the last unconfirmed batches are sent again, with the same `metadata.uid` and chain `seq`.
 */
export function createSiemService(deps: SiemDeps): SiemService {
  const { clock, repository, chain } = deps;
  const owner = deps.random.uuid();
  let closing = false;
  const wakers = new Set<() => void>();
  const loops: Promise<void>[] = [];

  function sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        wakers.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      wakers.add(wake);
    });
  }

  async function linesOf(sink: SiemSink, events: SealedEvent[]): Promise<SiemLine[]> {
    const names = deps.userNames ? await deps.userNames([...new Set(events.flatMap((e) => (e.event.subjectUserId ? [e.event.subjectUserId] : [])))]) : undefined;
    let truncated = 0;
    const lines = events.map((sealed) => {
      const ocsf = toOcsfForJson(sealed, { ...deps.ocsf, userName: sealed.event.subjectUserId ? names?.get(sealed.event.subjectUserId) : undefined });
      let json = JSON.stringify(ocsf);
      if (Buffer.byteLength(json) > MAX_EVENT_BYTES) {
        const unmapped = ocsf.unmapped as { latchkey: Record<string, unknown> };
        unmapped.latchkey = { ...unmapped.latchkey, data: undefined };
        ocsf.metadata = { ...ocsf.metadata, is_truncated: true };
        json = JSON.stringify(ocsf);
        truncated += 1;
      }
      return { seq: sealed.seq, json, severityId: ocsf.severity_id, time: ocsf.time, msgId: String(ocsf.type_uid) };
    });
    if (truncated > 0) deps.observer?.dropped(sink.name, 'data_truncated', truncated);
    return lines;
  }

  async function exportLoop(sink: SiemSink): Promise<void> {
    let holding = false;
    let committed = 0;
    let readPos = 0;
    let written: Written[] = [];
    let failures = 0;

    const rewind = () => {
      readPos = committed;
      written = [];
    };

    /** Moves the cursor past every batch delivered long enough ago (all of them when `all`). */
    async function commit(all = false): Promise<void> {
      const ripe = all ? written.length : written.findLastIndex((w) => performance.now() - w.at >= sink.confirmAfterMs) + 1;
      if (ripe === 0) return;
      const done = written.slice(0, ripe);
      const last = done.at(-1) as Written;
      if (await repository.advance(sink.name, owner, last.seq, clock.now())) {
        committed = last.seq;
        written = written.slice(ripe);
        deps.observer?.exported(sink.name, done.reduce((n, w) => n + w.count, 0));
      } else {
        // Another node took the lease over (this one stalled past it): it resends from the cursor.
        holding = false;
        written = [];
      }
    }

    /** One pass: true when a full batch went out (more may be waiting). */
    let ensured = false;
    async function pass(): Promise<boolean> {
      if (!ensured) {
        // A sink without a cursor starts at the beginning of the chain, or at its end.
        await repository.ensure(sink.name, deps.startFrom === 'now' ? await chain.newestSeq() : 0, clock.now());
        ensured = true;
      }
      const now = clock.now();
      const leased = await repository.lease(sink.name, owner, now, now + LEASE_MS);
      if (leased === undefined) {
        holding = false;
        written = [];
        return false;
      }
      if (!holding) {
        holding = true;
        committed = leased;
        readPos = leased;
        written = [];
      }
      if (sink.takeBroken() && written.length > 0) {
        // The connection dropped before what was written on it was confirmed: a failed send (a
        // refused client certificate shows up this way too), sent again after the backoff.
        throw new SendError('the connection closed before the receiver could have taken the last batch');
      }
      await commit();
      if (!holding) return false;
      const events = await chain.readSealedAfter(readPos, deps.batchSize);
      if (events.length === 0) return false;
      // Seqs have no gaps: a jump means events deleted before they were exported, by retention
      // (the reader was behind by more than the retention age) or by hand (the verifier names those).
      let expected = readPos + 1;
      let expired = 0;
      for (const e of events) {
        expired += e.seq - expected;
        expected = e.seq + 1;
      }
      if (expired > 0) {
        deps.observer?.dropped(sink.name, 'expired', expired);
        deps.log.warn({ sink: sink.name, after: readPos, count: expired }, 'SIEM export: audit events deleted before they were exported (by retention, or by hand: run `latchkey audit verify`)');
      }
      const lines = await linesOf(sink, events);
      try {
        await sink.send(lines);
      } catch (error) {
        throw new SendError(error instanceof Error ? error.message : String(error), { cause: error });
      }
      const last = events.at(-1) as SealedEvent;
      written.push({ seq: last.seq, count: events.length, at: performance.now() });
      readPos = last.seq;
      if (sink.confirmAfterMs === 0) await commit();
      return events.length === deps.batchSize;
    }

    while (!closing) {
      let more = false;
      try {
        more = await pass();
        if (failures > 0) deps.log.info({ sink: sink.name, failures }, 'SIEM export: sending again');
        failures = 0;
      } catch (error) {
        failures += 1;
        rewind();
        if (error instanceof SendError) deps.observer?.sendError(sink.name);
        const backoff = Math.min(BACKOFF_MAX_MS, BACKOFF_FIRST_MS * 2 ** Math.min(failures - 1, 10));
        // The first failure of a run is a warning; the rest are counted (latchkey_siem_send_errors_total).
        if (failures === 1) deps.log.warn({ err: error, sink: sink.name }, 'SIEM export failed; retrying with backoff');
        await sleep(backoff * (0.8 + 0.4 * Math.random()));
        continue;
      }
      if (!more) await sleep(deps.pollIntervalMs);
      else await new Promise((resolve) => setImmediate(resolve));
    }
    // Closing: a graceful close delivers what was written; then the cursor and the lease.
    try {
      const clean = await sink.close();
      if (holding && clean && !sink.takeBroken()) await commit(true);
      await repository.release(sink.name, owner);
    } catch (error) {
      deps.log.warn({ err: error, sink: sink.name }, 'SIEM export: closing failed');
    }
  }

  return {
    start() {
      if (loops.length > 0 || closing) return;
      for (const sink of deps.sinks) {
        loops.push(
          exportLoop(sink).catch((error: unknown) => {
            deps.log.warn({ err: error, sink: sink.name }, 'SIEM export stopped');
          }),
        );
      }
    },
    async close() {
      closing = true;
      for (const wake of [...wakers]) wake();
      await Promise.all(loops);
    },
    async lag() {
      const newest = await chain.newestSeq();
      const now = clock.now();
      return Promise.all(
        deps.sinks.map(async (sink) => {
          const cursor = await repository.cursor(sink.name);
          const oldest = newest > cursor ? (await chain.readSealedAfter(cursor, 1))[0] : undefined;
          return { sink: sink.name, events: Math.max(0, newest - cursor), seconds: oldest ? Math.max(0, (now - oldest.event.at) / 1000) : 0 };
        }),
      );
    },
  };
}
