import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { after, describe, test } from 'node:test';
import { sql } from 'kysely';
import pg from 'pg';
import { buildApp } from '../../src/app.ts';
import { authenticate, newAuthenticator, paths, register, sessionTokenOf, signUp } from '../helpers/flows.ts';
import { dialects, startTestServer, TEST_ORIGIN, type TestServer } from '../helpers/test-server.ts';
import { TestClient } from '../helpers/test-client.ts';

for (const dialect of dialects) {
  describe(`resilience (${dialect})`, () => {
    const servers: TestServer[] = [];
    after(async () => {
      for (const s of servers) await s.close().catch(() => {});
    });

    test('a restart between options and verify: the ceremony still completes, once (SEC-64)', async () => {
      const server = await startTestServer(dialect);
      servers.push(server);
      const authenticator = newAuthenticator();
      await signUp(server.client(), authenticator, 'restarter');
      const client = server.client();
      const options = await client.post(`${paths.AUTH}/options`, {});
      const assertion = await authenticator.getAssertion(options.body);
      await server.app.close();
      // A second node (or the same after a restart) on the same database finishes the ceremony.
      const second = await buildApp(server.config, { database: server.database, clock: server.clock });
      await second.listen({ host: '127.0.0.1', port: 0 });
      const address = second.server.address();
      const url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
      const moved = new TestClient(url, TEST_ORIGIN);
      for (const [k, v] of client.cookies) moved.cookies.set(k, v);
      const verify = await moved.post(`${paths.AUTH}/verify`, assertion);
      assert.equal(verify.status, 200, verify.text);
      const replay = await moved.post(`${paths.AUTH}/verify`, assertion);
      assert.equal(replay.status, 400);
      // The session made before the restart still works on the new node.
      moved.bearer = sessionTokenOf(moved);
      assert.equal((await moved.get('/api/v1/session')).status, 200);
      await second.close();
    });

    test('a failure inside the sign-up transaction leaves no account, passkey or session (SEC-56)', async () => {
      const server = await startTestServer(dialect);
      servers.push(server);
      const { db } = server.database;
      // Make the last write of the transaction (the session row) fail.
      if (dialect === 'postgres') {
        await sql`CREATE FUNCTION fail_sessions() RETURNS trigger AS $$ BEGIN RAISE EXCEPTION 'injected fault'; END; $$ LANGUAGE plpgsql`.execute(db);
        await sql`CREATE TRIGGER fail_sessions BEFORE INSERT ON sessions FOR EACH ROW EXECUTE FUNCTION fail_sessions()`.execute(db);
      } else {
        await sql`CREATE TRIGGER fail_sessions BEFORE INSERT ON sessions BEGIN SELECT RAISE(ABORT, 'injected fault'); END`.execute(db);
      }
      const { verify } = await register(server.client(), newAuthenticator(), { username: 'halfway' });
      assert.equal(verify.status, 500);
      assert.equal(verify.body.code, 'internal');
      assert.equal(verify.body.detail, undefined, 'a 5xx reveals nothing but the request id');
      assert.equal(verify.headers.getSetCookie().filter((c) => c.includes('session')).length, 0);
      for (const table of ['users', 'credentials', 'sessions'] as const) {
        const row = await db.selectFrom(table).select(sql<number>`count(*)`.as('n')).executeTakeFirstOrThrow();
        assert.equal(Number(row.n), 0, `${table} is empty`);
      }
      await sql`DROP TRIGGER fail_sessions${sql.raw(dialect === 'postgres' ? ' ON sessions' : '')}`.execute(db);
      const retry = await register(server.client(), newAuthenticator(), { username: 'halfway' });
      assert.equal(retry.verify.status, 200, 'the username was not left half-taken');
    });

    test('no session token, challenge or ceremony binding appears in the logs (SEC-51)', async () => {
      const lines: string[] = [];
      const sink = new Writable({
        write(chunk, _enc, done) {
          lines.push(String(chunk));
          done();
        },
      });
      const server = await startTestServer(dialect);
      servers.push(server);
      await server.app.close();
      const app = await buildApp(server.config, { database: server.database, clock: server.clock, logger: { level: 'trace', stream: sink } });
      await app.listen({ host: '127.0.0.1', port: 0 });
      const address = app.server.address();
      const client = new TestClient(`http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`, TEST_ORIGIN);
      const authenticator = newAuthenticator();
      await register(client, authenticator, { username: 'canary' });
      const upToken = sessionTokenOf(client);
      const inAgain = await authenticate(client, authenticator);
      const inAgainToken = sessionTokenOf(client);
      client.bearer = inAgainToken;
      await client.get('/api/v1/session');
      await client.delete('/api/v1/session');
      await app.close();
      const log = lines.join('');
      assert.ok(log.length > 0);
      for (const secret of [upToken, inAgainToken, inAgain.options.body.challenge, inAgain.options.headers.get('latchkey-ceremony')]) {
        assert.ok(secret && !log.includes(secret), 'secret absent from logs');
      }
    });

    if (dialect === 'postgres') {
      test('the database going away gives 503 problem+json, never a session (SEC-55)', async () => {
        const server = await startTestServer(dialect);
        servers.push(server);
        const authenticator = newAuthenticator();
        await signUp(server.client(), authenticator, 'before-outage');
        const client = server.client();
        const options = await client.post(`${paths.AUTH}/options`, {});
        const assertion = await authenticator.getAssertion(options.body);
        const name = new URL(server.config.database.url).pathname.slice(1);
        const admin = new pg.Client({ connectionString: process.env.LATCHKEY_TEST_PG_URL });
        await admin.connect();
        await admin.query(`ALTER DATABASE ${name} ALLOW_CONNECTIONS false`);
        await admin.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1', [name]);
        try {
          const verify = await client.post(`${paths.AUTH}/verify`, assertion);
          assert.equal(verify.status, 503, verify.text);
          assert.equal(verify.body.code, 'service_unavailable');
          assert.equal(verify.headers.getSetCookie().filter((c) => c.includes('session')).length, 0);
          const health = await client.get('/healthz');
          assert.equal(health.status, 503);
        } finally {
          await admin.query(`ALTER DATABASE ${name} ALLOW_CONNECTIONS true`);
          await admin.end();
        }
        // Once it is back, the server serves again without a restart.
        const health = await client.get('/healthz');
        assert.equal(health.status, 200);
      });
    }
  });
}
