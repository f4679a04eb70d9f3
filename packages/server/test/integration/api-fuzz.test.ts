import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { ALL_SCOPES, STAFF_ONLY_SCOPES } from '../../src/modules/api-keys/api-keys.module.ts';
import { createTestApiKey } from '../helpers/api-keys.ts';
import { newAuthenticator, signUp } from '../helpers/flows.ts';
import { assertNoLeak, prng, type Rng, WEIRD_VALUES } from '../helpers/fuzz.ts';
import { TestClient, type TestResponse } from '../helpers/test-client.ts';
import { makeStaff } from '../helpers/staff.ts';
import { dialects, startTestServer, TEST_ORIGIN, type TestServer } from '../helpers/test-server.ts';
import { WebhookReceiver, waitFor } from '../helpers/webhook-receiver.ts';

/**
 * Every operation of /openapi.json, fuzzed from its own schema: path parameters that exist and
 * that do not (and odd strings), query parameters of the right and the wrong shape, bodies built
 * from the request schema and then broken one member at a time; management operations go half
 * through an API key, half through a staff admin's console session. The house rule: every bad input
 * is a 4xx problem+json with a stable code, never a 5xx, and no answer leaks a stack or SQL.
 * Seeded: a failure prints the seed, method, path and body to replay it (FUZZ_SEED is the first). FUZZ_CASES sets the
 * cases per operation (40 on SQLite, 12 on PostgreSQL by default).
 */
type Schema = {
  type?: string | string[];
  $ref?: string;
  properties?: Record<string, Schema>;
  required?: string[];
  items?: Schema;
  anyOf?: Schema[];
  oneOf?: Schema[];
  allOf?: Schema[];
  enum?: unknown[];
  const?: unknown;
  format?: string;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  minItems?: number;
  pattern?: string;
  additionalProperties?: boolean | Schema;
};
interface Parameter {
  name: string;
  in: 'path' | 'query' | 'header' | 'cookie';
  schema?: Schema;
}
interface Operation {
  operationId: string;
  security?: Record<string, string[]>[];
  parameters?: Parameter[];
  requestBody?: { content: Record<string, { schema?: Schema }> };
}
interface Document {
  paths: Record<string, Record<string, Operation>>;
  components?: { schemas?: Record<string, Schema> };
}

const METHODS = ['get', 'post', 'put', 'patch', 'delete'];

/** Path segments that are not ids: odd bytes, encodings, traversal, very long, prototype keys. */
const ODD_SEGMENTS = [
  'x', '0', '-1', '1e309', encodeURIComponent('..'), '%2e%2e', '%00', '%ZZ', encodeURIComponent('ü🔑'), encodeURIComponent("' OR 1=1 --"),
  encodeURIComponent('<script>'), 'a'.repeat(600), '__proto__', 'constructor', 'null', '00000000-0000-0000-0000-000000000000',
  'ffffffff-ffff-ffff-ffff-ffffffffffff', '%20', 'whsec_AAAA', 'lk_live_aaaaaaaaaaaaaaaa_x',
];
/** Query values of every wrong shape; the valid-looking ones come from the parameter's schema. */
const ODD_QUERY = ['', ' ', '-1', '0', '1e309', '99999999999999999999', 'NaN', 'true', 'null', '2026-13-45', '1970-01-01T00:00:00Z', '9999-12-31T23:59:59Z', 'x'.repeat(3000), '%', "'", '*', '\u0000', '🔑', '[]', '{}', 'csv', 'ndjson'];

