import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/app.ts';
import { loadConfig } from '../../src/config/load.ts';
import type { Config } from '../../src/config/schema.ts';
import { createDatabase } from '../../src/db/create-db.ts';
import { createMigrator, migrateToLatest } from '../../src/db/migrate.ts';
import { createAuditChainService, createAuditService, createCheckpointSigner } from '../../src/modules/audit/audit.module.ts';
import { createSiemRepository, createSiemService, createSiemSinks } from '../../src/modules/siem/siem.module.ts';
import { createTestClock } from '../../src/platform/clock.ts';
import { cryptoRandom } from '../../src/platform/random.ts';
import { createUserAgentParser } from '../../src/platform/user-agent.ts';
import { authenticate, newAuthenticator, signUp } from '../helpers/flows.ts';
import { createRsyslog, ensureRsyslog, makeTestPki, type Rsyslog, type TestPki } from '../helpers/rsyslog.ts';
import { startServerProcess } from '../helpers/server-process.ts';
import { TestClient } from '../helpers/test-client.ts';
import { createTestDatabase, dialects, freePort, startTestServer, TEST_ORIGIN, type TestServer } from '../helpers/test-server.ts';

const TOKEN = 'siem-metrics-token-0123456789abcdef';

interface Ocsf {
  class_uid: number;
  activity_id: number;
  type_uid: number;
  status_id: number;
  status_code?: string;
  severity_id: number;
  is_mfa?: boolean;
  auth_factors?: Array<{ factor_type_id: number }>;
  user?: { uid?: string; name?: string };
  metadata: { uid: string; sequence: number; event_code: string; product: { name: string } };
  unmapped: { latchkey: { type: string; chain: { seq: number; hash: string; prev_hash: string } } };
}

const parse = (lines: string[]): Ocsf[] => lines.map((line) => JSON.parse(line) as Ocsf);

