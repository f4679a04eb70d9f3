import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ROLE_DEFINITIONS, STAFF_ROLES } from '../../src/modules/staff/staff.module.ts';
import { createTestApiKey } from '../helpers/api-keys.ts';
import { newAuthenticator, signUp } from '../helpers/flows.ts';
import { enrollTokenIn, enrollWithToken, makeStaff, runCli, signIn } from '../helpers/staff.ts';
import { TestClient, type TestResponse } from '../helpers/test-client.ts';
import { createTestDatabase, dialects, startTestServer, type TestServer } from '../helpers/test-server.ts';

const ADMIN = '/api/admin/v1';
/** A user id nobody has: allowed calls end in 404 (or 400) and change nothing. */
const NOBODY = '00000000-0000-4000-8000-000000000000';

interface Operation {
  method: string;
  /** The OpenAPI path, e.g. /api/admin/v1/users/{id} */
  path: string;
  operationId: string;
  scope: string;
  destructive: boolean;
}

/** Bodies that pass validation where a route needs one; every other state-changing route gets just a reason. */
const BODIES: Record<string, unknown> = {
  createUser: { username: 'matrix-new-user' },
  lookUpUser: { externalId: 'nobody-has-this' },
  updateUser: { displayName: 'X' },
  createApiKey: { name: 'matrix key', scopes: ['users:read'], reason: 'matrix test' },
  createAppendToken: { userId: NOBODY },
  redeemLoginResult: { loginResult: 'x' },
  addStaffMember: { userId: NOBODY, role: 'auditor', reason: 'matrix test' },
  changeStaffRole: { role: 'auditor', reason: 'matrix test' },
  startUserRecovery: { method: 'code', reason: 'matrix test' },
  // 127.0.0.1 is refused (SEC-59), so an allowed call ends in 400 and nothing is ever delivered.
  createWebhookEndpoint: { url: 'https://127.0.0.1/hook', eventTypes: ['user.created'], reason: 'matrix test' },
  updateWebhookEndpoint: { description: 'matrix', reason: 'matrix test' },
  // Rollout rules are per feature (a fixed list), so their routes are called for a real one (autofill).
  putRolloutRule: { percentage: 100, reason: 'matrix test' },
  updateRolloutRule: { percentage: 100, reason: 'matrix test' },
};

/**
 * Every role, an ordinary user and API keys against every route under /api/admin/v1, read from the
 * served OpenAPI document (each operation names its scope in its security requirements, written by
 * the scope guard from route config.scope), so a new route is in this matrix without being listed.
 * Expected: allowed exactly when the role (staff.roles.ts) or the key holds the route's scope.
 */
