// Browser tests of the account elements as a visitor meets them: signed-out page loads that log
// nothing in the console, <latchkey-passkeys> and <latchkey-email> placed on a page before sign-in
// that follow sign-in and sign-out by themselves, and the demo's account page adding an e-mail
// address confirmed with the code from the mailbox. Headless Chromium with a CDP virtual
// authenticator, against a real server on SQLite.
//
//   npm test -- e2e/account-elements.test.ts
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { launchChromium, addPlatformAuthenticator } from './browser.ts';
import { startMailbox, type Mailbox } from '../packages/server/test/helpers/mailbox.ts';
import { freePort, startTestServer, type TestServer } from '../packages/server/test/helpers/test-server.ts';

const ARTIFACTS = fileURLToPath(new URL('./artifacts/', import.meta.url));

let server: TestServer;
let mailbox: Mailbox;
let browser: Browser;
let origin: string;

/** A page of the app's own (same origin as the API) with the account elements on it before anyone signs in. */
const TOGETHER = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>All together</title>
<script type="module">
  import { LatchkeyClient } from '/latchkey.js';
  document.getElementById('sign-out').addEventListener('click', () => new LatchkeyClient().signOut());
</script></head>
<body><main>
<button type="button" id="sign-out">Sign out</button>
<latchkey-auth no-conditional no-remember></latchkey-auth>
<latchkey-passkeys></latchkey-passkeys>
<latchkey-email></latchkey-email>
<latchkey-recovery-codes></latchkey-recovery-codes>
</main></body></html>`;

/** Everything a visitor's console would show as a problem: console errors (failed requests included), uncaught errors, 4xx/5xx answers. */
function watch(page: Page): string[] {
  const problems: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error' || message.type() === 'warning') problems.push(`console ${message.type()}: ${message.text()}`);
  });
  page.on('pageerror', (error) => problems.push(`uncaught: ${error.message}`));
  page.on('requestfailed', (request) => {
    // ERR_ABORTED: a load cut short by the next navigation (the account page sending the visitor home).
    const reason = request.failure()?.errorText ?? '';
    if (reason !== 'net::ERR_ABORTED') problems.push(`failed: ${request.method()} ${request.url()} ${reason}`);
  });
  page.on('response', (response) => {
    if (response.status() >= 400) problems.push(`${response.status()}: ${response.request().method()} ${response.url()}`);
  });
  return problems;
}

async function newPage(): Promise<{ context: BrowserContext; page: Page; problems: string[] }> {
  const context = await browser.newContext({ viewport: { width: 720, height: 900 }, colorScheme: 'light', locale: 'en-US', timezoneId: 'UTC' });
  const page = await context.newPage();
  page.setDefaultTimeout(20_000); // generous: the CI machine may be busy
  const problems = watch(page);
  await page.route(`${origin}/together.html`, (route) => route.fulfill({ status: 200, contentType: 'text/html; charset=utf-8', body: TOGETHER }));
  await addPlatformAuthenticator(context, page);
  return { context, page, problems };
}

async function idle(page: Page, selector: string): Promise<void> {
  await page.waitForFunction((s) => document.querySelector(s)?.getAttribute('aria-busy') === 'false', selector);
}

async function statusOf(page: Page, selector: string): Promise<string> {
  return (await page.locator(selector).getByRole('status').innerText()).trim();
}

before(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  const port = await freePort();
  origin = `http://localhost:${port}`;
  mailbox = await startMailbox();
  server = await startTestServer('sqlite', { port, config: { rp: { id: 'localhost', origins: [origin] }, mail: { smtpUrl: mailbox.url } } });
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  await server?.close();
  await mailbox?.close();
});

test('signed-out page loads (home, account, a page with the account elements) log no errors and fail no request', async () => {
  const { context, page, problems } = await newPage();
  await page.goto(`${origin}/`);
  await idle(page, 'latchkey-auth');
  // The account page finds no session and sends the visitor home.
  await page.goto(`${origin}/account.html`);
  await page.waitForURL(`${origin}/`);
  await idle(page, 'latchkey-auth');
  await page.goto(`${origin}/together.html`);
  await idle(page, 'latchkey-passkeys');
  await idle(page, 'latchkey-email');
  await idle(page, 'latchkey-recovery-codes');
  assert.equal(await statusOf(page, 'latchkey-passkeys'), 'Sign in to manage your passkeys.');
  assert.deepEqual(problems, []);
  await context.close();
});

