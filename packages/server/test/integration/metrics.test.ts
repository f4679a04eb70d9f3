/**
 * Prometheus metrics (issue 12 item 5): what a scrape says after real ceremonies, on both
 * databases; how /metrics is protected; and that the shipped alert rules and dashboard query
 * only metrics a real scrape has.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { after, before, describe, test } from 'node:test';
import { sql } from 'kysely';
import { parse as parseYaml } from 'yaml';
import { authenticate, newAuthenticator, paths, register, signUp } from '../helpers/flows.ts';
import { TestClient, type RequestOptions, type TestResponse } from '../helpers/test-client.ts';
import { dialects, freePort, startTestServer, TEST_ORIGIN, type TestServer } from '../helpers/test-server.ts';

const TOKEN = 'metrics-token-for-the-test-0123456789';
const CLIENT_IP = '203.0.113.77';
const PASSWORD = 'metrics-test-Pa55phrase-lengthy';
const REPO = new URL('../../../../', import.meta.url);

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** The Prometheus text exposition format (0.0.4): `name{label="value",…} value` per line. */
function parseExposition(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    assert.ok(match, `not an exposition line: ${line}`);
    const labels: Record<string, string> = {};
    for (const [, key, value] of (match[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) {
      labels[key as string] = (value as string).replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
    }
    samples.push({ name: match[1] as string, labels, value: Number(match[3]) });
  }
  return samples;
}

/** Every series of `name`, keyed by its labels in a stable order. */
function series(samples: Sample[], name: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const s of samples) {
    if (s.name !== name) continue;
    out.set(
      Object.entries(s.labels)
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([k, v]) => `${k}=${v}`)
        .join(','),
      s.value,
    );
  }
  return out;
}

/** What changed between two scrapes of a counter: label set -> increase (unchanged series left out). */
function delta(before: Sample[], afterSamples: Sample[], name: string): Record<string, number> {
  const old = series(before, name);
  const out: Record<string, number> = {};
  for (const [key, value] of series(afterSamples, name)) {
    const increase = value - (old.get(key) ?? 0);
    if (increase !== 0) out[key] = increase;
  }
  return out;
}

/** A client whose requests arrive from CLIENT_IP through the (trusted) proxy at 127.0.0.1. */
class ForwardedClient extends TestClient {
  override request(method: string, path: string, body?: unknown, options: RequestOptions = {}): Promise<TestResponse> {
    return super.request(method, path, body, { ...options, headers: { 'x-forwarded-for': CLIENT_IP, ...options.headers } });
  }
}

async function scrape(url: string, token: string | null = TOKEN): Promise<{ status: number; contentType: string | null; text: string }> {
  const response = await fetch(`${url}/metrics`, { headers: token ? { authorization: `Bearer ${token}` } : {} });
  return { status: response.status, contentType: response.headers.get('content-type'), text: await response.text() };
}

/** Metric names that only one dialect has. */
const dialectOnly = (name: string, dialect: string) => (dialect === 'sqlite' ? name.startsWith('latchkey_db_pool_') : name.startsWith('latchkey_sqlite_'));

/** The metric names an expression uses (ours, Node's and the process's). */
const metricNamesIn = (expr: string) => [...expr.matchAll(/\b((?:latchkey|process|nodejs)_[a-z0-9_]+)/g)].map((m) => m[1] as string);

