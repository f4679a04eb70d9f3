import assert from 'node:assert/strict';
import { lookup } from 'node:dns/promises';
import { hostname } from 'node:os';
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
import { TestClient } from '../helpers/test-client.ts';
import { createTestDatabase, dialects, startTestServer, TEST_ORIGIN, TEST_RP_ID, type TestServer } from '../helpers/test-server.ts';
import { WebhookReceiver, waitFor } from '../helpers/webhook-receiver.ts';

const ADMIN = '/api/admin/v1';
/** Short retries, a fast loop, http and the loopback receiver allowed (README, "Webhooks"). */
const WEBHOOKS: DeepPartial<Config>['webhooks'] = {
  allowHttp: true,
  allowedTargets: ['127.0.0.1'],
  retryBaseMs: 100,
  retryMaxDelayMs: 1000,
  maxAttempts: 4,
  timeoutMs: 600,
  pollIntervalMs: 30,
};

const METRICS_TOKEN = 'webhook-metrics-token-0123';
type Admin = TestClient;

async function scrapeValue(server: TestServer, series: string): Promise<number | undefined> {
  const text = await (await fetch(`${server.url}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } })).text();
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}
async function adminOf(server: Pick<TestServer, 'clock' | 'database' | 'url'>, scopes = ['webhooks:manage', 'webhooks:read', 'users:write']): Promise<Admin> {
  const key = await createTestApiKey(server, scopes);
  const admin = new TestClient(server.url, null);
  admin.bearer = key.secret;
  return admin;
}

async function addEndpoint(admin: Admin, url: string, eventTypes: string[] = ['user.*']): Promise<{ id: string; secret: string }> {
  const made = await admin.post(`${ADMIN}/webhook-endpoints`, { url, eventTypes });
  assert.equal(made.status, 201, made.text);
  return { id: made.body.endpoint.id, secret: made.body.secret };
}

let userCount = 0;
async function createUser(admin: Admin): Promise<string> {
  userCount += 1;
  const made = await admin.post(`${ADMIN}/users`, { username: `hook-user-${userCount}`, email: `hook${userCount}@example.com` });
  assert.equal(made.status, 201, made.text);
  return made.body.id;
}

// biome-ignore lint/suspicious/noExplicitAny: JSON answers
async function deliveriesOf(admin: Admin, endpointId: string): Promise<any[]> {
  const list = await admin.get(`${ADMIN}/webhook-endpoints/${endpointId}/deliveries`);
  assert.equal(list.status, 200, list.text);
  return list.body.deliveries;
}

for (const dialect of dialects) {
  describe(`webhooks (${dialect})`, () => {
    let server: TestServer;
    let admin: Admin;
    const receiver = new WebhookReceiver();
    before(async () => {
      server = await startTestServer(dialect, { config: { webhooks: WEBHOOKS, metrics: { token: METRICS_TOKEN } } });
      admin = await adminOf(server);
      await receiver.start();
    });
    after(async () => {
      await receiver.stop();
      await server.close();
    });

    test('management API: scopes, validation with clear 4xx codes, the secret shown once, changes audited with the key as actor', async () => {
      const anonymous = new TestClient(server.url, null);
      assert.equal((await anonymous.get(`${ADMIN}/webhook-endpoints`)).status, 401);
      const reader = await adminOf(server, ['webhooks:read']);
      const refused = await reader.post(`${ADMIN}/webhook-endpoints`, { url: receiver.url, eventTypes: ['*'] });
      assert.equal(refused.status, 403);
      assert.equal(refused.body.code, 'insufficient_scope');
      const usersOnly = await adminOf(server, ['users:read']);
      assert.equal((await usersOnly.get(`${ADMIN}/webhook-endpoints`)).body.code, 'insufficient_scope');

      const bad = async (body: unknown, code: string) => {
        const answer = await admin.post(`${ADMIN}/webhook-endpoints`, body);
        assert.equal(answer.status, 400, answer.text);
        assert.equal(answer.body.code, code, answer.text);
      };
      await bad({ url: 'not a url', eventTypes: ['*'] }, 'webhook_url_invalid');
      await bad({ url: 'ftp://hooks.example.com/', eventTypes: ['*'] }, 'webhook_url_invalid');
      await bad({ url: 'https://u:p@hooks.example.com/', eventTypes: ['*'] }, 'webhook_url_invalid');
      await bad({ url: 'http://169.254.169.254/latest/meta-data', eventTypes: ['*'] }, 'webhook_url_refused');
      await bad({ url: 'http://10.0.0.7/hooks', eventTypes: ['*'] }, 'webhook_url_refused');
      await bad({ url: 'http://[::1]/hooks', eventTypes: ['*'] }, 'webhook_url_refused');
      await bad({ url: receiver.url, eventTypes: ['user.nope'] }, 'webhook_event_types_invalid');
      await bad({ url: receiver.url, eventTypes: [] }, 'invalid_request');
      await bad({ url: receiver.url, eventTypes: ['*'], secret: 'mine' }, 'invalid_request');

      const made = await admin.post(`${ADMIN}/webhook-endpoints`, { url: receiver.url, eventTypes: ['passkey.*', 'user.created'], description: 'crm' });
      assert.equal(made.status, 201, made.text);
      assert.match(made.body.secret, /^whsec_/);
      const id = made.body.endpoint.id;
      const read = await admin.get(`${ADMIN}/webhook-endpoints/${id}`);
      assert.equal(read.status, 200);
      assert.ok(!read.text.includes(made.body.secret) && !read.text.includes('whsec_'), 'the secret is never shown again');
      assert.deepEqual(read.body.eventTypes, ['passkey.*', 'user.created']);
      const patched = await admin.patch(`${ADMIN}/webhook-endpoints/${id}`, { enabled: false });
      assert.equal(patched.body.enabled, false);
      assert.equal(patched.body.disabledReason, 'manual');
      assert.equal((await admin.patch(`${ADMIN}/webhook-endpoints/${id}`, {})).status, 400);
      assert.equal((await admin.patch(`${ADMIN}/webhook-endpoints/${id}`, { url: 'http://192.168.0.1/' })).body.code, 'webhook_url_refused');
      assert.equal((await admin.post(`${ADMIN}/webhook-endpoints/${id}/test`)).body.code, 'webhook_endpoint_disabled');
      assert.equal((await admin.get(`${ADMIN}/webhook-endpoints/nope`)).body.code, 'webhook_endpoint_not_found');
      assert.equal((await admin.get(`${ADMIN}/webhook-endpoints/${id}/deliveries/nope`)).body.code, 'webhook_delivery_not_found');
      assert.equal((await admin.get(`${ADMIN}/webhook-endpoints/${id}/deliveries?limit=0`)).status, 400);
      const types = await reader.get(`${ADMIN}/webhook-event-types`);
      assert.ok(types.body.eventTypes.some((t: { type: string }) => t.type === 'signin.succeeded'));
      assert.equal((await admin.delete(`${ADMIN}/webhook-endpoints/${id}`)).status, 204);
      assert.equal((await admin.delete(`${ADMIN}/webhook-endpoints/${id}`)).status, 404);

      const rows = await server.database.db
        .selectFrom('audit_events')
        .select(['type', 'actor_kind', 'actor_id', 'data'])
        .where('type', 'like', 'webhook_endpoint.%')
        .orderBy('created_at')
        .execute();
      assert.deepEqual(rows.map((r) => r.type), ['webhook_endpoint.created', 'webhook_endpoint.updated', 'webhook_endpoint.deleted']);
      assert.ok(rows.every((r) => r.actor_kind === 'api_key' && r.actor_id));
      assert.ok(rows.every((r) => !String(r.data).includes('whsec_')));
    });

    test('a sign-up and an API change are delivered, signed (verified with standardwebhooks), minimal, logged', async () => {
      const { id, secret } = await addEndpoint(admin, receiver.url, ['user.created', 'passkey.created', 'signin.succeeded']);
      receiver.respond = () => ({ status: 200, body: 'thanks' });
      const start = receiver.received.length;
      const userId = await createUser(admin);
      const client = server.client();
      const signedUp = await signUp(client, newAuthenticator(), 'webhook-signup');
      // user.created twice (the API's user, the sign-up's), passkey.created, signin.succeeded.
      const got = await waitFor(() => receiver.received.length - start >= 4 && receiver.received.slice(start), 'four webhooks');
      const wh = new Webhook(secret);
      // biome-ignore lint/suspicious/noExplicitAny: payloads
      const payloads = got.map((r) => wh.verify(r.body, r.headers as Record<string, string>) as any);
      const byType = new Map(payloads.map((p) => [p.type, p]));
      assert.deepEqual(payloads.filter((p) => p.type === 'user.created').map((p) => p.data.userId).sort(), [userId, signedUp.user.id].sort());
      assert.equal(byType.get('passkey.created')?.data.userId, signedUp.user.id);
      assert.equal(byType.get('passkey.created')?.data.source, 'registration');
      assert.equal(byType.get('signin.succeeded')?.data.method, 'passkey');
      for (const r of got) {
        assert.match(String(r.headers['webhook-id']), /^msg_/);
        assert.match(String(r.headers['webhook-timestamp']), /^\d+$/);
        assert.equal(r.headers['content-type'], 'application/json');
        // SEC-60: no username, e-mail, IP or user agent.
        for (const secretish of ['hook-user', '@example.com', 'webhook-signup', '127.0.0.1', 'Mozilla']) assert.ok(!r.body.includes(secretish), `${secretish} in ${r.body}`);
      }
      assert.equal(new Set(got.map((r) => r.headers['webhook-id'])).size, 4);
      const deliveries = await waitFor(async () => {
        const list = await deliveriesOf(admin, id);
        return list.length === 4 && list.every((d) => d.status === 'delivered') && list;
      }, 'delivered log');
      const one = await admin.get(`${ADMIN}/webhook-endpoints/${id}/deliveries/${deliveries[0].id}`);
      assert.equal(one.body.attemptLog.length, 1);
      assert.equal(one.body.attemptLog[0].statusCode, 200);
      assert.equal(one.body.attemptLog[0].responseExcerpt, 'thanks');
      assert.equal(typeof one.body.attemptLog[0].latencyMs, 'number');
      // Redeliver: the same webhook-id again.
      const before = receiver.received.length;
      const again = await admin.post(`${ADMIN}/webhook-endpoints/${id}/deliveries/${deliveries[0].id}/redeliver`);
      assert.equal(again.status, 202, again.text);
      const resent = await waitFor(() => receiver.received.length > before && receiver.received[before], 'redelivery');
      assert.equal(resent.headers['webhook-id'], deliveries[0].messageId);
      await admin.delete(`${ADMIN}/webhook-endpoints/${id}`);
    });

    test('receiver down, then up: retried after the backoff and delivered once, with the same webhook-id', async (t) => {
      const down = new WebhookReceiver();
      await down.start();
      t.after(() => down.stop());
      const port = down.port;
      await down.stop();
      const { id } = await addEndpoint(admin, `http://127.0.0.1:${port}/hooks`);
      await createUser(admin);
      const failed = await waitFor(async () => (await deliveriesOf(admin, id)).find((d) => d.attempts === 1), 'first attempt');
      assert.equal(failed.status, 'pending');
      assert.equal(failed.lastError, 'connection_refused');
      // The backlog gauges see the waiting delivery (its age by the server's clock).
      assert.equal(await scrapeValue(server, 'latchkey_webhook_queue_depth'), 1);
      server.clock.advance(50); // less than the first retry's delay (75 ms at least)
      assert.ok(((await scrapeValue(server, 'latchkey_webhook_oldest_pending_age_seconds')) ?? 0) >= 0.05);
      await down.start(port);
      server.clock.advance(5_000);
      const done = await waitFor(async () => (await deliveriesOf(admin, id)).find((d) => d.status === 'delivered'), 'delivered after retry');
      assert.equal(done.attempts, 2);
      assert.equal(down.hooks().length, 1);
      assert.equal(down.hooks()[0]?.headers['webhook-id'], done.messageId);
      await down.stop();
      await admin.delete(`${ADMIN}/webhook-endpoints/${id}`);
    });

    test('a slow receiver times out and is retried; 3xx is a failure and never followed', async (t) => {
      const slow = new WebhookReceiver();
      await slow.start();
      t.after(() => slow.stop());
      slow.respond = ({ path, count }) => (path !== '/hooks' ? { status: 200 } : count === 0 ? { status: 200, delayMs: 2_000 } : count === 1 ? { status: 302, headers: { location: '/elsewhere' } } : { status: 200 });
      const { id } = await addEndpoint(admin, slow.url);
      await createUser(admin);
      const first = await waitFor(async () => (await deliveriesOf(admin, id)).find((d) => d.attempts === 1), 'timed-out attempt');
      assert.equal(first.lastError, 'timeout');
      server.clock.advance(5_000);
      const second = await waitFor(async () => (await deliveriesOf(admin, id)).find((d) => d.attempts === 2), 'redirected attempt');
      assert.equal(second.status, 'pending');
      assert.equal(second.lastStatusCode, 302);
      assert.equal(second.lastError, 'http_302');
      server.clock.advance(5_000);
      await waitFor(async () => (await deliveriesOf(admin, id)).find((d) => d.status === 'delivered'), 'delivered');
      assert.equal(slow.received.filter((r) => r.path === '/elsewhere').length, 0, 'the redirect was not followed');
      // Metrics: the retries and the delivery counted; nothing left waiting.
      assert.ok(((await scrapeValue(server, 'latchkey_webhook_deliveries_total{outcome="retry"}')) ?? 0) >= 2);
      assert.ok(((await scrapeValue(server, 'latchkey_webhook_deliveries_total{outcome="delivered"}')) ?? 0) >= 1);
      assert.equal(await scrapeValue(server, 'latchkey_webhook_queue_depth'), 0);
      assert.equal(new Set(slow.hooks().map((r) => r.headers['webhook-id'])).size, 1, 'every attempt carries the same id');
      await slow.stop();
      await admin.delete(`${ADMIN}/webhook-endpoints/${id}`);
    });

    test('429 with Retry-After waits at least that long; 410 disables the endpoint with an audit event', async (t) => {
      const busy = new WebhookReceiver();
      await busy.start();
      t.after(() => busy.stop());
      busy.respond = ({ count }) => (count === 0 ? { status: 429, headers: { 'retry-after': '30' } } : { status: 410 });
      const { id } = await addEndpoint(admin, busy.url);
      await createUser(admin);
      const throttled = await waitFor(async () => (await deliveriesOf(admin, id)).find((d) => d.attempts === 1), '429 attempt');
      assert.equal(throttled.lastStatusCode, 429);
      assert.ok(Date.parse(throttled.nextAttemptAt) - Date.parse(throttled.lastAttemptAt) >= 30_000, 'Retry-After honoured over the 100 ms backoff');
      server.clock.advance(10_000);
      await new Promise((r) => setTimeout(r, 300));
      assert.equal(busy.hooks().length, 1, 'not before Retry-After');
      server.clock.advance(25_000);
      const endpoint = await waitFor(async () => {
        const e = await admin.get(`${ADMIN}/webhook-endpoints/${id}`);
        return e.body.enabled === false && e.body;
      }, 'disabled by 410');
      assert.equal(endpoint.disabledReason, 'gone');
      const audited = await server.database.db.selectFrom('audit_events').selectAll().where('type', '=', 'webhook_endpoint.disabled').execute();
      assert.equal(audited.length, 1);
      assert.equal(audited[0]?.actor_kind, 'system');
      assert.equal(JSON.parse(audited[0]?.data ?? '{}').endpointId, id);
      // A disabled endpoint gets nothing more.
      await createUser(admin);
      await new Promise((r) => setTimeout(r, 300));
      assert.equal(busy.hooks().length, 2);
      await busy.stop();
      await admin.delete(`${ADMIN}/webhook-endpoints/${id}`);
    });

    test('secret rotation: both signatures during the overlap, each verifies', async () => {
      const { id, secret: old } = await addEndpoint(admin, receiver.url);
      receiver.respond = () => ({ status: 204 });
      const rotated = await admin.post(`${ADMIN}/webhook-endpoints/${id}/rotate-secret`);
      assert.equal(rotated.status, 200, rotated.text);
      assert.notEqual(rotated.body.secret, old);
      assert.ok(rotated.body.endpoint.previousSecretExpiresAt);
      const start = receiver.received.length;
      await createUser(admin);
      const got = await waitFor(() => receiver.received[start], 'webhook after rotation');
      const signatures = String(got.headers['webhook-signature']).split(' ');
      assert.equal(signatures.length, 2);
      assert.ok(new Webhook(old).verify(got.body, got.headers as Record<string, string>));
      assert.ok(new Webhook(rotated.body.secret).verify(got.body, got.headers as Record<string, string>));
      await admin.delete(`${ADMIN}/webhook-endpoints/${id}`);
    });
    test('an endpoint on webhook_endpoint.* hears of every endpoint added, changed, rotated or deleted (an exfiltrating endpoint does not go unnoticed)', async () => {
      const watcher = new WebhookReceiver();
      await watcher.start();
      try {
        const watch = await addEndpoint(admin, watcher.url, ['webhook_endpoint.*']);
        const other = await addEndpoint(admin, receiver.url, ['*']);
        assert.equal((await admin.patch(`${ADMIN}/webhook-endpoints/${other.id}`, { eventTypes: ['user.*'], description: 'CRM' })).status, 200);
        assert.equal((await admin.post(`${ADMIN}/webhook-endpoints/${other.id}/rotate-secret`)).status, 200);
        assert.equal((await admin.delete(`${ADMIN}/webhook-endpoints/${other.id}`)).status, 204);
        // biome-ignore lint/suspicious/noExplicitAny: JSON bodies
        const verified = () => watcher.received.map((r) => new Webhook(watch.secret).verify(r.body, r.headers as Record<string, string>) as { type: string; data: any });
        // (The watcher also hears of its own creation, and of changes made at the same instant of the test clock.)
        const bodies = await waitFor(() => {
          const about = verified().filter((b) => b.data.endpointId === other.id);
          return about.length >= 4 && about;
        }, 'four changes of the other endpoint');
        const heard = watcher.received;
        assert.deepEqual(
          bodies.map((b) => [b.type, b.data.endpointId]),
          [
            ['webhook_endpoint.created', other.id],
            ['webhook_endpoint.updated', other.id],
            ['webhook_endpoint.secret_rotated', other.id],
            ['webhook_endpoint.deleted', other.id],
          ],
        );
        assert.deepEqual(bodies[1]?.data.fields.sort(), ['description', 'eventTypes']);
        assert.equal(bodies[0]?.data.actor.kind, 'api_key', 'who did it');
        for (const r of heard) assert.ok(!r.body.includes('127.0.0.1') && !r.body.includes('whsec_'), 'no URL, host or secret');
        await admin.delete(`${ADMIN}/webhook-endpoints/${watch.id}`);
      } finally {
        await watcher.stop();
      }
    });

    test('an endpoint whose every attempt fails for longer than the limit is disabled, with an audit event (last: moves the clock days ahead)', async (t) => {
      const down = new WebhookReceiver();
      await down.start();
      t.after(() => down.stop());
      const port = down.port;
      await down.stop();
      const { id } = await addEndpoint(admin, `http://127.0.0.1:${port}/hooks`);
      await createUser(admin);
      const first = await waitFor(async () => (await deliveriesOf(admin, id)).find((d) => d.attempts === 1), 'first failure');
      assert.equal(first.status, 'pending');
      assert.ok((await admin.get(`${ADMIN}/webhook-endpoints/${id}`)).body.failingSince);
      server.clock.advance(3 * 86_400_000 + 60_000); // LATCHKEY_WEBHOOK_DISABLE_AFTER_FAILING_SECONDS: 3 days
      const endpoint = await waitFor(async () => {
        const e = await admin.get(`${ADMIN}/webhook-endpoints/${id}`);
        return e.body.enabled === false && e.body;
      }, 'disabled for failing');
      assert.equal(endpoint.disabledReason, 'failing');
      const rows = await server.database.db.selectFrom('audit_events').select(['data', 'actor_kind']).where('type', '=', 'webhook_endpoint.disabled').execute();
      assert.ok(rows.some((r) => r.actor_kind === 'system' && JSON.parse(r.data ?? '{}').endpointId === id && JSON.parse(r.data ?? '{}').reason === 'failing'));
      // Enabling it again clears the failure state.
      const enabled = await admin.patch(`${ADMIN}/webhook-endpoints/${id}`, { enabled: true });
      assert.equal(enabled.body.enabled, true);
      assert.equal(enabled.body.failingSince, null);
      await admin.delete(`${ADMIN}/webhook-endpoints/${id}`);
    });
  });

  describe(`webhook outbox (${dialect})`, () => {
    test('the audit chain is the outbox: a change that does not commit sends nothing; one that does is sent with its audit row id (SEC-56)', async () => {
      const server = await startTestServer(dialect, { config: { webhooks: WEBHOOKS } });
      const receiver = new WebhookReceiver();
      await receiver.start();
      const { db } = server.database;
      const count = async (table: 'webhook_deliveries' | 'sessions' | 'audit_events' | 'users') =>
        Number((await db.selectFrom(table).select(sql<number>`count(*)`.as('n')).executeTakeFirstOrThrow()).n);
      try {
        const authenticator = newAuthenticator();
        await signUp(server.client(), authenticator, 'outbox-before');
        assert.ok((await count('audit_events')) > 0);
        server.clock.advance(1000); // the test clock stands still; the endpoint is made a second after the sign-up
        const admin = await adminOf(server);
        await addEndpoint(admin, receiver.url, ['signin.*', 'user.*']);
        await new Promise((r) => setTimeout(r, 1500)); // sealed and fanned out: the endpoint is younger than those events
        assert.equal(await count('webhook_deliveries'), 0, 'events from before the endpoint was made are not sent to it');

        // The audit row cannot be written: the sign-in that would write it does not commit, and no webhook tells of it.
        if (dialect === 'postgres') {
          await sql`CREATE FUNCTION fail_audit() RETURNS trigger AS $$ BEGIN IF NEW.type = 'session.created' THEN RAISE EXCEPTION 'injected fault'; END IF; RETURN NEW; END; $$ LANGUAGE plpgsql`.execute(db);
          await sql`CREATE TRIGGER fail_audit BEFORE INSERT ON audit_events FOR EACH ROW EXECUTE FUNCTION fail_audit()`.execute(db);
        } else {
          await sql`CREATE TRIGGER fail_audit BEFORE INSERT ON audit_events WHEN NEW.type = 'session.created' BEGIN SELECT RAISE(ABORT, 'injected fault'); END`.execute(db);
        }
        const sessions = await count('sessions');
        const signIn = await authenticate(server.client(), authenticator);
        assert.equal(signIn.verify.status, 500, signIn.verify.text);
        assert.equal(await count('sessions'), sessions, 'no session without its audit row');
        await sql`DROP TRIGGER fail_audit${sql.raw(dialect === 'postgres' ? ' ON audit_events' : '')}`.execute(db);

        const again = await authenticate(server.client(), authenticator);
        assert.equal(again.verify.status, 200, again.verify.text);
        const got = await waitFor(() => receiver.hooks().find((r) => JSON.parse(r.body).type === 'signin.succeeded'), 'signin.succeeded');
        // The event id is the audit row's id: one row, one message.
        const eventId = JSON.parse(got.body).data.eventId;
        const audit = await db.selectFrom('audit_events').select(['type']).where('id', '=', eventId).executeTakeFirstOrThrow();
        assert.equal(audit.type, 'session.created');
        assert.equal(got.headers['webhook-id'], `msg_${eventId}`);
        const bad = await authenticate(server.client(), authenticator, {}, { signature: 'bogus' });
        assert.equal(bad.verify.status, 401, bad.verify.text);
        const failure = await waitFor(() => receiver.hooks().find((r) => JSON.parse(r.body).type === 'signin.failed'), 'signin.failed');
        assert.equal(JSON.parse(failure.body).data.method, 'passkey');
        assert.ok(JSON.parse(failure.body).data.errorCode);
        // The sign-in that did not commit was never sent: one signin.succeeded, the committed one.
        assert.deepEqual(
          receiver.hooks().filter((r) => JSON.parse(r.body).type === 'signin.succeeded').map((r) => r.headers['webhook-id']),
          [`msg_${eventId}`],
        );
        // A first attempt that succeeds is written once, delivered, with its log row.
        const delivered = await db.selectFrom('webhook_deliveries').selectAll().where('message_id', '=', `msg_${eventId}`).executeTakeFirstOrThrow();
        assert.equal(delivered.status, 'delivered');
        assert.equal(Number(delivered.attempts), 1);
        const log = await db.selectFrom('webhook_delivery_attempts').selectAll().where('delivery_id', '=', delivered.id).execute();
        assert.deepEqual(log.map((a) => [a.outcome, Number(a.status_code)]), [['success', 204]]);
      } finally {
        await receiver.stop();
        await server.close();
      }
    });
  });

  describe(`webhook migrations (${dialect})`, () => {
    test('the old outbox gives way to a position in the chain: events still waiting in it are fanned out again, nothing older (up, down, up)', async () => {
      const fresh = await createTestDatabase(dialect);
      const database = createDatabase(fresh.url);
      const db = database.db;
      try {
        await createMigrator(db).migrateTo('2026_12_04_webhooks');
        const event = (n: number) => ({
          id: `0190a0b0-0000-7000-8000-00000000000${n}`, created_at: 1000 + n, type: 'account.created', outcome: 'success', actor_user_id: null, actor_kind: null, actor_id: null,
          subject_user_id: null, credential_id: null, session_id: null, error_code: null, reason: null, request_id: null, ip: null, user_agent: null, os: null, browser: null, device: null, data: null,
        });
        // Five sealed events; the outbox still holds the 3rd and an unsealed 6th.
        for (let n = 1; n <= 6; n++) await sql`INSERT INTO audit_events ${sql.raw(`(${Object.keys(event(n)).join(', ')})`)} VALUES (${sql.join(Object.values(event(n)))})`.execute(db);
        for (let n = 1; n <= 5; n++) await sql`INSERT INTO audit_chain (seq, event_id, prev_hash, hash, version, sealed_at) VALUES (${n}, ${event(n).id}, ${'p'}, ${`h${n}`}, 1, 1)`.execute(db);
        for (const n of [3, 6]) await sql`INSERT INTO webhook_outbox (id, event_type, payload, created_at) VALUES (${event(n).id}, 'user.created', '{}', 1)`.execute(db);
        await migrateToLatest(db);
        const position = async () => Number((await sql<{ seq: number }>`SELECT seq FROM webhook_fanout`.execute(db)).rows[0]?.seq);
        const tables = async () => (await db.introspection.getTables()).map((t) => t.name);
        assert.equal(await position(), 2, 'from just before the oldest sealed event still in the outbox');
        assert.ok(!(await tables()).includes('webhook_outbox'));
        const down = await createMigrator(db).migrateTo('2026_12_04_webhooks');
        assert.equal(down.error, undefined);
        assert.ok((await tables()).includes('webhook_outbox') && !(await tables()).includes('webhook_fanout'));
        await migrateToLatest(db);
        assert.equal(await position(), 5, 'an empty outbox: from the end of the chain');
      } finally {
        await database.close();
        await fresh.drop();
      }
    });
  });

  describe(`webhooks across restarts and nodes (${dialect})`, () => {
    async function startNode(url: string, webhooks: DeepPartial<Config>['webhooks'] = WEBHOOKS) {
      const config = loadConfig({
        env: {},
        overrides: {
          server: { verifyWorkers: 0, port: 0 },
          rp: { id: TEST_RP_ID, origins: [TEST_ORIGIN] },
          database: { url, poolSize: 4 },
          webhooks,
          log: { level: 'silent' as Config['log']['level'] },
        },
      });
      const database = createDatabase(url, config.database);
      const clock = createTestClock(Date.now());
      const app = await buildApp(config, { database, clock });
      await app.listen({ host: '127.0.0.1', port: 0 });
      const address = app.server.address();
      const base = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
      return { app, database, clock, url: base, close: async () => {
        await app.close();
        await database.close();
      } };
    }

    test('a restart mid-retry loses nothing: the new server sends the same webhook-id', async () => {
      const testDb = await createTestDatabase(dialect);
      const receiver = new WebhookReceiver();
      await receiver.start();
      receiver.respond = ({ count }) => ({ status: count === 0 ? 500 : 200 });
      try {
        const first = await startNode(testDb.url);
        const admin = await adminOf(first);
        const { id, secret } = await addEndpoint(admin, receiver.url);
        await createUser(admin);
        await waitFor(async () => (await deliveriesOf(admin, id)).find((d) => d.attempts === 1), 'first attempt');
        await first.close();

        const second = await startNode(testDb.url);
        const admin2 = await adminOf(second);
        second.clock.advance(5_000);
        const done = await waitFor(async () => (await deliveriesOf(admin2, id)).find((d) => d.status === 'delivered'), 'delivered by the new server');
        assert.equal(done.attempts, 2);
        assert.equal(receiver.hooks().length, 2);
        assert.deepEqual(receiver.hooks().map((r) => r.headers['webhook-id']), [done.messageId, done.messageId]);
        assert.ok(new Webhook(secret).verify(receiver.hooks()[1]?.body ?? '', receiver.hooks()[1]?.headers as Record<string, string>));
        await second.close();
      } finally {
        await receiver.stop();
        await testDb.drop();
      }
    });

    test('a first attempt slower than its fan-out pass is written as pending under a lease and recorded when it ends', async () => {
      const testDb = await createTestDatabase(dialect);
      const receiver = new WebhookReceiver();
      await receiver.start();
      receiver.respond = () => ({ status: 200, delayMs: 2_500 });
      try {
        const node = await startNode(testDb.url, { ...WEBHOOKS, timeoutMs: 6_000 });
        const admin = await adminOf(node);
        const { id } = await addEndpoint(admin, receiver.url);
        node.clock.advance(1000);
        await createUser(admin);
        // The pass gave up waiting after a second and committed; the answer is still out.
        const inFlight = await waitFor(async () => (await deliveriesOf(admin, id))[0], 'the delivery written while its attempt is out');
        assert.equal(inFlight.status, 'pending');
        assert.equal(inFlight.attempts, 0);
        const done = await waitFor(async () => (await deliveriesOf(admin, id)).find((d) => d.status === 'delivered'), 'recorded when the answer came');
        assert.equal(done.attempts, 1);
        assert.equal(done.lastStatusCode, 200);
        const detail = await admin.get(`${ADMIN}/webhook-endpoints/${id}/deliveries/${done.id}`);
        assert.equal(detail.body.attemptLog.length, 1);
        assert.ok(detail.body.attemptLog[0].latencyMs >= 2_000, 'the latency of the slow answer');
        assert.equal(receiver.hooks().length, 1, 'sent once: the lease kept every other pass off it');
        await node.close();
      } finally {
        await receiver.stop();
        await testDb.drop();
      }
    });

    test('a node that stops after a commit and before fanning it out loses nothing: the next start sends it', async () => {
      const testDb = await createTestDatabase(dialect);
      const receiver = new WebhookReceiver();
      await receiver.start();
      try {
        // A loop that never comes round: the first node commits the change and stops without sending.
        const first = await startNode(testDb.url, { ...WEBHOOKS, pollIntervalMs: 60_000 });
        const admin = await adminOf(first);
        await addEndpoint(admin, receiver.url);
        first.clock.advance(1000);
        const userId = await createUser(admin);
        await first.close();
        assert.equal(receiver.hooks().length, 0);

        const second = await startNode(testDb.url);
        const got = await waitFor(() => receiver.hooks()[0], 'user.created from the next start');
        assert.equal(JSON.parse(got.body).type, 'user.created');
        assert.equal(JSON.parse(got.body).data.userId, userId);
        await new Promise((r) => setTimeout(r, 300));
        assert.equal(receiver.hooks().length, 1, 'sent once');
        await second.close();
      } finally {
        await receiver.stop();
        await testDb.drop();
      }
    });

    test('an endpoint on a loopback name is refused at connect time unless allowlisted (SEC-59)', async (t) => {
      // A name that passes the save-time check (it is not an address) and resolves to loopback: this machine's, via /etc/hosts.
      const name = hostname();
      const resolved = await lookup(name).catch(() => undefined);
      if (!resolved?.address.startsWith('127.')) {
        t.skip(`${name} does not resolve to a loopback address here`);
        return;
      }
      const testDb = await createTestDatabase(dialect);
      const receiver = new WebhookReceiver();
      await receiver.start();
      try {
        // http allowed, nothing allowlisted: the name passes the save-time check and fails at connect.
        const node = await startNode(testDb.url, { ...WEBHOOKS, allowedTargets: [] });
        const admin = await adminOf(node);
        assert.equal((await admin.post(`${ADMIN}/webhook-endpoints`, { url: receiver.url, eventTypes: ['*'] })).body.code, 'webhook_url_refused');
        const { id } = await addEndpoint(admin, `http://${name}:${receiver.port}/hooks`);
        await createUser(admin);
        const refused = await waitFor(async () => (await deliveriesOf(admin, id)).find((d) => d.attempts === 1), 'refused attempt');
        assert.match(refused.lastError, /^address_refused: .*loopback/);
        assert.equal(receiver.received.length, 0);
        await node.close();
        // The same name, allowlisted: delivered.
        const allowing = await startNode(testDb.url, { ...WEBHOOKS, allowedTargets: [name] });
        const admin2 = await adminOf(allowing);
        allowing.clock.advance(5_000);
        await waitFor(async () => (await deliveriesOf(admin2, id)).find((d) => d.status === 'delivered'), 'delivered once allowlisted');
        assert.equal(receiver.hooks().length, 1);
        await allowing.close();
      } finally {
        await receiver.stop();
        await testDb.drop();
      }
    });

    if (dialect === 'postgres') {
      test('two nodes on one PostgreSQL deliver every event exactly once', async () => {
        const testDb = await createTestDatabase(dialect);
        const receiver = new WebhookReceiver();
        await receiver.start();
        receiver.respond = () => ({ status: 200, delayMs: 20 });
        try {
          const a = await startNode(testDb.url);
          const b = await startNode(testDb.url);
          const adminA = await adminOf(a);
          const adminB = await adminOf(b);
          await addEndpoint(adminA, receiver.url);
          await waitFor(async () => b.app.webhookDispatcher && (await b.database.db.selectFrom('webhook_endpoints').select('id').execute()).length === 1, 'endpoint visible');
          const count = 30;
          await Promise.all(Array.from({ length: count }, (_, i) => createUser(i % 2 === 0 ? adminA : adminB)));
          await waitFor(() => receiver.hooks().length >= count, `${count} webhooks`);
          await new Promise((r) => setTimeout(r, 500));
          const ids = receiver.hooks().map((r) => r.headers['webhook-id']);
          assert.equal(ids.length, count, 'nothing sent twice');
          assert.equal(new Set(ids).size, count);
          await a.close();
          await b.close();
        } finally {
          await receiver.stop();
          await testDb.drop();
        }
      });
    }
  });
}
