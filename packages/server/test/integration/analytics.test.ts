// Issue 14 items 4–5: daily rollups, KPIs, funnels, savings and the BI export over HTTP, from a
// small hand-built history whose every number below was counted by hand.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createDatabase } from '../../src/db/create-db.ts';
import { createMigrator, migrateToLatest } from '../../src/db/migrate.ts';
import { EVENT_COLUMNS, ROLLUP_COLUMNS } from '../../src/modules/analytics/analytics.module.ts';
import { createTestApiKey } from '../helpers/api-keys.ts';
import { authenticate, newAuthenticator, signUp } from '../helpers/flows.ts';
import type { TestClient } from '../helpers/test-client.ts';
import { createTestDatabase, dialects, startTestServer, type TestServer } from '../helpers/test-server.ts';

const CHROME_WINDOWS = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/142.0.0.0 Safari/537.36';
const SAFARI_IOS = 'Mozilla/5.0 (iPhone; CPU iPhone OS 18_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.5 Mobile/15E148 Safari/604.1';
const DAY_MS = 86_400_000;
const day = (ms: number) => new Date(ms).toISOString().slice(0, 10);

/** A client whose every request carries this browser's user agent. */
function browser(server: TestServer, userAgent: string): TestClient {
  const client = server.client();
  const request = client.request.bind(client);
  client.request = (method, path, body, options = {}) => request(method, path, body, { ...options, headers: { 'user-agent': userAgent, ...options.headers } });
  return client;
}

