/**
 * Load generator for the passkey bench, meant to run in its own process (bench/run.ts pins it
 * to a core of its own with `taskset`). N concurrent clients, each a SoftAuthenticator (ES256)
 * with accounts of its own:
 *
 *   1. registration phase: every client signs up `--regs` accounts (options -> createCredential
 *      -> verify); timed on its own (registration ceremonies/s);
 *   2. login phase: every client loops discoverable sign-ins (options {} -> getAssertion ->
 *      verify) for `--warmup` unmeasured seconds, then `--duration` measured seconds (or until
 *      `--max-logins` ceremonies), closed loop.
 *
 * With `--pid` it also reads the server's /proc/<pid>/stat (utime+stime) at the edges of the
 * measured window, and samples its VmRSS every 100 ms (VmHWM at the end); with `--pg-pid` the
 * same CPU figure for the postmaster and its backends. With `--sqlite=<database file>` it samples
 * the size of its -wal file with RSS, and reads the bytes in use and the rows per table from a
 * read-only connection at the window's edges (database growth and rows per login).
 * Output: one JSON object on stdout.
 *
 * Usage: node bench/load.ts --base=http://127.0.0.1:8080 --origin=http://localhost:8080 [--clients=50]
 *        [--regs=4] [--warmup=2] [--duration=10] [--max-logins=1000000] [--pid=1234] [--pg-pid=5678] [--mark]
 *        [--client=http|fetch] [--sqlite=/tmp/x.db]
 * Only talks to 127.0.0.1 / localhost.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { DatabaseSync } from 'node:sqlite';
import { Agent, request } from 'node:http';
import { performance } from 'node:perf_hooks';
import { SoftAuthenticator, type CreationOptionsJSON, type RequestOptionsJSON } from '../packages/testkit/src/index.ts';
import type { LoadResult } from './types.ts';

const args = Object.fromEntries(
  process.argv.slice(2).map((a) => {
    const [k, ...v] = a.replace(/^--/, '').split('=');
    return [k, v.join('=')];
  }),
) as Record<string, string | undefined>;

const base = args.base ?? 'http://127.0.0.1:8080';
const origin = args.origin ?? 'http://localhost:8080';
const rpId = args['rp-id'] ?? 'localhost';
const clients = Number(args.clients ?? 50);
const regsPerClient = Math.max(1, Number(args.regs ?? 4));
const warmupSeconds = Number(args.warmup ?? 2);
const durationSeconds = Number(args.duration ?? 10);
const maxLogins = Number(args['max-logins'] ?? 1_000_000);
const serverPid = args.pid ? Number(args.pid) : undefined;
const pgPid = args['pg-pid'] ? Number(args['pg-pid']) : undefined;
/** The server's SQLite file: its WAL is sampled with RSS, its size and rows read at the window's edges. */
const sqlitePath = args.sqlite || undefined;
/** Send SIGUSR2 to --pid when the measured window opens and closes (bench/tools/preload.ts listens). */
const mark = args.mark === 'true' || args.mark === '';
const prefix = args.prefix ?? `b${Date.now().toString(36)}`;
/** `http` (node:http, keep-alive Agent; default, cheaper per request) or `fetch` (undici, keep-alive). */
const clientKind = args.client === 'fetch' ? 'fetch' : 'http';
const REQUEST_TIMEOUT_MS = 15_000;
const MAX_ERRORS = 200;

{
  const host = new URL(base).hostname;
  if (host !== '127.0.0.1' && host !== 'localhost' && host !== '[::1]') throw new Error(`load.ts only talks to loopback, not ${host}`);
}

// ---------------------------------------------------------------------------------------------
// SQLite readings (a connection of our own; reads only)
// ---------------------------------------------------------------------------------------------

function fileSize(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}

/** Bytes in use (pages not on the free list, WAL included) and rows per table. */
function sqliteUsage(path: string): { usedBytes: number; rows: Record<string, number> } | undefined {
  let db: DatabaseSync | undefined;
  try {
    db = new DatabaseSync(path, { readOnly: true });
    const one = (sql: string) => Number(Object.values(db?.prepare(sql).get() ?? {})[0] ?? 0);
    const usedBytes = (one('PRAGMA page_count') - one('PRAGMA freelist_count')) * one('PRAGMA page_size');
    const rows: Record<string, number> = {};
    const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'").all() as { name: string }[];
    for (const { name } of tables) rows[name] = one(`SELECT count(*) FROM "${name.replace(/"/g, '""')}"`);
    return { usedBytes, rows };
  } catch {
    return undefined;
  } finally {
    db?.close();
  }
}

