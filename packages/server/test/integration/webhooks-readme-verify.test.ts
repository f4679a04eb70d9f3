import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createTestApiKey } from '../helpers/api-keys.ts';
import { newAuthenticator, signUp } from '../helpers/flows.ts';
import { TestClient } from '../helpers/test-client.ts';
import { dialects, startTestServer, type TestServer } from '../helpers/test-server.ts';
import { WebhookReceiver, waitFor, type ReceivedWebhook } from '../helpers/webhook-receiver.ts';

/**
 * The README's "Verifying a signature" gives receivers a Python verifier (standard library only) to
 * copy. This runs that block as printed, against deliveries Latchkey really sent: a copied snippet
 * that accepts a forged body, or refuses a good one, would be found here and not by a receiver.
 * The signature does not depend on the database, so one dialect is enough.
 */
const README = join(import.meta.dirname, '..', '..', '..', '..', 'README.md');
const ADMIN = '/api/admin/v1';

/** The first ```python block of the README's "Verifying a signature" section. */
function readmePythonVerifier(): string {
  const readme = readFileSync(README, 'utf8');
  const section = readme.slice(readme.indexOf('### Verifying a signature'));
  const block = /```python\n([\s\S]*?)```/.exec(section.slice(0, section.indexOf('\n### ', 5)));
  assert.ok(block?.[1], 'the README has a Python verifier under "Verifying a signature"');
  return block[1];
}

/**
 * Runs the README's `verify(secret, headers, body)` once per case, with `time.time()` at the case's
 * `now` (the test server's clock runs ahead of the wall clock), and answers its verdicts.
 */
const DRIVER = `
import base64, json, sys, types
ns = {}
exec(sys.argv[1], ns)
verdicts = []
for case in json.load(sys.stdin):
    ns["time"] = types.SimpleNamespace(time=lambda now=case["now"]: now)
    verdicts.append(ns["verify"](case["secret"], case["headers"], base64.b64decode(case["body"])))
print(json.dumps(verdicts))
`;

interface Case {
  secret: string;
  headers: Record<string, string>;
  body: Buffer;
  now: number;
}

const hasPython3 = spawnSync('python3', ['--version']).status === 0;

function verifyWithReadme(cases: Case[]): boolean[] {
  const run = spawnSync('python3', ['-c', DRIVER, readmePythonVerifier()], {
    input: JSON.stringify(cases.map((c) => ({ ...c, body: c.body.toString('base64') }))),
    encoding: 'utf8',
    timeout: 30_000,
  });
  assert.equal(run.status, 0, `the README's Python verifier ran: ${run.stderr}`);
  return JSON.parse(run.stdout) as boolean[];
}

const headersOf = (hook: ReceivedWebhook) => Object.fromEntries(Object.entries(hook.headers).map(([k, v]) => [k, String(v)]));
const timestampOf = (hook: ReceivedWebhook) => Number(hook.headers['webhook-timestamp']);

describe("webhooks: the README's Python verifier, on real deliveries", { skip: hasPython3 ? false : 'python3 is not installed (apt-get install -y python3)' }, () => {
  let server: TestServer;
  let admin: TestClient;
  const receiver = new WebhookReceiver();
  before(async () => {
    server = await startTestServer(dialects[0] ?? 'sqlite', {
      config: { webhooks: { allowHttp: true, allowedTargets: ['127.0.0.1'], pollIntervalMs: 30, timeoutMs: 2000 } },
    });
    const key = await createTestApiKey(server, ['webhooks:manage', 'webhooks:read']);
    admin = new TestClient(server.url, null);
    admin.bearer = key.secret;
    await receiver.start();
  });
  after(async () => {
    await receiver.stop();
    await server.close();
  });

  test('accepts what Latchkey signed, and only that: not a changed body, another secret, or a timestamp 5 minutes off', async () => {
    const made = await admin.post(`${ADMIN}/webhook-endpoints`, { url: receiver.url, eventTypes: ['user.created'] });
    assert.equal(made.status, 201, made.text);
    const secret = String(made.body.secret);
    await signUp(server.client(), newAuthenticator(), 'readme-python');
    const hook = await waitFor(() => receiver.hooks()[0], 'the user.created delivery');
    const headers = headersOf(hook);
    const body = Buffer.from(hook.body, 'utf8');
    const sentAt = timestampOf(hook);
    const tampered = Buffer.from(hook.body.replace('"user.created"', '"user.deleted"'), 'utf8');
    assert.notDeepEqual(tampered, body, 'the tampered body differs');
    const otherSecret = `whsec_${randomBytes(32).toString('base64')}`;

    assert.deepEqual(
      verifyWithReadme([
        { secret, headers, body, now: sentAt + 1 },
        { secret, headers, body: tampered, now: sentAt + 1 },
        { secret: otherSecret, headers, body, now: sentAt + 1 },
        { secret, headers, body, now: sentAt + 301 },
        { secret, headers, body, now: sentAt - 301 },
        { secret, headers: { ...headers, 'webhook-id': `${headers['webhook-id']}x` }, body, now: sentAt + 1 },
      ]),
      [true, false, false, false, false, false],
    );
    assert.equal((await admin.delete(`${ADMIN}/webhook-endpoints/${made.body.endpoint.id}`)).status, 204);
  });

  test('during a rotation overlap the request carries two signatures, and the old and the new secret each verify', async () => {
    const made = await admin.post(`${ADMIN}/webhook-endpoints`, { url: receiver.url, eventTypes: ['user.created'] });
    assert.equal(made.status, 201, made.text);
    const rotated = await admin.post(`${ADMIN}/webhook-endpoints/${made.body.endpoint.id}/rotate-secret`);
    assert.equal(rotated.status, 200, rotated.text);
    const start = receiver.hooks().length;
    await signUp(server.client(), newAuthenticator(), 'readme-python-rotated');
    const hook = await waitFor(() => receiver.hooks()[start], 'the delivery after the rotation');
    assert.equal(String(hook.headers['webhook-signature']).split(' ').length, 2, 'two signatures');
    const [headers, body, now] = [headersOf(hook), Buffer.from(hook.body, 'utf8'), timestampOf(hook)];
    assert.deepEqual(
      verifyWithReadme([
        { secret: String(made.body.secret), headers, body, now },
        { secret: String(rotated.body.secret), headers, body, now },
      ]),
      [true, true],
    );
  });
});
