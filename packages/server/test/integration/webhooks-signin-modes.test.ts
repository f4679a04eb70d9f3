import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { sql } from 'kysely';
import { Webhook } from 'standardwebhooks';
import { buildApp } from '../../src/app.ts';
import { loadConfig, type DeepPartial } from '../../src/config/load.ts';
import type { Config } from '../../src/config/schema.ts';
import { createDatabase } from '../../src/db/create-db.ts';
import { createMigrator, migrateToLatest } from '../../src/db/migrate.ts';
import { createTestClock } from '../../src/platform/clock.ts';
import { createTestApiKey } from '../helpers/api-keys.ts';
import { authenticate, newAuthenticator, signUp } from '../helpers/flows.ts';
import { TestClient, type TestResponse } from '../helpers/test-client.ts';
import { createTestDatabase, dialects, startTestServer, TEST_ORIGIN, TEST_RP_ID, type TestServer } from '../helpers/test-server.ts';
import { WebhookReceiver, waitFor, type ReceivedWebhook } from '../helpers/webhook-receiver.ts';

/**
 * Issue 12 item 3: "sign-in succeeded/failed (aggregated or sampled, the endpoint chooses)".
 * Endpoints choose `signinFailed` and `signinSucceeded`: each event, a deterministic sample, or one
 * summary a minute.
 */
const ADMIN = '/api/admin/v1';
const WEBHOOKS: DeepPartial<Config>['webhooks'] = {
  allowHttp: true,
  allowedTargets: ['127.0.0.1'],
  retryBaseMs: 100,
  retryMaxDelayMs: 1000,
  maxAttempts: 4,
  timeoutMs: 2000,
  pollIntervalMs: 30,
};
const FAILURE_AUDIT_TYPES = ['passkey.authentication_failed', 'password.failed', 'email_code.failed'];
const PASSWORD = 'correct horse battery staple 42';

/** The README's sampling rule, written out here rather than imported: the test checks the documented rule. */
const inSampleByRule = (eventId: string, rate: number) => createHash('sha256').update(eventId).digest().readUInt32BE(0) / 2 ** 32 < rate;

async function adminOf(server: Pick<TestServer, 'clock' | 'database' | 'url'>): Promise<TestClient> {
  const key = await createTestApiKey(server, ['webhooks:manage', 'webhooks:read']);
  const admin = new TestClient(server.url, null);
  admin.bearer = key.secret;
  return admin;
}

async function addEndpoint(admin: TestClient, url: string, eventTypes: string[], signinFailed?: unknown, signinSucceeded?: unknown): Promise<{ id: string; secret: string }> {
  const made = await admin.post(`${ADMIN}/webhook-endpoints`, { url, eventTypes, ...(signinFailed === undefined ? {} : { signinFailed }), ...(signinSucceeded === undefined ? {} : { signinSucceeded }) });
  assert.equal(made.status, 201, made.text);
  return { id: made.body.endpoint.id, secret: made.body.secret };
}

// biome-ignore lint/suspicious/noExplicitAny: JSON bodies
const bodies = (received: ReceivedWebhook[]): any[] => received.map((r) => JSON.parse(r.body));
const ofType = (receiver: WebhookReceiver, type: string) => bodies(receiver.hooks()).filter((b) => b.type === type);
/**
 * The reference verifier (standardwebhooks) checks the signature and that `webhook-timestamp` is
 * within five minutes of now; the earlier tests move the server's clock minutes ahead, so "now" is
 * the server's clock for the length of this synchronous call.
 */
function verifiedAt(now: number, secret: string, received: ReceivedWebhook): unknown {
  const realNow = Date.now;
  Date.now = () => now;
  try {
    return new Webhook(secret).verify(received.body, received.headers as Record<string, string>);
  } finally {
    Date.now = realNow;
  }
}
const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** The start of the next minute of `ms`, plus `plus`. */
const nextMinute = (ms: number, plus = 0) => Math.ceil(ms / 60_000) * 60_000 + plus;

