import assert from 'node:assert/strict';
import { createHmac, hkdfSync } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/app.ts';
import { createDatabase } from '../../src/db/create-db.ts';
import { createMigrator, migrateToLatest } from '../../src/db/migrate.ts';
import { createTestApiKey } from '../helpers/api-keys.ts';
import { newAuthenticator, signUp } from '../helpers/flows.ts';
import { TestClient, type TestResponse } from '../helpers/test-client.ts';
import { createTestDatabase, dialects, startTestServer, type TestServer } from '../helpers/test-server.ts';

const ADMIN = '/api/admin/v1';
const DECISIONS = '/api/v1/passkey-decisions';
const SECRET = 'rollout-test-server-secret-0123456789-abcdefghij';
const MAC_SAFARI = 'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Safari/605.1.15';
const IPHONE = 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1';
const capable = { webauthn: true, platformAuthenticator: true, conditionalMediation: true, hybridTransport: true };

/**
 * The bucketing of the README, written out again with node:crypto alone: subkeys are HKDF-SHA-256
 * of the server secret (salt "latchkey hkdf salt v2"), a feature's salt is HMAC(rollout subkey,
 * "rollout-bucket:<feature>"), a device is bucketed by its stored key (HMAC(device subkey,
 * "device:<id>"), base64url, 32 characters), and the bucket is the first 4 bytes of HMAC(salt, id)
 * modulo 10,000; a percentage p covers the buckets below 100 p.
 */
const subkey = (label: string) => Buffer.from(hkdfSync('sha256', Buffer.from(SECRET), 'latchkey hkdf salt v2', label, 32));
const featureSalt = (feature: string) => createHmac('sha256', subkey('latchkey/v2/rollout-bucketing')).update(`rollout-bucket:${feature}`).digest();
const deviceKey = (id: string) => createHmac('sha256', subkey('latchkey/v2/device-ids')).update(`device:${id}`).digest('base64url').slice(0, 32);
const bucket = (salt: Buffer, id: string) => createHmac('sha256', salt).update(id).digest().readUInt32BE(0) % 10_000;

function assertProblem(r: TestResponse, status: number, code: string, label = ''): void {
  assert.equal(r.status, status, `${label} ${r.text}`);
  assert.match(r.headers.get('content-type') ?? '', /^application\/problem\+json/, label);
  assert.equal(r.body.code, code, `${label} ${r.text}`);
}

