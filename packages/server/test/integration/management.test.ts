import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { authenticate, newAuthenticator, signUp } from '../helpers/flows.ts';
import { startMailbox, type Mailbox } from '../helpers/mailbox.ts';
import { TestClient, type TestResponse } from '../helpers/test-client.ts';
import { createDatabase } from '../../src/db/create-db.ts';
import { createApiKeysService } from '../../src/modules/api-keys/api-keys.module.ts';
import { createAuditService } from '../../src/modules/audit/audit.module.ts';
import { cryptoRandom } from '../../src/platform/random.ts';
import { createMigrator, migrateToLatest } from '../../src/db/migrate.ts';
import { createTestDatabase, dialects, startTestServer, type TestServer } from '../helpers/test-server.ts';

const ADMIN = '/api/admin/v1';
const CLI = fileURLToPath(new URL('../../src/cli.ts', import.meta.url));
/** The staff and console scopes: their routes are in the roles × routes matrix (staff-matrix.test.ts). */
const STAFF_SCOPES = ['console:access', 'staff:read', 'staff:manage', 'settings:read', 'recovery:start', 'lockouts:lift'];
const ALL_SCOPES = ['users:read', 'users:write', 'users:delete', 'users:export', 'users:import', 'sessions:write', 'audit:read', 'audit:export', 'experiments:read', 'experiments:write', 'api_keys:manage', 'tokens:issue', 'tokens:redeem', 'append_tokens:issue', 'rollout:read', 'rollout:write', 'analytics:read', 'analytics:export'];

