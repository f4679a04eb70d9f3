/**
 * What one login costs the server, as counts rather than throughput (a shared machine makes
 * logins/s noisy; CPU time and statements per login much less so). For each round, a fresh server
 * and database per target, in alternating order, each driven by bench/load.ts (pinned to cpu 1)
 * through a bounded number of discoverable logins; reports per target the median and range over
 * the rounds of:
 *   - server CPU ms per login (utime+stime of the whole process, all threads, /proc/<pid>/stat),
 *     and for PostgreSQL the cluster's CPU ms per login;
 *   - bytes the server passed to write calls, write calls, and bytes sent to storage, per login
 *     (/proc/<pid>/io; SQLite's WAL frames and checkpoints, plus the HTTP responses);
 *   - database growth per login (SQLite);
 *   - with --sql, SQL statements executed per login by text (bench/tools/preload.ts, no profiler).
 *
 * Targets: a checkout's Latchkey (its own compiled dist; `--roots=/path/a,/path/b`, default this
 * one), and with --baseline the baseline server (bench/baseline, from this checkout) as a control
 * for the host's speed. Not part of `npm run bench`.
 *
 * Usage: node bench/cost.ts [--roots=.,/work/wt/old] [--labels=new,old] [--baseline] [--rounds=5]
 *        [--logins=3000] [--clients=50] [--warmup=2] [--db=sqlite|postgres] [--pin=0] [--sql]
 *        [--server-env=LATCHKEY_X=1,LATCHKEY_Y=2] [--env-<label>=LATCHKEY_X=1] [--json=/tmp/cost.json]
 *        [--webhooks[=label,label]] [--signin-summary=label,label]
 * --webhooks: a webhook endpoint subscribed to `*` on a local receiver (bench/tools/webhook-receiver.ts,
 * pinned to cpu 1 with the load generator) for every Latchkey target, or for the labels named; the
 * report adds the webhooks received per login and how long the backlog took to drain after the run.
 * --signin-summary: for these labels that endpoint takes sign-ins as one count a minute
 * (`signinSucceeded`/`signinFailed` `{"mode":"summary"}`) instead of a delivery each.
 * The same root may appear twice under two labels, e.g. with a setting changed for one of them.
 * Only 127.0.0.1.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SERVER_NODE_FLAGS } from '../scripts/server-node-flags.mjs';
import { parseServerEnv } from './tools/server-env.ts';
import { SIGNINS_AS_SUMMARY, startWebhooks, WEBHOOK_BENCH_ENV } from './tools/webhook-endpoint.ts';
import type { LoadResult } from './types.ts';

const POSTGRES_HELPER = '../scripts/postgres.mjs';
const here = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = Object.fromEntries(
  process.argv.slice(2).map((a) => {
    const [k, ...v] = a.replace(/^--/, '').split('=');
    return [k, v.length ? v.join('=') : 'true'];
  }),
) as Record<string, string | undefined>;
const roots = (args.roots ?? '.').split(',').map((r) => resolve(r));
const labels = args.labels ? args.labels.split(',') : roots.map((r) => r.split('/').pop() as string);
const withBaseline = args.baseline === 'true';
const rounds = Number(args.rounds ?? 5);
const logins = Number(args.logins ?? 3000);
const clients = args.clients ?? '50';
const warmup = args.warmup ?? '2';
const dbKind = args.db ?? 'sqlite';
const pin = args.pin === 'none' ? undefined : (args.pin ?? '0');
const countSql = args.sql === 'true';
/** LATCHKEY_* settings for every Latchkey server, and per target (`--env-<label>=K=V,K=V`). */
const serverEnv = parseServerEnv(args['server-env']);
const webhookLabels = args.webhooks === undefined ? new Set<string>() : args.webhooks === 'true' ? undefined : new Set(args.webhooks.split(','));
const wantsWebhooks = (label: string) => (webhookLabels === undefined ? true : webhookLabels.has(label));
const summaryLabels = new Set(args['signin-summary']?.split(',') ?? []);
const endpointSettings = (label: string) => (summaryLabels.has(label) ? SIGNINS_AS_SUMMARY : {});

