import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createTestApiKey } from '../helpers/api-keys.ts';
import { newAuthenticator, signUp } from '../helpers/flows.ts';
import { TestClient, type TestResponse } from '../helpers/test-client.ts';
import { dialects, startTestServer, type TestServer } from '../helpers/test-server.ts';

const DECISIONS = '/api/v1/passkey-decisions';
const TELEMETRY = '/api/v1/telemetry/ceremonies';
const ADMIN = '/api/admin/v1';
const MAC_SAFARI = 'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Safari/605.1.15';
const WINDOWS_EDGE = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36 Edg/130.0.0.0';
const APPLE_PASSWORDS = 'fbfc3007-154e-4ecc-8c0b-6e020557d7bd';

const capable = { webauthn: true, platformAuthenticator: true, conditionalMediation: true, hybridTransport: false };
const deviceId = (n: string) => `device-${n}`.padEnd(24, '0');

type Short = Record<string, [boolean, string]>;
function short(r: TestResponse): Short {
  assert.equal(r.status, 200, r.text);
  return Object.fromEntries(Object.entries(r.body as Record<string, { offer: boolean; reason: string }>).map(([k, v]) => [k, [v.offer, v.reason]]));
}

for (const dialect of dialects) {
  describe(`passkey intelligence: POST ${DECISIONS} (${dialect})`, () => {
    let server: TestServer;
    let root: TestClient;
    const ask = (client: TestClient, body: Record<string, unknown>, ua = MAC_SAFARI) => client.post(DECISIONS, body, { headers: { 'user-agent': ua } });
    const report = (client: TestClient, body: Record<string, unknown>, ua = MAC_SAFARI) =>
      client.post(TELEMETRY, { mode: 'modal', ...body }, { headers: { 'user-agent': ua } });

    before(async () => {
      server = await startTestServer(dialect, { config: { intelligence: { perIpPerHour: 100_000 }, telemetry: { perIpPerHour: 100_000 } } });
      const made = await createTestApiKey(server, ['users:write', 'rollout:read', 'rollout:write', 'experiments:write'], 'rollout admin');
      root = new TestClient(server.url, null);
      root.bearer = made.secret;
    });
    after(() => server.close());

    test('a visitor on a capable Mac: button, autofill and passkey-first sign-up; the append prompt needs a session', async () => {
      const r = await ask(server.client(), { client: capable, deviceId: deviceId('visitor') });
      assert.deepEqual(short(r), {
        passkeyButton: [true, 'eligible'],
        autofill: [true, 'eligible'],
        appendPrompt: [false, 'not_signed_in'],
        passkeyFirstSignUp: [true, 'eligible'],
        fallbackOnly: [false, 'passkey_offered'],
      });
      assert.equal(r.body.appendPrompt.variant, 'default');
      assert.equal(r.headers.get('cache-control'), 'no-store');
    });

    test('no WebAuthn: fallback only; capabilities from getClientCapabilities() count when the fields are absent', async () => {
      assert.deepEqual(short(await ask(server.client(), { client: { webauthn: false } })), {
        passkeyButton: [false, 'no_webauthn'],
        autofill: [false, 'no_webauthn'],
        appendPrompt: [false, 'not_signed_in'],
        passkeyFirstSignUp: [false, 'no_webauthn'],
        fallbackOnly: [true, 'no_webauthn'],
      });
      const caps = await ask(server.client(), { client: { webauthn: true, capabilities: { conditionalGet: false, userVerifyingPlatformAuthenticator: false } } });
      assert.deepEqual(short(caps).autofill, [false, 'no_conditional_mediation']);
      assert.deepEqual(short(caps).passkeyFirstSignUp, [false, 'no_platform_authenticator']);
    });

    test('signed in on a device without a platform authenticator: no append prompt; with one: the prompt, then not after a passkey of this ecosystem', async () => {
      const client = server.client();
      const authenticator = newAuthenticator();
      await signUp(client, authenticator, 'intel-noplatform');
      // The software authenticator's passkey (zero AAGUID, device-bound) does not count as one living on this Mac.
      assert.deepEqual(short(await ask(client, { client: { ...capable, platformAuthenticator: false } })).appendPrompt, [false, 'no_platform_authenticator']);
      assert.deepEqual(short(await ask(client, { client: capable })).appendPrompt, [true, 'eligible']);

      const synced = server.client();
      await signUp(synced, newAuthenticator({ aaguid: APPLE_PASSWORDS, backupEligible: true, backupState: true }), 'intel-icloud');
      assert.deepEqual(short(await ask(synced, { client: capable })).appendPrompt, [false, 'has_usable_passkey'], 'an iCloud passkey lives on this Mac');
      assert.deepEqual(short(await ask(synced, { client: capable }, WINDOWS_EDGE)).appendPrompt, [true, 'eligible'], 'but not on Windows');
    });

    test('identifier-first: passkeys all on another ecosystem and no hybrid → no button; hybrid, or a passkey used on this device → button', async () => {
      const owner = server.client();
      const { passkey } = await signUp(owner, newAuthenticator({ aaguid: APPLE_PASSWORDS, backupEligible: true, backupState: true }), 'intel-apple');
      const identifier = 'intel-apple';
      assert.deepEqual(short(await ask(server.client(), { client: capable, identifier }, WINDOWS_EDGE)).passkeyButton, [false, 'passkeys_on_other_ecosystem_no_hybrid']);
      assert.deepEqual(short(await ask(server.client(), { client: { ...capable, hybridTransport: true }, identifier }, WINDOWS_EDGE)).passkeyButton, [true, 'eligible']);
      assert.deepEqual(short(await ask(server.client(), { client: capable, identifier }, MAC_SAFARI)).passkeyButton, [true, 'eligible']);
      // The owner signs in on this Windows device (with a phone, say) and the elements report it with the device id.
      const windows = deviceId('win');
      assert.equal((await report(owner, { ceremony: 'authentication', outcome: 'completed', deviceId: windows, credentialId: passkey.id }, WINDOWS_EDGE)).status, 204);
      assert.deepEqual(short(await ask(server.client(), { client: capable, identifier, deviceId: windows }, WINDOWS_EDGE)).passkeyButton, [true, 'eligible']);
      // A credential id that is not the reporter's own is not kept: another device claiming it gets nothing.
      const other = deviceId('liar');
      await report(server.client(), { ceremony: 'authentication', outcome: 'completed', deviceId: other, credentialId: passkey.id }, WINDOWS_EDGE);
      assert.deepEqual(short(await ask(server.client(), { client: capable, identifier, deviceId: other }, WINDOWS_EDGE)).passkeyButton, [false, 'passkeys_on_other_ecosystem_no_hybrid']);
      // No personal data in the answer: no passkey ids, provider names or user ids.
      const text = (await ask(server.client(), { client: capable, identifier }, WINDOWS_EDGE)).text;
      for (const secret of [passkey.id, 'Apple', 'iCloud', 'intel-apple']) assert.ok(!text.includes(secret), secret);
    });

    test('no enumeration: an unknown identifier gets byte-for-byte the answer of a known one without passkeys, even one a rule denies', async () => {
      const created = await root.post(`${ADMIN}/users`, { username: 'intel-nopasskey', externalId: 'ext-nopasskey', segment: 'beta' });
      assert.equal(created.status, 201, created.text);
      const situations: [Record<string, unknown>, string][] = [
        [capable, MAC_SAFARI],
        [{ ...capable, hybridTransport: true }, WINDOWS_EDGE],
        [{ webauthn: false }, WINDOWS_EDGE],
      ];
      const compare = async () => {
        for (const [client, ua] of situations) {
          const known = await ask(server.client(), { client, identifier: 'intel-nopasskey', deviceId: deviceId('enum') }, ua);
          const unknown = await ask(server.client(), { client, identifier: 'intel-nobody-at-all', deviceId: deviceId('enum') }, ua);
          assert.equal(known.status, unknown.status);
          assert.equal(known.text, unknown.text, JSON.stringify(client));
          if ((client as { webauthn: boolean }).webauthn) assert.deepEqual(short(known).passkeyButton, [false, 'no_passkeys']);
        }
      };
      await compare();
      // Rules that name the known user (deny list, a segment it is not in) change nothing for it either.
      for (const rule of [{ deny: [created.body.id] }, { segments: ['staff'] }, { allow: ['ext-nopasskey'], percentage: 0, bucketBy: 'user' }]) {
        assert.equal((await root.request('PUT', `${ADMIN}/rollout-rules/passkey_button`, rule)).status, 200);
        await compare();
      }
      assert.equal((await root.request('DELETE', `${ADMIN}/rollout-rules/passkey_button`)).status, 204);
    });

    test('auto-heal: after 3 failures on this device, sign-in offers the fallback and the signed-in user a new passkey; a success ends it', async () => {
      const client = server.client();
      const { passkey } = await signUp(client, newAuthenticator({ aaguid: APPLE_PASSWORDS, backupEligible: true, backupState: true }), 'intel-heal');
      const device = deviceId('heal');
      const visitor = server.client();
      assert.deepEqual(short(await ask(client, { client: capable, deviceId: device })).appendPrompt, [false, 'has_usable_passkey']);
      for (let i = 0; i < 2; i++) assert.equal((await report(visitor, { ceremony: 'authentication', outcome: i === 0 ? 'cancelled' : 'error', errorName: 'NotAllowedError', deviceId: device })).status, 204);
      assert.deepEqual(short(await ask(visitor, { client: capable, identifier: 'intel-heal', deviceId: device })).passkeyButton, [true, 'eligible'], 'two failures: not yet');
      await report(visitor, { ceremony: 'authentication', outcome: 'timed_out', deviceId: device });
      assert.deepEqual(short(await ask(visitor, { client: capable, identifier: 'intel-heal', deviceId: device })), {
        passkeyButton: [false, 'recent_failures_auto_heal'],
        autofill: [false, 'recent_failures_auto_heal'],
        appendPrompt: [false, 'not_signed_in'],
        passkeyFirstSignUp: [true, 'eligible'],
        fallbackOnly: [true, 'recent_failures_auto_heal'],
      });
      assert.deepEqual(short(await ask(client, { client: capable, deviceId: device })).appendPrompt, [true, 'recent_failures_auto_heal'], 'a new passkey, although the user has one');
      // Another device is not affected.
      assert.deepEqual(short(await ask(visitor, { client: capable, identifier: 'intel-heal', deviceId: deviceId('fine') })).passkeyButton, [true, 'eligible']);
      // A passkey made on this device (reported completed) heals it.
      await report(client, { ceremony: 'registration', outcome: 'completed', deviceId: device, credentialId: passkey.id });
      assert.deepEqual(short(await ask(visitor, { client: capable, identifier: 'intel-heal', deviceId: device })).passkeyButton, [true, 'eligible']);
      // The window: failures older than LATCHKEY_INTELLIGENCE_FAILURE_WINDOW_DAYS (14) do not count.
      const old = deviceId('old');
      for (let i = 0; i < 3; i++) await report(visitor, { ceremony: 'authentication', outcome: 'cancelled', deviceId: old });
      assert.deepEqual(short(await ask(visitor, { client: capable, deviceId: old })).passkeyButton, [false, 'recent_failures_auto_heal']);
      server.clock.advance(15 * 86_400_000);
      try {
        assert.deepEqual(short(await ask(visitor, { client: capable, deviceId: old })).passkeyButton, [true, 'eligible']);
      } finally {
        server.clock.advance(-15 * 86_400_000);
      }
    });

    test('"not now": recorded and audited, no append prompt for the cool-down, then again', async () => {
      const client = server.client();
      const { user } = await signUp(client, newAuthenticator(), 'intel-notnow');
      assert.deepEqual(short(await ask(client, { client: capable })).appendPrompt, [true, 'eligible']);
      const declined = await client.post(`${DECISIONS}/declines`, { deviceId: deviceId('notnow') });
      assert.equal(declined.status, 204, declined.text);
      const rows = await server.database.db.selectFrom('audit_events').selectAll().where('request_id', '=', declined.headers.get('x-request-id') ?? '').execute();
      assert.equal(rows[0]?.type, 'passkey.append_declined');
      assert.equal(rows[0]?.subject_user_id, user.id);
      assert.deepEqual(short(await ask(client, { client: capable })).appendPrompt, [false, 'declined_recently']);
      // 15 days later (the session would not last that long: the answer is moved back instead).
      await server.database.db.updateTable('device_signals').set((eb) => ({ created_at: eb('created_at', '-', 15 * 86_400_000) })).where('user_id', '=', user.id).execute();
      assert.deepEqual(short(await ask(client, { client: capable })).appendPrompt, [true, 'eligible']);
      assert.equal((await server.client().post(`${DECISIONS}/declines`, {})).status, 401, 'signed out: nothing to decline');
    });

    test('the append prompt carries the signed-in user\'s arm of a running A/B test ("default" without one)', async () => {
      const client = server.client();
      await signUp(client, newAuthenticator(), 'intel-variant');
      assert.equal((await ask(client, { client: capable })).body.appendPrompt.variant, 'default');
      const created = await root.post(`${ADMIN}/experiments`, {
        key: 'append-copy-intel',
        feature: 'append_prompt',
        metric: 'passkey_created',
        variants: [{ key: 'control' }, { key: 'faster-sign-in' }],
        baselineRate: 0.2,
        minimumDetectableEffect: 0.05,
      });
      assert.equal(created.status, 201, created.text);
      assert.equal((await root.post(`${ADMIN}/experiments/append-copy-intel/start`)).status, 200);
      const assigned = (await client.get('/api/v1/experiments/assignments')).body.assignments.append_prompt?.variant;
      assert.ok(assigned === 'control' || assigned === 'faster-sign-in', String(assigned));
      // The experiments module refreshes its list every 2 s.
      const deadline = Date.now() + 5000;
      let variant = 'default';
      while (variant === 'default' && Date.now() < deadline) {
        variant = (await ask(client, { client: capable })).body.appendPrompt.variant;
        if (variant === 'default') await new Promise((resolve) => setTimeout(resolve, 200));
      }
      assert.equal(variant, assigned);
      // Not offered: no variant to show.
      assert.equal((await ask(client, { client: { ...capable, platformAuthenticator: false } })).body.appendPrompt.variant, 'default');
    });

    test('device history is kept 90 days: the minute sweep deletes older rows, and the device id is stored only as an HMAC', async () => {
      const id = deviceId('sweep');
      await report(server.client(), { ceremony: 'authentication', outcome: 'cancelled', deviceId: id });
      const rows = await server.database.db.selectFrom('device_signals').selectAll().where('created_at', '>=', server.clock.now() - 1000).execute();
      assert.ok(rows.length >= 1);
      assert.ok(rows.every((r) => !r.device_key.includes(id) && r.device_key.length === 32));
      const audit = await server.database.db.selectFrom('audit_events').select('data').where('type', '=', 'ceremony.reported').execute();
      assert.ok(audit.every((a) => !(a.data ?? '').includes(id)), 'not in the audit row');
      server.clock.advance(91 * 86_400_000);
      try {
        await server.app.sweep();
        const left = await server.database.db.selectFrom('device_signals').select('id').execute();
        assert.equal(left.length, 0);
      } finally {
        server.clock.advance(-91 * 86_400_000);
      }
    });

    test('bad input is a 400 problem: unknown fields, a malformed device id, a wrong type', async () => {
      const bodies: unknown[] = [
        {},
        { client: { webauthn: 'yes' } },
        { client: capable, deviceId: 'short' },
        { client: capable, deviceId: 'has spaces in it 0123456789' },
        { client: capable, extra: 1 },
        { client: { ...capable, capabilities: { hybridTransport: 'yes' } } },
        { client: capable, identifier: '' },
      ];
      for (const body of bodies) {
        const r = await server.client().post(DECISIONS, body);
        assert.equal(r.status, 400, JSON.stringify(body));
        assert.equal(r.body.code, 'invalid_request', r.text);
      }
    });

    test('the time of a decision request, beside the cheapest request there is (printed, not asserted)', async () => {
      const client = server.client();
      const n = 300;
      let started = performance.now();
      for (let i = 0; i < n; i++) await client.get('/healthz');
      const baseline = (performance.now() - started) / n;
      started = performance.now();
      for (let i = 0; i < n; i++) await ask(client, { client: capable, identifier: 'intel-apple', deviceId: deviceId('perf') }, WINDOWS_EDGE);
      const decision = (performance.now() - started) / n;
      console.log(`# ${dialect}: ${decision.toFixed(2)} ms per decision request over HTTP vs ${baseline.toFixed(2)} ms for GET /healthz (identifier with passkeys, device history; ${n} sequential each)`);
    });
  });
}