// ---------------------------------------------------------------------------------------------
// /proc readings
// ---------------------------------------------------------------------------------------------

const CLK_TCK = 100;

/** utime+stime of a whole process (all threads), in ms (or stime alone); undefined once it is gone. */
function cpuMs(pid: number, only?: 'system'): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // fields[0] is field 3 (state); utime is field 14, stime field 15.
    return ((only === 'system' ? 0 : Number(fields[11])) + Number(fields[12])) * 1000 / CLK_TCK;
  } catch {
    return undefined;
  }
}

/** /proc/<pid>/io: bytes handed to write()/pwrite() (wchar), write calls (syscw), bytes sent to storage (write_bytes). */
function ioCounters(pid: number): { wchar: number; syscw: number; writeBytes: number } | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/io`, 'utf8');
    const field = (key: string) => Number(new RegExp(`^${key}: (\\d+)`, 'm').exec(text)?.[1] ?? Number.NaN);
    return { wchar: field('wchar'), syscw: field('syscw'), writeBytes: field('write_bytes') };
  } catch {
    return undefined;
  }
}

function statusKb(pid: number, key: 'VmRSS' | 'VmHWM'): number | undefined {
  try {
    const match = new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) : undefined;
  } catch {
    return undefined;
  }
}

/** The postmaster and its direct children (backends, walwriter, ...), CPU ms per pid. */
function pgCpu(root: number): Map<number, number> {
  const out = new Map<number, number>();
  const self = cpuMs(root);
  if (self !== undefined) out.set(root, self);
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(fields[1]) === root) out.set(Number(entry), ((Number(fields[11]) + Number(fields[12])) * 1000) / CLK_TCK);
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

/** CPU ms by thread kind (comm: MainThread, WorkerThread, libuv-worker, V8Worker, ...) of a process. */
function threadCpu(pid: number): Map<string, number> {
  const out = new Map<string, number>();
  try {
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      try {
        const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
        const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
        const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        out.set(name, (out.get(name) ?? 0) + ((Number(fields[11]) + Number(fields[12])) * 1000) / CLK_TCK);
      } catch {
        // thread gone
      }
    }
  } catch {
    // process gone
  }
  return out;
}

/** The server's event-loop thread: ms on a CPU and ms runnable but waiting for one (/proc/<pid>/task/<pid>/schedstat). */
function mainThreadSched(pid: number): { runMs: number; waitMs: number } | undefined {
  try {
    const [run, wait] = readFileSync(`/proc/${pid}/task/${pid}/schedstat`, 'utf8').trim().split(' ').map(Number) as [number, number];
    return { runMs: run / 1e6, waitMs: wait / 1e6 };
  } catch {
    return undefined;
  }
}

/** Busy time of every CPU (all but idle and iowait), in ms, from /proc/stat. */
function machineBusyMs(): number {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0] as string;
  const [, user, nice, system, , , irq, softirq, steal] = line.trim().split(/\s+/).map(Number) as number[];
  return (((user ?? 0) + (nice ?? 0) + (system ?? 0) + (irq ?? 0) + (softirq ?? 0) + (steal ?? 0)) * 1000) / CLK_TCK;
}

function pgCpuDelta(before: Map<number, number>, after: Map<number, number>): number {
  let total = 0;
  for (const [pid, ms] of after) total += ms - (before.get(pid) ?? 0);
  return total;
}

// ---------------------------------------------------------------------------------------------
// HTTP
// ---------------------------------------------------------------------------------------------

interface Answer {
  status: number;
  ceremony: string | null;
  body: unknown;
  text: string;
}

const target = new URL(base);
const agent = new Agent({ keepAlive: true, maxSockets: clients + 10, maxFreeSockets: clients + 10 });

function parse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function postHttp(path: string, payload: string, headers: Record<string, string>): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: target.hostname, port: target.port, path, method: 'POST', agent, headers: { ...headers, 'content-length': String(Buffer.byteLength(payload)) }, timeout: REQUEST_TIMEOUT_MS },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          const ceremony = res.headers['latchkey-ceremony'];
          resolve({ status: res.statusCode ?? 0, ceremony: typeof ceremony === 'string' ? ceremony : null, body: parse(text), text });
        });
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`timeout after ${REQUEST_TIMEOUT_MS} ms`)));
    req.on('error', reject);
    req.end(payload);
  });
}

async function post(path: string, body: unknown, ceremony?: string | null): Promise<Answer> {
  const headers: Record<string, string> = { 'content-type': 'application/json', origin };
  if (ceremony) headers['latchkey-ceremony'] = ceremony;
  if (clientKind === 'http') return postHttp(path, JSON.stringify(body), headers);
  const res = await fetch(base + path, {
    method: 'POST',
    headers,
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
  });
  const text = await res.text();
  return { status: res.status, ceremony: res.headers.get('latchkey-ceremony'), body: parse(text), text };
}

const errors: { phase: string; step: string; status: number; body: string }[] = [];
let errorCount = 0;
function fail(phase: string, step: string, answer: { status: number; text: string }): false {
  errorCount++;
  if (errors.length < 5) errors.push({ phase, step, status: answer.status, body: answer.text.slice(0, 600) });
  return false;
}

const REG = '/api/v1/passkeys/registration';
const AUTH = '/api/v1/passkeys/authentication';

async function register(auth: SoftAuthenticator, username: string): Promise<boolean> {
  const options = await post(`${REG}/options`, { username });
  if (options.status !== 200) return fail('registration', 'options', options);
  const response = await auth.createCredential(options.body as CreationOptionsJSON);
  const verify = await post(`${REG}/verify`, response, options.ceremony);
  if (verify.status !== 200) return fail('registration', 'verify', verify);
  return true;
}

async function login(auth: SoftAuthenticator): Promise<boolean> {
  const options = await post(`${AUTH}/options`, {});
  if (options.status !== 200) return fail('login', 'options', options);
  const response = await auth.getAssertion(options.body as RequestOptionsJSON);
  const verify = await post(`${AUTH}/verify`, response, options.ceremony);
  const session = (verify.body as { session?: { token?: unknown } } | undefined)?.session;
  if (verify.status !== 200 || typeof session?.token !== 'string') return fail('login', 'verify', verify);
  return true;
}

// ---------------------------------------------------------------------------------------------
// Stats
// ---------------------------------------------------------------------------------------------

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i] as number;
}

function summarize(latencies: number[], seconds: number) {
  const sorted = Float64Array.from(latencies).sort();
  const round = (x: number) => Math.round(x * 100) / 100;
  return {
    count: latencies.length,
    seconds: round(seconds),
    perSecond: round(latencies.length / seconds),
    p50Ms: round(percentile(sorted, 50)),
    p90Ms: round(percentile(sorted, 90)),
    p99Ms: round(percentile(sorted, 99)),
    maxMs: round(sorted.length ? (sorted[sorted.length - 1] as number) : NaN),
  };
}

// ---------------------------------------------------------------------------------------------
// Phases
// ---------------------------------------------------------------------------------------------

const authenticators = Array.from({ length: clients }, () => new SoftAuthenticator({ origin, rpId, alg: -7, counter: 'increment' }));

// Registration: each client signs up `regsPerClient` accounts one after another; the last one is
// the one its discoverable logins use (the authenticator picks the most recent credential).
const regLatencies: number[] = [];
const ready: boolean[] = new Array(clients).fill(false);
const regStart = performance.now();
const regDeadline = regStart + 60_000;
await Promise.all(
  authenticators.map(async (auth, c) => {
    for (let r = 0; r < regsPerClient && performance.now() < regDeadline && errorCount < MAX_ERRORS; r++) {
      const t = performance.now();
      let ok = false;
      try {
        ok = await register(auth, `${prefix}-${c}-${r}`);
      } catch (error) {
        fail('registration', 'exception', { status: 0, text: String(error) });
      }
      if (ok) {
        regLatencies.push(performance.now() - t);
        ready[c] = true;
      } else {
        ready[c] = false;
        break;
      }
    }
  }),
);
const registration = summarize(regLatencies, (performance.now() - regStart) / 1000);

// Login: closed loop; a ceremony counts when it starts and ends inside the measured window.
let phase: 'warmup' | 'measure' | 'done' = 'warmup';
let windowStart = 0;
let windowEnd = 0;
let measuredStarted = 0;
const loginLatencies: number[] = [];
let cpuBefore: number | undefined;
let systemBefore: number | undefined;
let systemAfter: number | undefined;
let ioBefore: ReturnType<typeof ioCounters>;
let ioAfter: ReturnType<typeof ioCounters>;
let pgBefore: Map<number, number> | undefined;
let selfBefore: NodeJS.CpuUsage | undefined;
let schedBefore: { runMs: number; waitMs: number } | undefined;
let schedAfter: { runMs: number; waitMs: number } | undefined;
let threadsBefore = new Map<string, number>();
let threadsAfter = new Map<string, number>();
let busyBefore = 0;
let busyAfter = 0;
let cpuAfter: number | undefined;
let pgAfter: Map<number, number> | undefined;
let selfCpuMs = 0;
let rssMaxKb = 0;
const sampleRss = () => {
  if (serverPid === undefined) return;
  const kb = statusKb(serverPid, 'VmRSS');
  if (kb !== undefined && kb > rssMaxKb) rssMaxKb = kb;
};
let walMaxBytes = 0;
const sampleWal = () => {
  if (sqlitePath) walMaxBytes = Math.max(walMaxBytes, fileSize(`${sqlitePath}-wal`));
};
const rssTimer = setInterval(() => {
  sampleRss();
  sampleWal();
}, 100);
let usageBefore: ReturnType<typeof sqliteUsage>;
let usageAfter: ReturnType<typeof sqliteUsage>;

const hardStop = performance.now() + (warmupSeconds + durationSeconds + 30) * 1000;
const phases = new Promise<void>((resolve) => {
  setTimeout(() => {
    phase = 'measure';
    if (mark && serverPid !== undefined) process.kill(serverPid, 'SIGUSR2');
    windowStart = performance.now();
    if (serverPid !== undefined) {
      cpuBefore = cpuMs(serverPid);
      systemBefore = cpuMs(serverPid, 'system');
      ioBefore = ioCounters(serverPid);
      threadsBefore = threadCpu(serverPid);
      schedBefore = mainThreadSched(serverPid);
    }
    if (pgPid !== undefined) pgBefore = pgCpu(pgPid);
    if (sqlitePath) usageBefore = sqliteUsage(sqlitePath);
    selfBefore = process.cpuUsage();
    busyBefore = machineBusyMs();
    setTimeout(() => {
      phase = 'done';
      if (mark && serverPid !== undefined) process.kill(serverPid, 'SIGUSR2');
      windowEnd = performance.now();
      if (serverPid !== undefined) {
        cpuAfter = cpuMs(serverPid);
        systemAfter = cpuMs(serverPid, 'system');
        ioAfter = ioCounters(serverPid);
        threadsAfter = threadCpu(serverPid);
        schedAfter = mainThreadSched(serverPid);
      }
      if (pgPid !== undefined) pgAfter = pgCpu(pgPid);
      const self = process.cpuUsage(selfBefore);
      selfCpuMs = (self.user + self.system) / 1000;
      busyAfter = machineBusyMs();
      if (sqlitePath) usageAfter = sqliteUsage(sqlitePath);
      resolve();
    }, durationSeconds * 1000);
  }, warmupSeconds * 1000);
});

await Promise.all(
  authenticators.map(async (auth, c) => {
    if (!ready[c]) return;
    while (phase !== 'done' && performance.now() < hardStop && errorCount < MAX_ERRORS) {
      if (phase === 'measure' && measuredStarted >= maxLogins) break;
      const started = performance.now();
      const counted = phase === 'measure';
      if (counted) measuredStarted++;
      let ok = false;
      try {
        ok = await login(auth);
      } catch (error) {
        fail('login', 'exception', { status: 0, text: String(error) });
      }
      const ended = performance.now();
      if (ok && counted && phase === 'measure') loginLatencies.push(ended - started);
    }
  }),
);
// If --max-logins ended the loop early, close the window now.
if ((phase as string) !== 'done') {
  phase = 'done';
  if (mark && serverPid !== undefined) process.kill(serverPid, 'SIGUSR2');
  windowEnd = performance.now();
  if (serverPid !== undefined) {
    cpuAfter = cpuMs(serverPid);
    systemAfter = cpuMs(serverPid, 'system');
    ioAfter = ioCounters(serverPid);
    threadsAfter = threadCpu(serverPid);
    schedAfter = mainThreadSched(serverPid);
  }
  if (pgPid !== undefined) pgAfter = pgCpu(pgPid);
  const self = process.cpuUsage(selfBefore);
  selfCpuMs = (self.user + self.system) / 1000;
  busyAfter = machineBusyMs();
  if (sqlitePath) usageAfter = sqliteUsage(sqlitePath);
} else {
  await phases;
}
clearInterval(rssTimer);
sampleRss();
sampleWal();

const windowSeconds = (windowEnd - windowStart) / 1000;
const loginStats = summarize(loginLatencies, windowSeconds);
const n = Math.max(1, loginStats.count);
const round = (x: number, d = 3) => Math.round(x * 10 ** d) / 10 ** d;
const serverCpu = cpuBefore !== undefined && cpuAfter !== undefined ? cpuAfter - cpuBefore : undefined;
const pgCpuTotal = pgBefore && pgAfter ? pgCpuDelta(pgBefore, pgAfter) : 0;
// CPU the machine spent on anything but the server, PostgreSQL and this process (other jobs,
// kernel threads): a noisy neighbour shows up here, in cores.
const foreignCores = (busyAfter - busyBefore - (serverCpu ?? 0) - pgCpuTotal - selfCpuMs) / (windowSeconds * 1000);
const result: LoadResult = {
  base,
  client: clientKind,
  clients,
  readyClients: ready.filter(Boolean).length,
  registration,
  login: loginStats,
  errors: errorCount,
  firstErrors: errors,
  server:
    serverPid === undefined
      ? undefined
      : {
          pid: serverPid,
          cpuMsPerLogin: serverCpu === undefined ? undefined : round(serverCpu / n),
          systemCpuMsPerLogin: systemBefore === undefined || systemAfter === undefined ? undefined : round((systemAfter - systemBefore) / n),
          cpuUtilization: serverCpu === undefined ? undefined : round(serverCpu / (windowSeconds * 1000), 2),
          // Cores used by each kind of thread (MainThread = the event loop; thread exits are not counted).
          threadCores: Object.fromEntries(
            [...threadsAfter]
              .map(([name, ms]) => [name, round((ms - (threadsBefore.get(name) ?? 0)) / (windowSeconds * 1000), 2)] as const)
              .filter(([, cores]) => cores >= 0.01),
          ),
          // Share of the window the event-loop thread spent running, waiting for a CPU, and off-CPU
          // (idle in epoll, or blocked in a syscall such as fsync).
          mainThread:
            schedBefore && schedAfter
              ? {
                  running: round((schedAfter.runMs - schedBefore.runMs) / (windowSeconds * 1000), 2),
                  waitingForCpu: round((schedAfter.waitMs - schedBefore.waitMs) / (windowSeconds * 1000), 2),
                  offCpu: round(1 - (schedAfter.runMs - schedBefore.runMs + schedAfter.waitMs - schedBefore.waitMs) / (windowSeconds * 1000), 2),
                }
              : undefined,
          // Writes per login, from /proc/<pid>/io (all threads: WAL frames, checkpoints, sockets).
          io:
            ioBefore && ioAfter
              ? {
                  wcharBytesPerLogin: Math.round((ioAfter.wchar - ioBefore.wchar) / n),
                  writeCallsPerLogin: round((ioAfter.syscw - ioBefore.syscw) / n, 2),
                  storageBytesPerLogin: Math.round((ioAfter.writeBytes - ioBefore.writeBytes) / n),
                }
              : undefined,
          rssPeakSampledMB: round(rssMaxKb / 1024, 1),
          vmHwmMB: round((statusKb(serverPid, 'VmHWM') ?? 0) / 1024, 1),
        },
  postgres:
    pgBefore && pgAfter
      ? { cpuMsPerLogin: round(pgCpuTotal / n), cpuUtilization: round(pgCpuTotal / (windowSeconds * 1000), 2) }
      : undefined,
  sqlite: sqlitePath
    ? {
        walPeakMB: round(walMaxBytes / 2 ** 20, 1),
        walAtEndMB: round(fileSize(`${sqlitePath}-wal`) / 2 ** 20, 1),
        dbGrowthBytesPerLogin: usageBefore && usageAfter ? Math.round((usageAfter.usedBytes - usageBefore.usedBytes) / n) : undefined,
        // Rows each login left behind, per table (sweeps run once a minute, so not inside the window).
        rowsPerLogin:
          usageBefore && usageAfter
            ? Object.fromEntries(
                Object.entries(usageAfter.rows)
                  .map(([table, count]) => [table, round((count - (usageBefore?.rows[table] ?? 0)) / n, 2)] as const)
                  .filter(([, perLogin]) => perLogin !== 0),
              )
            : undefined,
      }
    : undefined,
  machine: { busyCores: round((busyAfter - busyBefore) / (windowSeconds * 1000), 2), foreignCores: round(foreignCores, 2) },
  loadgen: { cpuMsPerLogin: round(selfCpuMs / n), cpuUtilization: round(selfCpuMs / (windowSeconds * 1000), 2) },
};
process.stdout.write(`${JSON.stringify(result)}\n`);
process.exit(0);
