// The support console (/admin, packages/console) in headless Chromium against a real server on
// SQLite (like the other browser tests; the HTTP tests of the same endpoints run on both
// dialects). A fresh install makes its first admin with the CLI, who enrols a passkey on the
// enrolment page, signs in and adds a support agent; the agent finds a user by a typo'd prefix,
// reads the explained failure in the timeline, revokes a session (reason + passkey step-up) and
// gives a one-time recovery code that the user redeems; an auditor sees the audit log and its
// export, no action buttons, and is refused when forcing a call. axe-core runs on every page;
// screenshots of every page in light, dark and German go to e2e/artifacts/console/ (gitignored).
//
//   npm test -- e2e/console.test.ts
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Browser } from 'playwright-core';
import { launchChromium } from './browser.ts';
import { Person, until, type ConsoleHarness } from './console-person.ts';
import { authenticate, newAuthenticator, signUp } from '../packages/server/test/helpers/flows.ts';
import { createTestApiKey } from '../packages/server/test/helpers/api-keys.ts';
import { enrollTokenIn, runCli } from '../packages/server/test/helpers/staff.ts';
import type { TestClient } from '../packages/server/test/helpers/test-client.ts';
import { createTestDatabase, freePort, startTestServer, TEST_ORIGIN, type TestServer } from '../packages/server/test/helpers/test-server.ts';

const SHOTS = fileURLToPath(new URL('./artifacts/console/', import.meta.url));

let server: TestServer;
let dropDatabase: () => Promise<void>;
let browser: Browser;
let origin: string;
const consoleErrors: string[] = [];

const harness = { errors: consoleErrors, shots: SHOTS } as ConsoleHarness;
const alice = new Person('alice (admin)', harness);
const sam = new Person('sam (support)', harness);
const ada = new Person('ada (auditor)', harness);
const john = new Person('john (user)', harness);
let johnId = '';
/** john's own HTTP client (a second device, signed in by the API). */
let johnPhone: TestClient;

before(async () => {
  mkdirSync(SHOTS, { recursive: true });
  const port = await freePort();
  origin = `http://localhost:${port}`;
  const fresh = await createTestDatabase('sqlite');
  dropDatabase = fresh.drop;
  // The first admin, before the server ever ran: as an operator would on a fresh install.
  const cli = await runCli(fresh.url, ['staff', 'add', '--username', 'alice', '--role', 'admin']);
  assert.equal(cli.code, 0, cli.stderr);
  process.env.CONSOLE_E2E_ENROLL = `${origin}/admin/enroll#token=${enrollTokenIn(cli.stdout)}`;
  server = await startTestServer('sqlite', { port, config: { database: { url: fresh.url }, rp: { id: 'localhost', origins: [origin, TEST_ORIGIN] } } });
  browser = await launchChromium();
  Object.assign(harness, { browser, origin });
});

after(async () => {
  await browser?.close();
  await server?.close();
  await dropDatabase?.();
  assert.deepEqual(consoleErrors, [], 'no errors in the browser console');
});