/** Runs `latchkey <args>` as an operator would (a child process), against the given database. */
function runCli(databaseUrl: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { env: { PATH: process.env.PATH ?? '', LATCHKEY_DATABASE_URL: databaseUrl }, timeout: 60_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

function secretFrom(stdout: string): string {
  const match = /lk_live_[a-z2-7]{16}_[A-Za-z0-9_-]{43}/.exec(stdout);
  assert.ok(match, `the CLI printed a key: ${stdout}`);
  return match[0];
}

function assertProblem(r: TestResponse, status: number, code: string, label = ''): void {
  assert.equal(r.status, status, `${label} ${r.text}`);
  assert.match(r.headers.get('content-type') ?? '', /^application\/problem\+json/, label);
  assert.equal(r.body.code, code, `${label} ${r.text}`);
}

for (const dialect of dialects) {
  describe(`management API (${dialect})`, () => {
    let server: TestServer;
    let mailbox: Mailbox;
    let dropFresh: () => Promise<void>;
    /** The first key, made by the CLI on the fresh database before the server ever started. */
    let rootKey: string;
    let root: TestClient;

    /** A server-to-server client: the key as bearer, no Origin, no cookies. */
    const admin = (key: string) => {
      const client = new TestClient(server.url, null);
      client.bearer = key;
      return client;
    };
    const makeKey = async (scopes: string[], extra: Record<string, unknown> = {}) => {
      const r = await root.post(`${ADMIN}/api-keys`, { name: `key ${scopes.length}`, scopes, ...extra });
      assert.equal(r.status, 201, r.text);
      return r.body as { apiKey: { id: string; prefix: string; scopes: string[] }; secret: string };
    };
    const createUser = async (body: Record<string, unknown>) => {
      const r = await root.post(`${ADMIN}/users`, body);
      assert.equal(r.status, 201, r.text);
      return r.body as { id: string; username: string; displayName: string; email: string | null; externalId: string | null; status: string };
    };
    const auditRows = (filter: { requestId?: string; subject?: string }) => {
      let q = server.database.db.selectFrom('audit_events').selectAll();
      if (filter.requestId) q = q.where('request_id', '=', filter.requestId);
      if (filter.subject) q = q.where('subject_user_id', '=', filter.subject);
      return q.orderBy('created_at').orderBy('id').execute();
    };
    const lookUp = (by: Record<string, string | undefined>) => root.post(`${ADMIN}/users/lookup`, by);
    const keyIdOf = (secret: string) => secret.slice('lk_live_'.length, 'lk_live_'.length + 16);

    before(async () => {
      const fresh = await createTestDatabase(dialect);
      dropFresh = fresh.drop;
      const cli = await runCli(fresh.url, ['api-keys', 'create', '--name', 'shop-backend', '--scopes', ALL_SCOPES.join(',')]);
      assert.equal(cli.code, 0, cli.stderr);
      rootKey = secretFrom(cli.stdout);
      mailbox = await startMailbox();
      server = await startTestServer(dialect, { config: { database: { url: fresh.url }, mail: { smtpUrl: mailbox.url, from: 'Latchkey <no-reply@example.test>' } } });
      root = admin(rootKey);
    });
    after(async () => {
      await server.close();
      await mailbox.close();
      await dropFresh();
    });

    test('the CLI makes the first key on a fresh install: shown once with a warning, works over HTTP, stored only as a hash', async () => {
      const r = await root.get(`${ADMIN}/users`);
      assert.equal(r.status, 200, r.text);
      const rows = await server.database.db.selectFrom('api_keys').selectAll().execute();
      assert.equal(rows.length, 1);
      const row = rows[0];
      assert.ok(row);
      assert.equal(row.id, keyIdOf(rootKey));
      assert.equal(row.created_by_kind, 'cli');
      assert.ok(!JSON.stringify(row).includes(rootKey.slice(-43)), 'the secret is not stored');
      assert.equal(row.secret_hash.length, 43, 'SHA-256, base64url');
      assert.deepEqual(JSON.parse(row.scopes), ALL_SCOPES);
      const created = (await auditRows({})).find((e) => e.type === 'api_key.created');
      assert.equal(created?.actor_kind, 'cli');
      // What the operator sees: the warning, and `list` never shows the secret again.
      const again = await runCli(server.config.database.url, ['api-keys', 'create', '--name', 'ci', '--scopes', 'users:read', '--expires-in', '30d']);
      assert.equal(again.code, 0, again.stderr);
      assert.match(again.stdout, /shown ONCE/);
      const list = await runCli(server.config.database.url, ['api-keys', 'list']);
      assert.equal(list.code, 0, list.stderr);
      assert.match(list.stdout, /shop-backend/);
      assert.match(list.stdout, /ci/);
      assert.doesNotMatch(list.stdout, /lk_live_[a-z2-7]{16}_/, 'no secret in the listing');
      const revoke = await runCli(server.config.database.url, ['api-keys', 'revoke', keyIdOf(secretFrom(again.stdout))]);
      assert.equal(revoke.code, 0, revoke.stderr);
      assertProblem(await admin(secretFrom(again.stdout)).get(`${ADMIN}/users`), 401, 'api_key_revoked');
      const bad = await runCli(server.config.database.url, ['api-keys', 'create', '--name', 'x', '--scopes', 'users:everything']);
      assert.notEqual(bad.code, 0);
      assert.match(bad.stderr, /unknown scope/);
      // The list it offers is what a key can hold: not the staff-only console:access.
      assert.match(bad.stderr, /a key can hold: users:read, /);
      assert.doesNotMatch(bad.stderr, /console:access/);
      // A stray argument is a usage error (64), not ignored.
      const stray = await runCli(server.config.database.url, ['migrate', '--dry-run']);
      assert.equal(stray.code, 64, stray.stderr);
      assert.match(stray.stderr, /migrate takes no arguments \(got --dry-run\)/);
    });

    test('missing, malformed, unknown and wrong-secret keys are 401 api_key_invalid alike; revoked and expired say so', async () => {
      assertProblem(await new TestClient(server.url, null).get(`${ADMIN}/users`), 401, 'unauthorized', 'no credentials');
      const id = keyIdOf(rootKey);
      const wrongSecret = `lk_live_${id}_${'A'.repeat(43)}`;
      const unknownId = `lk_live_${'a'.repeat(16)}_${rootKey.slice(-43)}`;
      const answers = [];
      for (const key of ['lk_live_nonsense', wrongSecret, unknownId, `${rootKey}x`]) {
        const r = await admin(key).get(`${ADMIN}/users`);
        assertProblem(r, 401, 'api_key_invalid', key);
        answers.push({ ...r.body, requestId: undefined });
      }
      for (const answer of answers) assert.deepEqual(answer, answers[0], 'an unknown id and a wrong secret are told apart by nothing');
      // The rejection is audited with the claimed key as actor, and why, for operators only.
      const r = await admin(wrongSecret).get(`${ADMIN}/users`);
      const [row] = await auditRows({ requestId: r.headers.get('x-request-id') ?? '' });
      assert.equal(row?.type, 'api_key.rejected');
      assert.equal(row?.actor_kind, 'api_key');
      assert.equal(row?.actor_id, id);
      assert.equal(row?.reason, 'wrong secret');

      const revoked = await makeKey(['users:read']);
      assert.equal((await admin(revoked.secret).get(`${ADMIN}/users`)).status, 200);
      const revoke = await root.delete(`${ADMIN}/api-keys/${revoked.apiKey.id}`);
      assert.equal(revoke.status, 200, revoke.text);
      assert.ok(revoke.body.revokedAt);
      assertProblem(await admin(revoked.secret).get(`${ADMIN}/users`), 401, 'api_key_revoked');

      const expiring = await makeKey(['users:read'], { expiresAt: new Date(server.clock.now() + 60_000).toISOString() });
      assert.equal((await admin(expiring.secret).get(`${ADMIN}/users`)).status, 200);
      server.clock.advance(61_000);
      assertProblem(await admin(expiring.secret).get(`${ADMIN}/users`), 401, 'api_key_expired');
      assertProblem(await root.post(`${ADMIN}/api-keys`, { name: 'past', scopes: ['users:read'], expiresAt: new Date(server.clock.now() - 1000).toISOString() }), 400, 'invalid_request');
    });

    test('a user session has no management scopes: 403 insufficient_scope; an API key never rides on a session cookie', async () => {
      const browser = server.client();
      await signUp(browser, newAuthenticator(), 'mg-browser');
      const r = await browser.get(`${ADMIN}/users`);
      assertProblem(r, 403, 'insufficient_scope');
      assert.equal(r.body.scope, 'users:read');
      const [denied] = await auditRows({ requestId: r.headers.get('x-request-id') ?? '' });
      assert.equal(denied?.type, 'authorization.denied');
      assert.equal(denied?.actor_kind, 'user');
      // Bearer lk_… plus a valid session cookie: the cookie is not looked at (the CSRF check exempts bearer calls).
      const mixed = await browser.request('DELETE', '/api/v1/session', undefined, { headers: { authorization: `Bearer ${rootKey}` } });
      assertProblem(mixed, 401, 'unauthorized');
      assert.equal((await browser.get('/api/v1/session')).status, 200, 'the session was not ended by the forged request');
    });

    test('every management route refuses a key without its scope with 403 naming the scope, and every route is in this list', async () => {
      const user = await createUser({ username: 'mg-scopes' });
      const routes: [method: string, path: string, scope: string, body?: unknown][] = [
        ['POST', '/users', 'users:write', { username: 'mg-scope-new' }],
        ['GET', '/users', 'users:read'],
        ['GET', '/users/export', 'users:export'],
        ['POST', '/users/import', 'users:import', {}],
        ['GET', `/users/${user.id}`, 'users:read'],
        ['POST', '/users/lookup', 'users:read', { externalId: 'x' }],
        ['PATCH', `/users/${user.id}`, 'users:write', { displayName: 'X' }],
        ['POST', `/users/${user.id}/disable`, 'users:write', {}],
        ['POST', `/users/${user.id}/enable`, 'users:write', {}],
        ['DELETE', `/users/${user.id}`, 'users:delete'],
        ['GET', `/users/${user.id}/passkeys`, 'users:read'],
        ['DELETE', `/users/${user.id}/passkeys/abc`, 'users:write'],
        ['GET', `/users/${user.id}/sessions`, 'users:read'],
        ['DELETE', `/users/${user.id}/sessions/abc`, 'sessions:write'],
        ['DELETE', `/users/${user.id}/sessions`, 'sessions:write'],
        ['GET', `/users/${user.id}/audit-events`, 'audit:read'],
        ['POST', '/api-keys', 'api_keys:manage', { name: 'n', scopes: ['users:read'] }],
        ['GET', '/api-keys', 'api_keys:manage'],
        ['DELETE', '/api-keys/abc', 'api_keys:manage'],
        ['POST', '/login-results/redeem', 'tokens:redeem', { loginResult: 'x' }],
        ['POST', '/append-tokens', 'append_tokens:issue', { userId: user.id }],
        // Gradual rollout (issue 14, rollout.routes.ts).
        ['GET', '/rollout-rules', 'rollout:read'],
        ['GET', '/rollout-rules/autofill', 'rollout:read'],
        ['PUT', '/rollout-rules/autofill', 'rollout:write', {}],
        ['PATCH', '/rollout-rules/autofill', 'rollout:write', { killSwitch: true }],
        ['DELETE', '/rollout-rules/autofill', 'rollout:write'],
        ['POST', '/rollout-rules/autofill/preview', 'rollout:read', {}],
        // The support console's data (issue 13, support.routes.ts).
        ['GET', '/users/search?q=mg', 'users:read'],
        ['GET', `/users/${user.id}/timeline`, 'audit:read'],
        ['GET', `/users/${user.id}/overview`, 'users:read'],
        ['GET', '/audit/events', 'audit:read'],
        ['GET', '/audit/export?format=csv', 'audit:export'],
        ['GET', '/audit/verification', 'audit:read'],
        // A/B tests (issue 14, experiments.routes.ts).
        ['POST', '/experiments', 'experiments:write', { key: 'x' }],
        ['GET', '/experiments', 'experiments:read'],
        ['GET', '/experiments/x', 'experiments:read'],
        ['POST', '/experiments/x/start', 'experiments:write', {}],
        ['POST', '/experiments/x/stop', 'experiments:write', { winner: null }],
        ['GET', '/webhook-event-types', 'webhooks:read'],
        ['POST', '/webhook-endpoints', 'webhooks:manage', { url: 'https://hooks.example.com/', eventTypes: ['*'] }],
        ['GET', '/webhook-endpoints', 'webhooks:read'],
        ['GET', '/webhook-endpoints/abc', 'webhooks:read'],
        ['PATCH', '/webhook-endpoints/abc', 'webhooks:manage', { enabled: false }],
        ['DELETE', '/webhook-endpoints/abc', 'webhooks:manage'],
        ['POST', '/webhook-endpoints/abc/rotate-secret', 'webhooks:manage', {}],
        ['POST', '/webhook-endpoints/abc/test', 'webhooks:manage', {}],
        ['GET', '/webhook-endpoints/abc/deliveries', 'webhooks:read'],
        ['GET', '/webhook-endpoints/abc/deliveries/def', 'webhooks:read'],
        ['POST', '/webhook-endpoints/abc/deliveries/def/redeliver', 'webhooks:manage', {}],
        // Adoption analytics (issue 14, analytics.routes.ts).
        ['GET', '/analytics/kpis', 'analytics:read'],
        ['GET', '/analytics/funnels', 'analytics:read'],
        ['GET', '/analytics/savings', 'analytics:read'],
        ['GET', '/analytics/export/rollups', 'analytics:export'],
        ['GET', '/analytics/export/events', 'analytics:export'],
      ];
      for (const [method, path, scope, body] of routes) {
        const key = await makeKey(ALL_SCOPES.filter((s) => s !== scope));
        const r = await admin(key.secret).request(method, ADMIN + path, body);
        assertProblem(r, 403, 'insufficient_scope', `${method} ${path}`);
        assert.equal(r.body.scope, scope, `${method} ${path}`);
        const [row] = await auditRows({ requestId: r.headers.get('x-request-id') ?? '' });
        assert.equal(row?.type, 'authorization.denied');
        assert.equal(row?.actor_id, key.apiKey.id);
      }
      assert.equal((await root.get(`${ADMIN}/users/${user.id}`)).body.status, 'active', 'nothing happened');
      // The inventory: the OpenAPI document lists exactly these operations under the scopes of this
      // API (the staff and console scopes have their own matrix, staff-matrix.test.ts), each with an
      // operationId and the key scheme naming its scope.
      const doc = (await new TestClient(server.url, null).get('/openapi.json')).body;
      const documented = Object.entries(doc.paths as Record<string, Record<string, { operationId?: string; security?: { apiKey?: string[] }[] }>>)
        .filter(([path]) => path.startsWith(ADMIN))
        .flatMap(([path, ops]) => Object.entries(ops).map(([method, op]) => ({ method: method.toUpperCase(), path, op })))
        .filter((o) => o.method !== 'HEAD' && !STAFF_SCOPES.includes(o.op.security?.[0]?.apiKey?.[0] ?? ''));
      assert.equal(documented.length, routes.length, documented.map((o) => `${o.method} ${o.path}`).join('\n'));
      for (const { method, path, op } of documented) {
        assert.ok(op.operationId, `${method} ${path} has an operationId`);
        // The documented path as a pattern ({id} matches one segment) against the concrete paths above.
        const pattern = new RegExp(`^${path.replace(/\{[A-Za-z]+\}/g, '[^/]+')}$`);
        const literal = (m: string, concrete: string) => concrete !== path && documented.some((o) => o.method === m && o.path === concrete);
        const scope = routes.find(([m, p]) => {
          const concrete = ADMIN + (p.split('?')[0] ?? '');
          return m === method && pattern.test(concrete) && !literal(m, concrete);
        })?.[2];
        assert.ok(scope, `${method} ${path} is in the list`);
        assert.deepEqual(op.security, [{ apiKey: [scope] }, { bearer: [scope] }, { cookie: [scope] }], `${method} ${path}`);
      }
      assert.equal(doc.components.securitySchemes.apiKey.scheme, 'bearer');
      assert.ok(doc.paths[`${ADMIN}/users/import`].post.requestBody.content['application/x-ndjson'], 'the import documents its NDJSON body');
    });

    test('a key can make keys only with scopes it holds; keys are listed without secrets', async () => {
      const manager = await makeKey(['api_keys:manage', 'users:read']);
      const escalate = await admin(manager.secret).post(`${ADMIN}/api-keys`, { name: 'more', scopes: ['users:delete'] });
      assertProblem(escalate, 403, 'insufficient_scope');
      assert.equal(escalate.body.scope, 'users:delete');
      const ok = await admin(manager.secret).post(`${ADMIN}/api-keys`, { name: 'less', scopes: ['users:read'] });
      assert.equal(ok.status, 201, ok.text);
      assert.deepEqual(ok.body.apiKey.createdBy, { kind: 'api_key', id: manager.apiKey.id });
      assertProblem(await root.post(`${ADMIN}/api-keys`, { name: 'x', scopes: ['users:everything'] }), 400, 'invalid_request');
      const list = await root.get(`${ADMIN}/api-keys`);
      assert.equal(list.status, 200);
      assert.ok(list.body.apiKeys.length >= 3);
      assert.ok(!list.text.includes(ok.body.secret.slice(-43)), 'no secret');
      assert.ok(!/secret|hash/i.test(Object.keys(list.body.apiKeys[0]).join(',')), 'no secret or hash field');
      assert.ok(list.body.apiKeys.find((k: { id: string }) => k.id === keyIdOf(rootKey)).lastUsedAt, 'last use is recorded');
      assertProblem(await root.delete(`${ADMIN}/api-keys/nosuchkey`), 404, 'api_key_not_found');
    });

    test('users: create, look up by id, externalId, username and e-mail, update; conflicts are 409; responses are no-store', async () => {
      const created = await createUser({ username: 'Mg-Ada', displayName: 'Ada L', email: 'Ada@Example.com', externalId: 'shop-42' });
      assert.deepEqual({ ...created, id: undefined, createdAt: undefined }, {
        id: undefined,
        username: 'Mg-Ada',
        displayName: 'Ada L',
        email: 'Ada@Example.com',
        externalId: 'shop-42',
        status: 'active',
        createdAt: undefined,
        segment: null,
      });
      const byId = await root.get(`${ADMIN}/users/${created.id}`);
      assert.equal(byId.body.id, created.id);
      for (const by of [{ externalId: 'shop-42' }, { username: 'MG-ADA' }, { email: 'ada@EXAMPLE.com' }]) {
        const r = await lookUp(by);
        assert.equal(r.status, 200, `${JSON.stringify(by)}: ${r.text}`);
        assert.equal(r.body.id, created.id, JSON.stringify(by));
        assert.match(r.headers.get('cache-control') ?? '', /no-store/);
      }
      assertProblem(await lookUp({ externalId: 'shop-42', username: 'mg-ada' }), 400, 'invalid_request', 'exactly one field');
      assertProblem(await lookUp({}), 400, 'invalid_request', 'no field');
      // Reads are audited too: the key as actor, the operation and the user it named, no subject.
      const looked = await lookUp({ externalId: 'shop-42' });
      const [readRow] = await auditRows({ requestId: looked.headers.get('x-request-id') ?? '' });
      assert.equal(readRow?.type, 'management.read');
      assert.equal(readRow?.actor_kind, 'api_key');
      assert.equal(readRow?.actor_id, keyIdOf(rootKey));
      assert.equal(readRow?.subject_user_id, null);
      assert.deepEqual(JSON.parse(readRow?.data ?? '{}'), { operation: 'lookUpUser', userId: created.id });
      assertProblem(await root.get(`${ADMIN}/users/00000000-0000-4000-8000-000000000000`), 404, 'not_found');
      for (const by of [{ externalId: 'nope' }, { username: 'nope' }, { email: 'nope@example.com' }]) assertProblem(await lookUp(by), 404, 'not_found', JSON.stringify(by));
      assertProblem(await root.post(`${ADMIN}/users`, { username: 'MG-ADA' }), 409, 'username_taken');
      assertProblem(await root.post(`${ADMIN}/users`, { username: 'mg-other', externalId: 'shop-42' }), 409, 'external_id_taken');
      assertProblem(await root.post(`${ADMIN}/users`, { username: 'mg-other', email: 'ADA@example.com' }), 409, 'email_taken');
      assertProblem(await root.post(`${ADMIN}/users`, { username: 'bad\u202Ename' }), 400, 'username_invalid');
      assertProblem(await root.post(`${ADMIN}/users`, { username: 'mg-x', role: 'admin' }), 400, 'invalid_request');

      const updated = await root.patch(`${ADMIN}/users/${created.id}`, { displayName: 'Ada Lovelace', email: 'ada@new.example' });
      assert.equal(updated.status, 200, updated.text);
      assert.equal(updated.body.displayName, 'Ada Lovelace');
      assert.equal(updated.body.email, 'ada@new.example');
      assert.equal((await lookUp({ email: 'ADA@new.example' })).body.id, created.id);
      assertProblem(await lookUp({ email: 'ada@example.com' }), 404, 'not_found');
      const other = await createUser({ username: 'mg-bea', email: 'bea@example.com' });
      assertProblem(await root.patch(`${ADMIN}/users/${other.id}`, { email: 'ada@new.example' }), 409, 'email_taken');
      const removed = await root.patch(`${ADMIN}/users/${other.id}`, { email: null });
      assert.equal(removed.body.email, null);
      assertProblem(await root.patch(`${ADMIN}/users/${other.id}`, {}), 400, 'invalid_request');

      // Each change is audited in its own commit with the key as actor, the user as subject.
      const rows = await auditRows({ subject: created.id });
      assert.deepEqual(rows.map((r) => r.type).sort(), ['account.created', 'account.updated', 'email.changed']);
      for (const row of rows) {
        assert.equal(row.actor_kind, 'api_key');
        assert.equal(row.actor_id, keyIdOf(rootKey));
        assert.equal(row.actor_user_id, null, 'the user did not act');
      }
    });

    test('listing walks every matching user exactly once with an opaque cursor', async () => {
      const ids = new Set<string>();
      for (let i = 0; i < 23; i++) ids.add((await createUser({ username: `mg-page-${String(i).padStart(2, '0')}` })).id);
      await createUser({ username: 'mg-pagx-outside' });
      const seen: string[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const r: TestResponse = await root.get(`${ADMIN}/users?query=MG-PAGE-&limit=5${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
        assert.equal(r.status, 200, r.text);
        assert.ok(r.body.users.length <= 5);
        seen.push(...r.body.users.map((u: { id: string }) => u.id));
        cursor = r.body.nextCursor;
        pages++;
      } while (cursor && pages < 20);
      assert.equal(pages, 5);
      assert.equal(seen.length, 23, 'no duplicates');
      assert.deepEqual(new Set(seen), ids, 'none missing, none extra');
      const all = await root.get(`${ADMIN}/users?limit=200`);
      assert.ok(all.body.users.length >= 25);
      assertProblem(await root.get(`${ADMIN}/users?cursor=not-a-cursor`), 400, 'invalid_request');
      assertProblem(await root.get(`${ADMIN}/users?limit=1000`), 400, 'invalid_request');
      // A search for a LIKE wildcard matches it literally.
      assert.equal((await root.get(`${ADMIN}/users?query=${encodeURIComponent('mg_page')}`)).body.users.length, 0);
    });

    test('a disabled user cannot sign in with a passkey and their sessions end at once; re-enabled, they can sign in again', async () => {
      const authenticator = newAuthenticator();
      const browser = server.client();
      const account = await signUp(browser, authenticator, 'mg-dis');
      assert.equal((await browser.get('/api/v1/session')).status, 200);
      assert.equal((await root.get(`${ADMIN}/users/${account.user.id}/sessions`)).body.sessions.length, 1);

      const disabled = await root.post(`${ADMIN}/users/${account.user.id}/disable`, {});
      assert.equal(disabled.status, 200, disabled.text);
      assert.equal(disabled.body.status, 'disabled');
      assert.equal((await browser.get('/api/v1/session')).status, 401, 'the session ended');
      const live = await server.database.db.selectFrom('sessions').select('revoked_at').where('user_id', '=', account.user.id).execute();
      assert.ok(live.every((s) => s.revoked_at !== null), 'revoked in the database, not only hidden');
      const { verify } = await authenticate(server.client(), authenticator);
      assertProblem(verify, 401, 'verification_failed', 'passkey sign-in');
      // Identifier-first: a disabled account is offered no passkeys (the authenticator finds none to use).
      await assert.rejects(authenticate(server.client(), authenticator, { username: 'mg-dis' }), /None of the allowed credentials/);
      const rows = await auditRows({ requestId: disabled.headers.get('x-request-id') ?? '' });
      assert.deepEqual(rows.map((r) => r.type).sort(), ['account.disabled', 'session.revoked']);
      assert.ok(rows.every((r) => r.actor_kind === 'api_key' && r.subject_user_id === account.user.id));

      const enabled = await root.post(`${ADMIN}/users/${account.user.id}/enable`, {});
      assert.equal(enabled.body.status, 'active');
      assert.equal((await browser.get('/api/v1/session')).status, 401, 'the old session stays ended');
      const { verify: again } = await authenticate(server.client(), authenticator);
      assert.equal(again.status, 200, again.text);
      assertProblem(await root.post(`${ADMIN}/users/00000000-0000-4000-8000-000000000000/disable`, {}), 404, 'not_found');
    });

    test('a disabled user cannot sign in with an e-mail code either, not even with a code sent before', async () => {
      const user = await createUser({ username: 'mg-mail', email: 'mg-mail@example.test' });
      const client = server.client();
      const before = mailbox.codeCount('mg-mail@example.test');
      const started = await client.post('/api/v1/email-code/sign-in', { email: 'mg-mail@example.test' });
      assert.equal(started.status, 202, started.text);
      const code = await mailbox.newCode('mg-mail@example.test', before);
      await root.post(`${ADMIN}/users/${user.id}/disable`, {});
      assertProblem(await client.post('/api/v1/email-code/sign-in/verify', { code }), 401, 'code_invalid');
      const sent = mailbox.codeCount('mg-mail@example.test');
      server.clock.advance(61_000); // the resend cooldown
      assert.equal((await server.client().post('/api/v1/email-code/sign-in', { email: 'mg-mail@example.test' })).status, 202, 'the same answer as for anyone');
      await new Promise((resolve) => setTimeout(resolve, 300));
      assert.equal(mailbox.codeCount('mg-mail@example.test'), sent, 'but no code is sent to a disabled account');

      await root.post(`${ADMIN}/users/${user.id}/enable`, {});
      server.clock.advance(61_000);
      const again = server.client();
      const restarted = await again.post('/api/v1/email-code/sign-in', { email: 'mg-mail@example.test' });
      assert.equal(restarted.status, 202, restarted.text);
      const fresh = await mailbox.newCode('mg-mail@example.test', sent);
      const verify = await again.post('/api/v1/email-code/sign-in/verify', { code: fresh });
      assert.equal(verify.status, 200, `an address set through the management API is usable at once: ${verify.text}`);
    });

    test("a user's passkeys and sessions: list, delete a passkey, end one session or all", async () => {
      const authenticator = newAuthenticator();
      const first = server.client();
      const account = await signUp(first, authenticator, 'mg-pk');
      const second = server.client();
      assert.equal((await authenticate(second, authenticator)).verify.status, 200);

      const passkeys = await root.get(`${ADMIN}/users/${account.user.id}/passkeys`);
      assert.equal(passkeys.status, 200, passkeys.text);
      assert.deepEqual(passkeys.body.passkeys.map((p: { id: string }) => p.id), [account.passkey.id]);
      const sessions = await root.get(`${ADMIN}/users/${account.user.id}/sessions`);
      assert.equal(sessions.body.sessions.length, 2);

      const [one] = sessions.body.sessions as { id: string }[];
      assert.ok(one);
      const ended = await root.delete(`${ADMIN}/users/${account.user.id}/sessions/${one.id}`);
      assert.equal(ended.status, 204, ended.text);
      assert.equal((await root.get(`${ADMIN}/users/${account.user.id}/sessions`)).body.sessions.length, 1);
      assertProblem(await root.delete(`${ADMIN}/users/${account.user.id}/sessions/${one.id}`), 404, 'session_not_found');
      const other = await createUser({ username: 'mg-pk-other' });
      const [rest] = (await root.get(`${ADMIN}/users/${account.user.id}/sessions`)).body.sessions as { id: string }[];
      assertProblem(await root.delete(`${ADMIN}/users/${other.id}/sessions/${rest?.id}`), 404, 'session_not_found', "another user's session");
      const all = await root.delete(`${ADMIN}/users/${account.user.id}/sessions`);
      assert.deepEqual(all.body, { revoked: 1 });
      assert.equal((await first.get('/api/v1/session')).status, 401);
      assert.equal((await second.get('/api/v1/session')).status, 401);

      assertProblem(await root.delete(`${ADMIN}/users/${other.id}/passkeys/${account.passkey.id}`), 404, 'passkey_not_found', "another user's passkey");
      const removed = await root.delete(`${ADMIN}/users/${account.user.id}/passkeys/${account.passkey.id}`);
      assert.equal(removed.status, 204, removed.text);
      assert.equal((await root.get(`${ADMIN}/users/${account.user.id}/passkeys`)).body.passkeys.length, 0);
      assert.equal((await authenticate(server.client(), authenticator)).verify.status, 401, 'the deleted passkey no longer signs in');
      const [row] = await auditRows({ requestId: removed.headers.get('x-request-id') ?? '' });
      assert.equal(row?.type, 'passkey.deleted');
      assert.equal(row?.actor_kind, 'api_key');
      assert.equal(row?.credential_id, account.passkey.id);
      assertProblem(await root.get(`${ADMIN}/users/00000000-0000-4000-8000-000000000000/passkeys`), 404, 'not_found');
    });

    test("a user's audit events: filter by type, outcome and time, page with a cursor; each names its actor", async () => {
      const authenticator = newAuthenticator();
      const account = await signUp(server.client(), authenticator, 'mg-audit');
      await authenticate(server.client(), authenticator);
      await authenticate(server.client(), authenticator, {}, { signature: 'bogus' });
      const startOfDisable = server.clock.now();
      server.clock.advance(1000);
      await root.post(`${ADMIN}/users/${account.user.id}/disable`, {});
      const base = `${ADMIN}/users/${account.user.id}/audit-events`;

      const all = await root.get(base);
      assert.equal(all.status, 200, all.text);
      const types = all.body.events.map((e: { type: string }) => e.type);
      for (const t of ['account.created', 'passkey.registered', 'passkey.authenticated', 'passkey.authentication_failed', 'account.disabled']) assert.ok(types.includes(t), t);
      const times = all.body.events.map((e: { at: string }) => Date.parse(e.at));
      assert.deepEqual(times, [...times].sort((a, b) => b - a), 'newest first');
      const disabled = all.body.events.find((e: { type: string }) => e.type === 'account.disabled');
      assert.deepEqual(disabled.actor, { kind: 'api_key', id: keyIdOf(rootKey) });
      const signIn = all.body.events.find((e: { type: string }) => e.type === 'passkey.authenticated');
      assert.deepEqual(signIn.actor, { kind: 'user', id: account.user.id });

      const failures = await root.get(`${base}?outcome=failure`);
      assert.deepEqual(failures.body.events.map((e: { type: string }) => e.type), ['passkey.authentication_failed']);
      const byType = await root.get(`${base}?type=account.created,account.disabled`);
      assert.deepEqual(byType.body.events.map((e: { type: string }) => e.type), ['account.disabled', 'account.created']);
      const late = await root.get(`${base}?from=${encodeURIComponent(new Date(startOfDisable + 1).toISOString())}`);
      assert.deepEqual(late.body.events.map((e: { type: string }) => e.type).sort(), ['account.disabled', 'session.revoked', 'session.revoked']);
      const early = await root.get(`${base}?to=${encodeURIComponent(new Date(startOfDisable + 1).toISOString())}`);
      assert.equal(early.body.events.length + late.body.events.length, all.body.events.length);

      const paged: string[] = [];
      let cursor: string | null = null;
      do {
        const r: TestResponse = await root.get(`${base}?limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
        paged.push(...r.body.events.map((e: { id: string }) => e.id));
        cursor = r.body.nextCursor;
      } while (cursor);
      assert.deepEqual(paged, all.body.events.map((e: { id: string }) => e.id), 'pages join up to the whole list');
      assertProblem(await root.get(`${base}?from=yesterday`), 400, 'invalid_request');
    });

    test('export streams every user with their passkeys as NDJSON, ending with a count line, and no secrets', async () => {
      const authenticator = newAuthenticator();
      const account = await signUp(server.client(), authenticator, 'mg-export');
      await root.patch(`${ADMIN}/users/${account.user.id}`, { email: 'mg-export@example.test' });
      const response = await fetch(`${server.url}${ADMIN}/users/export`, { headers: { authorization: `Bearer ${rootKey}` } });
      assert.equal(response.status, 200);
      assert.match(response.headers.get('content-type') ?? '', /^application\/x-ndjson/);
      assert.match(response.headers.get('cache-control') ?? '', /no-store/);
      const text = await response.text();
      assert.ok(text.endsWith('\n'));
      const lines = text.trimEnd().split('\n').map((l) => JSON.parse(l));
      const end = lines.at(-1);
      assert.equal(end.type, 'end');
      const users = lines.slice(0, -1);
      assert.equal(end.users, users.length);
      assert.ok(users.every((u) => u.type === 'user'));
      const listed = await root.get(`${ADMIN}/users?limit=200`);
      assert.deepEqual(users.map((u) => u.id), listed.body.users.map((u: { id: string }) => u.id), 'every user once, in listing order');
      const mine = users.find((u) => u.id === account.user.id);
      assert.equal(mine.username, 'mg-export');
      assert.equal(mine.email, 'mg-export@example.test');
      assert.match(mine.userHandle, /^[A-Za-z0-9_-]{86}$/, 'the 64-byte user handle the passkey is bound to');
      assert.equal(mine.passkeys.length, 1);
      const [passkey] = mine.passkeys;
      assert.equal(passkey.id, account.passkey.id);
      assert.match(passkey.publicKey, /^[A-Za-z0-9_-]{40,}$/);
      const stored = await server.database.db.selectFrom('credentials').select('public_key').where('id', '=', account.passkey.id).executeTakeFirstOrThrow();
      assert.equal(passkey.publicKey, Buffer.from(stored.public_key).toString('base64url'));
      assert.equal(typeof passkey.signCount, 'number');
      assert.deepEqual(Object.keys(mine).sort(), ['createdAt', 'displayName', 'email', 'externalId', 'id', 'passkeys', 'status', 'type', 'userHandle', 'username']);
      assert.deepEqual(Object.keys(passkey).sort(), [
        'aaguid', 'attestationFormat', 'backedUp', 'createdAt', 'deviceType', 'id', 'lastUsedAt', 'name', 'publicKey', 'signCount', 'transports', 'uvInitialized',
      ], 'no session, secret or code fields');
    });

    const exportText = async () => {
      const response = await fetch(`${server.url}${ADMIN}/users/export`, { headers: { authorization: `Bearer ${rootKey}` } });
      assert.equal(response.status, 200);
      return response.text();
    };
    const importText = (text: string, key = rootKey) =>
      admin(key).request('POST', `${ADMIN}/users/import`, undefined, { raw: text, contentType: 'application/x-ndjson' });

    test('import: an erased user comes back from the export with their passkey, which signs in again; re-running changes nothing', async () => {
      const authenticator = newAuthenticator();
      const account = await signUp(server.client(), authenticator, 'mg-import');
      await root.patch(`${ADMIN}/users/${account.user.id}`, { email: 'mg-import@example.test' });
      const exported = await exportText();
      const total = exported.trimEnd().split('\n').length - 1;

      const again = await importText(exported);
      assert.equal(again.status, 200, again.text);
      assert.deepEqual(again.body, { created: 0, updated: 0, unchanged: total, failed: [] }, 'importing what is there changes nothing');

      assert.equal((await root.delete(`${ADMIN}/users/${account.user.id}`)).status, 204);
      assert.equal((await authenticate(server.client(), authenticator)).verify.status, 401);
      const restored = await importText(exported);
      assert.equal(restored.status, 200, restored.text);
      assert.deepEqual(restored.body, { created: 1, updated: 0, unchanged: total - 1, failed: [] });
      const user = await root.get(`${ADMIN}/users/${account.user.id}`);
      assert.equal(user.body.username, 'mg-import');
      assert.equal(user.body.email, 'mg-import@example.test');
      const { verify } = await authenticate(server.client(), authenticator);
      assert.equal(verify.status, 200, `the imported passkey signs in (discoverable: the user handle came along): ${verify.text}`);
      assert.equal(verify.body.user.id, account.user.id);
      const rows = await auditRows({ subject: account.user.id });
      const imported = rows.filter((r) => r.type === 'account.imported' || r.type === 'passkey.imported');
      assert.deepEqual(imported.map((r) => r.type).sort(), ['account.imported', 'passkey.imported']);
      assert.ok(imported.every((r) => r.actor_kind === 'api_key' && r.actor_id === keyIdOf(rootKey)));
      assert.deepEqual((await importText(exported)).body, { created: 0, updated: 0, unchanged: total, failed: [] }, 'idempotent');
    });

    test('import: every bad line is reported by number and nothing is imported; clashes with the database are skipped line by line', async () => {
      const victim = JSON.parse((await exportText()).split('\n').find((l) => l.includes('"mg-import"')) ?? '{}');
      assert.equal(victim.passkeys.length, 1);
      const lines = [
        JSON.stringify({ type: 'user', username: 'mg-imp-ok' }),
        '{not json',
        JSON.stringify({ type: 'user', username: 'bad\u202Ename' }),
        JSON.stringify({ type: 'user', username: 'mg-imp-key', userHandle: 'AAAA', passkeys: [{ ...victim.passkeys[0], id: 'bmV3LWlk', publicKey: 'pQECAyYgASFYIA' }] }),
        JSON.stringify({ type: 'user', username: 'MG-IMP-OK' }),
        JSON.stringify({ type: 'user', username: 'mg-imp-x', role: 'admin' }),
        JSON.stringify({ type: 'user', username: 'mg-imp-y', passkeys: [victim.passkeys[0]] }),
        JSON.stringify({ type: 'end', users: 99 }),
      ];
      const bad = await importText(lines.join('\n'));
      assertProblem(bad, 400, 'import_invalid');
      assert.deepEqual(bad.body.lines.map((l: { line: number }) => l.line), [2, 3, 4, 5, 6, 7, 8]);
      const messages = bad.body.lines.map((l: { message: string }) => l.message);
      assert.match(messages[1], /^\/username/);
      assert.match(messages[2], /^\/passkeys\/0\/publicKey/);
      assert.match(messages[3], /username is the same as on line 1/);
      assert.match(messages[4], /^\/role: unknown field/);
      assert.match(messages[5], /^\/userHandle: required with passkeys/);
      assert.match(messages[6], /end/);
      assertProblem(await lookUp({ username: 'mg-imp-ok' }), 404, 'not_found', 'nothing was imported');

      // Valid lines that clash with other users: reported, skipped, the rest imported.
      const clash = await importText([
        JSON.stringify({ type: 'user', username: 'mg-import' }),
        JSON.stringify({ type: 'user', username: 'mg-imp-thief', userHandle: 'dGhpZWY', passkeys: [victim.passkeys[0]] }),
        JSON.stringify({ type: 'user', username: 'mg-imp-fine', externalId: 'imp-1' }),
      ].join('\n'));
      assert.equal(clash.status, 200, clash.text);
      assert.equal(clash.body.created, 1);
      assert.deepEqual(clash.body.failed.map((f: { line: number }) => f.line), [1, 2]);
      assert.match(clash.body.failed[0].message, /^\/username/);
      assert.match(clash.body.failed[1].message, /another user has this passkey/);
      assertProblem(await lookUp({ username: 'mg-imp-thief' }), 404, 'not_found', 'the line was rolled back whole');
      assert.equal((await lookUp({ externalId: 'imp-1' })).body.username, 'mg-imp-fine');
      const owner = await server.database.db.selectFrom('credentials').select('user_id').where('id', '=', victim.passkeys[0].id).executeTakeFirstOrThrow();
      assert.equal(owner.user_id, victim.id, 'a passkey is never moved to another user (SEC-12)');

      assertProblem(await root.post(`${ADMIN}/users/import`, { type: 'user' }), 400, 'invalid_request', 'a JSON body is not an import');
      const noImport = await makeKey(['users:write', 'users:read']);
      assertProblem(await importText(JSON.stringify({ type: 'user', username: 'mg-imp-z' }), noImport.secret), 403, 'insufficient_scope');
    });

    test('deleting a user erases their personal data; audit rows keep only the random user id', async () => {
      const authenticator = newAuthenticator();
      const browser = server.client();
      const account = await signUp(browser, authenticator, 'mg-erase-me');
      await root.patch(`${ADMIN}/users/${account.user.id}`, { email: 'erase.me@example.com' });
      const linked = await root.patch(`${ADMIN}/users/${account.user.id}`, { displayName: 'Erase Me' });
      assert.equal(linked.status, 200);

      const deleted = await root.delete(`${ADMIN}/users/${account.user.id}`);
      assert.equal(deleted.status, 204, deleted.text);
      assertProblem(await root.get(`${ADMIN}/users/${account.user.id}`), 404, 'not_found');
      assertProblem(await root.delete(`${ADMIN}/users/${account.user.id}`), 404, 'not_found');
      assert.equal((await browser.get('/api/v1/session')).status, 401);
      assert.equal((await authenticate(server.client(), authenticator)).verify.status, 401);
      const db = server.database.db;
      assert.equal((await db.selectFrom('users').select('id').where('id', '=', account.user.id).execute()).length, 0);
      assert.equal((await db.selectFrom('credentials').select('id').where('user_id', '=', account.user.id).execute()).length, 0);
      assert.equal((await db.selectFrom('sessions').select('id').where('user_id', '=', account.user.id).execute()).length, 0);
      const rows = await auditRows({ subject: account.user.id });
      assert.ok(rows.length >= 4, 'the audit trail stays');
      assert.equal(rows.at(-1)?.type, 'account.deleted');
      assert.equal(rows.at(-1)?.actor_kind, 'api_key');
      const text = JSON.stringify(rows);
      for (const personal of ['mg-erase-me', 'Erase Me', 'erase.me@example.com']) assert.ok(!text.includes(personal), `${personal} is not in the audit rows`);
      // The name is free again.
      assert.equal((await root.post(`${ADMIN}/users`, { username: 'mg-erase-me' })).status, 201);
    });
  });
}

for (const dialect of dialects) {
  test(`refused API keys are limited per IP: past the limit a 429 that writes no audit row; good keys still work (${dialect})`, async () => {
    const server = await startTestServer(dialect, { config: { auth: { perIpPerHour: 3 } } });
    try {
      const db = server.database.db;
      const audit = createAuditService({ clock: server.clock, random: cryptoRandom, parseUserAgent: () => ({ os: null, browser: null, device: null }) });
      const { secret } = await createApiKeysService({ db, clock: server.clock, random: cryptoRandom, audit }).create({
        name: 'ok',
        scopes: ['users:read'],
        context: { requestId: 'setup', ip: null, userAgent: null, actor: { kind: 'cli', id: null } },
      });
      const call = (key: string) => {
        const client = new TestClient(server.url, null);
        client.bearer = key;
        return client.get(`${ADMIN}/users`);
      };
      const bad = `lk_live_${'b'.repeat(16)}_${'B'.repeat(43)}`;
      for (let i = 0; i < 3; i++) assertProblem(await call(bad), 401, 'api_key_invalid', `attempt ${i + 1}`);
      const limited = await call(bad);
      assertProblem(limited, 429, 'rate_limited');
      assert.ok(Number(limited.headers.get('retry-after')) > 0);
      const rows = await db.selectFrom('audit_events').select('type').where('request_id', '=', limited.headers.get('x-request-id') ?? '').execute();
      assert.equal(rows.length, 0, 'a limited refusal writes nothing');
      assert.equal((await db.selectFrom('audit_events').select('id').where('type', '=', 'api_key.rejected').execute()).length, 3);
      assert.equal((await call(secret)).status, 200, 'a valid key is not held back by the failures');
    } finally {
      await server.close();
    }
  });
}

for (const dialect of dialects) {
  test(`the management migration goes up, down and up again (${dialect})`, async () => {
    const fresh = await createTestDatabase(dialect);
    const database = createDatabase(fresh.url);
    try {
      await migrateToLatest(database.db);
      const tables = async () => (await database.db.introspection.getTables()).map((t) => t.name);
      const auditColumns = async () => (await database.db.introspection.getTables()).find((t) => t.name === 'audit_events')?.columns.map((c) => c.name) ?? [];
      assert.ok((await tables()).includes('api_keys'));
      assert.ok((await auditColumns()).includes('actor_kind'));
      // Down to the migration before it (later ones go down first, in order).
      const down = await createMigrator(database.db).migrateTo('2026_12_02_0400_consumed_challenges');
      assert.equal(down.error, undefined);
      assert.ok(down.results?.some((r) => r.migrationName === '2026_12_03_0100_mgmt' && r.status === 'Success'));
      assert.ok(!(await tables()).includes('api_keys'));
      assert.ok(!(await auditColumns()).includes('actor_kind'));
      await migrateToLatest(database.db);
      assert.ok((await tables()).includes('api_keys'));
    } finally {
      await database.close();
      await fresh.drop();
    }
  });
}
