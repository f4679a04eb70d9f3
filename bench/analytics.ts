/**
 * `npm run bench:analytics -- --users=100000 --days=30 [--dialect=sqlite|postgres|both] [--out=bench/out/analytics.json]`
 *
 * Synthetic history for the adoption analytics, written straight into a fresh database (users,
 * passkeys, audit events and their sealed hash chain, as the server would have left them), then:
 *   1. rollup of the backlog: the rollup worker folds the first days-1 days (events/s);
 *   2. incremental rollup: one more day is written and folded (the steady-state cost per day);
 *   3. dashboard queries through the real HTTP app (inject) with an API key: KPIs for the whole
 *      range (plain, by OS, by provider), funnels by browser, savings; median and p95 of 15 runs.
 * PostgreSQL is a throwaway cluster (scripts/postgres.mjs). Deterministic (seeded PRNG).
 *
 * Sized for a million users: events are written in batches of 20 000 and never all held; a line of
 * progress (events written or folded, rate, WAL, RSS, load) goes to stderr every --progress-s
 * seconds (30). On SQLite the bench's own writer checkpoints the WAL after every batch, and writes
 * with a page cache of --writer-cache-mb (512; the server's default is put back before the fold).
 * --deadline=<ISO time> stops a run that would not finish in time and records how far it got.
 *
 * The population mix is illustrative, shaped after public OS/browser market-share tables
 * (StatCounter Global Stats, 2025: Android and iOS lead, then Windows, macOS); capability,
 * cancel and failure rates are assumptions, written out in POPULATION and DAY below.
 */
import { randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { dirname } from 'node:path';
import { buildApp } from '../packages/server/src/app.ts';
import { loadConfig } from '../packages/server/src/config/load.ts';
import { createDatabase, type DatabaseHandle } from '../packages/server/src/db/create-db.ts';
import type { Config } from '../packages/server/src/config/schema.ts';
import { migrateToLatest } from '../packages/server/src/db/migrate.ts';
import { createApiKeysService } from '../packages/server/src/modules/api-keys/api-keys.module.ts';
import { createAuditService } from '../packages/server/src/modules/audit/audit.module.ts';
import { chainHash, GENESIS_HASH } from '../packages/server/src/modules/audit/audit-chain.encoding.ts';
import type { AuditEventsTable } from '../packages/server/src/modules/audit/audit.tables.ts';
import { cryptoRandom } from '../packages/server/src/platform/random.ts';
import { systemClock } from '../packages/server/src/platform/clock.ts';
import { startPostgres } from '../scripts/postgres.mjs';

const args = Object.fromEntries(process.argv.slice(2).map((a) => a.replace(/^--/, '').split('=') as [string, string]));
const USERS = Number(args.users ?? 100_000);
const DAYS = Number(args.days ?? 30);
const DIALECTS = (args.dialect ?? 'both') === 'both' ? ['sqlite', 'postgres'] : [args.dialect as string];
const OUT = args.out ?? 'bench/out/analytics.json';
const PROGRESS_MS = Number(args['progress-s'] ?? 30) * 1000;
const WRITER_CACHE_MB = Number(args['writer-cache-mb'] ?? 512);
/** --deadline=2026-12-03T16:50Z: past it, the run stops at the next batch or progress line and writes what it reached (`partial`). */
const DEADLINE = args.deadline ? Date.parse(args.deadline) : Number.POSITIVE_INFINITY;
const DAY_MS = 86_400_000;

/** mulberry32: a small seeded PRNG, so two runs write the same history. */
function prng(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Weighted<T> = [weight: number, value: T][];
function pick<T>(r: () => number, table: Weighted<T>): T {
  const total = table.reduce((s, [w]) => s + w, 0);
  let x = r() * total;
  for (const [w, v] of table) {
    x -= w;
    if (x < 0) return v;
  }
  return table[table.length - 1]![1];
}

interface Platform {
  os: string;
  device: string;
  /** Share of devices with a usable platform authenticator (assumption). */
  capable: number;
  browsers: Weighted<{ browser: string; aaguid: string }>;
}
const ICLOUD = 'fbfc3007-154e-4ecc-8c0b-6e020557d7bd';
const GOOGLE = 'ea9b8d66-4d01-1d21-3ce4-b6b48cb575d4';
const WINDOWS_HELLO = '08987058-cadc-4b81-b6e1-30de50dcbe96';
const SAMSUNG = '53414d53-554e-4700-0000-000000000000';
const ONEPASSWORD = 'bada5566-a7aa-401f-bd96-45619a55120d';
const BITWARDEN = 'd548826e-79b4-db40-a3d8-11116f7e8349';

/** Illustrative OS/browser mix (see the header) and the provider a passkey made there lands in. */
const POPULATION: Weighted<Platform> = [
  [44, { os: 'Android 15', device: 'mobile', capable: 0.92, browsers: [[78, { browser: 'Chrome 142', aaguid: GOOGLE }], [16, { browser: 'Samsung Internet 28', aaguid: SAMSUNG }], [6, { browser: 'Firefox 144', aaguid: GOOGLE }]] }],
  [28, { os: 'iOS 18.5', device: 'mobile', capable: 0.98, browsers: [[86, { browser: 'Mobile Safari 18', aaguid: ICLOUD }], [14, { browser: 'Mobile Chrome 142', aaguid: ICLOUD }]] }],
  [18, { os: 'Windows 10', device: 'desktop', capable: 0.85, browsers: [[68, { browser: 'Chrome 142', aaguid: WINDOWS_HELLO }], [24, { browser: 'Edge 142', aaguid: WINDOWS_HELLO }], [8, { browser: 'Firefox 144', aaguid: ONEPASSWORD }]] }],
  [7, { os: 'Mac OS 10.15.7', device: 'desktop', capable: 0.95, browsers: [[52, { browser: 'Safari 18', aaguid: ICLOUD }], [43, { browser: 'Chrome 142', aaguid: GOOGLE }], [5, { browser: 'Firefox 144', aaguid: BITWARDEN }]] }],
  [2, { os: 'Linux', device: 'desktop', capable: 0.2, browsers: [[70, { browser: 'Chrome 142', aaguid: GOOGLE }], [30, { browser: 'Firefox 144', aaguid: BITWARDEN }]] }],
  [1, { os: 'Chrome OS 16', device: 'desktop', capable: 0.6, browsers: [[100, { browser: 'Chrome 142', aaguid: GOOGLE }]] }],
];

/** Daily behaviour (assumptions): who is active, how ceremonies end. */
const DAY = {
  heavyShare: 0.25, heavyActive: 0.45, lightActive: 0.06, // ≈ 0.16 active per user-day
  initialPasskeyShare: 0.15,
  passwordUserShare: 0.3,
  conditionalShare: 0.2,
  auth: { completed: 0.9, cancelled: 0.06, timedOut: 0.01 }, // rest: error
  appendOffered: 0.35, appendStarted: 0.55, appendCompleted: 0.75, appendCancelled: 0.2, // rest of started: error
  incapableOffer: 0.02,
  emailCodeFailed: 0.05, passwordFailed: 0.03, recovery: 0.0005,
  lateReports: 0.02, duplicateReports: 0.01,
};
const AUTH_ERRORS: Weighted<string> = [[40, 'SecurityError'], [30, 'verification_failed'], [20, 'UnknownError'], [10, 'NotReadableError']];
const APPEND_ERRORS: Weighted<string> = [[60, 'InvalidStateError'], [40, 'NotAllowedError']];

interface User {
  id: string;
  platform: Platform;
  browser: string;
  aaguid: string;
  capable: boolean;
  heavy: boolean;
  password: boolean;
  credential: string | null;
}

const MB = 1024 * 1024;
const mb = (bytes: number) => Math.round(bytes / MB);

/**
 * What the run looked like while it ran: the largest WAL file seen (per phase) and the load
 * average, sampled at every batch and progress line.
 */
class Watch {
  walPeak: Record<string, number> = {};
  load: number[] = [];
  phase = 'population';
  readonly label: string;
  readonly database: DatabaseHandle;
  constructor(label: string, database: DatabaseHandle) {
    this.label = label;
    this.database = database;
  }

  wal(): number {
    const bytes = this.database.stats().walBytes ?? 0;
    if (bytes > (this.walPeak[this.phase] ?? 0)) this.walPeak[this.phase] = bytes;
    return bytes;
  }

  /** One line to stderr: what was done, the rate over the last interval and overall. */
  line(what: string, done: number, total: number | undefined, rateSince: { at: number; done: number }, startedAt: number): void {
    const now = performance.now();
    const recent = ((done - rateSince.done) / (now - rateSince.at)) * 1000;
    const overall = (done / (now - startedAt)) * 1000;
    const load = loadavg()[0]!;
    this.load.push(load);
    const wal = this.database.stats().walBytes === undefined ? '' : `, WAL ${mb(this.wal())} MB`;
    process.stderr.write(
      `${new Date().toISOString().slice(11, 19)} ${this.label} ${what}: ${done}${total ? ` of ${total} (${((done / total) * 100).toFixed(1)} %)` : ''} events, ${Math.round(recent)}/s (last ${Math.round((now - rateSince.at) / 1000)} s), ${Math.round(overall)}/s overall${wal}, RSS ${mb(process.memoryUsage.rss())} MB (JS heap ${mb(process.memoryUsage().heapUsed)} MB), load ${load.toFixed(1)}\n`,
    );
  }

  summary() {
    const sorted = [...this.load].sort((a, b) => a - b);
    return {
      walPeakMb: Object.fromEntries(Object.entries(this.walPeak).map(([k, v]) => [k, mb(v)])),
      loadAverage1m: sorted.length === 0 ? null : { samples: sorted.length, min: sorted[0], median: quantile(sorted, 0.5), max: sorted[sorted.length - 1] },
      maxRssMb: Math.round(process.resourceUsage().maxRSS / 1024),
    };
  }
}

class Writer {
  events: AuditEventsTable[] = [];
  seq = 0;
  prev = GENESIS_HASH;
  written = 0;
  readonly db: DatabaseHandle['db'];
  readonly sqlite: boolean;
  readonly watch: Watch;
  /** Progress of the history being written: a line every PROGRESS_MS (the loop never yields to timers). */
  /** `base`: events written before this phase (the rates count only this phase's). */
  progress = { startedAt: performance.now(), last: { at: performance.now(), done: 0 }, day: 0, days: 0, base: 0 };
  /** Called after a batch once --deadline has passed (does not return). */
  onDeadline: () => void = () => {};
  constructor(db: DatabaseHandle['db'], sqlite: boolean, watch: Watch) {
    this.db = db;
    this.sqlite = sqlite;
    this.watch = watch;
  }

  /**
   * A writer that never pauses leaves the server's background checkpointer no gap to finish in
   * (its request to the serving connection waits for an event-loop turn this loop never gives):
   * the WAL grew to gigabytes. Checkpoint after every batch, as an idle server would.
   */
  async checkpoint(): Promise<void> {
    if (!this.sqlite) return;
    this.watch.wal();
    await sql`PRAGMA wal_checkpoint(TRUNCATE)`.execute(this.db);
  }

  async flush(): Promise<void> {
    if (this.events.length === 0) return;
    this.events.sort((a, b) => a.created_at - b.created_at || (a.id < b.id ? -1 : 1));
    const chain = this.events.map((event) => {
      this.seq += 1;
      const hash = chainHash(this.prev, this.seq, event);
      const row = { seq: this.seq, event_id: event.id, prev_hash: this.prev, hash, version: 1, sealed_at: event.created_at };
      this.prev = hash;
      return row;
    });
    const events = this.events;
    this.events = [];
    await this.db.transaction().execute(async (trx) => {
      for (let i = 0; i < events.length; i += 400) {
        await trx.insertInto('audit_events').values(events.slice(i, i + 400)).execute();
        await trx.insertInto('audit_chain').values(chain.slice(i, i + 400)).execute();
      }
      const newest = events[events.length - 1]!.created_at;
      await trx.updateTable('audit_seal_state').set({ high_water: newest }).where('id', '=', 1).execute();
    });
    this.written += events.length;
    await this.checkpoint();
    const p = this.progress;
    if (performance.now() - p.last.at >= PROGRESS_MS) {
      this.watch.line(`history day ${p.day + 1}/${p.days}`, this.written - p.base, undefined, p.last, p.startedAt);
      p.last = { at: performance.now(), done: this.written - p.base };
    }
    if (Date.now() > DEADLINE) this.onDeadline();
  }
}

function generator(db: DatabaseHandle['db'], firstDay: number, sqlite: boolean, watch: Watch) {
  const r = prng(20261203);
  const hex = (bytes: number) => {
    let s = '';
    for (let i = 0; i < bytes; i++) s += Math.floor(r() * 256).toString(16).padStart(2, '0');
    return s;
  };
  const uuid = () => `${hex(4)}-${hex(2)}-7${hex(2).slice(1)}-8${hex(2).slice(1)}-${hex(6)}`;
  const writer = new Writer(db, sqlite, watch);
  const users: User[] = [];
  const newCredentials: { id: string; user: User; at: number }[] = [];
  /** Reports recorded on a later day than they happened, and retries of reports already sent. */
  let deferred: { at: number; event: AuditEventsTable }[] = [];

  const event = (at: number, user: User | null, type: string, outcome: 'success' | 'failure', extra: Partial<AuditEventsTable> = {}, data?: Record<string, unknown>): AuditEventsTable => ({
    id: uuid(),
    created_at: at,
    type,
    outcome,
    actor_user_id: user?.id ?? null,
    actor_kind: user ? 'user' : null,
    actor_id: user?.id ?? null,
    subject_user_id: user?.id ?? null,
    credential_id: null,
    session_id: null,
    error_code: null,
    reason: null,
    request_id: uuid(),
    ip: '203.0.113.7',
    user_agent: null,
    os: user?.platform.os ?? null,
    browser: user?.browser ?? null,
    device: user?.platform.device ?? null,
    data: data ? JSON.stringify(data) : null,
    ...extra,
  });

  function report(at: number, user: User, signedIn: boolean, body: Record<string, unknown>): void {
    const full = { ...body, reportId: hex(12), platformAuthenticator: user.capable };
    let recordedAt = at;
    if (r() < DAY.lateReports) recordedAt = at + DAY_MS * (1 + Math.floor(r() * 2));
    const e = event(recordedAt, signedIn ? user : null, 'ceremony.reported', body.outcome === 'cancelled' || body.outcome === 'error' || body.outcome === 'timed_out' ? 'failure' : 'success', {
      os: user.platform.os,
      browser: user.browser,
      device: user.platform.device,
    }, { ...full, occurredAt: new Date(at).toISOString() });
    if (recordedAt === at) writer.events.push(e);
    else deferred.push({ at: recordedAt, event: e });
    if (r() < DAY.duplicateReports) deferred.push({ at: recordedAt + 60_000, event: { ...e, id: uuid(), created_at: recordedAt + 60_000 } });
  }

  /** Users in transactions of 10 000 rows, each followed by a checkpoint (autocommits of 1 000 grew the WAL to 633 MB at 100 000 users). */
  async function insertUsers(rows: Record<string, unknown>[]): Promise<void> {
    await db.transaction().execute(async (trx) => {
      for (let i = 0; i < rows.length; i += 1000) await trx.insertInto('users').values(rows.slice(i, i + 1000) as never).execute();
    });
    await writer.checkpoint();
  }

  async function population(): Promise<void> {
    let rows: Record<string, unknown>[] = [];
    const creds: { id: string; user: User; at: number }[] = [];
    for (let i = 0; i < USERS; i++) {
      const platform = pick(r, POPULATION);
      const b = pick(r, platform.browsers);
      const user: User = {
        id: uuid(), platform, browser: b.browser, aaguid: b.aaguid, capable: r() < platform.capable, heavy: r() < DAY.heavyShare, password: r() < DAY.passwordUserShare, credential: null,
      };
      if (user.capable && r() < DAY.initialPasskeyShare) {
        user.credential = hex(16);
        creds.push({ id: user.credential, user, at: firstDay - DAY_MS });
      }
      users.push(user);
      rows.push({ id: user.id, username: `user-${i}`, username_key: `user-${i}`, display_name: `User ${i}`, user_handle: hex(16), external_id: null, status: 'active', created_at: firstDay - 30 * DAY_MS });
      if (rows.length === 10_000) {
        await insertUsers(rows);
        rows = [];
      }
    }
    await insertUsers(rows);
    await insertCredentials(creds);
  }

  async function insertCredentials(creds: { id: string; user: User; at: number }[]): Promise<void> {
    const rows = creds.map((c) => ({
      id: c.id, user_id: c.user.id, public_key: new Uint8Array(77), sign_count: 0, aaguid: c.user.aaguid, transports: '["internal","hybrid"]', device_type: 'multiDevice',
      backed_up: 1, attestation_fmt: 'none', uv_initialized: 1, name: 'Passkey', created_at: c.at, last_used_at: null, created_os: c.user.platform.os, created_browser: c.user.browser,
    }));
    for (let i = 0; i < rows.length; i += 10_000) {
      await db.transaction().execute(async (trx) => {
        for (let j = i; j < Math.min(rows.length, i + 10_000); j += 500) await trx.insertInto('credentials').values(rows.slice(j, j + 500) as never).execute();
      });
      await writer.checkpoint();
    }
  }

  async function day(index: number): Promise<void> {
    const start = firstDay + index * DAY_MS;
    writer.progress.day = index;
    const due = deferred.filter((d) => d.at < start + DAY_MS);
    deferred = deferred.filter((d) => d.at >= start + DAY_MS);
    for (const d of due) writer.events.push(d.event);
    for (const user of users) {
      if (r() >= (user.heavy ? DAY.heavyActive : DAY.lightActive)) continue;
      let t = start + Math.floor(r() * (DAY_MS - 3_600_000));
      const next = (ms: number) => (t += ms);
      let signedIn = false;
      if (user.credential) {
        const conditional = r() < DAY.conditionalShare;
        const mode = conditional ? 'conditional' : 'modal';
        report(t, user, false, { ceremony: 'authentication', mode, outcome: 'offered' });
        if (!conditional) report(next(2000), user, false, { ceremony: 'authentication', mode, outcome: 'started' });
        const x = r();
        const durationMs = Math.round(600 + r() * r() * 6000);
        next(durationMs);
        if (x < DAY.auth.completed) {
          writer.events.push(event(t, user, 'passkey.authenticated', 'success', { credential_id: user.credential, session_id: uuid() }, { userVerified: true, backedUp: true, signCount: 0 }));
          writer.events.push(event(t, user, 'session.created', 'success', { credential_id: user.credential }));
          report(next(50), user, true, { ceremony: 'authentication', mode, outcome: 'completed', durationMs });
          signedIn = true;
        } else if (x < DAY.auth.completed + DAY.auth.cancelled) {
          report(t, user, false, { ceremony: 'authentication', mode, outcome: 'cancelled', errorName: 'NotAllowedError', durationMs });
        } else if (x < DAY.auth.completed + DAY.auth.cancelled + DAY.auth.timedOut) {
          report(t, user, false, { ceremony: 'authentication', mode, outcome: 'timed_out', durationMs });
        } else {
          const errorName = pick(r, AUTH_ERRORS);
          if (errorName === 'verification_failed') writer.events.push(event(t, null, 'passkey.authentication_failed', 'failure', { error_code: 'verification_failed' }));
          report(t, user, false, { ceremony: 'authentication', mode, outcome: 'error', errorName, durationMs });
        }
      }
      if (!signedIn) {
        // Fallback: a password, or an e-mailed code.
        if (user.password) {
          if (r() < DAY.passwordFailed) writer.events.push(event(next(8000), user, 'password.failed', 'failure', { error_code: 'invalid_credentials' }));
          writer.events.push(event(next(9000), user, 'session.created', 'success', {}, { method: 'password', scope: 'full' }));
        } else {
          writer.events.push(event(next(3000), user, 'email_code.sent', 'success', {}, { purpose: 'sign_in', known: true }));
          if (r() < DAY.emailCodeFailed) writer.events.push(event(next(30_000), user, 'email_code.failed', 'failure', { error_code: 'code_invalid' }));
          writer.events.push(event(next(40_000), user, 'session.created', 'success', {}, { method: 'email_code' }));
        }
        if (r() < DAY.recovery) {
          writer.events.push(event(next(60_000), user, 'recovery.started', 'success'));
          writer.events.push(event(next(60_000), user, 'account.recovered', 'success'));
        }
      }
      // The append prompt, to signed-in users without a passkey (mostly on capable devices).
      if (!user.credential && (user.capable ? r() < DAY.appendOffered : r() < DAY.incapableOffer)) {
        report(next(1500), user, true, { ceremony: 'append', mode: 'modal', outcome: 'offered' });
        if (user.capable && r() < DAY.appendStarted) {
          report(next(4000), user, true, { ceremony: 'append', mode: 'modal', outcome: 'started' });
          const durationMs = Math.round(1500 + r() * 8000);
          next(durationMs);
          const x = r();
          if (x < DAY.appendCompleted) {
            user.credential = hex(16);
            newCredentials.push({ id: user.credential, user, at: t });
            writer.events.push(event(t, user, 'passkey.registered', 'success', { credential_id: user.credential }, { aaguid: user.aaguid, fmt: 'none', deviceType: 'multiDevice', backedUp: true, userVerified: true }));
            report(next(50), user, true, { ceremony: 'append', mode: 'modal', outcome: 'completed', durationMs });
          } else if (x < DAY.appendCompleted + DAY.appendCancelled) {
            report(t, user, true, { ceremony: 'append', mode: 'modal', outcome: 'cancelled', errorName: 'NotAllowedError', durationMs });
          } else {
            report(t, user, true, { ceremony: 'append', mode: 'modal', outcome: 'error', errorName: pick(r, APPEND_ERRORS), durationMs });
          }
        }
      }
      if (writer.events.length >= 20_000) await writer.flush();
    }
    await writer.flush();
    await insertCredentials(newCredentials.splice(0));
  }

  return { writer, population, day };
}

const ms = (t0: number) => Math.round(performance.now() - t0);
/** CPU time (user + system, all threads) of this process since `c0`, in ms: the machine is shared, wall time is not ours alone. */
const cpuMs = (c0: NodeJS.CpuUsage) => {
  const d = process.cpuUsage(c0);
  return Math.round((d.user + d.system) / 1000);
};
const quantile = (xs: number[], q: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(q * xs.length))]!;

async function runOne(dialect: string): Promise<Record<string, unknown>> {
  let url: string;
  let cleanup: () => void;
  if (dialect === 'sqlite') {
    const dir = `/tmp/latchkey-analytics-bench-${randomBytes(4).toString('hex')}`;
    url = `sqlite:${dir}/bench.db`;
    cleanup = () => rmSync(dir, { recursive: true, force: true });
  } else {
    const cluster = await startPostgres();
    url = cluster.url;
    cleanup = () => cluster.stop();
  }
  try {
    const database = createDatabase(url, { poolSize: 5, sqliteWalLimitMb: 64 });
    await migrateToLatest(database.db);
    // The last generated day is yesterday (UTC): every event is in the past for the server.
    const today = Math.floor(Date.now() / DAY_MS) * DAY_MS;
    const firstDay = today - DAYS * DAY_MS;
    const watch = new Watch(dialect, database);
    const gen = generator(database.db, firstDay, dialect === 'sqlite', watch);
    // The bench's writer gets a larger page cache (random-key indexes of millions of rows); the
    // server's own setting is put back before anything measured as the server's runs.
    let serverCacheSize: unknown;
    if (dialect === 'sqlite') {
      serverCacheSize = (await sql<{ cache_size: number }>`PRAGMA cache_size`.execute(database.db)).rows[0]?.cache_size;
      await sql`PRAGMA cache_size = ${sql.raw(String(-WRITER_CACHE_MB * 1024))}`.execute(database.db);
    }
    let t0 = performance.now();
    let c0 = process.cpuUsage();
    let populationMs: number | undefined;
    let foldReached: { done: number; ms: number; cpuMs: number } | undefined;
    /** Past --deadline: what was reached, honestly labelled, then the database is removed. */
    const stopHere = () => {
      const soFarMs = ms(t0);
      const partial = {
        dialect, users: USERS, days: DAYS, partial: `stopped at the deadline (${args.deadline}) during the ${watch.phase} phase`, populationMs,
        ...(watch.phase === 'history'
          ? { historyEventsWritten: gen.writer.written, historyMsSoFar: soFarMs, historyCpuMsSoFar: cpuMs(c0), writeEventsPerSecond: Math.round((gen.writer.written / soFarMs) * 1000), daysWritten: gen.writer.progress.day }
          : {}),
        ...(foldReached ? { backlogFoldedSoFar: foldReached.done, backlogMsSoFar: foldReached.ms, backlogCpuMsSoFar: foldReached.cpuMs, backlogEventsPerSecond: Math.round((foldReached.done / foldReached.ms) * 1000) } : {}),
        loadAverage: loadavg(), ...watch.summary(),
      };
      process.stderr.write(`${dialect}: ${JSON.stringify(partial)}\n`);
      mkdirSync(dirname(OUT), { recursive: true });
      writeFileSync(OUT, `${JSON.stringify({ at: new Date().toISOString(), results: [...results, partial] }, null, 2)}\n`);
      cleanup();
      process.exit(0);
    };
    gen.writer.onDeadline = stopHere;
    await gen.population();
    populationMs = ms(t0);
    process.stderr.write(`${new Date().toISOString().slice(11, 19)} ${dialect}: ${USERS} users written in ${populationMs} ms\n`);
    watch.phase = 'history';
    t0 = performance.now();
    c0 = process.cpuUsage();
    gen.writer.progress = { startedAt: t0, last: { at: t0, done: 0 }, day: 0, days: DAYS - 1, base: 0 };
    for (let d = 0; d < DAYS - 1; d++) await gen.day(d);
    const historyMs = ms(t0);
    const historyCpuMs = cpuMs(c0);
    const historyEvents = gen.writer.written;
    process.stderr.write(`${new Date().toISOString().slice(11, 19)} ${dialect}: ${USERS} users, ${historyEvents} events over ${DAYS - 1} days written in ${historyMs} ms\n`);
    if (dialect === 'sqlite') await sql`PRAGMA cache_size = ${sql.raw(String(serverCacheSize))}`.execute(database.db);

    const config = loadConfig({
      env: {},
      overrides: {
        database: { url, poolSize: 5 },
        server: { verifyWorkers: 0, port: 0 },
        log: { level: 'silent' as Config['log']['level'] },
        analytics: { rollupIntervalMs: 3_600_000 },
        audit: { retentionDays: 0 },
      },
    });
    const app = await buildApp(config, { database });
    watch.phase = 'fold';
    t0 = performance.now();
    c0 = process.cpuUsage();
    // The worker yields to the event loop between batches: timers run there.
    const walSampler = setInterval(() => watch.wal(), 250);
    let foldLast = { at: t0, done: 0 };
    const foldProgress = setInterval(() => {
      void database.db
        .selectFrom('analytics_state')
        .select('last_seq')
        .where('id', '=', 1)
        .executeTakeFirst()
        .then((row) => {
          const done = Number(row?.last_seq ?? 0);
          watch.line('backlog fold', done, historyEvents, foldLast, t0);
          foldLast = { at: performance.now(), done };
          foldReached = { done, ms: ms(t0), cpuMs: cpuMs(c0) };
          if (Date.now() > DEADLINE) stopHere();
        })
        .catch(() => {});
    }, PROGRESS_MS);
    const backlog = await app.analyticsRollup.run().finally(() => clearInterval(foldProgress));
    const backlogMs = ms(t0);
    const backlogCpuMs = cpuMs(c0);
    process.stderr.write(`${new Date().toISOString().slice(11, 19)} ${dialect}: backlog of ${backlog} events folded in ${backlogMs} ms\n`);

    watch.phase = 'day';
    gen.writer.progress = { startedAt: performance.now(), last: { at: performance.now(), done: 0 }, day: DAYS - 1, days: DAYS, base: gen.writer.written };
    await gen.day(DAYS - 1);
    watch.phase = 'dayFold';
    const dayEvents = gen.writer.written - historyEvents;
    t0 = performance.now();
    c0 = process.cpuUsage();
    const folded = await app.analyticsRollup.run();
    const dayMs = ms(t0);
    const dayCpuMs = cpuMs(c0);
    process.stderr.write(`${new Date().toISOString().slice(11, 19)} ${dialect}: one more day (${folded} events) folded in ${dayMs} ms\n`);
    const rollupRows = Number((await database.db.selectFrom('analytics_daily').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n);

    const audit = createAuditService({ clock: systemClock, random: cryptoRandom, parseUserAgent: () => ({ os: null, browser: null, device: null }) });
    const key = await createApiKeysService({ db: database.db, clock: systemClock, random: cryptoRandom, audit }).create({
      name: 'bench', scopes: ['analytics:read'], context: { requestId: 'bench', ip: null, userAgent: null, actor: { kind: 'cli', id: null } },
    });
    const from = new Date(firstDay).toISOString().slice(0, 10);
    const to = new Date(today - DAY_MS).toISOString().slice(0, 10);
    const queries: Record<string, string> = {
      kpis: `/api/admin/v1/analytics/kpis?from=${from}&to=${to}`,
      kpisByOs: `/api/admin/v1/analytics/kpis?from=${from}&to=${to}&by=os`,
      kpisByProvider: `/api/admin/v1/analytics/kpis?from=${from}&to=${to}&by=provider`,
      funnelsByBrowser: `/api/admin/v1/analytics/funnels?from=${from}&to=${to}&by=browser`,
      savings: `/api/admin/v1/analytics/savings?to=${to}`,
    };
    const dashboard: Record<string, { medianMs: number; p95Ms: number }> = {};
    let sample: unknown;
    for (const [name, path] of Object.entries(queries)) {
      const times: number[] = [];
      // One unmeasured run first: schema compilation and JIT, not the query.
      await app.inject({ method: 'GET', url: path, headers: { authorization: `Bearer ${key.secret}` } });
      for (let i = 0; i < 15; i++) {
        const t = performance.now();
        const answer = await app.inject({ method: 'GET', url: path, headers: { authorization: `Bearer ${key.secret}` } });
        times.push(performance.now() - t);
        if (answer.statusCode !== 200) throw new Error(`${path}: ${answer.statusCode} ${answer.body}`);
        if (name === 'kpis' && i === 0) sample = JSON.parse(answer.body).total;
      }
      dashboard[name] = { medianMs: Math.round(quantile(times, 0.5) * 10) / 10, p95Ms: Math.round(quantile(times, 0.95) * 10) / 10 };
    }
    clearInterval(walSampler);
    await app.close();
    await database.close();
    return {
      dialect, users: USERS, days: DAYS, populationMs, historyEvents, historyMs, historyCpuMs, backlogCpuMs, dayCpuMs, loadAverage: loadavg(), ...watch.summary(), writeEventsPerSecond: Math.round((historyEvents / historyMs) * 1000),
      backlogEvents: backlog, backlogMs, backlogEventsPerSecond: Math.round((backlog / backlogMs) * 1000),
      dayEvents, dayFolded: folded, dayMs, rollupRows, dashboard, totalKpis: sample,
    };
  } finally {
    cleanup();
  }
}

const results: Record<string, unknown>[] = [];
for (const dialect of DIALECTS) {
  const result = await runOne(dialect);
  results.push(result);
  process.stderr.write(`${dialect}: ${JSON.stringify(result)}\n`);
}
mkdirSync(dirname(OUT), { recursive: true });
writeFileSync(OUT, `${JSON.stringify({ at: new Date().toISOString(), results }, null, 2)}\n`);
for (const r of results) {
  const d = r.dashboard as Record<string, { medianMs: number; p95Ms: number }>;
  process.stdout.write(
    `| ${r.dialect} | ${r.users} | ${r.historyEvents} | ${r.historyMs} (cpu ${r.historyCpuMs}) | ${r.backlogMs} (cpu ${r.backlogCpuMs}; ${r.backlogEventsPerSecond}/s) | ${r.dayEvents} in ${r.dayMs} (cpu ${r.dayCpuMs}) | ${r.rollupRows} | ${Object.entries(d).map(([k, v]) => `${k} ${v.medianMs}/${v.p95Ms}`).join(', ')} |\n`,
  );
}
process.exit(0);