test('<latchkey-passkeys> and <latchkey-email> on the page before sign-in follow sign-up and sign-out by themselves', async () => {
  const { context, page, problems } = await newPage();
  await page.goto(`${origin}/together.html`);
  await idle(page, 'latchkey-passkeys');
  assert.equal(await statusOf(page, 'latchkey-passkeys'), 'Sign in to manage your passkeys.');
  assert.equal(await statusOf(page, 'latchkey-email'), 'Sign in to manage your e-mail address.');
  assert.equal(await page.locator('latchkey-passkeys').getByRole('button', { name: 'Add a passkey' }).count(), 0);

  await page.getByLabel('Username').fill('gina');
  await page.locator('latchkey-auth').getByRole('button', { name: 'Create account' }).click();
  // No refresh() call from the page: the elements heard latchkey-signed-up.
  await page.locator('latchkey-passkeys').getByRole('listitem').first().waitFor();
  await idle(page, 'latchkey-passkeys');
  const [item] = await page.locator('latchkey-passkeys').getByRole('listitem').allInnerTexts();
  assert.doesNotMatch(item!, /Never/, 'the passkey that signed the user up was just used');
  assert.equal(await statusOf(page, 'latchkey-passkeys'), '', 'the stale "Sign in…" line is gone');
  await page.locator('latchkey-email').getByText('No e-mail address yet.', { exact: false }).waitFor();
  assert.equal(await statusOf(page, 'latchkey-email'), '');
  await page.locator('latchkey-recovery-codes').getByText('You have no recovery codes yet.', { exact: false }).waitFor();
  await page.screenshot({ path: `${ARTIFACTS}32-elements-after-sign-up.png`, fullPage: true, animations: 'disabled' });

  // Signing out through the SDK: both elements clear what they showed.
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.locator('latchkey-passkeys').getByText('Sign in to manage your passkeys.').waitFor();
  assert.equal(await page.locator('latchkey-passkeys').getByRole('listitem').count(), 0);
  await page.locator('latchkey-email').getByText('Sign in to manage your e-mail address.').waitFor();
  assert.equal(await page.locator('latchkey-email').getByText('No e-mail address yet.', { exact: false }).count(), 0);
  await page.locator('latchkey-recovery-codes').getByText('Sign in to manage your recovery codes.', { exact: false }).waitFor();
  assert.equal(await page.locator('latchkey-recovery-codes').getByRole('button', { name: 'Make new recovery codes' }).isVisible(), false);
  assert.deepEqual(problems, []);
  await context.close();
});

test('the demo account page: add an e-mail address (after a passkey step-up), confirm it with the mailed code, shown verified', async () => {
  const { context, page, problems } = await newPage();
  await page.goto(`${origin}/`);
  await idle(page, 'latchkey-auth');
  await page.getByLabel('Username').fill('hana');
  await page.locator('latchkey-auth').getByRole('button', { name: 'Create account' }).click();
  await page.waitForURL('**/account.html');
  const box = page.locator('latchkey-email');
  await idle(page, 'latchkey-email');
  await box.getByText('No e-mail address yet.', { exact: false }).waitFor();

  // Ten minutes later the sign-up no longer counts as a recent passkey use: setting an address
  // asks for the passkey again (403 step_up_required), which the virtual authenticator gives.
  server.clock.advance(10 * 60_000);
  const stepUps = async () => (await server.database.db.selectFrom('audit_events').select('id').where('type', '=', 'session.stepped_up').execute()).length;
  const stepUpsBefore = await stepUps();
  await box.getByRole('button', { name: 'Add an e-mail address' }).click();
  const field = box.getByRole('textbox', { name: 'E-mail address' });
  assert.equal(await field.evaluate((el) => (el.getRootNode() as ShadowRoot).activeElement === el), true, 'focus moves to the field');
  await field.fill('not an address');
  await box.getByRole('button', { name: 'Send a code' }).click();
  assert.equal(await statusOf(page, 'latchkey-email'), 'Enter a valid e-mail address.');
  const address = 'hana@example.com';
  const before = mailbox.codeCount(address);
  await field.fill(address);
  await box.getByRole('button', { name: 'Send a code' }).click();
  await box.getByText(`We sent a six-digit code to ${address}.`, { exact: false }).waitFor();
  assert.equal(await stepUps(), stepUpsBefore + 1, 'one passkey step-up');
  assert.ok(await box.getByText('Not confirmed yet').isVisible());
  const code = await mailbox.newCode(address, before);
  const codeField = box.getByRole('textbox', { name: 'Code from the e-mail' });
  assert.equal(await codeField.evaluate((el) => (el.getRootNode() as ShadowRoot).activeElement === el), true, 'focus moves to the code');
  await page.screenshot({ path: `${ARTIFACTS}30-email-code.png`, fullPage: true, animations: 'disabled' });
  const wrong = code === '000000' ? '111111' : '000000';
  await codeField.fill(wrong);
  await box.getByRole('button', { name: 'Confirm address' }).click();
  await box.getByText('That code is wrong, used or expired.', { exact: false }).waitFor();
  await codeField.fill(code);
  await box.getByRole('button', { name: 'Confirm address' }).click();
  await box.getByText('E-mail address confirmed.').waitFor();
  assert.ok(await box.getByText(address, { exact: true }).isVisible());
  assert.ok(await box.getByText('Verified', { exact: true }).isVisible());
  assert.ok(await box.getByRole('button', { name: 'Change e-mail address' }).isVisible());
  await page.screenshot({ path: `${ARTIFACTS}31-email-verified.png`, fullPage: true, animations: 'disabled' });

  // The server agrees, and a reload shows the same.
  const account = await page.evaluate(async () => (await (await fetch('/api/v1/account')).json()) as { email: string | null });
  assert.equal(account.email, address);
  await page.reload();
  await idle(page, 'latchkey-email');
  assert.ok(await box.getByText(address, { exact: true }).isVisible());
  assert.ok(await box.getByText('Verified', { exact: true }).isVisible());
  // The two answers that were meant to fail, and nothing else: 403 step_up_required before the
  // step-up, 401 code_invalid for the wrong code (each also noted by Chromium in the console).
  const expected = [
    /^403: PUT .*\/api\/v1\/account\/email$/,
    /^401: POST .*\/api\/v1\/account\/email\/verify$/,
    /^console error: Failed to load resource: the server responded with a status of (403|401)/,
  ];
  assert.deepEqual(problems.filter((p) => !expected.some((e) => e.test(p))), []);
  assert.equal(problems.length, 4, problems.join('\n'));
  await context.close();
});