for (const dialect of dialects) {
  describe(`webhooks: sign-ins, failed and succeeded, each, sampled or summarized (${dialect})`, () => {
    let server: TestServer;
    let admin: TestClient;
    const each = new WebhookReceiver();
    const sampled = new WebhookReceiver();
    const summary = new WebhookReceiver();
    before(async () => {
      server = await startTestServer(dialect, { config: { webhooks: WEBHOOKS, auth: { methods: ['passkey', 'password'] } } });
      admin = await adminOf(server);
      await Promise.all([each.start(), sampled.start(), summary.start()]);
    });
    after(async () => {
      await Promise.all([each.stop(), sampled.stop(), summary.stop()]);
      await server.close();
    });

    test('bad settings are a 400 webhook_signin_failed_invalid that says what is wrong; the setting reads back and is audited', async () => {
      const bad = async (answer: Promise<TestResponse>, code: string, mentions?: string) => {
        const a = await answer;
        assert.equal(a.status, 400, a.text);
        assert.match(String(a.headers.get('content-type')), /^application\/problem\+json/);
        assert.equal(a.body.code, code, a.text);
        if (mentions) assert.ok(String(a.body.detail).includes(mentions), a.text);
      };
      const create = (signinFailed: unknown, eventTypes = ['signin.failed']) => admin.post(`${ADMIN}/webhook-endpoints`, { url: each.url, eventTypes, signinFailed });
      await bad(create({ mode: 'all' }), 'webhook_signin_failed_invalid', 'mode');
      await bad(create({ mode: 'sampled' }), 'webhook_signin_failed_invalid', 'rate');
      await bad(create({ mode: 'sampled', rate: 0 }), 'webhook_signin_failed_invalid', 'rate');
      await bad(create({ mode: 'sampled', rate: 1.5 }), 'webhook_signin_failed_invalid', 'rate');
      await bad(create({ mode: 'summary', rate: 0.5 }), 'webhook_signin_failed_invalid', 'rate');
      await bad(create({ mode: 'each', window: 60 }), 'webhook_signin_failed_invalid', 'window');
      await bad(create({}), 'webhook_signin_failed_invalid', 'mode');
      // Not an object at all, or a rate that is not a number: the request's shape, the common code.
      await bad(create('summary'), 'invalid_request');
      await bad(create({ mode: 'sampled', rate: '0.1' }), 'invalid_request');
      // The summary is chosen with the mode, not subscribed to by name.
      await bad(create({ mode: 'summary' }, ['signin.failed.summary']), 'webhook_event_types_invalid', 'mode');

      const { id } = await addEndpoint(admin, each.url, ['signin.*']);
      const read = await admin.get(`${ADMIN}/webhook-endpoints/${id}`);
      assert.deepEqual(read.body.signinFailed, { mode: 'each' }, 'the default is today’s behaviour');
      await bad(admin.patch(`${ADMIN}/webhook-endpoints/${id}`, { signinFailed: { mode: 'sampled', rate: -1 } }), 'webhook_signin_failed_invalid', 'rate');
      const patched = await admin.patch(`${ADMIN}/webhook-endpoints/${id}`, { signinFailed: { mode: 'sampled', rate: 0.25 } });
      assert.equal(patched.status, 200, patched.text);
      assert.deepEqual(patched.body.signinFailed, { mode: 'sampled', rate: 0.25 });
      const listed = await admin.get(`${ADMIN}/webhook-endpoints`);
      assert.deepEqual(listed.body.endpoints.find((e: { id: string }) => e.id === id).signinFailed, { mode: 'sampled', rate: 0.25 });
      const types = await admin.get(`${ADMIN}/webhook-event-types`);
      assert.ok(types.body.eventTypes.some((t: { type: string }) => t.type === 'signin.failed.summary'), 'the catalogue lists the summary');
      const audited = await server.database.db.selectFrom('audit_events').select(['data']).where('type', '=', 'webhook_endpoint.updated').execute();
      assert.ok(audited.some((r) => JSON.parse(r.data ?? '{}').signinFailed?.rate === 0.25));
      assert.equal((await admin.delete(`${ADMIN}/webhook-endpoints/${id}`)).status, 204);
    });

    test('each gets every failure; sampled gets exactly the subset the rule picks; summary gets one count a minute and no single failure', async () => {
      const authenticator = newAuthenticator();
      await signUp(server.client(), authenticator, 'sfail-user');
      // All of the first batch in one minute of the server's clock, 5 s into it.
      const minute = nextMinute(server.clock.now());
      server.clock.set(minute + 5_000);
      const everyOne = await addEndpoint(admin, each.url, ['signin.failed']);
      const half = await addEndpoint(admin, sampled.url, ['signin.*'], { mode: 'sampled', rate: 0.5 });
      const perMinute = await addEndpoint(admin, summary.url, ['*'], { mode: 'summary' });

      const passkeyFailures = 16;
      for (let i = 0; i < passkeyFailures; i++) {
        const failed = await authenticate(server.client(), authenticator, {}, { signature: 'bogus' });
        assert.equal(failed.verify.status, 401, failed.verify.text);
      }
      for (let i = 0; i < 3; i++) {
        const failed = await server.client().post('/api/v1/password/sign-in', { username: `nobody-${i}`, password: 'not the password at all' });
        assert.equal(failed.status, 401, failed.text);
      }
      const succeeded = await authenticate(server.client(), authenticator);
      assert.equal(succeeded.verify.status, 200, succeeded.verify.text);
      const total = passkeyFailures + 3;

      // each: every failure, as the audit log has them.
      const all = await waitFor(() => ofType(each, 'signin.failed').length >= total && ofType(each, 'signin.failed'), `${total} failures at the each endpoint`);
      const auditIds = (await server.database.db.selectFrom('audit_events').select('id').where('type', 'in', FAILURE_AUDIT_TYPES).where('created_at', '>=', minute).execute()).map((r) => r.id).sort();
      assert.deepEqual(all.map((b) => b.data.eventId).sort(), auditIds);

      // sampled: exactly the events the documented rule picks, neither none nor all of them.
      const expected = auditIds.filter((id) => inSampleByRule(id, 0.5));
      assert.ok(expected.length > 0 && expected.length < total, `a real subset (${expected.length} of ${total})`);
      await waitFor(() => ofType(sampled, 'signin.failed').length >= expected.length, `${expected.length} sampled failures`);
      await waitFor(() => ofType(sampled, 'signin.succeeded').length >= 1, 'the sign-in, which is not sampled');
      await pause(300);
      assert.deepEqual(ofType(sampled, 'signin.failed').map((b) => b.data.eventId).sort(), expected);
      const sampledIds = sampled.hooks().filter((r) => JSON.parse(r.body).type === 'signin.failed').map((r) => r.headers['webhook-id']);
      assert.equal(new Set(sampledIds).size, sampledIds.length, 'each sampled event once');

      // summary: nothing yet (the minute is not over), and never a single failure.
      await waitFor(() => ofType(summary, 'signin.succeeded').length >= 1, 'the summary endpoint still gets the other types');
      assert.equal(ofType(summary, 'signin.failed').length, 0);
      assert.equal(ofType(summary, 'signin.failed.summary').length, 0, 'not before the minute has ended and settled');
      server.clock.set(minute + 60_000 + 5_000);
      await pause(200);
      assert.equal(ofType(summary, 'signin.failed.summary').length, 0, 'not before the settle time (10 s) after the minute');
      server.clock.set(minute + 60_000 + 11_000);
      const got = await waitFor(() => summary.hooks().find((r) => JSON.parse(r.body).type === 'signin.failed.summary'), 'the summary');
      const body = new Webhook(perMinute.secret).verify(got.body, got.headers as Record<string, string>) as { data: Record<string, unknown> };
      // The counts the each endpoint saw, by method and error code.
      const tally = new Map<string, { method: string; errorCode: string; count: number }>();
      for (const b of all) {
        const key = `${b.data.method} ${b.data.errorCode}`;
        tally.set(key, { method: b.data.method, errorCode: b.data.errorCode, count: (tally.get(key)?.count ?? 0) + 1 });
      }
      assert.deepEqual(body.data, {
        // It started when the endpoint chose summaries, 5 s into the minute.
        windowStart: new Date(minute + 5_000).toISOString(),
        windowEnd: new Date(minute + 60_000).toISOString(),
        total,
        byMethod: { passkey: passkeyFailures, password: 3 },
        counts: [...tally.values()].sort((a, b) => a.method.localeCompare(b.method) || a.errorCode.localeCompare(b.errorCode)),
      });
      assert.equal(got.headers['webhook-id'], `msg_sfs_${perMinute.id}_${minute}`);
      // No personal data: no user id, no event id, no username, no address.
      const me = (await server.database.db.selectFrom('users').select('id').where('username', '=', 'sfail-user').executeTakeFirstOrThrow()).id;
      for (const leak of [me, 'sfail-user', 'nobody-', '127.0.0.1', ...auditIds]) assert.ok(!got.body.includes(leak), leak);

      // The next minute: two more failures, one more summary of just them; a quiet minute sends nothing.
      for (let i = 0; i < 2; i++) assert.equal((await authenticate(server.client(), authenticator, {}, { signature: 'bogus' })).verify.status, 401);
      server.clock.set(minute + 120_000 + 11_000);
      const second = await waitFor(() => ofType(summary, 'signin.failed.summary')[1], 'the second summary');
      assert.equal(second.data.total, 2);
      assert.equal(second.data.windowStart, new Date(minute + 60_000).toISOString());
      server.clock.set(minute + 180_000 + 11_000);
      await pause(400);
      assert.equal(ofType(summary, 'signin.failed.summary').length, 2, 'a minute without failures sends nothing');
      assert.equal(ofType(summary, 'signin.failed').length, 0);
      // Single failures go out from the sealed chain, about a second after they happen.
      await waitFor(() => ofType(each, 'signin.failed').length >= total + 2, 'the each endpoint beside it got every failure');
      await pause(300);
      assert.equal(ofType(each, 'signin.failed').length, total + 2, 'the each endpoint beside it got every failure, once');
      const log = await waitFor(async () => {
        const list: { eventType: string; status: string }[] = (await admin.get(`${ADMIN}/webhook-endpoints/${perMinute.id}/deliveries`)).body.deliveries;
        const failures = list.filter((d) => d.eventType.startsWith('signin.failed'));
        return failures.every((d) => d.status === 'delivered') && failures;
      }, 'the delivery log');
      assert.deepEqual(log.map((d) => d.eventType), ['signin.failed.summary', 'signin.failed.summary']);
      for (const id of [everyOne.id, half.id, perMinute.id]) await admin.delete(`${ADMIN}/webhook-endpoints/${id}`);
    });

    test('switching to summary counts from the switch; switching back sends each failure again', async () => {
      const authenticator = newAuthenticator();
      await signUp(server.client(), authenticator, 'sfail-switch');
      const minute = nextMinute(server.clock.now());
      server.clock.set(minute + 1_000);
      const receiver = new WebhookReceiver();
      await receiver.start();
      try {
        const { id } = await addEndpoint(admin, receiver.url, ['signin.failed']);
        assert.equal((await authenticate(server.client(), authenticator, {}, { signature: 'bogus' })).verify.status, 401);
        await waitFor(() => ofType(receiver, 'signin.failed').length === 1, 'the failure before the switch');
        server.clock.set(minute + 30_000);
        assert.equal((await admin.patch(`${ADMIN}/webhook-endpoints/${id}`, { signinFailed: { mode: 'summary' } })).status, 200);
        assert.equal((await authenticate(server.client(), authenticator, {}, { signature: 'bogus' })).verify.status, 401);
        server.clock.set(minute + 60_000 + 11_000);
        const first = await waitFor(() => ofType(receiver, 'signin.failed.summary')[0], 'the summary after the switch');
        assert.equal(first.data.total, 1, 'the failure before the switch was sent on its own, not counted again');
        assert.equal(first.data.windowStart, new Date(minute + 30_000).toISOString());
        // The mode applies when an event is fanned out, about a second after it (once sealed): the
        // failure made under summary goes out under summary before the switch back.
        await pause(2500);
        assert.equal((await admin.patch(`${ADMIN}/webhook-endpoints/${id}`, { signinFailed: { mode: 'each' } })).status, 200);
        assert.equal((await authenticate(server.client(), authenticator, {}, { signature: 'bogus' })).verify.status, 401);
        await waitFor(() => ofType(receiver, 'signin.failed').length === 2, 'each failure again');
        server.clock.set(minute + 120_000 + 11_000);
        await pause(300);
        assert.equal(ofType(receiver, 'signin.failed.summary').length, 1, 'no summary once the mode is each');
        await admin.delete(`${ADMIN}/webhook-endpoints/${id}`);
      } finally {
        await receiver.stop();
      }
    });

    test('successes: bad settings are a 400 webhook_signin_succeeded_invalid; the two settings are independent, read back and audited', async () => {
      const bad = async (answer: Promise<TestResponse>, code: string, mentions: string) => {
        const a = await answer;
        assert.equal(a.status, 400, a.text);
        assert.match(String(a.headers.get('content-type')), /^application\/problem\+json/);
        assert.equal(a.body.code, code, a.text);
        assert.ok(String(a.body.detail).includes(mentions), a.text);
      };
      const create = (body: Record<string, unknown>, eventTypes = ['signin.*']) => admin.post(`${ADMIN}/webhook-endpoints`, { url: each.url, eventTypes, ...body });
      await bad(create({ signinSucceeded: { mode: 'some' } }), 'webhook_signin_succeeded_invalid', 'signinSucceeded: mode');
      await bad(create({ signinSucceeded: { mode: 'sampled', rate: 2 } }), 'webhook_signin_succeeded_invalid', 'rate');
      await bad(create({ signinSucceeded: { mode: 'each', rate: 0.5 } }), 'webhook_signin_succeeded_invalid', 'rate');
      // A bad failure setting beside a good success setting is the failure's code, and the other way round.
      await bad(create({ signinFailed: { mode: 'x' }, signinSucceeded: { mode: 'summary' } }), 'webhook_signin_failed_invalid', 'signinFailed');
      await bad(create({ signinFailed: { mode: 'summary' }, signinSucceeded: {} }), 'webhook_signin_succeeded_invalid', 'signinSucceeded');
      await bad(create({ signinSucceeded: { mode: 'summary' } }, ['signin.succeeded.summary']), 'webhook_event_types_invalid', 'signinSucceeded {"mode": "summary"}');
      const before = (await admin.get(`${ADMIN}/webhook-endpoints`)).body.endpoints.length;

      const { id } = await addEndpoint(admin, each.url, ['signin.*'], undefined, { mode: 'summary' });
      const read = await admin.get(`${ADMIN}/webhook-endpoints/${id}`);
      assert.deepEqual([read.body.signinFailed, read.body.signinSucceeded], [{ mode: 'each' }, { mode: 'summary' }]);
      const patched = await admin.patch(`${ADMIN}/webhook-endpoints/${id}`, { signinSucceeded: { mode: 'sampled', rate: 0.01 } });
      assert.equal(patched.status, 200, patched.text);
      assert.deepEqual([patched.body.signinFailed, patched.body.signinSucceeded], [{ mode: 'each' }, { mode: 'sampled', rate: 0.01 }], 'changing one leaves the other');
      const patchedBoth = await admin.patch(`${ADMIN}/webhook-endpoints/${id}`, { signinFailed: { mode: 'summary' }, signinSucceeded: { mode: 'each' } });
      assert.deepEqual([patchedBoth.body.signinFailed, patchedBoth.body.signinSucceeded], [{ mode: 'summary' }, { mode: 'each' }]);
      const stored = await server.database.db.selectFrom('webhook_endpoints').select(['signin_failed_summarized_until', 'signin_succeeded_summarized_until']).where('id', '=', id).executeTakeFirstOrThrow();
      assert.ok(stored.signin_failed_summarized_until !== null && stored.signin_succeeded_summarized_until === null, 'each outcome keeps its own summary position');
      const types = await admin.get(`${ADMIN}/webhook-event-types`);
      assert.ok(types.body.eventTypes.some((t: { type: string }) => t.type === 'signin.succeeded.summary'), 'the catalogue lists the success summary');
      const audited = (await server.database.db.selectFrom('audit_events').select(['type', 'data']).where('type', 'in', ['webhook_endpoint.created', 'webhook_endpoint.updated']).execute()).map((r) => JSON.parse(r.data ?? '{}'));
      assert.ok(audited.some((d) => d.endpointId === id && d.signinSucceeded?.mode === 'summary' && d.signinFailed?.mode === 'each'), 'the creation records both settings');
      assert.ok(audited.some((d) => d.endpointId === id && d.signinSucceeded?.rate === 0.01 && d.signinFailed === undefined), 'a change records what it changed');
      assert.equal((await admin.delete(`${ADMIN}/webhook-endpoints/${id}`)).status, 204);
      assert.equal((await admin.get(`${ADMIN}/webhook-endpoints`)).body.endpoints.length, before, 'the refused requests made nothing');
    });

    test('successes: each gets every sign-in; sampled gets the subset the rule picks; summary gets one count a minute by method, beside the failure summary', async () => {
      const authenticator = newAuthenticator();
      const c = server.client();
      await signUp(c, authenticator, 'ssucc-user');
      assert.equal((await c.request('PUT', '/api/v1/account/password', { password: PASSWORD })).status, 200);
      const minute = nextMinute(server.clock.now());
      server.clock.set(minute + 5_000);
      const everyOne = new WebhookReceiver();
      const half = new WebhookReceiver();
      const perMinute = new WebhookReceiver();
      await Promise.all([everyOne.start(), half.start(), perMinute.start()]);
      try {
        const eachEndpoint = await addEndpoint(admin, everyOne.url, ['signin.succeeded']);
        const halfEndpoint = await addEndpoint(admin, half.url, ['signin.*'], undefined, { mode: 'sampled', rate: 0.5 });
        const summaryEndpoint = await addEndpoint(admin, perMinute.url, ['*'], { mode: 'summary' }, { mode: 'summary' });

        const passkeySignIns = 14;
        for (let i = 0; i < passkeySignIns; i++) assert.equal((await authenticate(server.client(), authenticator)).verify.status, 200);
        for (let i = 0; i < 2; i++) {
          const signedIn = await server.client().post('/api/v1/password/sign-in', { username: 'ssucc-user', password: PASSWORD });
          assert.equal(signedIn.status, 200, signedIn.text);
        }
        assert.equal((await authenticate(server.client(), authenticator, {}, { signature: 'bogus' })).verify.status, 401);
        const total = passkeySignIns + 2;

        // each: every sign-in, as the audit log has them, with its method.
        const all = await waitFor(() => ofType(everyOne, 'signin.succeeded').length >= total && ofType(everyOne, 'signin.succeeded'), `${total} sign-ins at the each endpoint`);
        const auditIds = (await server.database.db.selectFrom('audit_events').select('id').where('type', '=', 'session.created').where('created_at', '>=', minute).execute()).map((r) => r.id).sort();
        assert.deepEqual(all.map((b) => b.data.eventId).sort(), auditIds);
        const methods: Record<string, number> = {};
        for (const b of all) methods[b.data.method] = (methods[b.data.method] ?? 0) + 1;
        assert.deepEqual(methods, { passkey: passkeySignIns, password: 2 });

        // sampled: exactly the sign-ins the documented rule picks; the failure (each, by default) too.
        const expected = auditIds.filter((id) => inSampleByRule(id, 0.5));
        assert.ok(expected.length > 0 && expected.length < total, `a real subset (${expected.length} of ${total})`);
        await waitFor(() => ofType(half, 'signin.succeeded').length >= expected.length && ofType(half, 'signin.failed').length >= 1, `${expected.length} sampled sign-ins and the failure`);
        await pause(300);
        assert.deepEqual(ofType(half, 'signin.succeeded').map((b) => b.data.eventId).sort(), expected);

        // summary: no single sign-in or failure, the other types still; then one summary of each outcome.
        await waitFor(() => ofType(everyOne, 'signin.succeeded').length >= total, 'the fan-out has passed the burst');
        await pause(300);
        assert.deepEqual(bodies(perMinute.hooks()).map((b) => b.type).filter((t) => t.startsWith('signin.')), [], 'nothing of sign-ins before the minute has ended and settled');
        server.clock.set(minute + 60_000 + 11_000);
        const got = await waitFor(() => {
          const received = perMinute.hooks().filter((r) => JSON.parse(r.body).type.endsWith('.summary'));
          return received.length >= 2 && received;
        }, 'both summaries');
        const successes = got.find((r) => JSON.parse(r.body).type === 'signin.succeeded.summary');
        assert.ok(successes, 'a signin.succeeded.summary');
        const body = verifiedAt(server.clock.now(), summaryEndpoint.secret, successes) as { data: Record<string, unknown> };
        assert.deepEqual(body.data, {
          windowStart: new Date(minute + 5_000).toISOString(),
          windowEnd: new Date(minute + 60_000).toISOString(),
          total,
          byMethod: { passkey: passkeySignIns, password: 2 },
          counts: [
            { method: 'passkey', count: passkeySignIns },
            { method: 'password', count: 2 },
          ],
        });
        assert.equal(successes.headers['webhook-id'], `msg_sss_${summaryEndpoint.id}_${minute}`);
        const failures = got.find((r) => JSON.parse(r.body).type === 'signin.failed.summary');
        assert.equal(JSON.parse(failures?.body ?? '{}').data.total, 1, 'the failure summary beside it counts the one failure');
        assert.equal(failures?.headers['webhook-id'], `msg_sfs_${summaryEndpoint.id}_${minute}`);
        const me = (await server.database.db.selectFrom('users').select('id').where('username', '=', 'ssucc-user').executeTakeFirstOrThrow()).id;
        for (const leak of [me, 'ssucc-user', '127.0.0.1', ...auditIds]) assert.ok(!successes.body.includes(leak), leak);

        // A quiet minute sends nothing; single events never reached the summary endpoint.
        server.clock.set(minute + 120_000 + 11_000);
        await pause(400);
        assert.equal(bodies(perMinute.hooks()).filter((b) => b.type.endsWith('.summary')).length, 2);
        assert.equal(ofType(perMinute, 'signin.succeeded').length + ofType(perMinute, 'signin.failed').length, 0);
        for (const id of [eachEndpoint.id, halfEndpoint.id, summaryEndpoint.id]) await admin.delete(`${ADMIN}/webhook-endpoints/${id}`);
      } finally {
        await Promise.all([everyOne.stop(), half.stop(), perMinute.stop()]);
      }
    });

    test('migration 2026_12_07_webhook_signin_succeeded goes up, down and up again; existing endpoints read as each', async () => {
      const fresh = await createTestDatabase(dialect);
      const database = createDatabase(fresh.url);
      try {
        await migrateToLatest(database.db);
        const columns = async () => (await database.db.introspection.getTables()).find((t) => t.name === 'webhook_endpoints')?.columns.map((c) => c.name) ?? [];
        assert.ok((await columns()).includes('signin_succeeded') && (await columns()).includes('signin_succeeded_summarized_until'));
        const down = await createMigrator(database.db).migrateTo('2026_12_06_webhook_delivery_indexes');
        assert.equal(down.error, undefined);
        assert.ok(!(await columns()).includes('signin_succeeded') && !(await columns()).includes('signin_succeeded_summarized_until'));
        assert.ok((await columns()).includes('signin_failed'), 'the failure setting stays');
        await sql`INSERT INTO webhook_endpoints (id, url, description, event_types, enabled, secret_sealed, created_at, updated_at, signin_failed)
          VALUES ('old', 'https://hooks.example.com/', '', '["*"]', 1, 'x', 1, 1, '{"mode":"summary"}')`.execute(database.db);
        await migrateToLatest(database.db);
        const row = await database.db.selectFrom('webhook_endpoints').select(['signin_failed', 'signin_succeeded', 'signin_succeeded_summarized_until']).where('id', '=', 'old').executeTakeFirstOrThrow();
        assert.deepEqual(JSON.parse(row.signin_succeeded), { mode: 'each' }, 'every sign-in, as before');
        assert.deepEqual(JSON.parse(row.signin_failed), { mode: 'summary' }, 'the failure setting is kept');
        assert.equal(row.signin_succeeded_summarized_until, null);
      } finally {
        await database.close();
        await fresh.drop();
      }
    });

    test('migration 2026_12_05_webhook_signin_failed goes up, down and up again; existing endpoints read as each', async () => {
      const fresh = await createTestDatabase(dialect);
      const database = createDatabase(fresh.url);
      try {
        await migrateToLatest(database.db);
        const columns = async () => (await database.db.introspection.getTables()).find((t) => t.name === 'webhook_endpoints')?.columns.map((c) => c.name) ?? [];
        assert.ok((await columns()).includes('signin_failed'));
        assert.ok((await columns()).includes('signin_failed_summarized_until'));
        const down = await createMigrator(database.db).migrateTo('2026_12_04_webhooks');
        assert.equal(down.error, undefined);
        assert.ok(!(await columns()).includes('signin_failed'));
        assert.ok(!(await columns()).includes('signin_failed_summarized_until'));
        // An endpoint made before the migration…
        await sql`INSERT INTO webhook_endpoints (id, url, description, event_types, enabled, secret_sealed, created_at, updated_at)
          VALUES ('old', 'https://hooks.example.com/', '', '["*"]', 1, 'x', 1, 1)`.execute(database.db);
        await migrateToLatest(database.db);
        // …gets every failure, as before.
        const row = await database.db.selectFrom('webhook_endpoints').select(['signin_failed', 'signin_failed_summarized_until']).where('id', '=', 'old').executeTakeFirstOrThrow();
        assert.deepEqual(JSON.parse(row.signin_failed), { mode: 'each' });
        assert.equal(row.signin_failed_summarized_until, null);
      } finally {
        await database.close();
        await fresh.drop();
      }
    });
  });

  if (dialect === 'postgres') {
    describe(`signin.failed.summary on two nodes (${dialect})`, () => {
      test('two nodes summarizing the same minute at once write one summary of each outcome, each sent once', async () => {
        const testDb = await createTestDatabase(dialect);
        const receiver = new WebhookReceiver();
        await receiver.start();
        // A slow loop: only the passes this test runs summarize (the dispatcher is kicked when they write).
        const startNode = async (start: number) => {
          const config = loadConfig({
            env: {},
            overrides: {
              server: { verifyWorkers: 0, port: 0 },
              rp: { id: TEST_RP_ID, origins: [TEST_ORIGIN] },
              database: { url: testDb.url, poolSize: 4 },
              auth: { perIpPerHour: 100_000 },
              webhooks: { ...WEBHOOKS, pollIntervalMs: 60_000 },
              log: { level: 'silent' as Config['log']['level'] },
            },
          });
          const database = createDatabase(testDb.url, config.database);
          const clock = createTestClock(start);
          const app = await buildApp(config, { database, clock });
          await app.listen({ host: '127.0.0.1', port: 0 });
          const address = app.server.address();
          const url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
          return { app, database, clock, url, close: async () => { await app.close(); await database.close(); } };
        };
        const minute = nextMinute(Date.now());
        const a = await startNode(minute + 2_000);
        const b = await startNode(minute + 2_000);
        try {
          const admin = await adminOf(a);
          const { id } = await addEndpoint(admin, receiver.url, ['signin.*'], { mode: 'summary' }, { mode: 'summary' });
          const authenticator = newAuthenticator();
          await signUp(new TestClient(a.url, TEST_ORIGIN), authenticator, 'two-nodes');
          for (const node of [a, b, a]) assert.equal((await authenticate(new TestClient(node.url, TEST_ORIGIN), authenticator, {}, { signature: 'bogus' })).verify.status, 401);
          for (const node of [a, b]) node.clock.set(minute + 60_000 + 11_000);
          // Both nodes at once, several times: between them they write each summary once (a loop pass on a very slow machine may beat them to it).
          let writes = 0;
          for (let round = 0; round < 5; round++) {
            const written = await Promise.all([a.app.signinSummaries.runOnce(), b.app.signinSummaries.runOnce()]);
            writes += written[0] + written[1];
            assert.ok(writes <= 2, `round ${round}: ${written}`);
          }
          await waitFor(() => receiver.hooks().length >= 2, 'the two summaries');
          const totals = Object.fromEntries(bodies(receiver.hooks()).map((body) => [body.type, body.data.total]));
          // Three failures; one success, the sign-up's session.
          assert.deepEqual(totals, { 'signin.failed.summary': 3, 'signin.succeeded.summary': 1 });
          await pause(300);
          assert.equal(receiver.hooks().length, 2, 'each sent once');
          const rows = await a.database.db.selectFrom('webhook_deliveries').select('message_id').where('endpoint_id', '=', id).execute();
          assert.deepEqual(rows.map((r) => r.message_id).sort(), [`msg_sfs_${id}_${minute}`, `msg_sss_${id}_${minute}`]);
        } finally {
          await a.close();
          await b.close();
          await receiver.stop();
          await testDb.drop();
        }
      });
    });
  }
}
