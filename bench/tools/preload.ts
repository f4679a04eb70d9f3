/**
 * Instrumentation for bench/profile.ts, loaded into a server with `node --import`:
 *   - counts executed SQL statements by text (node:sqlite prepare/run/get/all/iterate, pg
 *     Client#query) and how often each text was prepared;
 *   - on the first SIGUSR2 (load.ts --mark sends it when the measured login window opens)
 *     snapshots counters and starts the V8 CPU profiler on the main thread; on the second
 *     (window closes) snapshots again, stops the profiler and writes everything to
 *     $BENCH_PRELOAD_OUT/{counts.json,main.cpuprofile} (with BENCH_PRELOAD_NO_PROFILE=1, counts only).
 * Only for measurements; never loaded by `npm run bench`.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { Session } from 'node:inspector/promises';
import { join } from 'node:path';
import { DatabaseSync, StatementSync } from 'node:sqlite';
import { getHeapSpaceStatistics } from 'node:v8';

const out = process.env.BENCH_PRELOAD_OUT ?? '/tmp';
const executed = new Map<string, number>();
/** Wall time inside the synchronous node:sqlite calls (µs) by statement text. */
const sqlTime = new Map<string, number>();
/** Calls that took over 1 ms (checkpoints, page-cache misses): count and µs, by statement text. */
const slowCalls = new Map<string, number>();
const slowTime = new Map<string, number>();
const add = (map: Map<string, number>, key: string, v: number) => map.set(key, (map.get(key) ?? 0) + v);
const prepared = new Map<string, number>();
const bump = (map: Map<string, number>, key: string) => map.set(key, (map.get(key) ?? 0) + 1);

// node:sqlite
const originalPrepare = DatabaseSync.prototype.prepare;
DatabaseSync.prototype.prepare = function prepare(this: DatabaseSync, sql: string, ...rest: unknown[]) {
  bump(prepared, sql);
  return (originalPrepare as (...a: unknown[]) => StatementSync).call(this, sql, ...rest);
} as typeof originalPrepare;
for (const method of ['run', 'get', 'all', 'iterate'] as const) {
  const original = StatementSync.prototype[method] as (...a: unknown[]) => unknown;
  (StatementSync.prototype as unknown as Record<string, unknown>)[method] = function (this: StatementSync, ...a: unknown[]) {
    bump(executed, this.sourceSQL);
    const t = performance.now();
    try {
      return original.apply(this, a);
    } finally {
      const us = (performance.now() - t) * 1000;
      add(sqlTime, this.sourceSQL, us);
      if (us > 1000) {
        bump(slowCalls, this.sourceSQL);
        add(slowTime, this.sourceSQL, us);
      }
    }
  };
}
const originalExec = DatabaseSync.prototype.exec;
DatabaseSync.prototype.exec = function exec(this: DatabaseSync, sql: string) {
  bump(executed, sql);
  return originalExec.call(this, sql);
};

// pg (resolved from the repository root, the same copy the server loads)
try {
  const require = createRequire(join(process.cwd(), 'package.json'));
  const pg = require('pg') as { Client: { prototype: { query: (...a: unknown[]) => unknown } } };
  const originalQuery = pg.Client.prototype.query;
  pg.Client.prototype.query = function query(this: unknown, config: unknown, ...rest: unknown[]) {
    const text = typeof config === 'string' ? config : ((config as { text?: string })?.text ?? String(config));
    bump(executed, text);
    return originalQuery.call(this, config, ...rest);
  };
} catch {
  // no pg here
}

interface Snapshot {
  at: number;
  executed: Record<string, number>;
  sqlTimeUs: Record<string, number>;
  slowCalls: Record<string, number>;
  slowTimeUs: Record<string, number>;
  prepared: Record<string, number>;
  cpu: NodeJS.CpuUsage;
  memory: NodeJS.MemoryUsage;
  heapSpacesMB: Record<string, { used: number; physical: number }>;
  status: Record<string, number>;
}
const snapshot = (): Snapshot => ({
  at: performance.now(),
  executed: Object.fromEntries(executed),
  sqlTimeUs: Object.fromEntries(sqlTime),
  slowCalls: Object.fromEntries(slowCalls),
  slowTimeUs: Object.fromEntries(slowTime),
  prepared: Object.fromEntries(prepared),
  cpu: process.cpuUsage(),
  memory: process.memoryUsage(),
  heapSpacesMB: Object.fromEntries(
    getHeapSpaceStatistics()
      .filter((h) => h.physical_space_size > 0)
      .map((h) => [h.space_name, { used: Math.round(h.space_used_size / 2 ** 20), physical: Math.round(h.physical_space_size / 2 ** 20) }]),
  ),
  status: Object.fromEntries(
    [...readFileSync('/proc/self/status', 'utf8').matchAll(/^(VmRSS|VmHWM|RssAnon|RssFile|Threads):\s+(\d+)/gm)].map((m) => [m[1] as string, Number(m[2])]),
  ),
});

const noProfile = process.env.BENCH_PRELOAD_NO_PROFILE === '1';
const session = new Session();
session.connect();
const marks: Snapshot[] = [];
process.on('SIGUSR2', () => {
  marks.push(snapshot());
  if (noProfile) {
    // Counts only (bench/cost.ts --sql): no profiler to pay for.
    if (marks.length === 2) writeFileSync(join(out, 'counts.json'), JSON.stringify({ marks }, null, 1));
  } else if (marks.length === 1) {
    void session.post('Profiler.enable').then(() => session.post('Profiler.setSamplingInterval', { interval: Number(process.env.BENCH_PROFILE_INTERVAL_US ?? 1000) })).then(() => session.post('Profiler.start'));
  } else if (marks.length === 2) {
    void session.post('Profiler.stop').then(({ profile }) => {
      writeFileSync(join(out, 'main.cpuprofile'), JSON.stringify(profile));
      writeFileSync(join(out, 'counts.json'), JSON.stringify({ marks }, null, 1));
    });
  }
});