for (const dialect of dialects) {
  describe(`staff roles × admin routes (${dialect})`, () => {
    let server: TestServer;
    let dropFresh: () => Promise<void>;
    let operations: Operation[];
    let adminAuthenticator: ReturnType<typeof newAuthenticator>;
    const principals: { name: string; client: TestClient; scopes: readonly string[] }[] = [];

    before(async () => {
      const fresh = await createTestDatabase(dialect);
      dropFresh = fresh.drop;
      const cli = await runCli(fresh.url, ['staff', 'add', '--username', 'matrix-admin', '--role', 'admin']);
      assert.equal(cli.code, 0, cli.stderr);
      server = await startTestServer(dialect, { config: { database: { url: fresh.url } } });
      const admin = server.client();
      adminAuthenticator = newAuthenticator();
      await enrollWithToken(admin, adminAuthenticator, enrollTokenIn(cli.stdout));
      await signIn(admin, adminAuthenticator);
      principals.push({ name: 'admin', client: admin, scopes: ROLE_DEFINITIONS.admin.scopes });
      for (const role of STAFF_ROLES.filter((r) => r !== 'admin')) {
        const { client } = await makeStaff(server, admin, `matrix-${role}`, role);
        principals.push({ name: role, client, scopes: ROLE_DEFINITIONS[role].scopes });
      }
      const user = server.client();
      await signUp(user, newAuthenticator(), 'matrix-user');
      principals.push({ name: 'ordinary user', client: user, scopes: [] });
      for (const scopes of [['users:read', 'audit:read'], ['users:write', 'sessions:write', 'recovery:start']]) {
        const key = await createTestApiKey(server, scopes);
        const client = new TestClient(server.url, null);
        client.bearer = key.secret;
        principals.push({ name: `API key ${scopes.join('+')}`, client, scopes });
      }

      const doc = (await new TestClient(server.url, null).get('/openapi.json')).body;
      operations = Object.entries(doc.paths as Record<string, Record<string, { operationId: string; security?: { apiKey?: string[] }[]; 'x-latchkey-step-up'?: boolean }>>)
        .filter(([path]) => path.startsWith(ADMIN))
        .flatMap(([path, ops]) =>
          Object.entries(ops).map(([method, op]) => ({
            method: method.toUpperCase(),
            path,
            operationId: op.operationId,
            scope: op.security?.[0]?.apiKey?.[0] ?? '',
            destructive: op['x-latchkey-step-up'] === true,
          })),
        );
    });
    after(async () => {
      await server.close();
      await dropFresh();
    });

    test('every admin route names one known scope, and the roles map covers the staff scopes', () => {
      assert.ok(operations.length >= 25, `${operations.length} operations`);
      for (const op of operations) assert.ok(ROLE_DEFINITIONS.admin.scopes.includes(op.scope as never), `${op.method} ${op.path}: scope "${op.scope}"`);
      for (const role of STAFF_ROLES) assert.ok(ROLE_DEFINITIONS[role].scopes.includes('console:access'), `${role} can open the console`);
      // What the issue asks of the roles, checked against the map the matrix below is built from.
      const can = (role: 'support' | 'auditor', scope: string) => ROLE_DEFINITIONS[role].scopes.includes(scope as never);
      for (const scope of ['users:delete', 'users:export', 'audit:export', 'staff:manage', 'api_keys:manage', 'settings:read']) assert.ok(!can('support', scope), `support: no ${scope}`);
      for (const scope of ['sessions:write', 'recovery:start', 'lockouts:lift', 'users:write']) assert.ok(can('support', scope), `support: ${scope}`);
      for (const scope of ROLE_DEFINITIONS.auditor.scopes) assert.ok(scope.endsWith(':read') || scope === 'audit:export' || scope === 'console:access', `auditor changes nothing: ${scope}`);
      for (const op of operations.filter((o) => o.destructive)) assert.ok(!can('auditor', op.scope), `auditor: no ${op.operationId}`);
      for (const op of operations.filter((o) => o.method === 'GET' && o.scope.endsWith(':read'))) assert.ok(can('auditor', op.scope), `auditor reads ${op.operationId}`);
    });

    test('each principal is allowed exactly the routes whose scope it holds; the rest are 403 insufficient_scope', async () => {
      const rows: string[] = [];
      for (const op of operations) {
        const url = ADMIN + op.path.slice(ADMIN.length).replace('{feature}', 'autofill').replace(/\{[A-Za-z]+\}/g, NOBODY);
        const body = op.method === 'GET' || op.method === 'DELETE' ? undefined : (BODIES[op.operationId] ?? { reason: 'matrix test' });
        for (const p of principals) {
          const r: TestResponse = await p.client.request(op.method, url, body, op.method === 'DELETE' ? { headers: { 'latchkey-reason': encodeURIComponent('matrix test') } } : {});
          const allowed = p.scopes.includes(op.scope);
          rows.push(`${op.operationId.padEnd(24)} ${p.name.padEnd(36)} ${r.status}`);
          if (allowed) {
            assert.ok(r.status !== 401 && r.status !== 403, `${p.name} may ${op.method} ${op.path} (${op.scope}): ${r.status} ${r.text}`);
          } else {
            assert.equal(r.status, 403, `${p.name} may not ${op.method} ${op.path} (${op.scope}): ${r.text}`);
            assert.equal(r.body.code, 'insufficient_scope', `${p.name} ${op.method} ${op.path}`);
            assert.equal(r.body.scope, op.scope);
          }
        }
      }
      assert.equal(rows.length, operations.length * principals.length);
    });

    test('every destructive route asks a staff member for a recent step-up, then for a reason; an API key for neither', async () => {
      const destructive = operations.filter((o) => o.destructive);
      assert.ok(destructive.length >= 13, destructive.map((o) => o.operationId).join());
      const admin = principals[0]?.client;
      assert.ok(admin);
      const urlOf = (op: Operation) => ADMIN + op.path.slice(ADMIN.length).replace('{feature}', 'autofill').replace(/\{[A-Za-z]+\}/g, NOBODY);
      const withReason = (op: Operation) => (op.method === 'DELETE' ? undefined : (BODIES[op.operationId] ?? { reason: 'matrix test' }));
      const withoutReason = (op: Operation) => {
        if (op.method === 'DELETE') return undefined;
        const { reason: _reason, ...rest } = (BODIES[op.operationId] ?? {}) as Record<string, unknown>;
        return rest;
      };
      server.clock.advance(6 * 60_000);
      for (const op of destructive) {
        const r = await admin.request(op.method, urlOf(op), withReason(op), op.method === 'DELETE' ? { headers: { 'latchkey-reason': 'matrix%20test' } } : {});
        assert.equal(r.status, 403, `${op.operationId} without a recent step-up: ${r.text}`);
        assert.equal(r.body.code, 'step_up_required', op.operationId);
      }
      const options = await admin.post('/api/v1/session/step-up/options', {});
      assert.equal(options.status, 200, options.text);
      const verify = await admin.post('/api/v1/session/step-up/verify', await adminAuthenticator.getAssertion(options.body));
      assert.equal(verify.status, 200, verify.text);
      for (const op of destructive) {
        const r = await admin.request(op.method, urlOf(op), withoutReason(op));
        assert.equal(r.status, 400, `${op.operationId} without a reason: ${r.text}`);
        assert.equal(r.body.code, 'reason_required', op.operationId);
      }
      // A key that holds every scope it can: no step-up, no reason; the answers are the route's own (404 for nobody).
      const key = await createTestApiKey(server, ROLE_DEFINITIONS.admin.scopes.filter((s) => s !== 'console:access'));
      const backend = new TestClient(server.url, null);
      backend.bearer = key.secret;
      for (const op of destructive) {
        const r = await backend.request(op.method, urlOf(op), withoutReason(op));
        assert.ok(r.body?.code !== 'step_up_required' && r.body?.code !== 'reason_required', `${op.operationId}: ${r.text}`);
      }
    });

    test('without credentials every admin route is 401', async () => {
      const anonymous = server.client();
      for (const op of operations) {
        const url = ADMIN + op.path.slice(ADMIN.length).replace('{feature}', 'autofill').replace(/\{[A-Za-z]+\}/g, NOBODY);
        const r = await anonymous.request(op.method, url, op.method === 'GET' || op.method === 'DELETE' ? undefined : { reason: 'x' });
        assert.equal(r.status, 401, `${op.method} ${op.path}: ${r.text}`);
      }
    });
  });
}
