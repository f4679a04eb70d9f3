// The console's adoption dashboard, rollout rules, experiments and webhooks pages (issue 14 item
// 6, issue 13) in headless Chromium against a real server on SQLite. A small known history goes
// through the real server (two sign-ups, ceremony telemetry), is sealed and rolled up; the admin
// (made by the CLI, passkey only) sees the hand-counted headline KPIs and the funnel, flips a kill
// switch with a reason and a step-up, starts an experiment with no data yet, and adds a webhook
// endpoint to a receiver on 127.0.0.1 whose test delivery shows in the log and is redelivered.
// axe on each page in light, dark and German; screenshots to e2e/artifacts/console/ (gitignored).
//
//   npm test -- e2e/console-adoption.test.ts
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import type { Browser } from 'playwright-core';
import { launchChromium } from './browser.ts';
import { Person, until, type ConsoleHarness } from './console-person.ts';
import { newAuthenticator, signUp } from '../packages/server/test/helpers/flows.ts';
import { enrollTokenIn, runCli } from '../packages/server/test/helpers/staff.ts';
import type { TestClient } from '../packages/server/test/helpers/test-client.ts';
import { createTestDatabase, freePort, startTestServer, TEST_ORIGIN, type TestServer } from '../packages/server/test/helpers/test-server.ts';

const SHOTS = fileURLToPath(new URL('./artifacts/console/', import.meta.url));
const CHROME_WINDOWS = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/142.0.0.0 Safari/537.36';

let server: TestServer;
let dropDatabase: () => Promise<void>;
let browser: Browser;
let receiver: Server;
const received: { type: string; id: string }[] = [];
const harness = { errors: [] as string[], shots: SHOTS } as ConsoleHarness;
const alice = new Person('alice (admin)', harness);
let enrollUrl = '';

/** A client whose every request says it is Chrome on Windows. */
function chrome(): TestClient {
  const client = server.client();
  const request = client.request.bind(client);
  client.request = (method, path, body, options = {}) => request(method, path, body, { ...options, headers: { 'user-agent': CHROME_WINDOWS, ...options.headers } });
  return client;
}

async function report(client: TestClient, body: Record<string, unknown>, times = 1): Promise<void> {
  for (let i = 0; i < times; i++) {
    const r = await client.post('/api/v1/telemetry/ceremonies', body);
    assert.equal(r.status, 204, r.text);
  }
}

before(async () => {
  mkdirSync(SHOTS, { recursive: true });
  receiver = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString()));
    request.on('end', () => {
      received.push({ type: (JSON.parse(body) as { type: string }).type, id: String(request.headers['webhook-id']) });
      response.writeHead(200, { 'content-type': 'text/plain' }).end('thanks');
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  const port = await freePort();
  const origin = `http://localhost:${port}`;
  const fresh = await createTestDatabase('sqlite');
  dropDatabase = fresh.drop;
  const cli = await runCli(fresh.url, ['staff', 'add', '--username', 'alice', '--role', 'admin']);
  assert.equal(cli.code, 0, cli.stderr);
  enrollUrl = `${origin}/admin/enroll#token=${enrollTokenIn(cli.stdout)}`;
  server = await startTestServer('sqlite', {
    port,
    config: {
      database: { url: fresh.url },
      rp: { id: 'localhost', origins: [origin, TEST_ORIGIN] },
      analytics: { rollupIntervalMs: 3_600_000 },
      webhooks: { allowHttp: true, allowedTargets: ['127.0.0.1'] },
    },
  });

  // The known history (today, UTC). Two sign-ups; four passkey sign-in prompts: 3 completed, 1
  // cancelled (login rate 3/4 = 75.0 %); four add-a-passkey prompts on capable devices: 2 started,
  // 1 created, 1 failed (adoption rate 1/4 = 25.0 %).
  const phone = chrome();
  await signUp(phone, newAuthenticator(), 'adoption-u1');
  await signUp(chrome(), newAuthenticator(), 'adoption-u2');
  const auth = { ceremony: 'authentication', mode: 'modal' };
  await report(phone, { ...auth, outcome: 'offered', platformAuthenticator: true }, 4);
  await report(phone, { ...auth, outcome: 'started' }, 4);
  for (const durationMs of [900, 1100, 1300]) await report(phone, { ...auth, outcome: 'completed', durationMs });
  await report(phone, { ...auth, outcome: 'cancelled', errorName: 'NotAllowedError', durationMs: 4000 });
  const append = { ceremony: 'append', mode: 'modal' };
  await report(phone, { ...append, outcome: 'offered', platformAuthenticator: true }, 4);
  await report(phone, { ...append, outcome: 'started' }, 2);
  await report(phone, { ...append, outcome: 'completed', platformAuthenticator: true });
  await report(phone, { ...append, outcome: 'error', errorName: 'InvalidStateError' });
  // Past the sealer's window, then sealed and folded into the daily rollups.
  server.clock.advance(60_000);
  await server.app.auditChain.seal();
  await server.app.analyticsRollup.run();
  await server.app.analyticsRollup.run();

  browser = await launchChromium();
  Object.assign(harness, { browser, origin });
});

