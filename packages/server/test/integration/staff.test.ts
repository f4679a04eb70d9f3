import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createTestApiKey } from '../helpers/api-keys.ts';
import { newAuthenticator, signUp } from '../helpers/flows.ts';
import { enrollTokenIn, enrollWithToken, makeStaff, runCli, signIn } from '../helpers/staff.ts';
import type { TestClient, TestResponse } from '../helpers/test-client.ts';
import { createTestDatabase, dialects, startTestServer, type TestServer } from '../helpers/test-server.ts';
import { createDatabase } from '../../src/db/create-db.ts';
import { createMigrator, migrateToLatest } from '../../src/db/migrate.ts';
import { TestClient as Client } from '../helpers/test-client.ts';

const ADMIN = '/api/admin/v1';

function assertProblem(r: TestResponse, status: number, code: string, label = ''): void {
  assert.equal(r.status, status, `${label} ${r.text}`);
  assert.equal(r.body.code, code, `${label} ${r.text}`);
}

for (const dialect of dialects) {
  describe(`staff (${dialect})`, () => {
    let server: TestServer;
    let dropFresh: () => Promise<void>;
    /** The first admin, made by the CLI on the fresh install and signed in with its passkey. */
    let root: TestClient;
    let rootId: string;

    before(async () => {
      const fresh = await createTestDatabase(dialect);
      dropFresh = fresh.drop;
      const cli = await runCli(fresh.url, ['staff', 'add', '--username', 'alice', '--role', 'admin']);
      assert.equal(cli.code, 0, cli.stderr);
      assert.match(cli.stdout, /Created the user and made them alice an admin/);
      assert.match(cli.stdout, /http:\/\/localhost:8080\/admin\/enroll#token=lk_append_/);
      assert.match(cli.stderr, /Making alice a staff member/, 'progress on stderr');
      server = await startTestServer(dialect, { config: { database: { url: fresh.url } } });
      root = server.client();
      const authenticator = newAuthenticator();
      await enrollWithToken(root, authenticator, enrollTokenIn(cli.stdout));
      await signIn(root, authenticator);
      const me = await root.get(`${ADMIN}/me`);
      assert.equal(me.status, 200, me.text);
      rootId = me.body.userId;
    });
    after(async () => {
      await server.close();
      await dropFresh();
    });

    test('first admin on a fresh install: CLI, enrolment link, passkey sign-in, /me says admin', async () => {
      const me = await root.get(`${ADMIN}/me`);
      assert.equal(me.status, 200, me.text);
      assert.equal(me.body.username, 'alice');
      assert.equal(me.body.role, 'admin');
      assert.ok(me.body.scopes.includes('staff:manage'));
      assert.ok(Date.parse(me.body.stepUpValidUntil) > server.clock.now(), 'a fresh UV sign-in counts as step-up');
      const list = await runCli(server.config.database.url, ['staff', 'list']);
      assert.equal(list.code, 0, list.stderr);
      assert.match(list.stdout, /alice\s+admin/);
      const again = await runCli(server.config.database.url, ['staff', 'add', '--username', 'alice', '--role', 'support']);
      assert.equal(again.code, 1);
      assert.match(again.stderr, /already_staff/);
      const bad = await runCli(server.config.database.url, ['staff', 'add', '--username', 'bob', '--role', 'root']);
      assert.equal(bad.code, 64);
      assert.match(bad.stderr, /--role must be one of admin, support, auditor/);
    });

    test('an ordinary user and an API key are not staff: /me is 403', async () => {
      const user = server.client();
      await signUp(user, newAuthenticator(), 'ordinary-user');
      assertProblem(await user.get(`${ADMIN}/me`), 403, 'insufficient_scope');
      const key = await createTestApiKey(server, ['users:read', 'staff:read']);
      const keyClient = new Client(server.url, null);
      keyClient.bearer = key.secret;
      assertProblem(await keyClient.get(`${ADMIN}/me`), 403, 'insufficient_scope');
      assertProblem(await server.client().get(`${ADMIN}/me`), 401, 'unauthorized');
    });

    test('staff reach the admin API only after a user-verified passkey sign-in', async () => {
      const weak = await makeStaff(server, root, 'no-uv-agent', 'support', { userVerified: false });
      assertProblem(await weak.client.get(`${ADMIN}/me`), 403, 'staff_passkey_required');
      assertProblem(await weak.client.get(`${ADMIN}/users`), 403, 'staff_passkey_required');
      // Their own account still works as an ordinary user's.
      assert.equal((await weak.client.get('/api/v1/session')).status, 200);
    });

    test('removal and disabling end a staff session at once', async () => {
      const agent = await makeStaff(server, root, 'agent-removed', 'support');
      assert.equal((await agent.client.get(`${ADMIN}/me`)).status, 200);
      const removed = await root.delete(`${ADMIN}/staff/${agent.userId}`, { headers: { 'latchkey-reason': encodeURIComponent('left the team') } });
      assert.equal(removed.status, 204, removed.text);
      assertProblem(await agent.client.get(`${ADMIN}/me`), 403, 'insufficient_scope');
      const other = await makeStaff(server, root, 'agent-disabled', 'auditor');
      assert.equal((await other.client.get(`${ADMIN}/me`)).status, 200);
      const disabled = await root.post(`${ADMIN}/users/${other.userId}/disable`, { reason: 'compromised laptop' });
      assert.equal(disabled.status, 200, disabled.text);
      assertProblem(await other.client.get(`${ADMIN}/me`), 401, 'unauthorized');
      assert.ok(rootId);
    });

    // Last: it moves the clock by hours.
    test('admin access is short (SEC-49): it ends after 30 min unused or 8 h after the passkey check, and a passkey sign-in restores it', async () => {
      const agent = await makeStaff(server, root, 'agent-short', 'support');
      assert.equal((await agent.client.get(`${ADMIN}/me`)).status, 200);
      server.clock.advance(31 * 60_000);
      const idle = await agent.client.get(`${ADMIN}/users`);
      assertProblem(idle, 401, 'staff_session_expired');
      assert.match(idle.body.detail, /Unused/);
      assert.equal((await agent.client.get('/api/v1/session')).status, 200, 'the account session itself lives on (idle 1 h)');
      await signIn(agent.client, agent.authenticator);
      // In use every 20 minutes: never idle, but 8 h after the sign-in the passkey is asked for again.
      for (let minutes = 20; minutes <= 480; minutes += 20) {
        server.clock.advance(20 * 60_000);
        assert.equal((await agent.client.get(`${ADMIN}/me`)).status, 200, `${minutes} min after the sign-in`);
      }
      server.clock.advance(60_000);
      const old = await agent.client.get(`${ADMIN}/me`);
      assertProblem(old, 401, 'staff_session_expired');
      assert.match(old.body.detail, /passkey check/);
      await signIn(agent.client, agent.authenticator);
      assert.equal((await agent.client.get(`${ADMIN}/me`)).status, 200);
    });
  });

  test(`the staff migration goes up, down and up again; an unknown role cannot be stored (${dialect})`, async () => {
    const fresh = await createTestDatabase(dialect);
    const database = createDatabase(fresh.url);
    try {
      await migrateToLatest(database.db);
      const tables = async () => (await database.db.introspection.getTables()).map((t) => t.name);
      assert.ok((await tables()).includes('staff_members') && (await tables()).includes('support_recoveries'));
      const migrations = (await createMigrator(database.db).getMigrations()).map((m) => m.name);
      const before = migrations[migrations.indexOf('2026_12_04_staff') - 1] ?? '';
      const down = await createMigrator(database.db).migrateTo(before);
      assert.equal(down.error, undefined);
      assert.ok(down.results?.some((r) => r.migrationName === '2026_12_04_staff' && r.status === 'Success'));
      assert.ok(!(await tables()).includes('staff_members'));
      await migrateToLatest(database.db);
      assert.ok((await tables()).includes('staff_members'));
      const now = Date.now();
      await database.db.insertInto('users').values({ id: 'u1', username: 'u1', username_key: 'u1', username_skeleton: 'u1', display_name: 'u1', user_handle: 'h1', external_id: null, status: 'active', created_at: now, email: null, email_key: null, email_verified_at: null }).execute();
      await assert.rejects(database.db.insertInto('staff_members').values({ user_id: 'u1', role: 'root', created_at: now, created_by_kind: 'cli', created_by_id: null }).execute());
    } finally {
      await database.close();
      await fresh.drop();
    }
  });
}
