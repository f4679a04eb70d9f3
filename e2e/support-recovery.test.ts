// A support agent starts a recovery by e-mail for a user who lost every passkey; the user opens
// the mailed link in the demo app (examples/demo), which redeems it with the SDK's
// recoverWithSupportCode, lands on the account page in the restricted recovery session and
// creates a new passkey there. Headless Chromium with a CDP virtual authenticator; the mail goes
// through a real SMTP server (test/helpers/mailbox.ts).
//
//   npm test -- e2e/support-recovery.test.ts
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Browser } from 'playwright-core';
import { addPlatformAuthenticator, launchChromium } from './browser.ts';
import { newAuthenticator } from '../packages/server/test/helpers/flows.ts';
import { startMailbox, userWithEmail, type Mailbox } from '../packages/server/test/helpers/mailbox.ts';
import { enrollTokenIn, enrollWithToken, makeStaff, runCli, signIn } from '../packages/server/test/helpers/staff.ts';
import { createTestDatabase, freePort, startTestServer, TEST_ORIGIN, type TestServer } from '../packages/server/test/helpers/test-server.ts';

const ARTIFACTS = fileURLToPath(new URL('./artifacts/', import.meta.url));

let server: TestServer;
let mailbox: Mailbox;
let browser: Browser;
let dropFresh: () => Promise<void>;
let origin: string;
/** The first admin (CLI on the fresh database, enrolled and signed in over HTTP). */
let adminClient: ReturnType<TestServer['client']>;

before(async () => {
  const fresh = await createTestDatabase('sqlite');
  dropFresh = fresh.drop;
  const port = await freePort();
  origin = `http://localhost:${port}`;
  const cli = await runCli(fresh.url, ['staff', 'add', '--username', 'e2e-admin', '--role', 'admin']);
  assert.equal(cli.code, 0, cli.stderr);
  mailbox = await startMailbox();
  // The demo's origin first (the link in the mail points there); the test clients' origin too.
  server = await startTestServer('sqlite', { port, config: { database: { url: fresh.url }, rp: { id: 'localhost', origins: [origin, TEST_ORIGIN] }, mail: { smtpUrl: mailbox.url } } });
  browser = await launchChromium();
  mkdirSync(ARTIFACTS, { recursive: true });
  const admin = server.client();
  const authenticator = newAuthenticator();
  await enrollWithToken(admin, authenticator, enrollTokenIn(cli.stdout.replace(origin, TEST_ORIGIN)));
  await signIn(admin, authenticator);
  adminClient = admin;
});

after(async () => {
  await browser?.close();
  await server?.close();
  await mailbox?.close();
  await dropFresh?.();
});

test('support e-mails a recovery link; the user opens it, lands in the recovery session and creates a new passkey', async () => {
  const { userId } = await userWithEmail(server, mailbox, 'e2e-lost', 'e2e-lost@example.test');
  const support = await makeStaff(server, adminClient, 'e2e-agent', 'support');
  const started = await support.client.post(`/api/admin/v1/users/${userId}/recovery`, { method: 'email', reason: 'Lost phone; identity checked on a call-back' });
  assert.equal(started.status, 201, started.text);
  const mail = await mailbox.waitFor('e2e-lost@example.test', /support-code/);
  const text = mail.raw.replace(/=\r\n/g, '').replace(/=([0-9A-F]{2})/g, (_m, hex: string) => String.fromCharCode(Number.parseInt(hex, 16)));
  const link = new RegExp(`${origin}/#support-code=lk_recover_[A-Za-z0-9_-]{43}`).exec(text)?.[0];
  assert.ok(link, text);

  const context = await browser.newContext({ viewport: { width: 720, height: 820 }, locale: 'en-US', timezoneId: 'UTC' });
  const page = await context.newPage();
  page.setDefaultTimeout(20_000);
  await addPlatformAuthenticator(context, page);
  await page.goto(link);
  await page.waitForURL('**/account.html');
  await page.getByText('Support started the recovery of your account.').waitFor();
  await page.getByText('Finish recovering your account').waitFor();
  assert.equal(await page.locator('latchkey-passkeys').count(), 0, 'a recovery session cannot manage passkeys');
  await page.screenshot({ path: `${ARTIFACTS}support-recovery-1-session.png` });
  await page.locator('latchkey-passkey-append').getByRole('button', { name: 'Create a passkey' }).click();
  await page.getByText('Your account is recovered', { exact: false }).waitFor();
  const session = await page.evaluate(async () => (await (await fetch('/api/v1/session')).json()) as { session: { scope: string } });
  assert.equal(session.session.scope, 'full');
  await page.screenshot({ path: `${ARTIFACTS}support-recovery-2-recovered.png` });

  await context.close();

  // The link worked once: opened again (in another browser), the page says so.
  const other = await browser.newContext({ viewport: { width: 720, height: 820 }, locale: 'en-US', timezoneId: 'UTC' });
  const again = await other.newPage();
  await again.goto(link);
  await again.getByText('This recovery link has expired or was used already', { exact: false }).waitFor({ timeout: 20_000 });
  assert.equal(new URL(again.url()).hash, '', 'the code left the address bar');
  await other.close();
});

test('support reads out a one-time code; the user types it on the sign-in page and creates a new passkey', async () => {
  const { userId } = await userWithEmail(server, mailbox, 'e2e-phone', 'e2e-phone@example.test');
  const support = await makeStaff(server, adminClient, 'e2e-agent-2', 'support');
  const started = await support.client.post(`/api/admin/v1/users/${userId}/recovery`, { method: 'code', reason: 'On the phone, identity checked' });
  assert.equal(started.status, 201, started.text);

  const context = await browser.newContext({ viewport: { width: 720, height: 820 }, locale: 'en-US', timezoneId: 'UTC' });
  const page = await context.newPage();
  page.setDefaultTimeout(20_000);
  await addPlatformAuthenticator(context, page);
  await page.goto(`${origin}/`);
  await page.getByText('Support gave you a recovery code?').click();
  await page.getByLabel('Code from support').fill('AAAA-BBBB-CCCC');
  await page.getByRole('button', { name: 'Continue' }).last().click();
  await page.getByText('This recovery code has expired or was used already', { exact: false }).waitFor();
  // As the user heard it: lower case, with spaces.
  await page.getByLabel('Code from support').fill(started.body.code.toLowerCase().replaceAll('-', ' '));
  await page.screenshot({ path: `${ARTIFACTS}support-recovery-3-code.png` });
  await page.getByRole('button', { name: 'Continue' }).last().click();
  await page.waitForURL('**/account.html');
  await page.getByText('Finish recovering your account').waitFor();
  await page.locator('latchkey-passkey-append').getByRole('button', { name: 'Create a passkey' }).click();
  await page.getByText('Your account is recovered', { exact: false }).waitFor();
  await context.close();
});