for (const dialect of dialects) {
  describe(`metrics (${dialect})`, () => {
    let server: TestServer;
    before(async () => {
      server = await startTestServer(dialect, {
        config: { metrics: { token: TOKEN }, signup: { perIpPerHour: 1 }, server: { trustProxy: ['127.0.0.1'] } },
      });
    });
    after(() => server.close());
    const client = () => new ForwardedClient(server.url, TEST_ORIGIN);

    test('ceremony counters move by exactly what a sign-up, a sign-in, a refused sign-in, a rate-limit refusal and a junk verify did; no label names the user or the address', async () => {
      const first = await scrape(server.url);
      assert.equal(first.status, 200, first.text);
      const before = parseExposition(first.text);

      const authenticator = newAuthenticator();
      const signUpClient = client();
      const { verify: signedUp, response } = await register(signUpClient, authenticator, { username: 'metrics-alice' });
      assert.equal(signedUp.status, 200, signedUp.text);
      const account = signedUp.body as { user: { id: string }; passkey: { id: string } };
      assert.equal((await authenticate(client(), authenticator)).verify.status, 200);
      // A clone: the signature counter goes back, so the sign-in is refused (SEC-10).
      const clone = newAuthenticator();
      clone.importCredential({ ...authenticator.exportCredential(account.passkey.id) });
      clone.setSignCount(account.passkey.id, 0);
      const refused = await authenticate(client(), clone);
      assert.equal(refused.verify.status, 401, refused.verify.text);
      // The sign-up limit is 1 per address per hour: the second sign-up is refused at its options.
      const limited = await client().post(`${paths.REG}/options`, { username: 'metrics-bob' });
      assert.equal(limited.status, 429, limited.text);
      // A registration verify that names no ceremony: tallied, not audited row by row.
      const genuine = response as { response: Record<string, unknown> };
      const junk = await client().post(`${paths.REG}/verify`, { ...genuine, response: { ...genuine.response, clientDataJSON: Buffer.from('garbage, not JSON').toString('base64url') } });
      assert.equal(junk.status, 400, junk.text);
      assert.equal(junk.body.code, 'invalid_response');

      const last = await scrape(server.url);
      const afterSamples = parseExposition(last.text);
      assert.deepEqual(delta(before, afterSamples, 'latchkey_ceremonies_total'), {
        'ceremony=registration,code=none,outcome=success,step=options': 1,
        'ceremony=registration,code=none,outcome=success,step=verify': 1,
        'ceremony=authentication,code=none,outcome=success,step=options': 2,
        'ceremony=authentication,code=none,outcome=success,step=verify': 1,
        'ceremony=authentication,code=verification_failed,outcome=failure,step=verify': 1,
        'ceremony=registration,code=rate_limited,outcome=failure,step=options': 1,
        'ceremony=registration,code=invalid_response,outcome=failure,step=verify': 1,
      });
      assert.deepEqual(delta(before, afterSamples, 'latchkey_passkey_clone_suspected_total'), { '': 1 });
      assert.deepEqual(delta(before, afterSamples, 'latchkey_rate_limit_refusals_total'), { 'limiter=signup': 1 });
      assert.deepEqual(delta(before, afterSamples, 'latchkey_registration_junk_verifies_total'), { 'code=invalid_response': 1 });
      assert.deepEqual(delta(before, afterSamples, 'latchkey_fallback_sign_ins_total'), {});
      assert.deepEqual(delta(before, afterSamples, 'latchkey_ceremony_duration_seconds_count'), {
        'ceremony=registration,step=options': 2,
        'ceremony=registration,step=verify': 2,
        'ceremony=authentication,step=options': 2,
        'ceremony=authentication,step=verify': 2,
      });
      const http = delta(before, afterSamples, 'latchkey_http_requests_total');
      assert.equal(http['method=POST,route=/api/v1/passkeys/authentication/verify,status_class=2xx'], 1);
      assert.equal(http['method=POST,route=/api/v1/passkeys/authentication/verify,status_class=4xx'], 1);
      assert.equal(http['method=POST,route=/api/v1/passkeys/registration/options,status_class=4xx'], 1);
      assert.equal(http['method=GET,route=/metrics,status_class=2xx'], 1, 'the first scrape');

      // Database, process and build metrics.
      const value = (name: string) => afterSamples.find((s) => s.name === name);
      assert.equal(value('latchkey_db_up')?.labels.dialect, dialect);
      assert.equal(value('latchkey_db_up')?.value, 1);
      const queries = afterSamples.find((s) => s.name === 'latchkey_db_query_duration_seconds_count' && s.labels.dialect === dialect);
      assert.ok(queries && queries.value > 0, 'queries are timed');
      assert.ok((series(afterSamples, 'latchkey_db_query_duration_seconds_count').get(`dialect=${dialect}`) ?? 0) > (series(before, 'latchkey_db_query_duration_seconds_count').get(`dialect=${dialect}`) ?? 0));
      if (dialect === 'postgres') {
        assert.equal(value('latchkey_db_pool_max_connections')?.value, 5);
        assert.ok((value('latchkey_db_pool_connections')?.value ?? 0) >= 1);
        assert.ok(value('latchkey_db_pool_waiting_requests'));
      } else {
        assert.ok((value('latchkey_sqlite_wal_bytes')?.value ?? -1) >= 0);
      }
      assert.equal(value('latchkey_build_info')?.labels.node_version, process.version);
      assert.match(value('latchkey_build_info')?.labels.version ?? '', /^\d+\.\d+\.\d+/);
      assert.ok(value('process_cpu_user_seconds_total'), 'process metrics');

      // Nothing names the user, their passkey or where they came from.
      for (const secret of ['metrics-alice', 'metrics-bob', account.user.id, account.passkey.id, CLIENT_IP]) {
        assert.ok(!last.text.includes(secret), `the scrape mentions ${secret}`);
      }
    });

    test('a fallback sign-in is counted as a fallback used', async () => {
      const config = { metrics: { token: TOKEN }, auth: { methods: ['passkey', 'password'] as ('passkey' | 'password')[] } };
      const own = await startTestServer(dialect, { config });
      try {
        const c = own.client();
        await signUp(c, newAuthenticator(), 'metrics-carol');
        const set = await c.request('PUT', '/api/v1/account/password', { password: PASSWORD });
        assert.equal(set.status, 200, set.text);
        const before = parseExposition((await scrape(own.url)).text);
        const wrong = await own.client().post('/api/v1/password/sign-in', { username: 'metrics-carol', password: 'not the password at all' });
        assert.equal(wrong.status, 401, wrong.text);
        const right = await own.client().post('/api/v1/password/sign-in', { username: 'metrics-carol', password: PASSWORD });
        assert.equal(right.status, 200, right.text);
        const afterSamples = parseExposition((await scrape(own.url)).text);
        assert.deepEqual(delta(before, afterSamples, 'latchkey_fallback_sign_ins_total'), { 'method=password': 1 });
        assert.deepEqual(delta(before, afterSamples, 'latchkey_ceremonies_total'), {
          'ceremony=password,code=none,outcome=success,step=verify': 1,
          [`ceremony=password,code=${wrong.body.code},outcome=failure,step=verify`]: 1,
        });
      } finally {
        await own.close();
      }
    });

    test('a sign-in whose commit fails counts as the failure the client saw, not as a success (counted after the commit)', async () => {
      const own = await startTestServer(dialect, { config: { metrics: { token: TOKEN } } });
      try {
        const { db } = own.database;
        const authenticator = newAuthenticator();
        await signUp(own.client(), authenticator, 'metrics-erin');
        // The session row is the sign-in's last write: make it fail, so the whole commit rolls back.
        if (dialect === 'postgres') {
          await sql`CREATE FUNCTION fail_sessions() RETURNS trigger AS $$ BEGIN RAISE EXCEPTION 'injected fault'; END; $$ LANGUAGE plpgsql`.execute(db);
          await sql`CREATE TRIGGER fail_sessions BEFORE INSERT ON sessions FOR EACH ROW EXECUTE FUNCTION fail_sessions()`.execute(db);
        } else {
          await sql`CREATE TRIGGER fail_sessions BEFORE INSERT ON sessions BEGIN SELECT RAISE(ABORT, 'injected fault'); END`.execute(db);
        }
        const before = parseExposition((await scrape(own.url)).text);
        const { verify } = await authenticate(own.client(), authenticator);
        assert.equal(verify.status, 500, verify.text);
        const afterSamples = parseExposition((await scrape(own.url)).text);
        assert.deepEqual(delta(before, afterSamples, 'latchkey_ceremonies_total'), {
          'ceremony=authentication,code=none,outcome=success,step=options': 1,
          'ceremony=authentication,code=internal,outcome=failure,step=verify': 1,
        });
        assert.deepEqual(delta(before, afterSamples, 'latchkey_problems_total'), { 'code=internal': 1 });
        const audited = await db.selectFrom('audit_events').select('type').where('type', '=', 'passkey.authenticated').execute();
        assert.equal(audited.length, 0, 'the audit row of the success was rolled back with it');
      } finally {
        await own.close();
      }
    });

    test('on the main port /metrics needs the token: 401 problem+json without it or with a wrong one, 200 with it', async () => {
      const none = await scrape(server.url, null);
      assert.equal(none.status, 401);
      assert.match(none.contentType ?? '', /^application\/problem\+json/);
      assert.equal(JSON.parse(none.text).code, 'unauthorized');
      assert.ok(!none.text.includes('latchkey_'), 'no metric in the refusal');
      const wrong = await scrape(server.url, `${TOKEN.slice(0, -1)}x`);
      assert.equal(wrong.status, 401);
      const right = await scrape(server.url);
      assert.equal(right.status, 200);
      assert.match(right.contentType ?? '', /^text\/plain; version=0\.0\.4/);
      const session = await server.client().get('/metrics', { headers: { authorization: 'Bearer not-the-token' } });
      assert.equal(session.status, 401);
    });

    test('on a separate port: served there (to the token when one is set), not on the main port; off when neither is set', async () => {
      const port = await freePort();
      const separate = await startTestServer(dialect, { config: { metrics: { port } } });
      const guarded = await startTestServer(dialect, { config: { metrics: { port: await freePort(), token: TOKEN } } });
      const off = await startTestServer(dialect);
      try {
        const scraped = await scrape(`http://127.0.0.1:${port}`, null);
        assert.equal(scraped.status, 200);
        assert.ok(parseExposition(scraped.text).some((s) => s.name === 'latchkey_build_info'));
        assert.equal((await fetch(`http://127.0.0.1:${port}/other`)).status, 404);
        assert.equal((await scrape(separate.url, null)).status, 404, 'not on the main port');

        const guardedPort = guarded.config.metrics.port as number;
        assert.equal((await scrape(`http://127.0.0.1:${guardedPort}`, null)).status, 401);
        assert.equal((await scrape(`http://127.0.0.1:${guardedPort}`)).status, 200);
        assert.equal((await scrape(guarded.url)).status, 404, 'the token does not move it to the main port');

        assert.equal((await scrape(off.url)).status, 404);
        assert.equal((await scrape(off.url, null)).status, 404);
      } finally {
        await separate.close();
        await guarded.close();
        await off.close();
      }
      await assert.rejects(fetch(`http://127.0.0.1:${port}/metrics`), 'the metrics port closes with the app');
    });

    test('the alert rules and the dashboard query only metrics that a real scrape has', async () => {
      // Every metric of a scrape, whether or not a series of it has been seen yet.
      const text = (await scrape(server.url)).text;
      const names = new Set(parseExposition(text).map((s) => s.name));
      for (const [, name, type] of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
        names.add(name as string);
        if (type === 'histogram') for (const suffix of ['_bucket', '_sum', '_count']) names.add(`${name}${suffix}`);
      }
      const known = (name: string) => names.has(name) || dialectOnly(name, dialect);

      const rules = parseYaml(await readFile(new URL('deploy/prometheus/latchkey-alerts.yml', REPO), 'utf8')) as {
        groups: { name: string; rules: { alert: string; expr: string; for?: string; labels?: { severity?: string }; annotations?: { summary?: string } }[] }[];
      };
      const alerts = rules.groups.flatMap((g) => g.rules);
      for (const wanted of ['LatchkeyErrorRateSpike', 'LatchkeyCloneSuspected', 'LatchkeyRateLimitRefusalsHigh', 'LatchkeyDatabaseUnavailable', 'LatchkeyLatencyP99High']) {
        assert.ok(alerts.some((a) => a.alert === wanted), `an alert ${wanted}`);
      }
      for (const rule of alerts) {
        assert.match(rule.alert, /^Latchkey[A-Za-z0-9]+$/);
        assert.ok(rule.labels?.severity, `${rule.alert} has a severity`);
        assert.ok(rule.annotations?.summary, `${rule.alert} has a summary`);
        if (rule.for !== undefined) assert.match(rule.for, /^\d+[smh]$/);
        const used = metricNamesIn(rule.expr);
        assert.ok(used.length > 0, `${rule.alert} uses a metric`);
        for (const name of used) assert.ok(known(name), `${rule.alert} uses ${name}, which no scrape has`);
      }

      const dashboard = JSON.parse(await readFile(new URL('deploy/grafana/latchkey-dashboard.json', REPO), 'utf8')) as { panels: { title: string; targets?: { expr: string }[] }[] };
      const exprs = dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => ({ title: p.title, expr: t.expr })));
      assert.ok(exprs.length >= 8);
      for (const { title, expr } of exprs) {
        for (const name of metricNamesIn(expr)) assert.ok(known(name), `panel "${title}" uses ${name}, which no scrape has`);
      }
    });
  });
}
