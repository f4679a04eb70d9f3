/**
 * The audit sealer's cost per event, in isolation (no HTTP, no other load): a SQLite database
 * that receives what sign-ins write to `audit_events` (2 rows each, written as `writeBatch`es of
 * the audit service's statements, as authentication.service.ts does), with a seal pass after each
 * simulated second (`--rate` sign-ins per second). Reports the main thread's CPU per event sealed
 * (process.cpuUsage around seal(), so no other thread counts), the wall time of a pass, and the
 * heap and statement cache left after it, median and range over the passes after `--warm`.
 *
 * Usage: taskset -c 0 node bench/tools/micro-seal.ts [--rate=800] [--passes=30] [--warm=8]
 */
import { openAuditBench } from './audit-bench.ts';

const arg = (name: string, fallback: number) => Number(new RegExp(`--${name}=(\\d+)`).exec(process.argv.join(' '))?.[1] ?? fallback);
const rate = arg('rate', 800);
const passes = arg('passes', 30);
const warm = arg('warm', 8);
const { chain, signIns, close } = await openAuditBench('seal');

const samples: { usPerEvent: number; passMs: number; heapMB: number }[] = [];
for (let pass = 0; pass < warm + passes; pass++) {
  await signIns(rate);
  const cpu = process.cpuUsage();
  const t = performance.now();
  const sealed = await chain.seal();
  const passMs = performance.now() - t;
  const used = process.cpuUsage(cpu);
  if (sealed !== rate * 2) throw new Error(`pass ${pass}: sealed ${sealed}, expected ${rate * 2}`);
  if (pass >= warm) samples.push({ usPerEvent: (used.user + used.system) / sealed, passMs, heapMB: process.memoryUsage().heapUsed / 2 ** 20 });
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1] as number;
const show = (xs: number[], d: number) => `${median(xs).toFixed(d)} [${Math.min(...xs).toFixed(d)}-${Math.max(...xs).toFixed(d)}]`;
console.log(
  JSON.stringify({
    rate,
    eventsPerPass: rate * 2,
    passes,
    cpuUsPerEventSealed: show(samples.map((s) => s.usPerEvent), 2),
    cpuUsPerSignIn: show(samples.map((s) => s.usPerEvent * 2), 1),
    passMs: show(samples.map((s) => s.passMs), 1),
    heapUsedMB: show(samples.map((s) => s.heapMB), 0),
  }),
);
await chain.close();
await close();