/** Header values a client library would never send: credentials of the wrong shape, odd cookies and media types. */
const ODD_HEADERS: Record<string, string[]> = {
  authorization: [
    'Bearer', 'Bearer ', 'bearer lk_live_aaaaaaaaaaaaaaaa_bbbb', 'Basic YWRtaW46YWRtaW4=', `Bearer lk_live_${'a'.repeat(16)}_${'b'.repeat(43)}`,
    `Bearer ${'x'.repeat(4000)}`, 'Bearer lk_live_', 'Bearer a.b.c', 'Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.', 'Bearer ,', 'Negotiate x',
  ],
  cookie: [
    'latchkey_session=', 'latchkey_session=x', `latchkey_session=${'a'.repeat(3000)}`, 'latchkey_session=a; latchkey_session=b', 'latchkey_session=%00',
    'latchkey_session="quoted"', '=;;=', 'latchkey_ceremony=x', `latchkey_ceremony=${'A'.repeat(500)}`,
  ],
  'content-type': ['application/json; charset=latin1', 'application/json; charset=utf-16', 'application/json-patch+json', 'application/JSON', 'multipart/form-data; boundary=x', 'application/x-www-form-urlencoded', 'application/json;;', 'text/plain'],
  'latchkey-ceremony': ['', 'x', 'A'.repeat(2000), '..', '%00', 'eyJ0eXAiOiJKV1QifQ'],
  'accept-language': ['*', 'xx', 'de-DE,de;q=0.9', 'q=;;', 'a'.repeat(500), 'ü'],
  'x-forwarded-for': ['1.2.3.4', 'not an ip', '::1, 10.0.0.1', ''],
  origin: ['null', 'https://evil.example', 'http://localhost:8080', 'http://localhost:8080/', 'x'],
  'sec-fetch-site': ['cross-site', 'same-site', 'none', 'x'],
};

function resolve(doc: Document, schema: Schema | undefined): Schema {
  let s = schema ?? {};
  for (let i = 0; s.$ref && i < 10; i++) s = doc.components?.schemas?.[s.$ref.replace('#/components/schemas/', '')] ?? {};
  return s;
}

/** A value the schema accepts, as far as a generator without a regex engine can tell. */
function sample(doc: Document, raw: Schema | undefined, rng: Rng, depth = 0): unknown {
  const schema = resolve(doc, raw);
  if (schema.const !== undefined) return schema.const;
  if (schema.enum) return rng.pick(schema.enum);
  const choices = schema.anyOf ?? schema.oneOf;
  if (choices) return sample(doc, rng.pick(choices), rng, depth + 1);
  if (schema.allOf) return Object.assign({}, ...schema.allOf.map((s) => sample(doc, s, rng, depth + 1)));
  const type = Array.isArray(schema.type) ? rng.pick(schema.type) : schema.type;
  switch (type) {
    case 'object': {
      const out: Record<string, unknown> = {};
      if (depth > 4) return out;
      for (const [key, prop] of Object.entries(schema.properties ?? {})) {
        if (schema.required?.includes(key) || rng.next() < 0.5) out[key] = sample(doc, prop, rng, depth + 1);
      }
      return out;
    }
    case 'array': {
      const n = Math.max(schema.minItems ?? 0, rng.int(3));
      return Array.from({ length: n }, () => sample(doc, schema.items, rng, depth + 1));
    }
    case 'integer':
      return Math.max(schema.minimum ?? 0, Math.min(schema.maximum ?? 1000, 1 + rng.int(50)));
    case 'number':
      return Math.max(schema.minimum ?? 0, Math.min(schema.maximum ?? 1, rng.next()));
    case 'boolean':
      return rng.next() < 0.5;
    case 'null':
      return null;
    case 'string':
      return sampleString(schema, rng);
    default:
      return rng.pick(['x', 1, true, null]);
  }
}

