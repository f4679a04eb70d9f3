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
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { createDatabase } from '../../packages/server/src/db/create-db.ts';
import { migrateToLatest } from '../../packages/server/src/db/migrate.ts';
import { writeBatch } from '../../packages/server/src/db/prepared-query.ts';
import { createAuditChainService, createAuditService, createCheckpointSigner } from '../../packages/server/src/modules/audit/audit.module.ts';
import { createTestClock } from '../../packages/server/src/platform/clock.ts';
import { cryptoRandom } from '../../packages/server/src/platform/random.ts';
import { createUserAgentParser } from '../../packages/server/src/platform/user-agent.ts';

const arg = (name: string, fallback: number) => Number(new RegExp(`--${name}=(\\d+)`).exec(process.argv.join(' '))?.[1] ?? fallback);
const rate = arg('rate', 800);
const passes = arg('passes', 30);
const warm = arg('warm', 8);
const USERS = 50;

const dir = mkdtempSync('/tmp/latchkey-micro-seal-');
const database = createDatabase(`sqlite:${join(dir, 'seal.db')}`);
const { db } = database;
await migrateToLatest(db);
const clock = createTestClock(Date.now());
const audit = createAuditService({ clock, random: cryptoRandom, parseUserAgent: createUserAgentParser() });
const chain = createAuditChainService({
  db,
  dialect: 'sqlite',
  clock,
  signer: createCheckpointSigner(new Uint8Array(32).fill(7)),
  sealIntervalMs: 1000,
  checkpointIntervalSeconds: 600,
  checkpointEveryEvents: 10_000,
  retentionDays: 400,
});
const users = Array.from({ length: USERS }, () => randomUUID());

/** One simulated second of sign-ins: `rate` commits of the two audit rows a sign-in writes. */
async function signIns() {
  for (let i = 0; i < rate; i++) {
    clock.advance(1000 / rate);
    const user = users[i % USERS] as string;
    const context = { requestId: randomUUID(), ip: '127.0.0.1', userAgent: 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36' };
    const sessionId = randomUUID();
    await writeBatch(db, [
      { statement: audit.statement(context, { type: 'passkey.authenticated', outcome: 'success', subjectUserId: user, credentialId: `cred-${user}`, sessionId, data: { userVerified: true, backedUp: false, signCount: i } }) },
      { statement: audit.statement(context, { type: 'session.created', outcome: 'success', subjectUserId: user, sessionId, credentialId: `cred-${user}` }) },
    ]);
  }
}

const samples: { usPerEvent: number; passMs: number; heapMB: number }[] = [];
for (let pass = 0; pass < warm + passes; pass++) {
  await signIns();
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
await database.close();
rmSync(dir, { recursive: true, force: true });