for (const dialect of dialects) {
  describe(`gradual rollout (${dialect})`, () => {
    let server: TestServer;
    let admin: TestClient;
    let adminKeyId: string;
    const key = async (scopes: string[]) => {
      const made = await createTestApiKey(server, scopes, `rollout ${scopes.join(' ')}`);
      const client = new TestClient(server.url, null);
      client.bearer = made.secret;
      return client;
    };
    const ask = (client: TestClient, body: Record<string, unknown>, ua = MAC_SAFARI) => client.post(DECISIONS, body, { headers: { 'user-agent': ua } });

    before(async () => {
      server = await startTestServer(dialect, {
        config: { secrets: { serverSecret: SECRET }, intelligence: { perIpPerHour: 1_000_000 }, telemetry: { perIpPerHour: 1_000_000 } },
      });
      const made = await createTestApiKey(server, ['rollout:read', 'rollout:write', 'users:write'], 'product owner');
      adminKeyId = made.id;
      admin = new TestClient(server.url, null);
      admin.bearer = made.secret;
    });
    after(() => server.close());

    test('every rule route needs its scope: 403 insufficient_scope naming it', async () => {
      const routes: [string, string, string, unknown?][] = [
        ['GET', '/rollout-rules', 'rollout:read'],
        ['GET', '/rollout-rules/autofill', 'rollout:read'],
        ['POST', '/rollout-rules/autofill/preview', 'rollout:read', {}],
        ['PUT', '/rollout-rules/autofill', 'rollout:write', {}],
        ['PATCH', '/rollout-rules/autofill', 'rollout:write', { killSwitch: true }],
        ['DELETE', '/rollout-rules/autofill', 'rollout:write'],
      ];
      const reader = await key(['rollout:read', 'users:read']);
      const writerOnly = await key(['rollout:write']);
      for (const [method, path, scope, body] of routes) {
        const client = scope === 'rollout:read' ? writerOnly : reader;
        const r = await client.request(method, ADMIN + path, body);
        assertProblem(r, 403, 'insufficient_scope', `${method} ${path}`);
        assert.equal(r.body.scope, scope);
      }
      assert.equal((await reader.get(`${ADMIN}/rollout-rules`)).status, 200);
      assert.equal((await new TestClient(server.url, null).get(`${ADMIN}/rollout-rules`)).status, 401, 'no key');
    });

    test('rules: open by default, replaced, merged, deleted; every change audited with the key as actor and the rule before and after', async () => {
      const list = await admin.get(`${ADMIN}/rollout-rules`);
      assert.equal(list.status, 200, list.text);
      assert.deepEqual(list.body.rules.map((r: { feature: string }) => r.feature), ['passkey_button', 'autofill', 'append_prompt', 'passkey_first_signup']);
      assert.deepEqual(list.body.rules[0], {
        feature: 'passkey_button', percentage: 100, bucketBy: 'user', operatingSystems: [], browsers: [], platforms: [], segments: [], allow: [], deny: [], killSwitch: false, updatedAt: null, updatedBy: null,
      });
      const put = await admin.request('PUT', `${ADMIN}/rollout-rules/append_prompt`, { percentage: 12.5, operatingSystems: ['iOS', 'Mac OS'], platforms: ['mobile'], deny: ['u-1', 'u-1'] });
      assert.equal(put.status, 200, put.text);
      assert.deepEqual({ ...put.body, updatedAt: typeof put.body.updatedAt }, {
        feature: 'append_prompt', percentage: 12.5, bucketBy: 'user', operatingSystems: ['ios', 'macos'], browsers: [], platforms: ['mobile'], segments: [], allow: [], deny: ['u-1'], killSwitch: false, updatedAt: 'string', updatedBy: `api_key:${adminKeyId}`,
      });
      const patched = await admin.request('PATCH', `${ADMIN}/rollout-rules/append_prompt`, { killSwitch: true });
      assert.equal(patched.body.killSwitch, true);
      assert.equal(patched.body.percentage, 12.5, 'merged: the rest is kept');
      assert.deepEqual((await admin.get(`${ADMIN}/rollout-rules/append_prompt`)).body, patched.body);
      const replaced = await admin.request('PUT', `${ADMIN}/rollout-rules/append_prompt`, { percentage: 50 });
      assert.deepEqual([replaced.body.killSwitch, replaced.body.operatingSystems], [false, []], 'PUT replaces');
      const deleted = await admin.request('DELETE', `${ADMIN}/rollout-rules/append_prompt`);
      assert.equal(deleted.status, 204);
      assertProblem(await admin.request('DELETE', `${ADMIN}/rollout-rules/append_prompt`), 404, 'rollout_feature_unknown');

      const rows = await server.database.db.selectFrom('audit_events').selectAll().where('type', '=', 'rollout_rule.changed').orderBy('created_at').orderBy('id').execute();
      assert.equal(rows.length, 4);
      for (const row of rows) assert.deepEqual([row.actor_kind, row.actor_id, row.subject_user_id], ['api_key', adminKeyId, null]);
      const data = rows.map((r) => JSON.parse(r.data ?? '{}') as { before: { killSwitch: boolean } | null; after: { killSwitch: boolean; percentage: number } | null });
      assert.deepEqual(data.map((d) => [d.before?.killSwitch ?? null, d.after?.killSwitch ?? null]), [[null, false], [false, true], [true, false], [false, null]]);
      assert.equal(rows[0]?.request_id, put.headers.get('x-request-id'));
    });

    test('bad rules are 400 problems with stable codes; an unknown feature is 404', async () => {
      const cases: [unknown, string][] = [
        [{ percentage: 101 }, 'invalid_request'],
        [{ percentage: -1 }, 'invalid_request'],
        [{ percentage: 12.345 }, 'rollout_rule_invalid'],
        [{ platforms: ['watch'] }, 'invalid_request'],
        [{ segments: ['has space'] }, 'rollout_rule_invalid'],
        [{ operatingSystems: ['   '] }, 'rollout_rule_invalid'],
        [{ bucketBy: 'ip' }, 'invalid_request'],
        [{ killSwitch: 'yes' }, 'invalid_request'],
        [{ extra: 1 }, 'invalid_request'],
        [{ allow: Array.from({ length: 1001 }, (_, i) => `u${i}`) }, 'invalid_request'],
      ];
      for (const [body, code] of cases) assertProblem(await admin.request('PUT', `${ADMIN}/rollout-rules/autofill`, body), 400, code, JSON.stringify(body).slice(0, 60));
      assertProblem(await admin.request('PATCH', `${ADMIN}/rollout-rules/autofill`, {}), 400, 'invalid_request', 'empty PATCH');
      assertProblem(await admin.request('PUT', `${ADMIN}/rollout-rules/dark_mode`, {}), 404, 'rollout_feature_unknown');
      assertProblem(await admin.get(`${ADMIN}/rollout-rules/dark_mode`), 404, 'rollout_feature_unknown');
      const none = await server.database.db.selectFrom('audit_events').select('id').where('type', '=', 'rollout_rule.changed').where('data', 'like', '%autofill%').execute();
      assert.equal(none.length, 0, 'nothing was changed');
    });

    test('20 % by device over 1,000 device ids: exactly the ids the HMAC buckets say (200 ± 40), the same ones every time', async () => {
      assert.equal((await admin.request('PUT', `${ADMIN}/rollout-rules/passkey_button`, { percentage: 20, bucketBy: 'device' })).status, 200);
      const salt = featureSalt('passkey_button');
      const ids = Array.from({ length: 1000 }, (_, i) => `synthetic-device-${String(i).padStart(4, '0')}`);
      const expected = ids.filter((id) => bucket(salt, deviceKey(id)) < 2000);
      assert.ok(Math.abs(expected.length - 200) <= 40, `${expected.length}`);
      const offered = async () => {
        const got: string[] = [];
        const client = server.client();
        for (let i = 0; i < ids.length; i += 50) {
          const answers = await Promise.all(ids.slice(i, i + 50).map((id) => ask(client, { client: capable, deviceId: id })));
          answers.forEach((r, j) => {
            assert.equal(r.status, 200, r.text);
            if (r.body.passkeyButton.offer) got.push(ids[i + j] as string);
            else assert.equal(r.body.passkeyButton.reason, 'rollout_excluded');
          });
        }
        return got;
      };
      const first = await offered();
      assert.deepEqual(first, expected);
      assert.deepEqual(await offered(), first, 'nobody flips');
      // (Raising the percentage keeps everyone in: rollout.rules.test.ts.)
      await admin.request('DELETE', `${ADMIN}/rollout-rules/passkey_button`);
    });

    test('OS, platform, segment, allow and deny lists through the decisions', async () => {
      // OS and platform: only iPhones get autofill.
      await admin.request('PUT', `${ADMIN}/rollout-rules/autofill`, { operatingSystems: ['ios'], platforms: ['mobile'] });
      assert.deepEqual((await ask(server.client(), { client: capable }, MAC_SAFARI)).body.autofill, { offer: false, reason: 'rollout_excluded' });
      assert.deepEqual((await ask(server.client(), { client: capable }, IPHONE)).body.autofill, { offer: true, reason: 'eligible' });

      // Segment: the append prompt for beta users only; a segment is set through the management API.
      const beta = server.client();
      const { user: betaUser } = await signUp(beta, newAuthenticator(), 'rollout-beta');
      const plain = server.client();
      const { user: plainUser } = await signUp(plain, newAuthenticator(), 'rollout-plain');
      const patched = await admin.request('PATCH', `${ADMIN}/users/${betaUser.id}`, { segment: 'beta' });
      assert.equal(patched.status, 200, patched.text);
      assert.equal(patched.body.segment, 'beta');
      assertProblem(await admin.request('PATCH', `${ADMIN}/users/${betaUser.id}`, { segment: 'no spaces' }), 400, 'invalid_request');
      const created = await admin.post(`${ADMIN}/users`, { username: 'rollout-created', segment: 'staff', externalId: 'ext-created' });
      assert.equal(created.body.segment, 'staff');
      const accountUpdated = await server.database.db.selectFrom('audit_events').select('data').where('type', '=', 'account.updated').where('subject_user_id', '=', betaUser.id).execute();
      assert.deepEqual(JSON.parse(accountUpdated[0]?.data ?? '{}'), { fields: ['segment'], segment: 'beta' });

      await admin.request('PUT', `${ADMIN}/rollout-rules/append_prompt`, { segments: ['beta'] });
      assert.deepEqual((await ask(beta, { client: capable })).body.appendPrompt, { offer: true, reason: 'eligible', variant: 'default' });
      assert.deepEqual((await ask(plain, { client: capable })).body.appendPrompt, { offer: false, reason: 'rollout_excluded', variant: 'default' });
      // Allow list (by user id) lets the plain user in; deny list (by user id) keeps the beta user out.
      await admin.request('PATCH', `${ADMIN}/rollout-rules/append_prompt`, { allow: [plainUser.id], deny: [betaUser.id] });
      assert.equal((await ask(plain, { client: capable })).body.appendPrompt.offer, true);
      assert.deepEqual((await ask(beta, { client: capable })).body.appendPrompt, { offer: false, reason: 'rollout_excluded', variant: 'default' });
      await admin.request('DELETE', `${ADMIN}/rollout-rules/append_prompt`);
      await admin.request('DELETE', `${ADMIN}/rollout-rules/autofill`);
    });

    test('preview: users reached by a user-bucketed 20 % equal the hand count over the users table; devices by their last report', async () => {
      const db = server.database.db;
      const now = Date.now();
      await db
        .insertInto('users')
        .values(
          Array.from({ length: 1000 }, (_, i) => ({
            id: `preview-${String(i).padStart(4, '0')}`,
            username: `preview${i}`,
            username_key: `preview${i}`,
            username_skeleton: `preview${i}`,
            display_name: `preview${i}`,
            user_handle: `handle-preview-${i}`,
            external_id: null,
            status: 'active',
            created_at: now + i,
            email: null,
            email_key: null,
            email_verified_at: null,
            segment: i % 4 === 0 ? 'beta' : null,
          })),
        )
        .execute();
      const all = await db.selectFrom('users').select(['id', 'segment']).execute();
      const salt = featureSalt('passkey_first_signup');
      const expected = all.filter((u) => bucket(salt, u.id) < 2000).length;
      const r = await admin.post(`${ADMIN}/rollout-rules/passkey_first_signup/preview`, { percentage: 20 });
      assert.equal(r.status, 200, r.text);
      assert.deepEqual(r.body.users, { total: all.length, reached: expected, share: Math.round((expected / all.length) * 10_000) / 10_000, truncated: false });
      assert.ok(Math.abs(expected - 0.2 * all.length) <= 0.04 * all.length + 10, `${expected} of ${all.length}`);
      const beta = all.filter((u) => u.segment === 'beta').length;
      assert.equal((await admin.post(`${ADMIN}/rollout-rules/passkey_first_signup/preview`, { segments: ['beta'] })).body.users.reached, beta);
      // Devices: one Mac and one iPhone report; an iOS-only rule reaches one of them.
      for (const [id, ua] of [['preview-mac-device-000', MAC_SAFARI], ['preview-iphone-device-0', IPHONE]] as const) {
        await server.client().post('/api/v1/telemetry/ceremonies', { ceremony: 'authentication', mode: 'modal', outcome: 'cancelled', deviceId: id }, { headers: { 'user-agent': ua } });
      }
      const devices = (await admin.post(`${ADMIN}/rollout-rules/passkey_first_signup/preview`, { operatingSystems: ['ios'] })).body.devices;
      assert.equal(devices.windowDays, 30);
      assert.ok(devices.total >= 2);
      // Stored as OS families (rollout.rules.ts family()).
      const iosDevices = await db.selectFrom('device_signals').select('device_key').distinct().where('os', '=', 'ios').execute();
      assert.ok(iosDevices.length >= 1);
      assert.equal(devices.reached, iosDevices.length);
      assert.equal((await db.selectFrom('rollout_rules').selectAll().execute()).length, 0, 'a preview stores nothing');
    });

    test('the kill switch is seen by a second server on the same database within seconds', async () => {
      const second: FastifyInstance = await buildApp(server.config);
      await second.listen({ host: '127.0.0.1', port: 0 });
      try {
        const address = second.server.address();
        const other = new TestClient(`http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`, 'http://localhost:8080');
        assert.deepEqual((await ask(other, { client: capable })).body.passkeyButton, { offer: true, reason: 'eligible' });
        const flipped = performance.now();
        assert.equal((await admin.request('PATCH', `${ADMIN}/rollout-rules/passkey_button`, { killSwitch: true })).status, 200);
        assert.deepEqual((await ask(server.client(), { client: capable })).body.passkeyButton, { offer: false, reason: 'kill_switch' }, 'this node: at once');
        let seenAfter = Number.POSITIVE_INFINITY;
        while (performance.now() - flipped < 10_000) {
          if ((await ask(other, { client: capable })).body.passkeyButton.reason === 'kill_switch') {
            seenAfter = performance.now() - flipped;
            break;
          }
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
        console.log(`# ${dialect}: the second node saw the kill switch after ${seenAfter.toFixed(0)} ms (refresh interval ${server.config.rollout.refreshIntervalMs} ms)`);
        assert.ok(seenAfter < 2 * server.config.rollout.refreshIntervalMs + 2000, `${seenAfter} ms`);
        await admin.request('PATCH', `${ADMIN}/rollout-rules/passkey_button`, { killSwitch: false });
      } finally {
        await second.close();
      }
    });
  });
}

for (const dialect of dialects) {
  test(`the rollout migration goes up, down and up again (${dialect})`, async () => {
    const fresh = await createTestDatabase(dialect);
    const database = createDatabase(fresh.url);
    try {
      await migrateToLatest(database.db);
      const tables = async () => (await database.db.introspection.getTables()).map((t) => t.name);
      const userColumns = async () => (await database.db.introspection.getTables()).find((t) => t.name === 'users')?.columns.map((c) => c.name) ?? [];
      assert.ok((await tables()).includes('rollout_rules'));
      assert.ok((await userColumns()).includes('segment'));
      const down = await createMigrator(database.db).migrateTo('2026_12_03_tokens');
      assert.equal(down.error, undefined);
      assert.ok(!(await tables()).includes('rollout_rules'));
      assert.ok(!(await tables()).includes('device_signals'));
      assert.ok(!(await userColumns()).includes('segment'));
      await migrateToLatest(database.db);
      assert.ok((await tables()).includes('device_signals'));
    } finally {
      await database.close();
      await fresh.drop();
    }
  });
}