const freePort = () =>
  new Promise<number>((done) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => done(typeof a === 'object' && a ? a.port : 0));
    });
  });

// Each checkout's server, compiled by that checkout's own build script.
const entries = roots.map((root) => {
  execFileSync(process.execPath, [join(root, 'scripts', 'build-server.mjs')], { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] });
  const entry = join(root, 'packages', 'server', 'dist', 'main.js');
  if (!existsSync(entry)) throw new Error(`no build at ${entry}`);
  return entry;
});

interface Target {
  label: string;
  kind: 'latchkey' | 'baseline';
  root: string;
  entry?: string;
}
const targets: Target[] = roots.map((root, i) => ({ label: labels[i] ?? root, kind: 'latchkey' as const, root, entry: entries[i] }));
if (withBaseline) targets.push({ label: 'baseline', kind: 'baseline', root: here });

interface Sample {
  label: string;
  round: number;
  logins: number;
  perSecond: number;
  cpuMs: number;
  systemCpuMs?: number;
  pgCpuMs?: number;
  wchar?: number;
  writeCalls?: number;
  storage?: number;
  dbGrowth?: number;
  statements?: number;
  byStatement?: [string, number][];
  errors: number;
  foreignCores: number;
  webhooksPerLogin?: number;
  drainMs?: number;
}

async function stop(child: ChildProcess) {
  if (child.exitCode !== null) return;
  child.kill('SIGTERM');
  const killer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await new Promise((r) => child.on('exit', r));
  clearTimeout(killer);
}