/** The value of one sample of a Prometheus text scrape (0 when absent). */
async function metric(url: string, name: string, labels: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } })).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name}{${labels}}`));
  return line ? Number(line.split(' ').at(-1)) : 0;
}

/** The newest sealed seq; seals first, so every committed event is in the chain. */
async function sealedHead(app: FastifyInstance): Promise<number> {
  // One call: a pass the timer began before the last commit is followed by one that sees it.
  await app.auditChain.seal();
  return app.auditChain.newestSeq();
}

/** Each seq of 1..head at least once, and the hashes link (prev_hash of seq n+1 = hash of seq n). */
function assertContinuous(events: Ocsf[], head: number, where: string): { duplicates: number } {
  const bySeq = new Map<number, Ocsf>();
  for (const e of events) {
    assert.equal(e.metadata.sequence, e.unmapped.latchkey.chain.seq);
    const seen = bySeq.get(e.metadata.sequence);
    if (seen) assert.equal(seen.metadata.uid, e.metadata.uid, `${where}: a resent seq is the same event`);
    bySeq.set(e.metadata.sequence, e);
  }
  const missing = Array.from({ length: head }, (_, i) => i + 1).filter((seq) => !bySeq.has(seq));
  assert.deepEqual(missing, [], `${where}: no seq missing of 1..${head}`);
  for (let seq = 2; seq <= head; seq += 1) {
    assert.equal(bySeq.get(seq)?.unmapped.latchkey.chain.prev_hash, bySeq.get(seq - 1)?.unmapped.latchkey.chain.hash, `${where}: chain link at ${seq}`);
  }
  return { duplicates: events.length - bySeq.size };
}

async function timedSignIn(client: () => TestClient, authenticator: ReturnType<typeof newAuthenticator>): Promise<number> {
  const started = performance.now();
  const { verify } = await authenticate(client(), authenticator);
  assert.equal(verify.status, 200, verify.text);
  return performance.now() - started;
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] as number;

async function waitFor<T>(what: string, read: () => Promise<T>, ok: (value: T) => boolean, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (ok(value)) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(value).slice(0, 500)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

let dir: string;
let pki: TestPki;

before(async () => {
  ensureRsyslog();
  dir = await mkdtemp(join(tmpdir(), 'latchkey-siem-'));
  pki = makeTestPki(dir);
});

after(async () => {
  await rm(dir, { recursive: true, force: true });
});

for (const dialect of dialects) {
  describe(`SIEM export on ${dialect}`, () => {
    let rsyslog: Rsyslog;
    let server: TestServer;
    let ndjson: string;

    before(async () => {
      const own = await mkdtemp(join(dir, `${dialect}-`));
      rsyslog = await createRsyslog(own, pki, await freePort(), { clientAuth: true });
      await rsyslog.start();
      ndjson = join(own, 'latchkey-ocsf.ndjson');
      server = await startTestServer(dialect, {
        config: {
          siem: {
            syslogHost: 'localhost',
            syslogPort: rsyslog.port,
            syslogCaFile: pki.ca,
            syslogCertFile: pki.clientCert,
            syslogKeyFile: pki.clientKey,
            file: ndjson,
            includeUsername: true,
            pollIntervalMs: 100,
          },
          audit: { sealIntervalMs: 100 },
          metrics: { token: TOKEN },
        },
      });
    });

    after(async () => {
      await rsyslog?.stop();
      await server?.close();
    });

    test('sign-ins reach a real rsyslog over mutual TLS as OCSF; a hung or dead receiver costs sign-ins nothing and loses nothing', async (t) => {
      const authenticator = newAuthenticator();
      const { user } = await signUp(server.client(), authenticator, 'alice');
      const refused = await authenticate(server.client(), authenticator, {}, { signature: 'bogus' });
      assert.equal(refused.verify.status, 401);
      const baseline: number[] = [];
      for (let i = 0; i < 5; i += 1) baseline.push(await timedSignIn(() => server.client(), authenticator));
      const signedIn = server.client();
      await authenticate(signedIn, authenticator);
      assert.equal((await signedIn.delete('/api/v1/session')).status, 204);

      let head = await sealedHead(server.app);
      let events = parse(await rsyslog.waitForLines(head));
      assertContinuous(events, head, 'first delivery');
      for (const e of events) assert.equal(e.metadata.product.name, 'Latchkey');
      const logons = events.filter((e) => e.type_uid === 300201 && e.status_id === 1);
      assert.equal(logons.length, 1 + 5 + 1, 'one Logon per session: the sign-up and six sign-ins');
      for (const e of logons) {
        assert.deepEqual(e.auth_factors?.map((f) => f.factor_type_id), [10], 'WebAuthn factor');
        assert.equal(e.is_mfa, true, 'the soft authenticator verifies the user');
        assert.equal(e.user?.uid, user.id);
        assert.equal(e.user?.name, 'alice', 'LATCHKEY_SIEM_INCLUDE_USERNAME');
      }
      const failed = events.find((e) => e.unmapped.latchkey.type === 'passkey.authentication_failed');
      assert.ok(failed);
      assert.equal(failed.type_uid, 300201);
      assert.equal(failed.status_id, 2);
      assert.equal(failed.status_code, 'verification_failed');
      assert.equal(events.find((e) => e.unmapped.latchkey.type === 'passkey.registered')?.type_uid, 300110, 'passkey added: Account Change, MFA Factor Enable');
      assert.ok(events.some((e) => e.type_uid === 300202 && e.user?.uid === user.id), 'sign-out: Logoff');

      // A hung receiver (SIGSTOP: connected, reads nothing), then a dead one (SIGKILL: refused).
      await rsyslog.signal('SIGSTOP');
      const hung: number[] = [];
      for (let i = 0; i < 5; i += 1) hung.push(await timedSignIn(() => server.client(), authenticator));
      await rsyslog.signal('SIGCONT');
      head = await sealedHead(server.app);
      await rsyslog.waitForLines(head);
      await rsyslog.signal('SIGKILL');
      const dead: number[] = [];
      for (let i = 0; i < 5; i += 1) dead.push(await timedSignIn(() => server.client(), authenticator));
      head = await sealedHead(server.app);
      await waitFor('a failed send', () => metric(server.url, 'latchkey_siem_send_errors_total', 'sink="syslog"'), (n) => n > 0);
      assert.ok((await metric(server.url, 'latchkey_siem_lag_events', 'sink="syslog"')) > 0, 'the lag shows what waits');
      assert.ok(median(hung) < median(baseline) * 3 + 100 && median(dead) < median(baseline) * 3 + 100, `sign-in ms: up ${baseline}, hung ${hung}, dead ${dead}`);
      t.diagnostic(`passkey sign-in median ms: receiver up ${median(baseline).toFixed(1)}, hung ${median(hung).toFixed(1)}, dead ${median(dead).toFixed(1)}`);

      await rsyslog.start();
      events = parse(await rsyslog.waitForLines(head, 30_000));
      const { duplicates } = assertContinuous(events, head, 'after the restart');
      assert.ok(duplicates <= 500, `at least once: ${duplicates} resent`);
      await waitFor('the cursor at the head', () => metric(server.url, 'latchkey_siem_lag_events', 'sink="syslog"'), (n) => n === 0);
      assert.ok((await metric(server.url, 'latchkey_siem_events_exported_total', 'sink="syslog"')) >= head);

      // The NDJSON file got each event exactly once, in order.
      const file = parse(await waitFor('the file at the head', async () => (await readFile(ndjson, 'utf8')).trim().split('\n'), (l) => l.length >= head));
      assert.deepEqual(file.map((e) => e.metadata.sequence), Array.from({ length: head }, (_, i) => i + 1));
    });

    test('the cursor is kept in the database: a restarted Latchkey goes on after the last event delivered, none skipped, none repeated', async () => {
      const before = await sealedHead(server.app);
      await waitFor('the file at the head', async () => (await readFile(ndjson, 'utf8')).trim().split('\n').length, (n) => n >= before);
      await server.app.close();
      // The same database, a new process's worth of services (the test server's database handle outlives the app).
      const second = await buildApp(server.config, { database: server.database, clock: server.clock });
      await second.listen({ host: '127.0.0.1', port: 0 });
      try {
        const address = second.server.address();
        const url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
        const authenticator = newAuthenticator();
        await signUp(new TestClient(url, TEST_ORIGIN), authenticator, 'bob');
        const head = await sealedHead(second);
        assert.ok(head > before);
        const file = parse(await waitFor('the file at the new head', async () => (await readFile(ndjson, 'utf8')).trim().split('\n'), (l) => l.length >= head));
        assert.deepEqual(file.map((e) => e.metadata.sequence), Array.from({ length: head }, (_, i) => i + 1));
        // At least once: the restart may send the last batch again, so count distinct seqs, not lines.
        const events = parse(await waitFor('syslog at the new head', async () => rsyslog.lines(), (l) => new Set(parse(l).map((e) => e.metadata.sequence)).size >= head));
        assertContinuous(events, head, 'syslog after the Latchkey restart');
        assert.ok(events.some((e) => e.user?.name === 'bob' && e.type_uid === 300201));
      } finally {
        await second.close();
      }
    });

    test('NDJSON to stdout: a Latchkey process writes one OCSF line per audit event', async () => {
      const database = await createTestDatabase(dialect);
      const child = await startServerProcess({ LATCHKEY_DATABASE_URL: database.url, LATCHKEY_SIEM_FILE: '-', LATCHKEY_SIEM_POLL_INTERVAL_MS: '100', LATCHKEY_AUDIT_SEAL_INTERVAL_MS: '100' }, { startTimeoutMs: 60_000 });
      try {
        const authenticator = newAuthenticator();
        await signUp(new TestClient(child.url, TEST_ORIGIN), authenticator, 'carol');
        const lines = await waitFor(
          'OCSF lines on stdout',
          async () => child.output().split('\n').filter((l) => l.includes('"class_uid"')),
          (l) => l.length >= 3,
        );
        const events = parse(lines);
        assert.deepEqual(events.map((e) => e.metadata.sequence), [1, 2, 3]);
        assert.deepEqual(events.map((e) => e.unmapped.latchkey.type).sort(), ['account.created', 'passkey.registered', 'session.created']);
        assert.equal(events.find((e) => e.class_uid === 3002)?.user?.name, undefined, 'no username unless asked for');
      } finally {
        child.kill();
        await database.drop();
      }
    });

    test('mutual TLS: a client certificate the receiver does not trust delivers nothing; the cursor waits and the failures are counted', async () => {
      const stranger = await startTestServer(dialect, {
        config: {
          siem: { syslogHost: 'localhost', syslogPort: rsyslog.port, syslogCaFile: pki.ca, syslogCertFile: pki.strangerCert, syslogKeyFile: pki.strangerKey, includeUsername: true, pollIntervalMs: 100 },
          audit: { sealIntervalMs: 100 },
          metrics: { token: TOKEN },
        },
      });
      try {
        await signUp(stranger.client(), newAuthenticator(), 'mallory');
        const head = await sealedHead(stranger.app);
        await waitFor('refused sends', () => metric(stranger.url, 'latchkey_siem_send_errors_total', 'sink="syslog"'), (n) => n >= 2);
        assert.equal(await metric(stranger.url, 'latchkey_siem_lag_events', 'sink="syslog"'), head, 'nothing counted as delivered');
        assert.equal(await metric(stranger.url, 'latchkey_siem_events_exported_total', 'sink="syslog"'), 0);
        assert.ok(!(await rsyslog.lines()).some((l) => l.includes('mallory')), 'the receiver accepted nothing from it');
      } finally {
        await stranger.close();
      }
    });

    test('plain TCP when asked for (tests, a receiver on the same host); a new sink with startFrom=now skips the history', async () => {
      const own = await mkdtemp(join(dir, `${dialect}-tcp-`));
      const plain = await createRsyslog(own, pki, await freePort(), { plainTcp: true });
      await plain.start();
      const first = await startTestServer(dialect, { config: { audit: { sealIntervalMs: 100 } } });
      let second: FastifyInstance | undefined;
      try {
        await signUp(first.client(), newAuthenticator(), 'before-export');
        const history = await sealedHead(first.app);
        await first.app.close();
        const config = loadConfig({
          env: {},
          overrides: {
            ...JSON.parse(JSON.stringify(first.config)),
            siem: { syslogHost: '127.0.0.1', syslogPort: plain.port, syslogTransport: 'tcp', startFrom: 'now', pollIntervalMs: 100 },
          },
        });
        second = await buildApp(config, { database: first.database, clock: first.clock });
        await second.listen({ host: '127.0.0.1', port: 0 });
        const address = second.server.address();
        await signUp(new TestClient(`http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`, TEST_ORIGIN), newAuthenticator(), 'after-export');
        const head = await sealedHead(second);
        const events = parse(await plain.waitForLines(head - history));
        // What came, by seq, type and event id: a CI run once got three more events than the sign-up wrote.
        let got = events.map((e) => `${e.metadata.sequence} ${e.metadata.event_code} ${e.metadata.uid}`).join('; ');
        const extra = events.filter((e) => Number(e.metadata.sequence) > head);
        if (extra.length > 0) {
          // Where they came from: this database's rows (and when), or another database's.
          const rows = await first.database.db.selectFrom('audit_events').select(['id', 'type', 'created_at', 'actor_kind', 'request_id']).where('id', 'in', extra.map((e) => String(e.metadata.uid))).execute();
          got += ` | extra in this database: ${JSON.stringify(rows)}; newest seq now ${await second.auditChain.newestSeq()}`;
        }
        assert.deepEqual(events.map((e) => e.metadata.sequence), Array.from({ length: head - history }, (_, i) => history + i + 1), `only what was sealed after the sink started (history ${history}, head ${head}): ${got}`);
      } finally {
        await second?.close();
        await plain.stop();
        await first.close();
      }
    });

    test('two nodes on one database: one exports at a time (lease), and the other takes over when it stops', async () => {
      const database = await createTestDatabase(dialect);
      const own = await mkdtemp(join(dir, `${dialect}-nodes-`));
      const node = async (name: string) => {
        const config = loadConfig({
          env: {},
          overrides: {
            server: { verifyWorkers: 0, port: 0 },
            rp: { id: 'localhost', origins: [TEST_ORIGIN] },
            signup: { perIpPerHour: 100_000 },
            auth: { perIpPerHour: 100_000 },
            database: { url: database.url, poolSize: 3 },
            log: { level: 'silent' as Config['log']['level'] },
            audit: { sealIntervalMs: 100 },
            siem: { file: join(own, `${name}.ndjson`), pollIntervalMs: 50 },
          },
        });
        const handle = createDatabase(config.database.url, config.database);
        const app = await buildApp(config, { database: handle, clock: createTestClock(Date.now()) });
        await app.listen({ host: '127.0.0.1', port: 0 });
        const address = app.server.address();
        return { app, handle, url: `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`, file: join(own, `${name}.ndjson`) };
      };
      const read = async (file: string) => parse((await readFile(file, 'utf8').catch(() => '')).split('\n').filter(Boolean));
      const a = await node('a');
      const b = await node('b');
      try {
        // Both nodes take traffic; whichever holds the lease writes every event.
        for (const [i, n] of [a, b, a, b].entries()) await signUp(new TestClient(n.url, TEST_ORIGIN), newAuthenticator(), `node-user-${i}`);
        let head = await sealedHead(a.app);
        await waitFor('every event exported once', async () => (await read(a.file)).length + (await read(b.file)).length, (n) => n >= head);
        const [fromA, fromB] = [await read(a.file), await read(b.file)];
        assert.ok(fromA.length === 0 || fromB.length === 0, `one exporter: a wrote ${fromA.length}, b wrote ${fromB.length}`);
        const leader = fromA.length > 0 ? a : b;
        const follower = leader === a ? b : a;
        // The leader stops (giving its lease up); the follower goes on from the shared cursor.
        await leader.app.close();
        await leader.handle.close();
        await signUp(new TestClient(follower.url, TEST_ORIGIN), newAuthenticator(), 'after-failover');
        head = await sealedHead(follower.app);
        const taken = await waitFor('the follower exporting', () => read(follower.file), (l) => l.length > 0 && (l.at(-1)?.metadata.sequence ?? 0) >= head);
        const all = [...(await read(leader.file)), ...taken].map((e) => e.metadata.sequence);
        assert.deepEqual(all, Array.from({ length: head }, (_, i) => i + 1), 'each event once, in order, across the two nodes');
      } finally {
        for (const n of [a, b]) {
          await n.app.close().catch(() => {});
          await n.handle.close().catch(() => {});
        }
        await database.drop();
      }
    });

    test('events this node sealed lately are read from memory, the rest from the database: with two sealers on one database and a sink that falls behind, each event is exported once, in order', async () => {
      const fresh = await createTestDatabase(dialect);
      const database = createDatabase(fresh.url);
      const own = await mkdtemp(join(dir, `${dialect}-recent-`));
      const file = join(own, 'out.ndjson');
      const clock = createTestClock(Date.now());
      // Each keeps its last 40 sealed events in memory (a burst of 95 below outgrows that).
      const chainOf = () =>
        createAuditChainService({ db: database.db, dialect, clock, signer: createCheckpointSigner(new Uint8Array(32).fill(3)), sealIntervalMs: 1000, checkpointIntervalSeconds: 600, checkpointEveryEvents: 10_000, retentionDays: 0, recentSealed: 40 });
      // Node A's chain feeds the exporter; node B seals too (its batches are never seen in A's memory).
      const [chainA, chainB] = [chainOf(), chainOf()];
      const audit = createAuditService({ clock, random: cryptoRandom, parseUserAgent: createUserAgentParser() });
      const write = async (count: number) => {
        for (let i = 0; i < count; i++) {
          clock.advance(1);
          await audit.record(database.db, { requestId: `req-${i}`, ip: '127.0.0.1', userAgent: null }, { type: 'session.created', outcome: 'success', subjectUserId: `user-${i}`, data: { method: 'passkey' } });
        }
      };
      let exported = 0;
      // While `gate` is set, a read back waits for it (and `reading` tells that one does).
      let gate: Promise<void> | undefined;
      let reading: (() => void) | undefined;
      const siem = createSiemService({
        chain: {
          ...chainA,
          readSealedAfter: async (seq, limit) => {
            if (gate) {
              reading?.();
              await gate;
            }
            return chainA.readSealedAfter(seq, limit);
          },
        },
        repository: createSiemRepository(database.db),
        clock,
        random: cryptoRandom,
        sinks: createSiemSinks(loadConfig({ env: {}, overrides: { rp: { id: 'localhost', origins: [TEST_ORIGIN] }, siem: { file } } }).siem, { hostname: 'test', procId: '1', stdout: process.stdout }),
        ocsf: { productVersion: '0.0.0', service: { name: 'Test', uid: 'localhost' } },
        batchSize: 10,
        pollIntervalMs: 50,
        startFrom: 'beginning',
        observer: { exported: (_sink, n) => (exported += n), sendError: () => {}, dropped: () => {} },
        log: { warn: () => {}, info: () => {} },
      });
      try {
        await migrateToLatest(database.db);
        await write(5);
        await chainA.seal(); // 1..5, sealed before the exporter listens: read back.
        siem.start();
        let head = 5;
        const caughtUp = () => waitFor('the export catching up', async () => exported, (n) => n >= head);
        await caughtUp();
        const sealSeven = async (sealer: typeof chainA) => {
          await write(7);
          assert.equal(await sealer.seal(), 7);
          head += 7;
        };
        await sealSeven(chainA); // 6..12 from memory
        await caughtUp();
        // The sink waits in a read back after 12 while A, B and A seal: A's memory then holds 13..19
        // and 27..33, which must not pass for 13..26.
        let release = () => {};
        const waiting = new Promise<void>((resolve) => (reading = resolve));
        gate = new Promise<void>((resolve) => (release = resolve));
        await waiting;
        for (const sealer of [chainA, chainB, chainA]) await sealSeven(sealer);
        gate = undefined;
        release();
        await caughtUp();
        for (const sealer of [chainB, chainB, chainA]) {
          await sealSeven(sealer);
          await caughtUp();
        }
        // A burst larger than what memory keeps (40 events): the sink reads the start back.
        await write(95);
        assert.equal(await chainA.seal(), 95);
        head += 95;
        await caughtUp();
        const lines = (await readFile(file, 'utf8')).split('\n').filter(Boolean);
        assert.deepEqual(parse(lines).map((e) => e.metadata.sequence), Array.from({ length: head }, (_, i) => i + 1), 'each event once, in order');
        assertContinuous(parse(lines), head, 'memory and database');
        // What node A sealed lately comes from memory (the same objects on every read); what B sealed,
        // and what A's memory no longer holds, from the database (new objects on every read).
        const fromMemory = async (seq: number) => {
          const [first] = await chainA.readSealedAfter(seq - 1, 1);
          const [again] = await chainA.readSealedAfter(seq - 1, 1);
          return first !== undefined && first === again;
        };
        for (const seq of [1, 13, 20, 34, head - 94, head - 40]) assert.equal(await fromMemory(seq), false, `seq ${seq} is read from the database`);
        for (const seq of [head - 39, head - 10, head]) assert.equal(await fromMemory(seq), true, `seq ${seq} (sealed by A lately) comes from memory`);
      } finally {
        await siem.close();
        await database.close();
        await fresh.drop();
      }
    });

    test('migration: siem_cursors goes down and up again', async () => {
      const fresh = await createTestDatabase(dialect);
      const database = createDatabase(fresh.url);
      try {
        await migrateToLatest(database.db);
        const tables = async () => (await database.db.introspection.getTables()).map((t) => t.name);
        assert.ok((await tables()).includes('siem_cursors'));
        const down = await createMigrator(database.db).migrateTo('2026_12_04_experiments');
        assert.equal(down.error, undefined);
        assert.ok(!(await tables()).includes('siem_cursors'));
        await migrateToLatest(database.db);
        assert.ok((await tables()).includes('siem_cursors'));
      } finally {
        await database.close();
        await fresh.drop();
      }
    });
  });
}
