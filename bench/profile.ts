/**
 * Where does a login ceremony's server time go? Runs ONE server with bench/tools/preload.ts,
 * drives it with bench/load.ts --mark, and reports for the measured login window:
 *   - SQL statements executed (and prepared) per login, by statement text;
 *   - the main thread's V8 CPU profile: self time by function, by file/package, and inclusive
 *     time of the functions that matter, in µs per login.
 * Not part of `npm run bench`; a tool for investigating a miss.
 *
 * Usage: node bench/profile.ts [--target=latchkey|baseline] [--db=sqlite|postgres] [--workers=0]
 *        [--pin=0] [--clients=50] [--warmup=3] [--duration=8] [--top=40] [--keep=/tmp/dir] [--webhooks]
 *        [--server-env=LATCHKEY_X=1,LATCHKEY_Y=2]
 * --webhooks: a webhook endpoint subscribed to `*` on a local receiver (bench/tools/webhook-endpoint.ts).
 * --server-env: LATCHKEY_* settings for the server, e.g. LATCHKEY_SIEM_FILE=/tmp/p.ndjson or
 * LATCHKEY_METRICS_PORT=0 (the SIEM export or the metrics on).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildServer } from '../scripts/build-server.mjs';
import { SERVER_NODE_FLAGS } from '../scripts/server-node-flags.mjs';
import { parseServerEnv } from './tools/server-env.ts';
import { startWebhooks, WEBHOOK_BENCH_ENV } from './tools/webhook-endpoint.ts';

// A variable, so that TypeScript does not look for declarations of the untyped helper.
const POSTGRES_HELPER = '../scripts/postgres.mjs';
const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = Object.fromEntries(
  process.argv.slice(2).map((a) => {
    const [k, ...v] = a.replace(/^--/, '').split('=');
    return [k, v.length ? v.join('=') : 'true'];
  }),
) as Record<string, string | undefined>;
const target = args.target ?? 'latchkey';
const dbKind = args.db ?? 'sqlite';
const workers = args.workers ?? '0';
const pin = args.pin === 'none' ? undefined : (args.pin ?? '0');
const clients = args.clients ?? '50';
const warmup = args.warmup ?? '3';
const duration = args.duration ?? '8';
const top = Number(args.top ?? 40);
const dir = args.keep ?? mkdtempSync('/tmp/latchkey-profile-');
const serverEnv = parseServerEnv(args['server-env']);

const port = await new Promise<number>((resolve) => {
  const s = createServer().listen(0, '127.0.0.1', () => {
    const a = s.address();
    s.close(() => resolve(typeof a === 'object' && a ? a.port : 0));
  });
});
const origin = `http://localhost:${port}`;

let pg: { url: string; dir: string; stop(): void } | undefined;
let pgPid: number | undefined;
if (dbKind === 'postgres') {
  const { startPostgres } = (await import(POSTGRES_HELPER)) as { startPostgres(): Promise<{ url: string; dir: string; stop(): void }> };
  pg = await startPostgres();
  pgPid = Number(readFileSync(join(pg.dir, 'data', 'postmaster.pid'), 'utf8').split('\n')[0]);
}

const env: Record<string, string> = { ...(process.env as Record<string, string>), BENCH_PRELOAD_OUT: dir };
let serverArgs: string[];
if (target === 'latchkey') {
  Object.assign(env, {
    LATCHKEY_PORT: String(port),
    LATCHKEY_HOST: '127.0.0.1',
    LATCHKEY_DATABASE_URL: pg ? pg.url : `sqlite:${join(dir, 'latchkey.db')}`,
    LATCHKEY_ORIGINS: origin,
    LATCHKEY_RP_ID: 'localhost',
    LATCHKEY_LOG_LEVEL: 'warn',
    LATCHKEY_VERIFY_WORKERS: workers,
    LATCHKEY_SIGNUP_PER_IP_PER_HOUR: '100000',
    LATCHKEY_AUTH_PER_IP_PER_HOUR: '1000000',
    ...(args.webhooks === 'true' ? WEBHOOK_BENCH_ENV : {}),
    ...serverEnv,
  });
  serverArgs = ['--import', './bench/tools/preload.ts', ...SERVER_NODE_FLAGS, buildServer()];
} else {
  Object.assign(env, { BASELINE_PORT: String(port), BASELINE_DB: join(dir, 'baseline.db'), BASELINE_ORIGIN: origin });
  serverArgs = ['--no-warnings', '--import', './bench/tools/preload.ts', 'bench/baseline/server.ts'];
}
const argv = [process.execPath, ...serverArgs];
const server = pin === undefined ? spawn(argv[0] as string, argv.slice(1), { cwd: root, env, stdio: 'inherit' }) : spawn('taskset', ['-c', pin, ...argv], { cwd: root, env, stdio: 'inherit' });

try {
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      if ((await fetch(`http://127.0.0.1:${port}/healthz`)).ok) break;
    } catch {
      // not yet
    }
    if (Date.now() > deadline) throw new Error('server did not start');
    await new Promise((r) => setTimeout(r, 100));
  }
  const webhooks = args.webhooks === 'true' ? await startWebhooks(root, env.LATCHKEY_DATABASE_URL as string, port) : undefined;
  const load = spawn(
    'taskset',
    ['-c', '1', process.execPath, 'bench/load.ts', `--base=http://127.0.0.1:${port}`, `--origin=${origin}`, `--clients=${clients}`, '--regs=1', `--warmup=${warmup}`, `--duration=${duration}`, `--pid=${server.pid}`, '--mark', ...(pgPid ? [`--pg-pid=${pgPid}`] : [])],
    { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] },
  );
  let text = '';
  load.stdout.on('data', (d) => (text += d));
  await new Promise((r) => load.on('exit', r));
  const result = JSON.parse(text);
  const logins = result.login.count as number;
  if (webhooks) {
    console.log(`webhooks received by the end of the window: ${((await webhooks.count()) / logins).toFixed(2)} per login`);
    await webhooks.stop();
  }
  console.log(`${target} ${dbKind} workers=${workers} pin=${pin ?? 'none'}: ${result.login.perSecond} logins/s, p50 ${result.login.p50Ms} ms, p99 ${result.login.p99Ms} ms, server CPU ${result.server.cpuMsPerLogin} ms/login (${result.server.cpuUtilization} cores), RSS peak ${result.server.vmHwmMB} MB, errors ${result.errors}, other CPU ${result.machine.foreignCores} cores`);
  if (result.postgres) console.log(`PostgreSQL: ${result.postgres.cpuMsPerLogin} ms CPU/login`);
  if (result.errors) console.log('first errors:', JSON.stringify(result.firstErrors, null, 1));

  for (let i = 0; i < 50 && !existsSync(join(dir, 'counts.json')); i++) await new Promise((r) => setTimeout(r, 100));
  const { marks } = JSON.parse(readFileSync(join(dir, 'counts.json'), 'utf8')) as {
    marks: { executed: Record<string, number>; sqlTimeUs: Record<string, number>; slowCalls: Record<string, number>; slowTimeUs: Record<string, number>; prepared: Record<string, number>; cpu: { user: number; system: number }; memory: Record<string, number> }[];
  };
  const [a, b] = marks as [(typeof marks)[0], (typeof marks)[0]];
  const perLogin = (after: Record<string, number>, before: Record<string, number>) =>
    Object.entries(after)
      .map(([sql, n]) => [sql, (n - (before[sql] ?? 0)) / logins] as const)
      .filter(([, n]) => n > 0.001)
      .sort((x, y) => y[1] - x[1]);
  const executed = perLogin(b.executed, a.executed);
  const prepared = perLogin(b.prepared, a.prepared);
  console.log(`\nSQL per login: ${executed.reduce((s, [, n]) => s + n, 0).toFixed(2)} statements executed, ${prepared.reduce((s, [, n]) => s + n, 0).toFixed(2)} prepared`);
  const timeUs = new Map(perLogin(b.sqlTimeUs, a.sqlTimeUs));
  console.log(`time inside node:sqlite calls: ${[...timeUs.values()].reduce((s, v) => s + v, 0).toFixed(0)} µs per login`);
  const slowN = (sql: string) => (b.slowCalls[sql] ?? 0) - (a.slowCalls[sql] ?? 0);
  const slowUs = (sql: string) => (b.slowTimeUs[sql] ?? 0) - (a.slowTimeUs[sql] ?? 0);
  for (const [sql] of executed) if (slowN(sql) > 0) console.log(`  calls over 1 ms: ${slowN(sql)} × (${(slowUs(sql) / slowN(sql) / 1000).toFixed(1)} ms avg, ${(slowUs(sql) / logins).toFixed(1)} µs per login) in ${sql.slice(0, 60)}`);
  for (const [sql, n] of executed) console.log(`  ${n.toFixed(2)}× ${timeUs.has(sql) ? `${(timeUs.get(sql) as number).toFixed(1).padStart(6)} µs` : ''}  ${sql.replace(/\s+/g, ' ').slice(0, 150)}`);
  console.log(`memory at the end of the window: ${JSON.stringify((b as unknown as { heapSpacesMB: unknown }).heapSpacesMB)} ${JSON.stringify((b as unknown as { status: unknown }).status)}`);
  const mainCpuMs = (b.cpu.user + b.cpu.system - a.cpu.user - a.cpu.system) / 1000;
  console.log(`\nprocess CPU (all threads, from process.cpuUsage) per login: ${((mainCpuMs / logins) * 1000).toFixed(0)} µs; heapUsed ${(b.memory.heapUsed! / 2 ** 20).toFixed(0)} MB, rss ${(b.memory.rss! / 2 ** 20).toFixed(0)} MB, external ${(b.memory.external! / 2 ** 20).toFixed(0)} MB, arrayBuffers ${(b.memory.arrayBuffers! / 2 ** 20).toFixed(0)} MB`);

  // CPU profile of the main thread.
  interface Node {
    id: number;
    callFrame: { functionName: string; url: string; lineNumber: number };
    children?: number[];
  }
  const profile = JSON.parse(readFileSync(join(dir, 'main.cpuprofile'), 'utf8')) as { nodes: Node[]; samples: number[]; timeDeltas: number[]; startTime: number; endTime: number };
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const usPerSample = (profile.endTime - profile.startTime) / profile.samples.length;
  const short = (url: string) =>
    url
      .replace(/^file:\/\//, '')
      .replace(`${root}/`, '')
      .replace(/^.*node_modules\//, 'node_modules/');
  const bucketOf = (url: string, name: string) => {
    if (!url) return name.startsWith('(') ? name : '(native / builtin)';
    if (url.startsWith('node:')) return url.split('/')[0] as string;
    const s = short(url);
    const m = /^node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(s);
    if (m) return m[1] as string;
    return s;
  };
  const keyOf = (n: Node) => `${n.callFrame.functionName || '(anonymous)'} ${short(n.callFrame.url)}:${n.callFrame.lineNumber + 1}`;
  const self = new Map<string, number>();
  const bucket = new Map<string, number>();
  const inclusive = new Map<string, number>();
  let idle = 0;
  for (const id of profile.samples) {
    const n = byId.get(id) as Node;
    if (n.callFrame.functionName === '(idle)') idle++;
    self.set(keyOf(n), (self.get(keyOf(n)) ?? 0) + 1);
    const bk = bucketOf(n.callFrame.url, n.callFrame.functionName);
    bucket.set(bk, (bucket.get(bk) ?? 0) + 1);
    const seen = new Set<string>();
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const k = keyOf(byId.get(cur) as Node);
      if (!seen.has(k)) {
        seen.add(k);
        inclusive.set(k, (inclusive.get(k) ?? 0) + 1);
      }
    }
  }
  // Where each sample belongs, deciding from the leaf up: the first frame with a known home.
  const SQL_NATIVES = new Set(['run', 'all', 'get', 'prepare', 'exec', 'iterate']);
  const categoryOfFrame = (n: Node): string | undefined => {
    const { url, functionName } = n.callFrame;
    if (functionName === '(garbage collector)') return 'GC';
    if (functionName === '(program)') return 'V8 / runtime (program)';
    if (functionName === '(idle)') return 'idle';
    if (/kysely|node-sqlite-database|pg\/lib|pg-protocol|pg-pool|postgres-driver/.test(url)) return 'database (driver + query builder)';
    if (/simplewebauthn|asn1|tiny-cbor|@hexagon|@peculiar|pvtsutils|tsyringe|node:internal\/crypto/.test(url)) return 'WebAuthn library + WebCrypto';
    if (/fastify|find-my-way|light-my-request|secure-json-parse|fast-json-stringify|ajv|node:_http|node:net|node:internal\/streams|node:internal\/stream_base|node:events|node:internal\/http/.test(url)) return 'HTTP (node:http + Fastify + plugins)';
    if (/writeUtf8String|writev|writeBuffer|writeLatin1String/.test(functionName) && !url) return 'HTTP (node:http + Fastify + plugins)';
    if (url.includes('packages/server/src') || url.includes('packages/server/dist')) return 'Latchkey application code';
    if (url.includes('bench/baseline')) return 'baseline application code';
    return undefined;
  };
  const category = new Map<string, number>();
  for (const id of profile.samples) {
    const leaf = byId.get(id) as Node;
    let cat: string | undefined;
    if (!leaf.callFrame.url && SQL_NATIVES.has(leaf.callFrame.functionName)) {
      let cur = parent.get(id);
      while (cur !== undefined && (byId.get(cur) as Node).callFrame.url.includes('bench/tools/preload')) cur = parent.get(cur);
      const caller = cur === undefined ? '' : (byId.get(cur) as Node).callFrame.url;
      cat = caller.startsWith('node:internal/crypto') ? 'WebAuthn library + WebCrypto' : 'SQLite engine (node:sqlite calls, incl. WAL writes and checkpoints)';
    }
    for (let cur: number | undefined = id; cat === undefined && cur !== undefined; cur = parent.get(cur)) cat = categoryOfFrame(byId.get(cur) as Node);
    cat ??= 'other';
    category.set(cat, (category.get(cat) ?? 0) + 1);
  }
  const busy = profile.samples.length - idle;
  const us = (samples: number) => ((samples * usPerSample) / logins).toFixed(1).padStart(7);
  const pct = (samples: number) => `${((samples / busy) * 100).toFixed(1).padStart(5)}%`;
  console.log(`\nmain thread: ${((busy * usPerSample) / logins).toFixed(0)} µs busy per login (${((idle / profile.samples.length) * 100).toFixed(0)}% idle); µs/login and % of busy`);
  console.log('\nby category (each sample goes to the innermost frame with a known home):');
  for (const [k, n] of [...category].sort((x, y) => y[1] - x[1])) if (k !== 'idle') console.log(`  ${us(n)} ${pct(n)}  ${k}`);
  console.log('\nself time by package / file:');
  for (const [k, n] of [...bucket].sort((x, y) => y[1] - x[1]).slice(0, 25)) if (k !== '(idle)') console.log(`  ${us(n)} ${pct(n)}  ${k}`);
  console.log('\nself time by function:');
  for (const [k, n] of [...self].sort((x, y) => y[1] - x[1]).slice(0, top)) if (!k.startsWith('(idle)')) console.log(`  ${us(n)} ${pct(n)}  ${k}`);
  console.log('\ninclusive time by function:');
  for (const [k, n] of [...inclusive].sort((x, y) => y[1] - x[1]).slice(0, top)) if (!k.startsWith('(idle)') && !k.startsWith('(root)')) console.log(`  ${us(n)} ${pct(n)}  ${k}`);
  console.log(`\nfiles kept in ${dir}`);
} finally {
  server.kill('SIGTERM');
  await new Promise((r) => server.on('exit', r));
  pg?.stop();
}