for (const dialect of dialects) {
  describe(`adoption analytics (${dialect})`, () => {
    let server: TestServer;
    let reader: string;
    let exporter: string;
    let d1: string;
    let d2: string;
    let d3: string;
    const userIds: string[] = [];

    const report = (client: TestClient, body: Record<string, unknown>) =>
      client.post('/api/v1/telemetry/ceremonies', body).then((r) => assert.equal(r.status, 204, r.text));
    const fold = async () => {
      await server.app.auditChain.seal();
      await server.app.analyticsRollup.run();
    };
    const get = (path: string, key = reader) => server.client().get(`/api/admin/v1${path}`, { headers: { authorization: `Bearer ${key}` } });
    /** The export as text (the test client would try to parse NDJSON as one JSON document). */
    const download = async (path: string, key = exporter) => {
      const r = await fetch(`${server.url}/api/admin/v1${path}`, { headers: { authorization: `Bearer ${key}` } });
      return { status: r.status, headers: r.headers, text: await r.text() };
    };
    const kpis = async (query: string) => {
      const r = await get(`/analytics/kpis?${query}`);
      assert.equal(r.status, 200, r.text);
      return r.body;
    };

    before(async () => {
      server = await startTestServer(dialect, { config: { analytics: { rollupIntervalMs: 3_600_000 } } });
      reader = (await createTestApiKey(server, ['analytics:read'], 'dashboard')).secret;
      exporter = (await createTestApiKey(server, ['analytics:export'], 'warehouse')).secret;
      // Three whole UTC days after the server's start (the audit sealer only moves forward in time).
      const start = Math.ceil(server.clock.now() / DAY_MS) * DAY_MS + DAY_MS;
      [d1, d2, d3] = [day(start), day(start + DAY_MS), day(start + 2 * DAY_MS)];

      // Day 1, Chrome on Windows: four sign-ups with a passkey; three passkey sign-in prompts
      // (two succeed in 800 and 1200 ms, one is cancelled).
      server.clock.set(start + 10 * 3_600_000);
      const authenticators = [];
      for (let i = 1; i <= 4; i++) {
        const authenticator = newAuthenticator();
        authenticators.push(authenticator);
        const { user } = await signUp(browser(server, CHROME_WINDOWS), authenticator, `analytics-u${i}`);
        userIds.push(user.id);
      }
      const windows = browser(server, CHROME_WINDOWS);
      const auth = { ceremony: 'authentication', mode: 'modal' };
      for (let i = 0; i < 3; i++) await report(windows, { ...auth, outcome: 'offered', platformAuthenticator: true });
      for (let i = 0; i < 3; i++) await report(windows, { ...auth, outcome: 'started' });
      await report(windows, { ...auth, outcome: 'completed', durationMs: 800 });
      await report(windows, { ...auth, outcome: 'completed', durationMs: 1200 });
      await report(windows, { ...auth, outcome: 'cancelled', errorName: 'NotAllowedError', durationMs: 5000 });

      // Day 2, Safari on iOS: u1 and u2 sign in with their passkeys, u5 signs up; u5 is shown
      // append prompts: 4 on a capable device (+ a conditional create armed beside one), 1 on a
      // device without a platform authenticator; 3 started, 2 created (one report sent twice), 1 failed.
      server.clock.set(start + DAY_MS + 9 * 3_600_000);
      for (const i of [0, 1]) {
        const { verify } = await authenticate(browser(server, SAFARI_IOS), authenticators[i]!);
        assert.equal(verify.status, 200, verify.text);
      }
      const iphone = browser(server, SAFARI_IOS);
      const { user: u5 } = await signUp(iphone, newAuthenticator(), 'analytics-u5@example.com');
      userIds.push(u5.id);
      const append = { ceremony: 'append', mode: 'modal' };
      for (let i = 0; i < 4; i++) await report(iphone, { ...append, outcome: 'offered', platformAuthenticator: true, reportId: `offer-${i}-000` });
      await report(iphone, { ceremony: 'append', mode: 'conditional', outcome: 'offered', platformAuthenticator: true });
      await report(iphone, { ...append, outcome: 'offered', platformAuthenticator: false, hybrid: false });
      for (let i = 0; i < 3; i++) await report(iphone, { ...append, outcome: 'started' });
      await report(iphone, { ...append, outcome: 'completed', reportId: 'dup-report-0001', platformAuthenticator: true });
      await report(iphone, { ...append, outcome: 'completed', reportId: 'dup-report-0001', platformAuthenticator: true });
      await report(iphone, { ...append, outcome: 'completed', platformAuthenticator: true });
      await report(iphone, { ...append, outcome: 'error', errorName: 'InvalidStateError' });
      await fold();
      server.clock.set(start + 2 * DAY_MS + 8 * 3_600_000);
    });
    after(() => server.close());

    test('the KPIs of each day and of the range are the hand-counted ones', async () => {
      const body = await kpis(`from=${d1}&to=${d3}`);
      const [k1, k2, k3] = body.days.map((d: { kpis: unknown }) => d.kpis);
      assert.deepEqual(body.days.map((d: { day: string }) => d.day), [d1, d2, d3]);
      assert.deepEqual(k1.login, { prompts: 3, succeeded: 2, aborted: 1, failed: 0, rate: 2 / 3, medianMs: 1000, p90Ms: 1400 });
      assert.equal(k1.activeUsers, 4);
      assert.equal(k1.activeUsersWithPasskey, 4);
      assert.equal(k1.passkeysCreated, 4);
      assert.deepEqual(k1.signIns, { total: 0, passkey: 0, emailCode: 0, password: 0, failed: 0, passkeyShare: null, successRate: null });
      assert.equal(k1.adoption.rate, null);

      assert.deepEqual(k2.adoption, { offered: 4, created: 2, rate: 0.5, offeredToIncapable: 1 });
      assert.deepEqual(k2.signIns, { total: 2, passkey: 2, emailCode: 0, password: 0, failed: 0, passkeyShare: 1, successRate: 1 });
      assert.equal(k2.activeUsers, 3, 'u1, u2 (sign-in) and u5 (sign-up)');
      assert.equal(k2.activeUsersWithPasskey, 3);
      assert.equal(k2.passkeysCreated, 1);
      assert.equal(k2.login.prompts, 0);
      assert.equal(k3.activeUsers, 0);

      assert.equal(body.total.activeUsers, 7, 'user-days');
      assert.equal(body.total.passkeyUserShare, 1);
      assert.equal(body.total.passkeysCreated, 5);
      assert.deepEqual(body.total.fallback, { signIns: 0, share: 0, emailCodesSent: 0 });
      assert.deepEqual(body.total.recovery, { started: 0, completed: 0 });
    });

    test('grouped by OS and by browser, each value has its own KPIs', async () => {
      const byOs = await kpis(`from=${d1}&to=${d3}&by=os`);
      const os = Object.fromEntries(byOs.groups.map((g: { value: string; total: unknown }) => [g.value, g.total]));
      assert.deepEqual(Object.keys(os).sort(), ['Windows', 'iOS']);
      assert.equal(os.Windows.login.prompts, 3);
      assert.equal(os.Windows.activeUsers, 4);
      assert.equal(os.iOS.activeUsers, 3);
      assert.equal(os.iOS.adoption.created, 2);
      assert.equal(os.iOS.signIns.passkey, 2);
      const byBrowser = await kpis(`from=${d2}&to=${d2}&by=browser`);
      assert.deepEqual(byBrowser.groups.map((g: { value: string }) => g.value), ['Mobile Safari']);
      const byProvider = await kpis(`from=${d1}&to=${d3}&by=provider`);
      const created = byProvider.groups.filter((g: { total: { passkeysCreated: number } }) => g.total.passkeysCreated > 0);
      assert.equal(created.length, 1, 'the software authenticator is one provider');
      assert.equal(created[0].total.passkeysCreated, 5);
      assert.equal(created[0].total.signIns.passkey, 2);
    });

    test('funnels per ceremony with drop-off by error; a duplicate report counts once', async () => {
      const r = await get(`/analytics/funnels?from=${d1}&to=${d3}`);
      assert.equal(r.status, 200, r.text);
      const funnels = Object.fromEntries(r.body.funnels.map((f: { ceremony: string }) => [f.ceremony, f]));
      assert.deepEqual(funnels.append, {
        ceremony: 'append', offered: 5, started: 3, completed: 2, cancelled: 0, timedOut: 0, failed: 1, completionRate: 2 / 3,
        dropOff: [{ outcome: 'error', errorName: 'InvalidStateError', count: 1 }],
      });
      assert.deepEqual(funnels.authentication, {
        ceremony: 'authentication', offered: 3, started: 3, completed: 2, cancelled: 1, timedOut: 0, failed: 0, completionRate: 2 / 3,
        dropOff: [{ outcome: 'cancelled', errorName: 'NotAllowedError', count: 1 }],
      });
    });

    test('a late report for an earlier day updates that day; a report retried later is still counted once', async () => {
      const windows = browser(server, CHROME_WINDOWS);
      await report(windows, { ceremony: 'authentication', mode: 'modal', outcome: 'error', errorName: 'SecurityError', occurredAt: `${d1}T12:00:00.000Z`, reportId: 'late-report-01' });
      await report(browser(server, SAFARI_IOS), { ceremony: 'append', mode: 'modal', outcome: 'completed', reportId: 'dup-report-0001', platformAuthenticator: true });
      await fold();
      const body = await kpis(`from=${d1}&to=${d3}`);
      assert.equal(body.days[0].kpis.login.failed, 1, 'day 1 has the late failure');
      assert.equal(body.days[2].kpis.login.failed, 0, 'not the day it arrived');
      assert.equal(body.days[1].kpis.adoption.created, 2, 'the retried report is not counted again');
      assert.equal(body.days[2].kpis.adoption.created, 0);
      const funnels = (await get(`/analytics/funnels?from=${d1}&to=${d1}`)).body.funnels;
      const auth = funnels.find((f: { ceremony: string }) => f.ceremony === 'authentication');
      assert.deepEqual(auth.dropOff, [
        { outcome: 'cancelled', errorName: 'NotAllowedError', count: 1 },
        { outcome: 'error', errorName: 'SecurityError', count: 1 },
      ]);
      // Folding again with nothing new changes nothing (the watermark holds); the sweep keeps the
      // user-days of the late-report window before the newest (all three days here) and the rollups.
      await fold();
      await server.app.sweep();
      assert.deepEqual((await kpis(`from=${d1}&to=${d3}`)).total, body.total);
      const userDays = await server.database.db.selectFrom('analytics_user_days').select('day').execute();
      assert.equal(userDays.length, 7);
    });

    test('the savings projection uses the configured costs and the measured rates', async () => {
      const r = await get(`/analytics/savings?to=${d3}`);
      assert.equal(r.status, 200, r.text);
      assert.deepEqual(r.body.horizons.map((h: { months: number }) => h.months), [12, 24, 36]);
      assert.equal(r.body.assumptions.currency, 'USD');
      assert.equal(r.body.inputs.signIns, 2);
      assert.equal(r.body.inputs.passkeyUserShare, 1);
      // Everyone has a passkey and the login rate is flat at 2/3 (one day with prompts): 2 · 2/3 sign-ins a month,
      // each replacing an e-mailed code (no fallback sign-ins measured: code share 1, SMS share 0).
      assert.equal(r.body.horizons[0].passkeySignIns, Math.round(12 * 2 * (2 / 3)));
      assert.equal(r.body.horizons[0].smsAvoided, 0);
      assert.equal(r.body.horizons[2].emailsAvoided, Math.round(36 * 2 * (2 / 3)));
    });

    test('the rollup export has the documented columns, in order', async () => {
      const csv = await download(`/analytics/export/rollups?from=${d1}&to=${d3}&format=csv`);
      assert.equal(csv.status, 200, csv.text);
      assert.match(csv.headers.get('content-type') ?? '', /^text\/csv/);
      const lines = csv.text.trimEnd().split('\r\n');
      assert.equal(lines[0], ROLLUP_COLUMNS.join(','));
      assert.deepEqual([...ROLLUP_COLUMNS], ['day', 'metric', 'detail', 'device', 'os', 'browser', 'provider', 'count']);
      const rows = lines.slice(1).map((l) => Object.fromEntries(l.split(',').map((v, i) => [ROLLUP_COLUMNS[i], v])));
      const created = rows.filter((r) => r.metric === 'adoption.created').reduce((s, r) => s + Number(r.count), 0);
      assert.equal(created, 2);
      const nd = await download(`/analytics/export/rollups?from=${d1}&to=${d3}&format=ndjson`);
      const objects = nd.text.trimEnd().split('\n').map((l) => JSON.parse(l));
      assert.equal(objects.length, rows.length);
      for (const o of objects) assert.deepEqual(Object.keys(o), [...ROLLUP_COLUMNS]);
    });

    test('the event export is pseudonymised: documented columns, no usernames, e-mail addresses or IPs', async () => {
      for (const format of ['csv', 'ndjson']) {
        const r = await download(`/analytics/export/events?from=${d1}&to=${d3}&format=${format}`);
        assert.equal(r.status, 200, r.text);
        assert.doesNotMatch(r.text, /analytics-u\d|@example\.com|127\.0\.0\.1|Mozilla/);
        for (const id of userIds) assert.ok(!r.text.includes(id), 'no user id');
        if (format === 'csv') assert.equal(r.text.split('\r\n')[0], EVENT_COLUMNS.join(','));
      }
      assert.deepEqual([...EVENT_COLUMNS], [
        'event_id', 'recorded_at', 'day', 'type', 'outcome', 'user_pseudonym', 'ceremony', 'mode', 'phase', 'error', 'duration_ms', 'method', 'device', 'os', 'browser', 'provider',
      ]);
      const nd = await download(`/analytics/export/events?from=${d1}&to=${d3}&format=ndjson`);
      const events = nd.text.trimEnd().split('\n').map((l) => JSON.parse(l));
      for (const e of events) assert.deepEqual(Object.keys(e), [...EVENT_COLUMNS]);
      const signIns = events.filter((e) => e.type === 'passkey.authenticated');
      assert.equal(signIns.length, 2);
      assert.equal(signIns[0].os, 'iOS');
      assert.match(signIns[0].user_pseudonym, /^[A-Za-z0-9_-]{22}$/);
      const u1 = events.filter((e) => e.type === 'passkey.registered').map((e) => e.user_pseudonym);
      assert.ok(u1.includes(signIns[0].user_pseudonym), 'one user, one pseudonym across events');
      const late = events.find((e) => e.error === 'SecurityError');
      assert.equal(late.day, d1, 'a late report is exported with the day it counts for');
      const audited = await server.database.db.selectFrom('audit_events').select(['actor_kind', 'data']).where('type', '=', 'analytics.exported').execute();
      assert.ok(audited.every((e) => e.actor_kind === 'api_key'), 'the key is the actor');
      assert.deepEqual(audited.map((e) => JSON.parse(e.data!)).filter((d) => d.kind === 'events').map((d) => [d.from, d.to, d.format]), [
        [d1, d3, 'csv'], [d1, d3, 'ndjson'], [d1, d3, 'ndjson'],
      ], 'each export is audited');
    });

    test('scopes: read and export are separate; no key is 401; a bad range is 400 analytics_range_invalid', async () => {
      assert.equal((await get(`/analytics/kpis?from=${d1}&to=${d3}`, exporter)).status, 403);
      const denied = await get(`/analytics/export/events?from=${d1}&to=${d3}`, reader);
      assert.equal(denied.status, 403);
      assert.equal(denied.body.code, 'insufficient_scope');
      assert.equal((await server.client().get('/api/admin/v1/analytics/kpis')).status, 401);
      for (const query of [`from=${d3}&to=${d1}`, 'from=2026-02-30&to=2026-03-01', 'from=yesterday', `from=2000-01-01&to=${d3}`, 'to=csv', 'to=2026-02-30']) {
        // (A bad `to` alone was a 500: the default `from` is counted back from it.)
        const r = await get(`/analytics/kpis?${query}`);
        assert.equal(r.status, 400, query);
        assert.equal(r.body.code, 'analytics_range_invalid', query);
      }
      assert.equal((await get('/analytics/kpis?by=country')).body.code, 'invalid_request');
    });

    test('the sweep drops the user-days behind the worker (late-report window + 2 days), never the rollups', async () => {
      const before = (await kpis(`from=${d1}&to=${d3}`)).total;
      server.clock.set(Date.parse(`${d3}T12:00:00.000Z`) + 20 * DAY_MS);
      await signUp(browser(server, CHROME_WINDOWS), newAuthenticator(), 'analytics-later');
      await fold();
      await server.app.sweep();
      const days = await server.database.db.selectFrom('analytics_user_days').select('day').execute();
      assert.deepEqual(days.map((d) => d.day), [day(server.clock.now())]);
      assert.deepEqual((await kpis(`from=${d1}&to=${d3}`)).total, before);
    });
  });
}

const ANALYTICS_TABLES = ['analytics_daily', 'analytics_state', 'analytics_seen_reports', 'analytics_passkey_users', 'analytics_user_days'];
for (const dialect of dialects) {
  test(`the analytics migration goes up, down and up again (${dialect})`, async () => {
    const fresh = await createTestDatabase(dialect);
    const database = createDatabase(fresh.url);
    try {
      const tables = async () => (await database.db.introspection.getTables()).map((t) => t.name);
      await migrateToLatest(database.db);
      for (const t of ANALYTICS_TABLES) assert.ok((await tables()).includes(t), t);
      const down = await createMigrator(database.db).migrateTo('2026_12_03_tokens');
      assert.equal(down.error, undefined);
      assert.ok(down.results?.some((r) => r.migrationName === '2026_12_04_analytics' && r.status === 'Success'));
      assert.ok(!(await tables()).some((t) => ANALYTICS_TABLES.includes(t)));
      await migrateToLatest(database.db);
      const state = await database.db.selectFrom('analytics_state').selectAll().execute();
      assert.deepEqual(state.map((r) => [Number(r.id), Number(r.last_seq)]), [[1, 0]]);
    } finally {
      await database.close();
      await fresh.drop();
    }
  });
}