describe('support console', () => {
  test('fresh install: the CLI-made admin enrols a passkey, signs in (passkey only), and every admin page is axe clean', async () => {
    await alice.open();
    await alice.goto('/admin');
    assert.equal(await alice.heading(), 'Staff sign-in');
    await alice.capture('01-sign-in');
    await alice.enrolAndSignIn(process.env.CONSOLE_E2E_ENROLL!);
    assert.equal(await alice.heading(), 'Find a user');
    const focused = await alice.page.evaluate(() => {
      let el = document.activeElement;
      while (el?.shadowRoot?.activeElement) el = el.shadowRoot.activeElement;
      return el?.id;
    });
    assert.equal(focused, 'q', 'the search box has focus after sign-in');
    await alice.capture('02-find-empty');
    // A webhook endpoint, added by the company's backend with an API key (the console lists it).
    const hooks = (await createTestApiKey(server, ['webhooks:manage', 'webhooks:read'], 'hooks')).secret;
    const made = await fetch(`${server.url}/api/admin/v1/webhook-endpoints`, {
      method: 'POST',
      headers: { authorization: `Bearer ${hooks}`, 'content-type': 'application/json' },
      body: JSON.stringify({ url: 'https://hooks.example.com/latchkey', eventTypes: ['user.*', 'session.*'], description: 'CRM sync' }),
    });
    assert.equal(made.status, 201, await made.text());
    for (const [link, heading, shot] of [
      ['Webhooks', 'Webhook endpoints', '16-webhooks'],
      ['Staff', 'Staff', '10-staff'],
      ['API keys', 'API keys', '11-api-keys'],
      ['Settings', 'Effective configuration', '12-settings'],
    ] as const) {
      await alice.page.getByRole('link', { name: link, exact: true }).click();
      await alice.page.getByRole('heading', { level: 1, name: heading }).waitFor();
      await alice.page.waitForLoadState('networkidle');
      await alice.capture(shot);
    }
  });

  test('the admin adds a support agent (reason dialog) and gets an enrolment link; the agent enrols and signs in', async () => {
    await alice.page.getByRole('link', { name: 'Staff', exact: true }).click();
    await alice.page.getByLabel('Username').fill('sam');
    await alice.page.getByLabel('Role', { exact: true }).selectOption('support');
    await alice.click('Add');
    await alice.axe('reason dialog');
    await alice.page.screenshot({ path: `${SHOTS}13-reason-dialog.png`, animations: 'disabled' });
    await alice.confirmWithReason('New support agent, ticket HR-12', 'Add');
    const url = await alice.page.getByTestId('enroll-url').innerText();
    assert.match(url, /\/admin\/enroll#token=lk_append_/);
    await alice.page.screenshot({ path: `${SHOTS}14-staff-added.png`, fullPage: true, animations: 'disabled' });
    await sam.open();
    await sam.openEnrolment(url);
    await sam.capture('09-enroll');
    await sam.enrolAndSignIn(null);
    const nav = await sam.page.getByRole('navigation', { name: 'Console sections' }).getByRole('link').allInnerTexts();
    assert.deepEqual(nav, ['Find a user', 'Audit log'], 'support sees no staff, API keys or settings');
  });

  test('support finds a user by a typo\'d prefix with the keyboard, reads the explained failure, revokes a session (reason + step-up)', async () => {
    const authenticator = newAuthenticator();
    johnPhone = server.client();
    johnId = (await signUp(johnPhone, authenticator, 'john.smith')).user.id;
    for (const other of ['joan.miller', 'johanna.berg']) await signUp(server.client(), newAuthenticator(), other);
    const laptop = server.client();
    assert.equal((await authenticate(laptop, authenticator, { username: 'john.smith' })).verify.status, 200);
    // A sign-in relayed by a look-alike site: the passkey signed for another origin.
    const phished = await authenticate(server.client(), authenticator, { username: 'john.smith' }, { clientData: { origin: 'https://login-examp1e.com' } });
    assert.equal(phished.verify.status, 401);

    await sam.goto('/admin');
    const search = sam.page.getByRole('combobox', { name: /Username, e-mail/ });
    await search.pressSequentially('jhon', { delay: 40 });
    const option = sam.page.getByRole('option', { name: /john\.smith/ });
    await option.waitFor();
    assert.match(await option.innerText(), /similar name/, 'found one typo away');
    await sam.capture('03-find-results');
    await search.press('ArrowDown');
    await search.press('ArrowUp');
    assert.equal(await option.getAttribute('aria-selected'), 'true');
    await search.press('Enter');
    await sam.page.getByRole('heading', { level: 1, name: 'john.smith' }).waitFor();
    assert.equal(new URL(sam.page.url()).pathname, `/admin/users/${johnId}`);

    const failure = sam.page.locator('ol.timeline > li[data-outcome="failure"]').first();
    await failure.waitFor();
    assert.match(await failure.innerText(), /What it means[\s\S]*Possible phishing[\s\S]*What to tell the user/i);
    await sam.capture('04-user-support');

    // Long enough after sign-in that a destructive action needs a fresh passkey confirmation.
    server.clock.advance(20 * 60_000);
    assert.equal(await sam.page.evaluate(async () => (await (await fetch('/api/admin/v1/me')).json()).stepUpValidUntil), null);
    const sessions = sam.page.getByRole('button', { name: /^Revoke the session from/ });
    assert.equal(await sessions.count(), 2);
    await sessions.first().click();
    await sam.confirmWithReason('Caller lost the laptop, ticket SUP-881', 'Revoke');
    await sam.page.locator('p.notice', { hasText: 'The session is revoked.' }).waitFor();
    assert.equal(await sessions.count(), 1);
    assert.notEqual(await sam.page.evaluate(async () => (await (await fetch('/api/admin/v1/me')).json()).stepUpValidUntil), null, 'the passkey step-up ran');
    const alive = [(await johnPhone.get('/api/v1/session')).status, (await laptop.get('/api/v1/session')).status].sort();
    assert.deepEqual(alive, [200, 401], 'exactly one of john\'s sessions ended');
    const audit = await sam.page.evaluate(async () => (await (await fetch('/api/admin/v1/audit/events?type=session.revoked')).json()) as { items: { reason: string | null; actor: { kind: string } }[] });
    assert.equal(audit.items[0]?.reason, 'Caller lost the laptop, ticket SUP-881');
    assert.equal(audit.items[0]?.actor.kind, 'staff');
  });

  test('support gives a one-time recovery code in large type; the user redeems it and enrols a new passkey', async () => {
    await sam.click('Give a one-time recovery code');
    await sam.confirmWithReason('Verified caller by callback, lost phone', 'Give a one-time recovery code');
    const codeDialog = sam.page.getByRole('dialog', { name: 'One-time recovery code' });
    await codeDialog.waitFor();
    const code = (await sam.page.getByTestId('recovery-code').innerText()).trim();
    assert.match(code, /^[A-Z0-9]{4}(-[A-Z0-9]{4})+$/);
    const fontSize = await sam.page.getByTestId('recovery-code').evaluate((el) => Number.parseFloat(getComputedStyle(el).fontSize));
    assert.ok(fontSize >= 28, `large, readable type (${fontSize}px)`);
    await sam.axe('recovery code dialog');
    await sam.page.screenshot({ path: `${SHOTS}05-recovery-code.png`, animations: 'disabled' });
    await codeDialog.getByRole('button', { name: 'I have read it out' }).click();
    assert.equal(await sam.page.getByTestId('recovery-code').innerText(), '', 'shown once');

    // The user, on the site's recovery path (the SDK of /latchkey.js), with a new device.
    await john.open();
    await john.page.goto(`${origin}/`);
    const result = await john.page.evaluate(async (supportCode) => {
      const { LatchkeyClient } = (await import('/latchkey.js' as string)) as typeof import('../packages/sdk/src/index.ts');
      const client = new LatchkeyClient();
      const recovered = await client.recoverWithSupportCode(supportCode);
      const scope = recovered.session.scope;
      await client.addPasskey();
      const after = await client.getSession();
      return { scope, afterScope: after?.session.scope ?? null, username: after?.user.username ?? null };
    }, code);
    assert.deepEqual(result, { scope: 'recovery', afterScope: 'full', username: 'john.smith' });
    const overview = await sam.page.evaluate(async (id) => (await (await fetch(`/api/admin/v1/users/${id}/overview`)).json()) as { passkeys: unknown[] }, johnId);
    assert.equal(overview.passkeys.length, 2, 'a new passkey was enrolled');
    await sam.page.reload();
    await sam.page.locator('ol.timeline').waitFor();
    assert.match(await sam.page.locator('ol.timeline').innerText(), /Support started a recovery/);
  });

  test('an auditor sees the audit log, its chain verdict and the export, no action buttons, and a forced call is refused', async () => {
    await alice.page.getByRole('link', { name: 'Staff', exact: true }).click();
    await alice.page.getByLabel('Username').fill('ada');
    await alice.page.getByLabel('Role', { exact: true }).selectOption('auditor');
    await alice.click('Add');
    await alice.confirmWithReason('Quarterly access review', 'Add');
    const url = await alice.page.getByTestId('enroll-url').innerText();
    await ada.open();
    await ada.enrolAndSignIn(url);
    const nav = await ada.page.getByRole('navigation', { name: 'Console sections' }).getByRole('link').allInnerTexts();
    assert.deepEqual(nav, ['Find a user', 'Audit log', 'Staff', 'Adoption', 'Rollout', 'Experiments', 'Webhooks', 'Settings']);

    await ada.page.getByRole('link', { name: 'Audit log' }).click();
    await ada.page.locator('[data-verdict]').waitFor();
    assert.equal(await ada.page.locator('[data-verdict]').getAttribute('data-verdict'), 'ok');
    await ada.page.locator('tbody tr').first().waitFor();
    await ada.page.getByLabel('Event type').fill('session.revoked');
    await ada.click('Search');
    await until(async () => (await ada.page.locator('tbody tr').count()) > 0 && (await ada.page.locator('tbody tr', { hasNotText: 'session.revoked' }).count()) === 0);
    await ada.capture('06-audit');
    const [download] = await Promise.all([ada.page.waitForEvent('download'), ada.click('Export CSV')]);
    assert.match(download.suggestedFilename(), /^latchkey-audit-.*\.csv$/);
    const csv = readFileSync((await download.path())!, 'utf8');
    assert.match(csv, /session\.revoked/);
    assert.match(csv, /Caller lost the laptop, ticket SUP-881/);

    await ada.goto(`/admin/users/${johnId}`);
    await ada.page.locator('ol.timeline').waitFor();
    for (const name of ['Disable account', 'Revoke all sessions', 'Give a one-time recovery code', 'Lift lockout']) {
      assert.equal(await ada.page.getByRole('button', { name }).count(), 0, `no ${name} for an auditor`);
    }
    assert.equal(await ada.page.getByRole('button', { name: /^(Revoke the session|Delete passkey)/ }).count(), 0);
    await ada.capture('07-user-auditor');
    // Rollout rules, experiments and webhooks: read only for an auditor.
    await ada.goto('/admin/rollout');
    await ada.page.getByRole('heading', { level: 2, name: 'Passkey button' }).waitFor();
    assert.equal(await ada.page.getByRole('button', { name: /^(Turn off|Save)/ }).count(), 0, 'no kill switch or save for an auditor');
    assert.equal(await ada.page.getByLabel('Percentage of users').first().isDisabled(), true);
    await ada.goto('/admin/experiments');
    await ada.page.getByText('No experiments yet.').waitFor();
    assert.equal(await ada.page.getByRole('button', { name: 'Create experiment' }).count(), 0);
    await ada.goto('/admin/webhooks');
    await ada.page.getByText('https://hooks.example.com/latchkey').waitFor();
    assert.equal(await ada.page.getByRole('button', { name: /^(Add endpoint|Send a test event|Rotate secret|Delete)/ }).count(), 0);
    assert.deepEqual(await ada.forced('PATCH', '/api/admin/v1/rollout-rules/passkey_button', { killSwitch: true, reason: 'curious auditor' }), { status: 403, code: 'insufficient_scope' });
    // The server decides: the same calls made by hand are refused.
    assert.deepEqual(await ada.forced('POST', `/api/admin/v1/users/${johnId}/disable`, { reason: 'curious auditor' }), { status: 403, code: 'insufficient_scope' });
    assert.deepEqual(await ada.forced('DELETE', `/api/admin/v1/users/${johnId}/sessions`), { status: 403, code: 'insufficient_scope' });
    assert.deepEqual(await sam.forced('POST', '/api/admin/v1/staff', { username: 'mallory', role: 'admin', reason: 'promote a friend' }), { status: 403, code: 'insufficient_scope' });
    const samExport = await sam.page.evaluate(async () => (await fetch('/api/admin/v1/audit/export?format=csv')).status);
    assert.equal(samExport, 403, 'support cannot export');
  });

  test('the admin creates an API key with scope checkboxes (secret shown once, copy button) and revokes it', async () => {
    await alice.page.getByRole('link', { name: 'API keys' }).click();
    await alice.page.getByLabel('Name').fill('crm backend');
    await alice.page.getByRole('checkbox', { name: 'users:read' }).check();
    await alice.page.getByRole('checkbox', { name: 'append_tokens:issue' }).check();
    await alice.click('Create an API key');
    await alice.confirmWithReason('CRM integration, change CHG-42', 'Create an API key');
    const secret = await alice.page.getByTestId('api-key-secret').innerText();
    assert.match(secret, /^lk_live_/);
    await alice.page.getByRole('button', { name: 'Copy' }).waitFor();
    await alice.capture('15-api-key-created');
    const lookup = await fetch(`${server.url}/api/admin/v1/users/${johnId}`, { headers: { authorization: `Bearer ${secret}` } });
    assert.equal(lookup.status, 200, 'the new key works');
    await alice.page.getByRole('button', { name: 'Revoke the key crm backend' }).click();
    await alice.confirmWithReason('Rotated', 'Revoke');
    await alice.page.locator('p.notice', { hasText: 'The key is revoked.' }).waitFor();
    assert.equal((await fetch(`${server.url}/api/admin/v1/users/${johnId}`, { headers: { authorization: `Bearer ${secret}` } })).status, 401);
  });
});