after(async () => {
  await browser?.close();
  await server?.close();
  await dropDatabase?.();
  await new Promise((resolve) => receiver?.close(resolve));
  assert.deepEqual(harness.errors, [], 'no errors in the browser console');
});

describe('console: adoption, rollout, experiments, webhooks', () => {
  test('the admin sees the new sections and the hand-counted headline KPIs and funnel', async () => {
    await alice.open();
    await alice.enrolAndSignIn(enrollUrl);
    const nav = await alice.page.getByRole('navigation', { name: 'Console sections' }).getByRole('link').allInnerTexts();
    for (const name of ['Adoption', 'Rollout', 'Experiments', 'Webhooks']) assert.ok(nav.includes(name), `${name} in ${nav.join(', ')}`);
    await alice.page.getByRole('link', { name: 'Adoption', exact: true }).click();
    await alice.page.getByRole('heading', { level: 1, name: 'Passkey adoption' }).waitFor();
    const adoption = alice.page.locator('p.big[data-kpi="adoption"]');
    await adoption.waitFor();
    assert.equal(await adoption.innerText(), '25.0%');
    assert.equal(await alice.page.locator('p.big[data-kpi="login"]').innerText(), '75.0%');
    const funnel = alice.page.locator('[data-funnel="authentication"]');
    assert.match((await funnel.locator('p#d').first().textContent()) ?? '', /4 offered, 4 started, 3 completed \(75\.0% of those offered\)/);
    await alice.page.locator('[data-funnel="append"] figcaption', { hasText: 'Drop-off by error' }).waitFor();
    // The data behind a chart, for keyboard and screen reader.
    await funnel.getByText('Show the data as a table').first().click();
    assert.match(await funnel.locator('table').first().innerText(), /Offered\s+4\s+100%[\s\S]*Completed\s+3\s+75%/);
    await alice.page.getByLabel('Break down by').selectOption('browser');
    await alice.page.getByRole('figure', { name: 'Sign-ins by passkey, broken down by browser' }).waitFor();
    await alice.page.waitForLoadState('networkidle');
    await alice.capture('20-adoption');
  });

  test('the kill switch: preview, confirm with a reason (step-up), and the API says it is on', async () => {
    await alice.page.getByRole('link', { name: 'Rollout', exact: true }).click();
    await alice.page.getByRole('heading', { level: 1, name: 'Rollout rules' }).waitFor();
    const card = alice.page.locator('section', { has: alice.page.getByRole('heading', { name: 'Passkey button' }) });
    await card.getByRole('button', { name: 'Preview reach' }).click();
    await until(async () => /Reaches \d+ of \d+ users/.test((await card.locator('[data-preview]').innerText()) ?? ''));
    await card.getByRole('button', { name: 'Turn off Passkey button for everyone' }).click();
    await alice.confirmWithReason('Incident INC-7: passkey button breaks checkout', 'Turn off Passkey button for everyone');
    await card.locator('[data-kill="on"]').waitFor();
    await alice.capture('21-rollout');
    const rule = await alice.page.evaluate(async () => (await (await fetch('/api/admin/v1/rollout-rules/passkey_button')).json()) as { killSwitch: boolean });
    assert.equal(rule.killSwitch, true);
    const audit = await alice.page.evaluate(async () => (await (await fetch('/api/admin/v1/audit/events?type=rollout_rule.changed')).json()) as { items: { reason: string | null; actor: { kind: string } }[] });
    assert.equal(audit.items[0]?.reason, 'Incident INC-7: passkey button breaks checkout');
    assert.equal(audit.items[0]?.actor.kind, 'staff');
    // Without a reason the server refuses a staff member's change.
    assert.deepEqual(await alice.forced('PATCH', '/api/admin/v1/rollout-rules/passkey_button', { killSwitch: false }), { status: 400, code: 'reason_required' });
  });

  test('an experiment is created and started, and says there is not enough data yet', async () => {
    await alice.page.getByRole('link', { name: 'Experiments', exact: true }).click();
    await alice.page.getByRole('heading', { level: 1, name: 'Experiments' }).waitFor();
    await alice.page.getByLabel('Key').fill('append-copy');
    await alice.page.getByLabel('Description').fill('Shorter add-a-passkey text');
    await alice.click('Create experiment');
    const card = alice.page.locator('[data-experiment="append-copy"]');
    await card.locator('[data-status="draft"]').waitFor();
    await alice.click('Start append-copy');
    await card.locator('[data-status="running"]').waitFor();
    assert.match(await card.locator('[data-enough="no"]').innerText(), /^Not enough data yet — 0 of \d+ exposures\.$/);
    await alice.capture('22-experiments');
  });

  test('a webhook endpoint to a local receiver: secret once, test delivery in the log with its attempt, redelivered', async () => {
    await alice.page.getByRole('link', { name: 'Webhooks', exact: true }).click();
    await alice.page.getByRole('heading', { level: 1, name: 'Webhook endpoints' }).waitFor();
    const url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
    await alice.page.getByLabel('URL').fill(url);
    await alice.page.getByLabel('Description').fill('Local receiver');
    await alice.page.getByRole('checkbox', { name: 'user.*' }).or(alice.page.getByRole('checkbox', { name: '*', exact: true })).first().check();
    await alice.click('Add endpoint');
    await alice.confirmWithReason('CRM sync, change CHG-51', `Add the endpoint ${url}?`);
    assert.match(await alice.page.getByTestId('webhook-secret').innerText(), /^whsec_/);
    await alice.click('Close');
    const card = alice.page.locator('section.card', { hasText: url });
    await card.getByRole('button', { name: 'Send a test event' }).click();
    await until(async () => received.some((r) => r.type === 'webhook.test'));
    await card.getByRole('button', { name: `Last deliveries: ${url}` }).click();
    // The test event's row (the endpoint, on `*`, also hears of its own creation: webhook_endpoint.created).
    const testRows = card.locator('tr[data-delivery="delivered"]', { hasText: 'webhook.test' });
    await until(async () => {
      if ((await testRows.count()) > 0) return true;
      await card.getByRole('button', { name: `Last deliveries: ${url}` }).click();
      await card.getByRole('button', { name: `Last deliveries: ${url}` }).click();
      return false;
    });
    const row = testRows.first();
    await row.getByRole('button', { name: 'Attempts' }).click();
    assert.match(await card.locator('table[data-attempts]').innerText(), /200\s+\d+ ms\s+thanks/);
    await alice.capture('23-webhooks');
    await row.getByRole('button', { name: 'Redeliver' }).click();
    await until(async () => received.filter((r) => r.type === 'webhook.test').length === 2);
    const [first, second] = received.filter((r) => r.type === 'webhook.test');
    assert.equal(second!.id, first!.id, 'a redelivery keeps the webhook-id');

    // Sign-ins each, as a sample or as one count a minute: chosen per endpoint and outcome; the
    // summaries are not offered as event types (the server would refuse them as such).
    assert.equal(await alice.page.getByRole('checkbox', { name: /\.summary$/ }).count(), 0, 'no summary among the event types');
    assert.equal(await card.locator('[data-signin="succeeded"]').innerText(), 'Each one');
    await card.getByRole('button', { name: 'Change events' }).click();
    await card.getByLabel('Successful sign-ins').selectOption({ label: 'One count a minute' });
    assert.equal(await card.getByLabel('Share sent, %').count(), 0, 'a share only for a sample');
    await card.getByLabel('Failed sign-ins').selectOption({ label: 'A sample' });
    await card.getByLabel('Share sent, %').fill('5');
    await alice.capture('24-webhook-signin-modes');
    await card.getByRole('button', { name: 'Save events' }).click();
    await alice.confirmWithReason('Sign-in volume for the dashboard, CHG-52', `Change the events sent to ${url}?`);
    await until(async () => (await card.locator('[data-signin="succeeded"]').innerText()) === 'One count a minute');
    assert.equal(await card.locator('[data-signin="failed"]').innerText(), 'a sample, 5 %');
    const stored = await server.database.db.selectFrom('webhook_endpoints').select(['signin_failed', 'signin_succeeded']).where('url', '=', url).executeTakeFirstOrThrow();
    assert.deepEqual([JSON.parse(stored.signin_failed), JSON.parse(stored.signin_succeeded)], [{ mode: 'sampled', rate: 0.05 }, { mode: 'summary' }]);
  });
});
