/**
 * For the audit micro-benches (micro-seal.ts, micro-siem.ts): a fresh SQLite database in a
 * temporary folder, migrated, with the audit service and chain sealer on a test clock, and a
 * writer of simulated sign-ins: the two audit rows each sign-in commits, as a `writeBatch` of the
 * audit service's statements (as authentication.service.ts writes them).
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

const USERS = 50;
const USER_AGENT = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36';

export async function openAuditBench(name: string, options: { recentSealed?: number } = {}) {
  const dir = mkdtempSync(`/tmp/latchkey-micro-${name}-`);
  const database = createDatabase(`sqlite:${join(dir, `${name}.db`)}`);
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
    ...(options.recentSealed === undefined ? {} : { recentSealed: options.recentSealed }),
  });
  const users = Array.from({ length: USERS }, () => randomUUID());

  /** One simulated second of sign-ins: `rate` commits of the two audit rows a sign-in writes. */
  async function signIns(rate: number): Promise<void> {
    for (let i = 0; i < rate; i++) {
      clock.advance(1000 / rate);
      const user = users[i % USERS] as string;
      const context = { requestId: randomUUID(), ip: '127.0.0.1', userAgent: USER_AGENT };
      const sessionId = randomUUID();
      await writeBatch(db, [
        { statement: audit.statement(context, { type: 'passkey.authenticated', outcome: 'success', subjectUserId: user, credentialId: `cred-${user}`, sessionId, data: { userVerified: true, backedUp: false, signCount: i } }) },
        { statement: audit.statement(context, { type: 'session.created', outcome: 'success', subjectUserId: user, sessionId, credentialId: `cred-${user}`, data: { method: 'passkey', scope: 'full' } }) },
      ]);
    }
  }

  return {
    dir,
    db,
    clock,
    chain,
    signIns,
    async close(): Promise<void> {
      await database.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