function sampleString(schema: Schema, rng: Rng): string {
  switch (schema.format) {
    case 'uuid':
      return randomUUID();
    case 'date-time':
      return new Date(Date.now() - rng.int(30) * 86_400_000).toISOString();
    case 'date':
      return new Date(Date.now() - rng.int(30) * 86_400_000).toISOString().slice(0, 10);
    case 'email':
      return `fuzz${rng.int(1000)}@example.com`;
    case 'uri':
      return rng.pick(['https://hooks.example.com/latchkey', 'http://127.0.0.1:1/hooks', 'https://localhost/x']);
  }
  const base = rng.pick(['fuzz', 'user.created', 'passkey_first', 'signin.*', '*', 'en', 'https://hooks.example.com/latchkey', 'Fuzz name']);
  const min = schema.minLength ?? 0;
  const max = schema.maxLength ?? 200;
  return (base.length >= min ? base : base.padEnd(min, 'x')).slice(0, Math.max(min, Math.min(max, base.length)));
}

/** One member somewhere in `value` replaced, dropped or added; or the whole body replaced. */
function mutate(value: unknown, rng: Rng): unknown {
  if (value === null || typeof value !== 'object' || rng.next() < 0.1) return rng.pick(WEIRD_VALUES);
  const copy: Record<string, unknown> | unknown[] = Array.isArray(value) ? [...value] : { ...(value as Record<string, unknown>) };
  const keys = Object.keys(copy);
  const roll = rng.int(10);
  if (keys.length === 0 || roll === 0) {
    (copy as Record<string, unknown>)[rng.pick(['unknownMember', '__proto__', 'constructor', 'id', 'role', 'scopes'])] = rng.pick(WEIRD_VALUES);
    return copy;
  }
  const key = rng.pick(keys);
  const inner = (copy as Record<string, unknown>)[key];
  if (roll === 1) delete (copy as Record<string, unknown>)[key];
  else if (inner !== null && typeof inner === 'object' && roll < 5) (copy as Record<string, unknown>)[key] = mutate(inner, rng);
  else (copy as Record<string, unknown>)[key] = rng.pick(WEIRD_VALUES);
  return copy;
}

/** The NDJSON import: lines that are records, records of the wrong shape, and not JSON at all. */
function ndjson(rng: Rng): string {
  const lines = Array.from({ length: 1 + rng.int(4) }, () =>
    rng.pick([
      () => JSON.stringify({ type: 'user', username: `import-${rng.int(1e6)}`, email: `i${rng.int(1e6)}@example.com` }),
      () => JSON.stringify({ type: 'user', username: `import-${rng.int(1e6)}`, [rng.pick(['displayName', 'externalId', 'email', 'id', 'userHandle', 'createdAt', 'status'])]: rng.pick(WEIRD_VALUES) }),
      () => JSON.stringify({ type: 'user', username: `import-${rng.int(1e6)}`, passkeys: [{ id: rng.pick(WEIRD_VALUES), publicKey: rng.pick(WEIRD_VALUES), signCount: rng.pick(WEIRD_VALUES) }] }),
      () => JSON.stringify({ type: 'end', users: rng.pick([0, 1, 2, -1, 'x', null]) }),
      () => JSON.stringify(rng.pick(WEIRD_VALUES)),
      () => JSON.stringify({ type: 'user', username: `import-${rng.int(1e6)}`, displayName: 'nul\u0000name', externalId: 'nul\u0000id' }),
      () => '{"username": ',
      () => '',
    ])(),
  );
  return `${lines.join('\n')}${rng.next() < 0.5 ? '\n' : ''}`;
}

/** The document's operations whose method `keep` accepts. */
function operationsOf(doc: Document, keep: (method: string) => boolean): { path: string; method: string; op: Operation }[] {
  return Object.entries(doc.paths).flatMap(([path, item]) =>
    Object.entries(item)
      .filter(([method]) => METHODS.includes(method) && keep(method))
      .map(([method, op]) => ({ path, method, op })),
  );
}

/** The house rule for one answer: no 5xx; an error is problem+json with a stable code; nothing leaked. */
function assertAnswered(response: TestResponse, where: string): void {
  assert.ok(response.status < 500, where);
  if (response.status >= 400) {
    assert.match(response.headers.get('content-type') ?? '', /^application\/problem\+json/, where);
    assert.match(String(response.body?.code), /^[a-z][a-z0-9_]*$/, where);
  }
  assertNoLeak(response, where);
}