async function runOnce(target: Target, round: number): Promise<Sample> {
  const tmp = mkdtempSync('/tmp/latchkey-cost-');
  const port = await freePort();
  const origin = `http://localhost:${port}`;
  let pg: { url: string; dir: string; stop(): void } | undefined;
  let pgPid: number | undefined;
  const env: Record<string, string> = { ...(process.env as Record<string, string>) };
  for (const key of Object.keys(env)) if (key.startsWith('LATCHKEY_') || key.startsWith('BASELINE_')) delete env[key];
  const dbFile = join(tmp, 'bench.db');
  let webhooks: Awaited<ReturnType<typeof startWebhooks>> | undefined;
  let argv: string[];
  const preload = countSql ? ['--import', join(here, 'bench', 'tools', 'preload.ts')] : [];
  if (countSql) Object.assign(env, { BENCH_PRELOAD_OUT: tmp, BENCH_PRELOAD_NO_PROFILE: '1' });
  if (target.kind === 'latchkey') {
    if (dbKind === 'postgres') {
      const { startPostgres } = (await import(POSTGRES_HELPER)) as { startPostgres(): Promise<{ url: string; dir: string; stop(): void }> };
      pg = await startPostgres();
      pgPid = Number(readFileSync(join(pg.dir, 'data', 'postmaster.pid'), 'utf8').split('\n')[0]);
    }
    Object.assign(env, {
      LATCHKEY_PORT: String(port),
      LATCHKEY_HOST: '127.0.0.1',
      LATCHKEY_DATABASE_URL: pg ? pg.url : `sqlite:${dbFile}`,
      LATCHKEY_ORIGINS: origin,
      LATCHKEY_RP_ID: 'localhost',
      LATCHKEY_LOG_LEVEL: 'warn',
      LATCHKEY_VERIFY_WORKERS: '0',
      LATCHKEY_SIGNUP_PER_IP_PER_HOUR: '100000',
      LATCHKEY_AUTH_PER_IP_PER_HOUR: '1000000',
      ...serverEnv,
      ...(wantsWebhooks(target.label) ? WEBHOOK_BENCH_ENV : {}),
      ...parseServerEnv(args[`env-${target.label}`], `--env-${target.label}`),
    });
    argv = [process.execPath, ...preload, ...SERVER_NODE_FLAGS, target.entry as string];
  } else {
    Object.assign(env, { BASELINE_PORT: String(port), BASELINE_HOST: '127.0.0.1', BASELINE_DB: dbFile, BASELINE_ORIGIN: origin, BASELINE_RP_ID: 'localhost' });
    argv = [process.execPath, '--no-warnings', ...preload, 'bench/baseline/server.ts'];
  }
  const [cmd, cmdArgs] = pin === undefined ? [argv[0] as string, argv.slice(1)] : ['taskset', ['-c', pin, ...argv]];
  const child = spawn(cmd, cmdArgs, { cwd: target.kind === 'latchkey' ? target.root : here, env, stdio: ['ignore', 'ignore', 'inherit'] });
  try {
    const deadline = Date.now() + 30_000;
    for (;;) {
      try {
        if ((await fetch(`http://127.0.0.1:${port}/healthz`)).ok) break;
      } catch {
        // not yet
      }
      if (child.exitCode !== null || Date.now() > deadline) throw new Error(`${target.label}: server did not start`);
      await new Promise((r) => setTimeout(r, 100));
    }
    webhooks = target.kind === 'latchkey' && wantsWebhooks(target.label) ? await startWebhooks(target.root, env.LATCHKEY_DATABASE_URL ?? '', port, endpointSettings(target.label)) : undefined;
    const load = spawn(
      'taskset',
      [
        '-c',
        '1',
        process.execPath,
        'bench/load.ts',
        `--base=http://127.0.0.1:${port}`,
        `--origin=${origin}`,
        `--clients=${clients}`,
        '--regs=1',
        `--warmup=${warmup}`,
        '--duration=120',
        `--max-logins=${logins}`,
        `--pid=${child.pid}`,
        ...(countSql ? ['--mark'] : []),
        ...(pgPid ? [`--pg-pid=${pgPid}`] : [`--sqlite=${dbFile}`]),
      ],
      { cwd: here, stdio: ['ignore', 'pipe', 'inherit'] },
    );
    let text = '';
    load.stdout?.on('data', (d) => (text += d));
    await new Promise((r) => load.on('exit', r));
    const result = JSON.parse(text) as LoadResult;
    const n = result.login.count;
    const sample: Sample = {
      label: target.label,
      round,
      logins: n,
      perSecond: result.login.perSecond,
      cpuMs: result.server?.cpuMsPerLogin ?? Number.NaN,
      ...(result.server?.systemCpuMsPerLogin !== undefined ? { systemCpuMs: result.server.systemCpuMsPerLogin } : {}),
      errors: result.errors,
      foreignCores: result.machine.foreignCores,
      ...(result.postgres ? { pgCpuMs: result.postgres.cpuMsPerLogin } : {}),
      ...(result.server?.io ? { wchar: result.server.io.wcharBytesPerLogin, writeCalls: result.server.io.writeCallsPerLogin, storage: result.server.io.storageBytesPerLogin } : {}),
      ...(result.sqlite?.dbGrowthBytesPerLogin !== undefined ? { dbGrowth: result.sqlite.dbGrowthBytesPerLogin } : {}),
    };
    if (countSql) {
      const file = join(tmp, 'counts.json');
      for (let i = 0; i < 50 && !existsSync(file); i++) await new Promise((r) => setTimeout(r, 100));
      const { marks } = JSON.parse(readFileSync(file, 'utf8')) as { marks: { executed: Record<string, number> }[] };
      const [a, b] = marks as [{ executed: Record<string, number> }, { executed: Record<string, number> }];
      sample.byStatement = Object.entries(b.executed)
        .map(([sql, count]) => [sql.replace(/\s+/g, ' '), (count - (a.executed[sql] ?? 0)) / n] as [string, number])
        .filter(([, perLogin]) => perLogin > 0.001)
        .sort((x, y) => y[1] - x[1]);
      sample.statements = sample.byStatement.reduce((s, [, perLogin]) => s + perLogin, 0);
    }
    if (webhooks) {
      // Received during the run, then how long the rest of the backlog takes to arrive.
      const atEnd = await webhooks.count();
      const drainStart = Date.now();
      let last = atEnd;
      for (let quiet = 0; quiet < 10 && Date.now() - drainStart < 60_000; ) {
        await new Promise((r) => setTimeout(r, 200));
        const now = await webhooks.count();
        quiet = now === last ? quiet + 1 : 0;
        last = now;
      }
      sample.webhooksPerLogin = atEnd / n;
      sample.drainMs = Math.max(0, Date.now() - drainStart - 2000);
    }
    if (result.errors) console.error(`${target.label}: ${result.errors} errors`, JSON.stringify(result.firstErrors[0]));
    return sample;
  } finally {
    await webhooks?.stop();
    await stop(child);
    pg?.stop();
    rmSync(tmp, { recursive: true, force: true });
  }
}

