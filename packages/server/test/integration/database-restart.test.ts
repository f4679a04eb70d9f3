import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import { startPostgres } from '../../../../scripts/postgres.mjs';
import { authenticate, newAuthenticator, register } from '../helpers/flows.ts';
import { TestClient, type TestResponse } from '../helpers/test-client.ts';
import { startServerProcess, type ServerProcess } from '../helpers/server-process.ts';
import { dialects, TEST_ORIGIN } from '../helpers/test-server.ts';
import type { SoftAuthenticator } from '../../../testkit/src/index.ts';

/** Every answer that is not a 200 must be the documented outage answer, never a 500 or a dropped connection. */
function assertOutageAnswer(response: TestResponse, where: string): void {
  assert.equal(response.status, 503, `${where}: ${response.status} ${response.text}`);
  assert.match(response.headers.get('content-type') ?? '', /^application\/problem\+json/);
  assert.equal(response.body.code, 'service_unavailable');
  assert.match(response.headers.get('retry-after') ?? '', /^\d+$/);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * SEC-55/SEC-64 with a real PostgreSQL restart: two Latchkey processes on one cluster of this
 * test's own, sign-ups running on both, `pg_ctl restart -m fast` (every connection gets
 * "terminating connection due to administrator command"). Before the fix a pooled client that
 * was checked out when its connection died emitted an unhandled 'error' and Node exited.
 * @see issue 9 (fault test: "A PostgreSQL restart under load kills the Latchkey process")
 */
if (dialects.includes('postgres')) {
  describe('PostgreSQL restart under load (two nodes)', { timeout: 55_000 }, () => {
    let cluster: Awaited<ReturnType<typeof startPostgres>>;
    const nodes: ServerProcess[] = [];

    before(async () => {
      cluster = await startPostgres({ durableCommits: true });
      const admin = new pg.Client({ connectionString: cluster.url });
      await admin.connect();
      await admin.query('CREATE DATABASE latchkey');
      await admin.end();
      const url = new URL(cluster.url);
      url.pathname = '/latchkey';
      // One after the other: the first runs the migrations.
      nodes.push(await startServerProcess({ LATCHKEY_DATABASE_URL: url.toString(), LATCHKEY_DATABASE_POOL_SIZE: '4' }));
      nodes.push(await startServerProcess({ LATCHKEY_DATABASE_URL: url.toString(), LATCHKEY_DATABASE_POOL_SIZE: '4' }));
    });

    after(() => {
      for (const node of nodes) node.kill();
      cluster?.stop();
    });

    test('both nodes survive, answer 503 problem+json while it is away, serve again within seconds, lose no acknowledged sign-up', async (t) => {
      const acknowledged: { username: string; userId: string; authenticator: SoftAuthenticator }[] = [];
      const outageAnswers: TestResponse[] = [];
      let next = 0;
      let running = true;

      /** One sign-up on a node; a 200 is an acknowledged account that must survive. */
      async function signUpOnce(nodeUrl: string): Promise<void> {
        const username = `user${next++}`;
        const authenticator = newAuthenticator();
        const client = new TestClient(nodeUrl, TEST_ORIGIN);
        const options = await client.post('/api/v1/passkeys/registration/options', { username });
        if (options.status !== 200) {
          assertOutageAnswer(options, 'registration options');
          outageAnswers.push(options);
          return;
        }
        const response = await authenticator.createCredential(options.body);
        const verify = await client.post('/api/v1/passkeys/registration/verify', response);
        if (verify.status !== 200) {
          assertOutageAnswer(verify, 'registration verify');
          outageAnswers.push(verify);
          return;
        }
        acknowledged.push({ username, userId: verify.body.user.id, authenticator });
      }

      const errors: unknown[] = [];
      const drivers = Array.from({ length: 6 }, async (_, i) => {
        const node = nodes[i % nodes.length] as (typeof nodes)[number];
        while (running) {
          try {
            await signUpOnce(node.url);
          } catch (error) {
            errors.push(error);
            return;
          }
          // Keep it steady but modest: the point is traffic in flight when the connections die.
          await sleep(5);
        }
      });

      /** Waits until `count` sign-ups have been acknowledged (the machine may be slow; the drivers stop on an error). */
      async function acknowledgedReach(count: number, what: string): Promise<void> {
        const deadline = Date.now() + 15_000;
        while (acknowledged.length < count && errors.length === 0) {
          assert.ok(Date.now() < deadline, what);
          await sleep(20);
        }
      }
      await acknowledgedReach(20, 'sign-ups work before the restart');
      await cluster.control('restart');
      const afterRestart = acknowledged.length;
      await acknowledgedReach(afterRestart + 20, 'sign-ups go on after the restart');
      running = false;
      await Promise.all(drivers);
      for (const node of nodes) assert.equal(node.process.exitCode, null, `the node is alive after the restart:\n${node.output()}`);
      assert.deepEqual(errors, [], `every answer was a 200 or the 503 outage answer (no 500, no dropped connection):\n${nodes.map((n) => n.output()).join('\n')}`);

      // A longer outage: every request is answered at once with the outage answer.
      await cluster.control('stop');
      for (const node of nodes) {
        const client = new TestClient(node.url, TEST_ORIGIN);
        assertOutageAnswer(await client.post('/api/v1/passkeys/registration/options', { username: 'during-outage' }), 'options while stopped');
        assertOutageAnswer(await client.post('/api/v1/passkeys/authentication/options', { username: 'user0' }), 'sign-in options while stopped');
        const health = await client.get('/healthz');
        assert.equal(health.status, 503);
        assert.match(health.headers.get('retry-after') ?? '', /^\d+$/);
      }
      await cluster.control('start');
      const backAt = Date.now();
      for (const node of nodes) {
        const client = new TestClient(node.url, TEST_ORIGIN);
        for (;;) {
          const { verify } = await register(client, newAuthenticator(), { username: `back${nodes.indexOf(node)}` }).catch(() => ({ verify: { status: 0 } }));
          if (verify.status === 200) break;
          assert.ok(Date.now() - backAt < 5000, 'serving again within 5 s of the database coming back');
          await sleep(100);
        }
        assert.equal(node.process.exitCode, null);
      }

      t.diagnostic(`${acknowledged.length} sign-ups acknowledged, ${outageAnswers.length} answered 503 during the restart`);
      // Every sign-up that was answered 200 can sign in, on either node.
      for (const [i, account] of acknowledged.entries()) {
        const node = nodes[i % nodes.length] as (typeof nodes)[number];
        const { verify } = await authenticate(new TestClient(node.url, TEST_ORIGIN), account.authenticator);
        assert.equal(verify.status, 200, `${account.username} signs in: ${verify.text}`);
        assert.equal(verify.body.user.id, account.userId);
      }
      for (const node of nodes) assert.doesNotMatch(node.output(), /Unhandled 'error' event|uncaught/i);
    });
  });
}
