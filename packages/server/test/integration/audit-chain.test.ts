import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createPublicKey, verify as verifySignature } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { sql, type Kysely } from 'kysely';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/app.ts';
import { loadConfig } from '../../src/config/load.ts';
import type { Config } from '../../src/config/schema.ts';
import { createDatabase, type DatabaseHandle, type Dialect } from '../../src/db/create-db.ts';
import { createMigrator, migrateToLatest } from '../../src/db/migrate.ts';
import type { Database } from '../../src/db/database.ts';
import { chainHash } from '../../src/modules/audit/audit-chain.encoding.ts';
import { createCheckpointSigner } from '../../src/modules/audit/audit-chain.keys.ts';
import type { AuditEventsTable } from '../../src/modules/audit/audit.tables.ts';
import { createTestClock } from '../../src/platform/clock.ts';
import { authenticate, newAuthenticator, signUp } from '../helpers/flows.ts';
import { TestClient } from '../helpers/test-client.ts';
import { createTestDatabase, dialects, startTestServer, TEST_ORIGIN, TEST_RP_ID, type TestServer } from '../helpers/test-server.ts';

const CLI = fileURLToPath(new URL('../../src/cli.ts', import.meta.url));
const DAY_MS = 86_400_000;

/** `latchkey audit verify` as an operator runs it: a child process on the server's database. */
function verifyCli(databaseUrl: string, args: string[] = []): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, 'audit', 'verify', ...args], { env: { PATH: process.env.PATH ?? '', LATCHKEY_DATABASE_URL: databaseUrl }, timeout: 60_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

async function chainRows(db: Kysely<Database>) {
  return db.selectFrom('audit_chain').selectAll().orderBy('seq').execute();
}

async function eventAt(db: Kysely<Database>, seq: number): Promise<AuditEventsTable> {
  const row = await db.selectFrom('audit_chain as c').innerJoin('audit_events as e', 'e.id', 'c.event_id').selectAll('e').where('c.seq', '=', seq).executeTakeFirstOrThrow();
  return { ...row, created_at: Number(row.created_at) };
}

/**
 * Runs `change` as an attacker with write access to the database would: with the append-only
 * triggers off (PostgreSQL: DISABLE TRIGGER as the tables' owner; SQLite: dropped and re-created).
 */
async function asAttacker(server: { database: DatabaseHandle }, change: (db: Kysely<Database>) => Promise<void>): Promise<void> {
  const { db, dialect } = server.database;
  const tables = ['audit_events', 'audit_chain'];
  if (dialect === 'postgres') {
    for (const t of tables) await sql`ALTER TABLE ${sql.table(t)} DISABLE TRIGGER USER`.execute(db);
    try {
      await change(db);
    } finally {
      for (const t of tables) await sql`ALTER TABLE ${sql.table(t)} ENABLE TRIGGER USER`.execute(db);
    }
    return;
  }
  const { rows } = await sql<{ name: string; sql: string }>`SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name IN ('audit_events', 'audit_chain')`.execute(db);
  for (const r of rows) await sql`DROP TRIGGER ${sql.raw(r.name)}`.execute(db);
  try {
    await change(db);
  } finally {
    for (const r of rows) await sql.raw(r.sql).execute(db);
  }
}

/** Sign-ups and sign-ins through the real HTTP server; every one writes audit rows. */
async function traffic(url: string | TestServer, users: number, prefix: string): Promise<void> {
  const client = () => (typeof url === 'string' ? new TestClient(url, TEST_ORIGIN) : url.client());
  await Promise.all(
    Array.from({ length: users }, async (_, i) => {
      const authenticator = newAuthenticator();
      await signUp(client(), authenticator, `${prefix}-${i}`);
      const { verify } = await authenticate(client(), authenticator);
      assert.equal(verify.status, 200, verify.text);
    }),
  );
}

async function assertGapFreeChainOfEveryEvent(db: Kysely<Database>): Promise<number> {
  const chain = await chainRows(db);
  const events = await db.selectFrom('audit_events').select('id').execute();
  assert.ok(chain.length > 0);
  assert.deepEqual(chain.map((r) => Number(r.seq)), Array.from({ length: chain.length }, (_, i) => i + 1), 'seq is 1..n without gaps');
  assert.equal(new Set(chain.map((r) => r.event_id)).size, chain.length, 'every event sealed once');
  assert.deepEqual(chain.map((r) => r.event_id).sort(), events.map((e) => e.id).sort(), 'every event is in the chain');
  return chain.length;
}

for (const dialect of dialects) {
  describe(`tamper-evident audit chain (${dialect})`, () => {
    let server: TestServer;
    before(async () => {
      // A checkpoint after every seal, so the newest checkpoint covers the whole chain.
      server = await startTestServer(dialect, { config: { audit: { checkpointIntervalSeconds: 0, sealIntervalMs: 200 } } });
      await traffic(server, 4, 'chain');
    });
    after(() => server.close());

    test('sign-ups and sign-ins are sealed off the request path within seconds, in a gap-free chain of every event, and verify OK', async () => {
      const { db } = server.database;
      const total = Number((await db.selectFrom('audit_events').select(sql<number>`count(*)`.as('n')).executeTakeFirstOrThrow()).n);
      assert.ok(total >= 16, `sign-ups and sign-ins wrote ${total} events`);
      // Nobody calls seal(): the background sealer does, within a couple of seconds of the commits.
      const deadline = Date.now() + 3000;
      while ((await chainRows(db)).length < total && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      assert.equal(await assertGapFreeChainOfEveryEvent(db), total);
      const sealed = await server.app.auditChain.readSealedAfter(0, 1000);
      assert.deepEqual(sealed.map((s) => s.seq), Array.from({ length: total }, (_, i) => i + 1), 'readSealedAfter returns chain order');
      assert.ok(sealed.some((s) => s.event.type === 'passkey.authenticated'));
      assert.deepEqual((await server.app.auditChain.readSealedAfter(total - 2, 10)).map((s) => s.seq), [total - 1, total]);

      const run = await verifyCli(server.config.database.url);
      assert.equal(run.code, 0, run.stdout + run.stderr);
      assert.match(run.stdout, new RegExp(`^OK: ${total} events, chain intact up to seq ${total}, last checkpoint at seq ${total}, `));
      assert.match(run.stderr, /verifying the audit chain: \d+ of \d+ rows \(100%\)/, 'progress lines when not on a terminal');
    });

    test('every checkpoint verifies with the key published at /.well-known/latchkey-audit-key', async () => {
      await server.app.auditChain.seal();
      const response = await server.client().get('/.well-known/latchkey-audit-key');
      assert.equal(response.status, 200);
      assert.match(response.headers.get('content-type') ?? '', /^application\/jwk\+json/);
      const jwk = JSON.parse(response.text);
      assert.equal(jwk.kty, 'OKP');
      assert.equal(jwk.crv, 'Ed25519');
      assert.equal(jwk.alg, 'EdDSA');
      assert.equal(jwk.d, undefined, 'no private part');
      const key = createPublicKey({ key: jwk, format: 'jwk' });
      const checkpoints = await server.database.db.selectFrom('audit_checkpoints').selectAll().execute();
      assert.ok(checkpoints.length > 0);
      const chain = new Map((await chainRows(server.database.db)).map((r) => [Number(r.seq), r.hash]));
      for (const c of checkpoints) {
        assert.equal(c.key_id, jwk.kid);
        assert.equal(chain.get(Number(c.seq)), c.hash, 'the checkpoint names the chain hash at its seq');
        // The signed bytes as README documents them.
        const message = `latchkey-audit-checkpoint/v1\n${c.kind}\n${c.seq}\n${c.hash}\n${c.created_at}`;
        assert.ok(verifySignature(null, Buffer.from(message), key, Buffer.from(c.signature, 'base64url')), `checkpoint at seq ${c.seq}`);
        assert.ok(!verifySignature(null, Buffer.from(message.replace(/\n(\d+)$/, (_, t) => `\n${Number(t) + 1}`)), key, Buffer.from(c.signature, 'base64url')));
      }
    });

    test('an auditor verifies against the published key they saved (--key); checkpoints under any other key are refused', async () => {
      const dir = await mkdtemp(join(tmpdir(), 'latchkey-audit-key-'));
      try {
        const published = join(dir, 'published.jwk');
        await writeFile(published, (await server.client().get('/.well-known/latchkey-audit-key')).text);
        const ok = await verifyCli(server.config.database.url, ['--key', published]);
        assert.equal(ok.code, 0, ok.stdout + ok.stderr);
        const other = join(dir, 'other.jwk');
        await writeFile(other, JSON.stringify(createCheckpointSigner(new Uint8Array(32).fill(1)).jwk));
        const refused = await verifyCli(server.config.database.url, ['--key', other]);
        assert.equal(refused.code, 1, refused.stdout);
        assert.match(refused.stdout, /^TAMPERED: first bad row seq \d+: edited\n.*no valid signature \(unknown key/);
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    });

    test('the chain and checkpoints are append-only in the database', async () => {
      const { db } = server.database;
      await assert.rejects(db.updateTable('audit_chain').set({ hash: '0'.repeat(64) }).where('seq', '=', 1).execute(), /append-only/);
      await assert.rejects(db.deleteFrom('audit_chain').where('seq', '=', 1).execute(), /append-only/);
      await assert.rejects(db.deleteFrom('audit_checkpoints').execute(), /append-only/);
      await assert.rejects(db.updateTable('audit_checkpoints').set({ hash: 'x' }).execute(), /append-only/);
    });

    /** Runs the CLI and expects TAMPERED naming `seq`, `eventId` and `kind`; then undoes the change. */
    async function expectTampered(change: (db: Kysely<Database>) => Promise<void>, undo: (db: Kysely<Database>) => Promise<void>, expected: RegExp) {
      await server.app.auditChain.seal();
      await asAttacker(server, change);
      try {
        const run = await verifyCli(server.config.database.url);
        assert.equal(run.code, 1, run.stdout + run.stderr);
        assert.match(run.stdout, expected);
      } finally {
        await asAttacker(server, undo);
      }
    }

    test('an edited event is named: TAMPERED, first bad row, edited', async () => {
      const event = await eventAt(server.database.db, 3);
      await expectTampered(
        (db) => db.updateTable('audit_events').set({ ip: '203.0.113.9' }).where('id', '=', event.id).execute().then(() => {}),
        (db) => db.updateTable('audit_events').set({ ip: event.ip }).where('id', '=', event.id).execute().then(() => {}),
        new RegExp(`^TAMPERED: first bad row seq 3 \\(event id ${event.id}\\): edited`),
      );
    });

    test('a deleted event is named: deleted', async () => {
      const event = await eventAt(server.database.db, 4);
      await expectTampered(
        (db) => db.deleteFrom('audit_events').where('id', '=', event.id).execute().then(() => {}),
        (db) => db.insertInto('audit_events').values(event).execute().then(() => {}),
        new RegExp(`^TAMPERED: first bad row seq 4 \\(event id ${event.id}\\): deleted`),
      );
    });

    test('swapped chain rows are named: reordered', async () => {
      const swap = async (db: Kysely<Database>) => {
        await db.updateTable('audit_chain').set({ seq: -1 }).where('seq', '=', 5).execute();
        await db.updateTable('audit_chain').set({ seq: 5 }).where('seq', '=', 6).execute();
        await db.updateTable('audit_chain').set({ seq: 6 }).where('seq', '=', -1).execute();
      };
      const sixth = await eventAt(server.database.db, 6);
      await expectTampered(swap, swap, new RegExp(`^TAMPERED: first bad row seq 5 \\(event id ${sixth.id}\\): reordered`));
    });

    test('a chain row rewritten to match its edited event is caught by the next row, and at the tail by the signed checkpoint', async () => {
      const { db } = server.database;
      for (const seq of [7, (await chainRows(db)).length]) {
        const event = await eventAt(db, seq);
        const [row] = (await chainRows(db)).filter((r) => Number(r.seq) === seq);
        assert.ok(row);
        const forged = chainHash(row.prev_hash, seq, { ...event, reason: 'nothing happened' });
        await expectTampered(
          async (d) => {
            await d.updateTable('audit_events').set({ reason: 'nothing happened' }).where('id', '=', event.id).execute();
            await d.updateTable('audit_chain').set({ hash: forged }).where('seq', '=', seq).execute();
          },
          async (d) => {
            await d.updateTable('audit_events').set({ reason: event.reason }).where('id', '=', event.id).execute();
            await d.updateTable('audit_chain').set({ hash: row.hash }).where('seq', '=', seq).execute();
          },
          new RegExp(`^TAMPERED: first bad row seq ${seq} \\(event id ${event.id}\\): edited`),
        );
      }
    });

    test('a truncated tail (last rows and their events deleted) is named against the latest signed checkpoint: truncated', async () => {
      const { db } = server.database;
      const chain = await chainRows(db);
      const n = chain.length;
      const tail = chain.slice(-2);
      const events = await Promise.all(tail.map((r) => eventAt(db, Number(r.seq))));
      await expectTampered(
        async (d) => {
          await d.deleteFrom('audit_chain').where('seq', '>=', n - 1).execute();
          await d.deleteFrom('audit_events').where('id', 'in', events.map((e) => e.id)).execute();
        },
        async (d) => {
          await d.insertInto('audit_events').values(events).execute();
          await d.insertInto('audit_chain').values(tail).execute();
        },
        new RegExp(`^TAMPERED: first bad row seq ${n - 1}: truncated`),
      );
    });

    test('a back-dated event slipped in beside the chain is named: inserted', async () => {
      const template = await eventAt(server.database.db, 2);
      const hidden = { ...template, id: 'forged-event', created_at: server.clock.now() - 3_600_000, reason: 'planted' };
      await expectTampered(
        (db) => db.insertInto('audit_events').values(hidden).execute().then(() => {}),
        (db) => db.deleteFrom('audit_events').where('id', '=', hidden.id).execute().then(() => {}),
        /^TAMPERED: first bad row event id forged-event: inserted/,
      );
      assert.equal((await chainRows(server.database.db)).some((r) => r.event_id === 'forged-event'), false, 'the sealer never sealed it');
    });

    test('after every change above was undone, the chain verifies OK again', async () => {
      await server.app.auditChain.seal();
      const run = await verifyCli(server.config.database.url);
      assert.equal(run.code, 0, run.stdout + run.stderr);
      assert.match(run.stdout, /^OK: /);
    });

    test('usage mistakes exit 2', async () => {
      const run = await verifyCli(server.config.database.url, ['--nonsense']);
      assert.equal(run.code, 2, run.stdout + run.stderr);
    });
  });

  describe(`audit chain readers and deleted events (${dialect})`, () => {
    test('a run of chain rows whose events were deleted by hand does not stop the readers (webhooks, SIEM, analytics) there', async () => {
      const server = await startTestServer(dialect);
      let reader: TestServer | undefined;
      try {
        await traffic(server, 3, 'gap');
        await server.app.auditChain.seal();
        const { db } = server.database;
        const chain = await chainRows(db);
        assert.ok(chain.length >= 12, `${chain.length} events`);
        const gone = chain.slice(0, 8).map((r) => r.event_id);
        await asAttacker(server, (attacker) => attacker.deleteFrom('audit_events').where('id', 'in', gone).execute().then(() => {}));
        // Another node: none of these events in its memory, so it reads the chain from the database.
        reader = await startTestServer(dialect, { config: { database: { url: server.config.database.url } } });
        // Two whole batches of 4 without their events, then the events after them.
        assert.deepEqual((await reader.app.auditChain.readSealedAfter(0, 4)).map((s) => Number(s.seq)), [9, 10, 11, 12]);
        // The backlog gauges ask for one event: the oldest one still there.
        assert.deepEqual((await reader.app.auditChain.readSealedAfter(0, 1)).map((s) => Number(s.seq)), [9]);
        const rest = await reader.app.auditChain.readSealedAfter(0, 1000);
        assert.deepEqual(rest.map((s) => Number(s.seq)), Array.from({ length: chain.length - 8 }, (_, i) => i + 9));
        // The gap is still evidence: the verifier names it.
        const run = await verifyCli(server.config.database.url);
        assert.equal(run.code, 1, run.stdout + run.stderr);
        assert.match(run.stdout, /^TAMPERED: first bad row seq 1 .*deleted/);
      } finally {
        await reader?.close();
        await server.close();
      }
    });
  });

  describe(`audit chain retention (${dialect})`, () => {
    test('the retention sweep deletes old sealed events with their chain rows under a signed anchor, and the chain still verifies', async () => {
      const server = await startTestServer(dialect, { config: { audit: { retentionDays: 30 } } });
      try {
        const { db } = server.database;
        const now = server.clock.now();
        const template = { type: 'session.created', outcome: 'success' as const, actor_kind: null, actor_id: null, actor_user_id: null, subject_user_id: null, credential_id: null, session_id: null, error_code: null, reason: null, request_id: null, ip: null, user_agent: null, os: null, browser: null, device: null, data: null };
        // 1,500 rows from 40 days ago (more than a chunk of the sweep), then today's traffic.
        const old = Array.from({ length: 1500 }, (_, i) => ({ ...template, id: `old-${String(i).padStart(4, '0')}`, created_at: now - 40 * DAY_MS + i * 1000 }));
        for (let i = 0; i < old.length; i += 250) await db.insertInto('audit_events').values(old.slice(i, i + 250)).execute();
        await traffic(server, 2, 'kept');
        await server.app.auditChain.seal();
        const before = await chainRows(db);

        await server.app.sweep();
        const left = await db.selectFrom('audit_events').select('id').execute();
        assert.equal(left.filter((r) => r.id.startsWith('old-')).length, 0, 'every event older than 30 days is gone');
        const chain = await chainRows(db);
        assert.equal(Number(chain[0]?.seq), 1501, 'chain rows of deleted events are gone too');
        assert.equal(chain.length, before.length - 1500);
        const anchors = await db.selectFrom('audit_checkpoints').selectAll().where('kind', '=', 'retention').orderBy('seq').execute();
        assert.deepEqual(anchors.map((a) => Number(a.seq)), [1500], 'one signed anchor, at the cut (the sweep deleted in chunks below it)');
        assert.equal(anchors.at(-1)?.hash, before[1499]?.hash);
        // Rows above the anchor stay append-only.
        await assert.rejects(db.deleteFrom('audit_chain').where('seq', '=', 1501).execute(), /append-only/);

        const run = await verifyCli(server.config.database.url);
        assert.equal(run.code, 0, run.stdout + run.stderr);
        assert.match(run.stdout, new RegExp(`^OK: ${chain.length} events, chain intact up to seq ${before.length} \\(seq 1\\.\\.1500 removed by retention under a signed anchor\\)`));

        // Deleting the first retained rows (as if by retention, without an anchor) is caught.
        const first = await eventAt(db, 1501);
        await asAttacker(server, async (d) => {
          await d.deleteFrom('audit_chain').where('seq', '=', 1501).execute();
          await d.deleteFrom('audit_events').where('id', '=', first.id).execute();
        });
        const tampered = await verifyCli(server.config.database.url);
        assert.equal(tampered.code, 1, tampered.stdout);
        assert.match(tampered.stdout, /^TAMPERED: first bad row seq 1501: deleted/);
      } finally {
        await server.close();
      }
    });
  });
}

/** Two Latchkey servers on one PostgreSQL database, as two nodes of a cluster. */
async function startNode(url: string): Promise<{ app: FastifyInstance; url: string; database: DatabaseHandle }> {
  const config = loadConfig({
    env: {},
    overrides: {
      server: { verifyWorkers: 0, port: 0 },
      signup: { perIpPerHour: 100_000 },
      auth: { perIpPerHour: 100_000 },
      rp: { id: TEST_RP_ID, origins: [TEST_ORIGIN] },
      database: { url, poolSize: 4 },
      audit: { sealIntervalMs: 50, checkpointIntervalSeconds: 0 },
      log: { level: 'silent' as Config['log']['level'] },
    },
  });
  const database = createDatabase(url, config.database);
  const app = await buildApp(config, { database, clock: createTestClock(Date.now()) });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address();
  return { app, database, url: `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}` };
}

const postgres: Dialect[] = dialects.filter((d) => d === 'postgres');
for (const dialect of postgres) {
  describe(`audit chain on two nodes (${dialect})`, () => {
    test('an event whose commit becomes visible after later ones is still sealed once, after them; the chain verifies', async () => {
      const server = await startTestServer(dialect);
      try {
        const { db } = server.database;
        const template = await (async () => {
          await traffic(server, 1, 'early');
          await server.app.auditChain.seal();
          return eventAt(db, 1);
        })();
        let commit: () => void = () => {};
        const gate = new Promise<void>((resolve) => (commit = resolve));
        // A transaction stamps its audit row now and commits 30 s later (on the server's clock).
        const slow = db.transaction().execute(async (trx) => {
          await trx.insertInto('audit_events').values({ ...template, id: 'slow-commit', created_at: server.clock.now() }).execute();
          await gate;
        });
        await new Promise((r) => setTimeout(r, 100));
        server.clock.advance(30_000);
        await traffic(server, 1, 'later');
        await server.app.auditChain.seal();
        const beforeCommit = await chainRows(db);
        assert.equal(beforeCommit.some((r) => r.event_id === 'slow-commit'), false, 'not visible yet, not sealed');
        commit();
        await slow;
        // Older than the newest sealed event by 30 s: found by the next pass that looks back a minute.
        server.clock.advance(10_000);
        await server.app.auditChain.seal();
        const chain = await chainRows(db);
        const slowRow = chain.find((r) => r.event_id === 'slow-commit');
        assert.ok(slowRow, 'sealed');
        assert.equal(Number(slowRow.seq), beforeCommit.length + 1, 'after every event sealed before it became visible');
        await assertGapFreeChainOfEveryEvent(db);
        const run = await verifyCli(server.config.database.url);
        assert.equal(run.code, 0, run.stdout + run.stderr);
      } finally {
        await server.close();
      }
    });

    // PostgreSQL's sealer pass and the requests' inserts use separate connections, so a pass can
    // be held open while events commit (SQLite's one connection would wait for it).
    test('seal() called while a pass is under way also seals what committed after that pass read its rows', async () => {
      // No timer pass in between: only the two calls below seal.
      const server = await startTestServer(dialect, { config: { audit: { sealIntervalMs: 60_000 } } });
      const holder = createDatabase(server.config.database.url);
      let release: () => void = () => {};
      try {
        const { db } = server.database;
        await traffic(server, 1, 'before');
        const released = new Promise<void>((resolve) => (release = resolve));
        // Another session holds the chain table: the pass reads its rows, then waits to append.
        let locked: () => void = () => {};
        const isLocked = new Promise<void>((resolve) => (locked = resolve));
        const holding = holder.db.transaction().execute(async (trx) => {
          await sql`LOCK TABLE audit_chain IN EXCLUSIVE MODE`.execute(trx);
          locked();
          await released;
        });
        await isLocked;
        const first = server.app.auditChain.seal();
        const deadline = Date.now() + 10_000;
        const waiting = async () => {
          const { rows } = await sql<{ n: number }>`SELECT count(*)::int AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE 'insert into "audit_chain"%'`.execute(db);
          return (rows[0]?.n ?? 0) > 0;
        };
        while (!(await waiting())) {
          assert.ok(Date.now() < deadline, 'the pass reached its append');
          await new Promise((r) => setTimeout(r, 20));
        }
        await traffic(server, 1, 'during');
        const second = server.app.auditChain.seal();
        release();
        await holding;
        await first;
        await second;
        await assertGapFreeChainOfEveryEvent(db);
      } finally {
        release(); // a failed wait above must not leave the lock (and holder.close) hanging
        await holder.close();
        await server.close();
      }
    });

    test('two servers sealing one PostgreSQL database at once make one gap-free chain with every event exactly once', async () => {
      const testDb = await createTestDatabase(dialect);
      const nodes: Awaited<ReturnType<typeof startNode>>[] = [];
      try {
        // Migrations run one node at a time (Kysely's migration lock); both then seal every 50 ms.
        nodes.push(await startNode(testDb.url));
        nodes.push(await startNode(testDb.url));
        let writing = true;
        // Both also seal as fast as they can while the traffic commits, to race the lock.
        const racers = nodes.map(async (node) => {
          while (writing) await node.app.auditChain.seal();
        });
        await Promise.all(nodes.map((node, i) => traffic(node.url, 6, `node${i}`)));
        writing = false;
        await Promise.all(racers);
        for (const node of nodes) await node.app.auditChain.seal();
        const db = nodes[0]?.database.db as Kysely<Database>;
        const count = await assertGapFreeChainOfEveryEvent(db);
        assert.ok(count >= 48, `${count} events`);
        const run = await verifyCli(testDb.url);
        assert.equal(run.code, 0, run.stdout + run.stderr);
        assert.match(run.stdout, new RegExp(`^OK: ${count} events`));
      } finally {
        for (const node of nodes) {
          await node.app.close();
          await node.database.close();
        }
        await testDb.drop();
      }
    });
  });
}

for (const dialect of dialects) {
  test(`the audit chain migration goes up, down and up again (${dialect})`, async () => {
    const fresh = await createTestDatabase(dialect);
    const database = createDatabase(fresh.url);
    try {
      const tables = async () => (await database.db.introspection.getTables()).map((t) => t.name);
      await migrateToLatest(database.db);
      assert.ok((await tables()).includes('audit_chain'));
      // Down to the migration before it (later ones go down first, in order).
      const down = await createMigrator(database.db).migrateTo('2026_12_03_passkey_append');
      assert.equal(down.error, undefined);
      assert.ok(down.results?.some((r) => r.migrationName === '2026_12_03_seal_chain' && r.status === 'Success'));
      assert.ok(!(await tables()).some((t) => ['audit_chain', 'audit_checkpoints', 'audit_seal_state'].includes(t)));
      await migrateToLatest(database.db);
      assert.ok((await tables()).includes('audit_checkpoints'));
    } finally {
      await database.close();
      await fresh.drop();
    }
  });
}
