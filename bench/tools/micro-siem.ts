/**
 * The SIEM export's cost per event, in isolation (no HTTP, no other load): a SQLite database that
 * receives what sign-ins write to `audit_events` (2 rows each, as micro-seal.ts writes them),
 * sealed after each simulated second (`--rate` sign-ins per second, not measured); then the real
 * exporter (createSiemService with the NDJSON file sink, default batch size) exports them.
 * Reports the main thread's CPU per event from the seal until the sink's cursor has moved past the
 * events (process.cpuUsage: the seal pass and the export), median and range over the passes after
 * `--warm`, and the bytes written per event. `--read-back`: the chain keeps nothing of what it
 * sealed (`recentSealed: 0`), so the exporter reads every event back from the database, as before.
 *
 * Usage: taskset -c 0 node bench/tools/micro-siem.ts [--rate=800] [--passes=20] [--warm=5] [--username] [--read-back]
 */
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { createSiemRepository, createSiemService, createSiemSinks } from '../../packages/server/src/modules/siem/siem.module.ts';
import { cryptoRandom } from '../../packages/server/src/platform/random.ts';
import { openAuditBench } from './audit-bench.ts';

const arg = (name: string, fallback: number) => Number(new RegExp(`--${name}=(\\d+)`).exec(process.argv.join(' '))?.[1] ?? fallback);
const rate = arg('rate', 800);
const passes = arg('passes', 20);
const warm = arg('warm', 5);
const withUsername = process.argv.includes('--username');
const readBack = process.argv.includes('--read-back');
const { dir, db, clock, chain, signIns, close } = await openAuditBench('siem', readBack ? { recentSealed: 0 } : {});
const file = join(dir, 'siem.ndjson');

let exported = 0;
let waiting: { until: number; done: () => void } | undefined;
const siem = createSiemService({
  chain,
  repository: createSiemRepository(db),
  clock,
  random: cryptoRandom,
  sinks: createSiemSinks({ file, syslogPort: 6514, syslogTransport: 'tls', syslogFacility: 13, includeUsername: withUsername, startFrom: 'beginning', batchSize: 500, pollIntervalMs: 50 } as never, {
    hostname: 'bench',
    procId: '1',
    stdout: process.stdout,
  }),
  ocsf: { productVersion: '0.0.0', service: { name: 'Bench', uid: 'localhost' } },
  userNames: withUsername ? async (ids) => new Map(ids.map((id) => [id, `user-${id.slice(0, 8)}`])) : undefined,
  batchSize: 500,
  pollIntervalMs: 50,
  startFrom: 'beginning',
  observer: {
    exported(_sink, count) {
      exported += count;
      if (waiting && exported >= waiting.until) waiting.done();
    },
    sendError() {},
    dropped() {},
  },
  log: { warn: (o, m) => console.error(m, o), info: () => {} },
});

siem.start();
const samples: { usPerEvent: number; ms: number }[] = [];
for (let pass = 0; pass < warm + passes; pass++) {
  await signIns(rate);
  const target = exported + rate * 2;
  const exportedAll = new Promise<void>((done) => {
    waiting = { until: target, done };
  });
  const cpu = process.cpuUsage();
  const t = performance.now();
  const sealed = await chain.seal();
  if (sealed !== rate * 2) throw new Error(`pass ${pass}: sealed ${sealed}, expected ${rate * 2}`);
  await exportedAll;
  const used = process.cpuUsage(cpu);
  if (pass >= warm) samples.push({ usPerEvent: (used.user + used.system) / sealed, ms: performance.now() - t });
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1] as number;
const show = (xs: number[], d: number) => `${median(xs).toFixed(d)} [${Math.min(...xs).toFixed(d)}-${Math.max(...xs).toFixed(d)}]`;
await siem.close();
console.log(
  JSON.stringify({
    rate,
    eventsPerPass: rate * 2,
    passes,
    readBack,
    cpuUsPerEventSealedAndExported: show(samples.map((s) => s.usPerEvent), 2),
    cpuUsPerSignIn: show(samples.map((s) => s.usPerEvent * 2), 1),
    wallMsPerPass: show(samples.map((s) => s.ms), 1),
    bytesPerEvent: Math.round(statSync(file).size / exported),
  }),
);
await chain.close();
await close();