for (const dialect of dialects) {
  describe(`every API operation, fuzzed from its schema (${dialect})`, () => {
    let server: TestServer;
    let doc: Document;
    let admin: TestClient;
    /** A staff admin with the console open: the same operations through a cookie session, CSRF checks and roles. */
    let staff: TestClient;
    let user: TestClient;
    const receiver = new WebhookReceiver();
    /** Ids that exist, by the names path parameters use, beside ones that do not. */
    const known = new Map<string, string[]>();
    const remember = (name: string, id: unknown) => typeof id === 'string' && known.set(name, [...(known.get(name) ?? []), id]);
    /** `path` with each parameter an id that exists (a random uuid for names nothing was remembered under). */
    const withKnownIds = (path: string, rng: Rng) => path.replace(/\{(\w+)\}/g, (_, name: string) => encodeURIComponent(rng.pick(known.get(name) ?? [randomUUID()])));

    async function signedInUser(name: string): Promise<TestClient> {
      const client = server.client();
      const made = await signUp(client, newAuthenticator(), name);
      remember('id', made.user.id);
      remember('userId', made.user.id);
      remember('credentialId', made.passkey.id);
      remember('id', made.passkey.id);
      return client;
    }

    before(async () => {
      server = await startTestServer(dialect, {
        config: {
          signup: { perIpPerHour: 100_000 },
          auth: { perIpPerHour: 100_000 },
          webhooks: { allowHttp: true, allowedTargets: ['127.0.0.1'], pollIntervalMs: 50, timeoutMs: 1000, retryBaseMs: 100, maxAttempts: 2 },
        },
      });
      doc = (await (await fetch(`${server.url}/openapi.json`)).json()) as Document;
      await receiver.start();
      // The fuzzing key can do everything; a second key is there to be revoked by the fuzz.
      const key = await createTestApiKey(server, ALL_SCOPES.filter((s) => !(STAFF_ONLY_SCOPES as readonly string[]).includes(s)));
      admin = new TestClient(server.url, null);
      admin.bearer = key.secret;
      remember('id', (await createTestApiKey(server, ['users:read'], 'to be revoked')).id);
      // Its user id is not offered to the fuzz: disabling or deleting it would end the staff session.
      staff = (await makeStaff(server, admin, 'fuzz-staff', 'admin')).client;
      user = await signedInUser('fuzz-user');
      const endpoint = await admin.post('/api/admin/v1/webhook-endpoints', { url: receiver.url, eventTypes: ['*'] });
      assert.equal(endpoint.status, 201, endpoint.text);
      remember('id', endpoint.body.endpoint.id);
      await signedInUser('fuzz-other');
      const deliveries = await waitFor(async () => {
        const listed = await admin.get(`/api/admin/v1/webhook-endpoints/${endpoint.body.endpoint.id}/deliveries`);
        return listed.body.deliveries?.length > 0 && listed.body.deliveries;
      }, 'a delivery to fuzz around');
      remember('deliveryId', deliveries[0].id);
      const sessions = await user.get('/api/v1/sessions');
      for (const s of sessions.body.sessions ?? []) remember('sessionId', s.id);
      const experiment = await admin.post('/api/admin/v1/experiments', { key: 'fuzz_experiment', feature: 'passkey_first', variants: ['control', 'treatment'] });
      if (experiment.status < 300) remember('key', 'fuzz_experiment');
      remember('feature', 'passkey_first');
      remember('key', 'passkey_first');
    });
    after(async () => {
      await receiver.stop();
      await server.close();
    });

    test('no operation answers a 5xx or an error that is not problem+json with a code, whatever the path, query and body', { timeout: 600_000 }, async () => {
      const cases = Number(process.env.FUZZ_CASES ?? (dialect === 'sqlite' ? 40 : 12));
      const operations = operationsOf(doc, () => true);
      assert.ok(operations.length > 90, `the document lists every operation (${operations.length})`);
      // Deletions last: they take away the users, sessions and endpoints the other operations reach.
      operations.sort((a, b) => Number(a.method === 'delete') - Number(b.method === 'delete'));
      const statuses = new Map<number, number>();
      let staffAccepted = 0;
      let seed = Number(process.env.FUZZ_SEED ?? 1);
      for (const { path, method, op } of operations) {
        const schemes = new Set((op.security ?? []).flatMap((s) => Object.keys(s)));
        // `{}` among the requirements: signed out works too (sign-up, the session status).
        const optional = (op.security ?? []).some((s) => Object.keys(s).length === 0);
        for (let i = 0; i < cases; i++, seed++) {
          const rng = prng(seed);
          // A user the fuzz signed out, disabled or deleted is replaced, so later operations still get past the session check.
          if (schemes.has('cookie') && !schemes.has('apiKey') && i === 0 && (await user.get('/api/v1/session')).status !== 200) user = await signedInUser(`fuzz-user-${seed}`);
          const url = path.replace(/\{(\w+)\}/g, (_, name: string) => {
            const ids = known.get(name) ?? [];
            return rng.next() < 0.6 && ids.length > 0 ? encodeURIComponent(rng.pick(ids)) : rng.pick([...ODD_SEGMENTS, randomUUID()]);
          });
          const query = new URLSearchParams();
          for (const p of op.parameters ?? []) {
            if (p.in !== 'query' || rng.next() < 0.4) continue;
            const value = rng.next() < 0.5 ? sample(doc, p.schema, rng) : rng.pick(ODD_QUERY);
            query.append(p.name, String(value));
            if (rng.next() < 0.1) query.append(p.name, String(rng.pick(ODD_QUERY)));
          }
          const target = `${url}${query.size > 0 ? `?${query}` : ''}`;
          const client = schemes.has('apiKey') ? (rng.next() < 0.5 ? admin : staff) : schemes.has('cookie') && (!optional || rng.next() < 0.5) ? user : new TestClient(server.url, TEST_ORIGIN);
          const content = op.requestBody?.content ?? {};
          let response: TestResponse;
          let sent = '';
          if (content['application/x-ndjson']) {
            sent = ndjson(rng);
            response = await client.request(method.toUpperCase(), target, undefined, { raw: sent, contentType: 'application/x-ndjson' });
          } else if (content['application/json']) {
            const valid = sample(doc, content['application/json'].schema, rng);
            const body = rng.next() < 0.2 ? valid : mutate(valid, rng);
            sent = JSON.stringify(body) ?? '';
            response = await client.request(method.toUpperCase(), target, undefined, { raw: sent });
          } else {
            response = await client.request(method.toUpperCase(), target);
          }
          statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
          if (client === staff && response.status < 300) staffAccepted += 1;
          const where = `seed ${seed}: ${method.toUpperCase()} ${target.slice(0, 300)} ${sent.slice(0, 300)} -> ${response.status} ${response.text.slice(0, 400)}`;
          assertAnswered(response, where);
        }
      }
      // The fuzz reached past validation too: some cases were accepted, some refused for what they were.
      const ok = [...statuses].filter(([s]) => s < 300).reduce((n, [, c]) => n + c, 0);
      const refused = [...statuses].filter(([s]) => s >= 400).reduce((n, [, c]) => n + c, 0);
      assert.ok(ok > operations.length, `accepted ${ok}: ${JSON.stringify([...statuses])}`);
      assert.ok(refused > operations.length, `refused ${refused}: ${JSON.stringify([...statuses])}`);
      assert.ok(staffAccepted > 10, `the staff session got past the console's checks ${staffAccepted} times`);
      // Nothing the fuzz did broke what it wrote: the audit chain over all of it verifies.
      await server.app.auditChain.seal();
      const verdict = await admin.get('/api/admin/v1/audit/verification');
      assert.equal(verdict.status, 200, verdict.text);
      assert.equal(verdict.body.ok, true, verdict.text);
      assert.ok(verdict.body.checkedEvents > operations.length, verdict.text);
    });

    test('the same change sent six times at once (races on unique keys, counters, leases) never gets a 5xx', { timeout: 600_000 }, async () => {
      const cases = Math.ceil(Number(process.env.FUZZ_CASES ?? (dialect === 'sqlite' ? 40 : 12)) / 8);
      let seed = Number(process.env.FUZZ_SEED ?? 1) + 2_000_000;
      const operations = operationsOf(doc, (method) => method !== 'get');
      operations.sort((a, b) => Number(a.method === 'delete') - Number(b.method === 'delete'));
      for (const { path, method, op } of operations) {
        const schemes = new Set((op.security ?? []).flatMap((s) => Object.keys(s)));
        if (schemes.has('cookie') && !schemes.has('apiKey') && (await user.get('/api/v1/session')).status !== 200) user = await signedInUser(`race-user-${seed}`);
        for (let i = 0; i < cases; i++, seed++) {
          const rng = prng(seed);
          const url = withKnownIds(path, rng);
          const json = op.requestBody?.content['application/json'];
          const ndjsonBody = op.requestBody?.content['application/x-ndjson'] ? ndjson(rng) : undefined;
          const raw = ndjsonBody ?? (json ? JSON.stringify(sample(doc, json.schema, rng)) : undefined);
          const client = schemes.has('apiKey') ? admin : schemes.has('cookie') ? user : new TestClient(server.url, TEST_ORIGIN);
          const options = { raw, contentType: ndjsonBody !== undefined ? 'application/x-ndjson' : raw === undefined ? null : 'application/json' };
          const answers = await Promise.all(Array.from({ length: 6 }, () => client.request(method.toUpperCase(), url, undefined, options)));
          for (const response of answers) {
            const where = `seed ${seed}: 6 × ${method.toUpperCase()} ${url} ${String(raw).slice(0, 300)} -> ${response.status} ${response.text.slice(0, 300)}`;
            assert.ok(response.status < 500, where);
            if (response.status >= 400) assert.match(String(response.body?.code), /^[a-z][a-z0-9_]*$/, where);
            assertNoLeak(response, where);
          }
        }
      }
    });

    test('odd headers (credentials, cookies, media types, ceremony bindings, languages, origins) never get a 5xx either', { timeout: 600_000 }, async () => {
      const cases = Math.ceil(Number(process.env.FUZZ_CASES ?? (dialect === 'sqlite' ? 40 : 12)) / 4);
      let seed = Number(process.env.FUZZ_SEED ?? 1) + 1_000_000;
      const operations = operationsOf(doc, (method) => method !== 'delete');
      for (const { path, method, op } of operations) {
        for (let i = 0; i < cases; i++, seed++) {
          const rng = prng(seed);
          const url = withKnownIds(path, rng);
          const headers: Record<string, string> = {};
          for (const [name, values] of Object.entries(ODD_HEADERS)) if (rng.next() < 0.35) headers[name] = rng.pick(values);
          const json = op.requestBody?.content['application/json'];
          const raw = json ? JSON.stringify(sample(doc, json.schema, rng)) : undefined;
          // A client of its own: the shared ones keep their credentials for the other tests.
          const client = new TestClient(server.url, null);
          const response = await client.request(method.toUpperCase(), url, undefined, { raw, headers, contentType: json ? (headers['content-type'] ?? 'application/json') : null });
          const where = `seed ${seed}: ${method.toUpperCase()} ${url} ${JSON.stringify(headers).slice(0, 400)} -> ${response.status} ${response.text.slice(0, 300)}`;
          assertAnswered(response, where);
        }
      }
    });
  });
}