const samples: Sample[] = [];
for (let round = 1; round <= rounds; round++) {
  // Alternate the order so that neither target always runs right after the other.
  const order = round % 2 === 1 ? targets : [...targets].reverse();
  for (const target of order) {
    const s = await runOnce(target, round);
    samples.push(s);
    console.log(
      `round ${round} ${s.label.padEnd(10)} ${String(s.logins).padStart(5)} logins ${s.perSecond.toFixed(0).padStart(5)}/s  CPU ${s.cpuMs.toFixed(3)} ms/login (kernel ${s.systemCpuMs?.toFixed(3) ?? '-'})${s.pgCpuMs !== undefined ? ` (+PostgreSQL ${s.pgCpuMs.toFixed(3)})` : ''}  writes ${s.wchar ?? '-'} B in ${s.writeCalls ?? '-'} calls, storage ${s.storage ?? '-'} B, db +${s.dbGrowth ?? '-'} B${s.statements !== undefined ? `, ${s.statements.toFixed(2)} SQL statements` : ''}${s.webhooksPerLogin !== undefined ? `, webhooks ${s.webhooksPerLogin.toFixed(2)}/login (drained ${s.drainMs} ms after)` : ''}  (other CPU on box ${s.foreignCores} cores)`,
    );
  }
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
};
const summary = (xs: (number | undefined)[], digits: number) => {
  const v = xs.filter((x): x is number => x !== undefined && Number.isFinite(x));
  if (v.length === 0) return '-';
  return `${median(v).toFixed(digits)} [${Math.min(...v).toFixed(digits)}-${Math.max(...v).toFixed(digits)}]`;
};
console.log(`\n${dbKind}, ${logins} logins per run, ${clients} clients, ${rounds} rounds: median [min-max]`);
console.log('| target | server CPU ms/login | of it kernel | PostgreSQL CPU ms/login | SQL statements/login | bytes to write calls/login | write calls/login | storage bytes/login | db growth B/login | logins/s |');
console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
for (const t of targets) {
  const of = samples.filter((s) => s.label === t.label);
  console.log(
    `| ${t.label} | ${summary(of.map((s) => s.cpuMs), 3)} | ${summary(of.map((s) => s.systemCpuMs), 3)} | ${summary(of.map((s) => s.pgCpuMs), 3)} | ${summary(of.map((s) => s.statements), 2)} | ${summary(of.map((s) => s.wchar), 0)} | ${summary(of.map((s) => s.writeCalls), 1)} | ${summary(of.map((s) => s.storage), 0)} | ${summary(of.map((s) => s.dbGrowth), 0)} | ${summary(of.map((s) => s.perSecond), 0)} |`,
  );
}
if (withBaseline) {
  for (const t of targets.filter((x) => x.kind === 'latchkey')) {
    const ratios = [];
    for (let round = 1; round <= rounds; round++) {
      const l = samples.find((s) => s.label === t.label && s.round === round);
      const b = samples.find((s) => s.label === 'baseline' && s.round === round);
      if (l && b) ratios.push(b.cpuMs / l.cpuMs);
    }
    console.log(`baseline CPU/login ÷ ${t.label} CPU/login, per round: ${summary(ratios, 2)} (${ratios.map((r) => r.toFixed(2)).join(', ')})`);
  }
}
if (countSql) {
  for (const t of targets) {
    const of = samples.filter((s) => s.label === t.label && s.byStatement);
    const last = of[of.length - 1];
    if (!last?.byStatement) continue;
    console.log(`\n${t.label}: SQL statements per login (last round)`);
    for (const [sql, perLogin] of last.byStatement) console.log(`  ${perLogin.toFixed(2)}×  ${sql.slice(0, 160)}`);
  }
}
if (args.json) writeFileSync(args.json, JSON.stringify(samples, null, 1));
