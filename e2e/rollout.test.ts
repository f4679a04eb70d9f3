// Passkey intelligence and gradual rollout in the browser (issue 14): the demo's elements ask the
// server what to offer before they show it. Headless Chromium; the "device" either has a CDP
// virtual platform authenticator or none (isUserVerifyingPlatformAuthenticatorAvailable() false).
//
//   npm test -- e2e/rollout.test.ts
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { launchChromium, addPlatformAuthenticator } from './browser.ts';
import { freePort, startTestServer, TEST_ORIGIN, type TestServer } from '../packages/server/test/helpers/test-server.ts';
import { createTestApiKey } from '../packages/server/test/helpers/api-keys.ts';
import { startMailbox, userWithEmail, type Mailbox } from '../packages/server/test/helpers/mailbox.ts';

let server: TestServer;
let mailbox: Mailbox;
let browser: Browser;
let origin: string;
let apiKey: string;

async function admin(method: string, path: string, body?: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(`${server.url}/api/admin/v1${path}`, {
    method,
    headers: { authorization: `Bearer ${apiKey}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  return { status: response.status, body: response.status === 204 ? {} : ((await response.json()) as Record<string, unknown>) };
}

/** A browser on its own (a new device): with or without a platform authenticator. */
async function device(platformAuthenticator: boolean): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({ viewport: { width: 720, height: 900 }, locale: 'en-US', timezoneId: 'UTC' });
  const page = await context.newPage();
  page.setDefaultTimeout(20_000);
  page.on('console', (message) => {
    if (process.env.DEBUG_E2E) console.log('console:', message.text());
  });
  if (platformAuthenticator) await addPlatformAuthenticator(context, page);
  return { context, page };
}

before(async () => {
  const port = await freePort();
  origin = `http://localhost:${port}`;
  mailbox = await startMailbox();
  server = await startTestServer('sqlite', { port, config: { rp: { id: 'localhost', origins: [origin, TEST_ORIGIN] }, mail: { smtpUrl: mailbox.url }, rollout: { refreshIntervalMs: 2000 } } });
  apiKey = (await createTestApiKey(server, ['rollout:read', 'rollout:write'], 'product owner')).secret;
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  await server?.close();
  await mailbox?.close();
});

test('a device without a platform authenticator gets no append prompt; one with it does', async () => {
  // A user who signs in with an e-mailed code (set up over HTTP with a software authenticator, as TEST_ORIGIN) (no passkey in the session): the account page offers one.
  const email = 'dana@example.test';
  await userWithEmail(server, mailbox, 'dana-rollout', email);
  const signIn = async () => {
    const client = server.client();
    const count = mailbox.codeCount(email);
    assert.equal((await client.post('/api/v1/email-code/sign-in', { email })).status, 202);
    const verified = await client.post('/api/v1/email-code/sign-in/verify', { code: await mailbox.newCode(email, count) });
    assert.equal(verified.status, 200, verified.text);
    return client.cookies.get('latchkey_session') as string;
  };

  const without = await device(false);
  await without.context.addCookies([{ name: 'latchkey_session', value: await signIn(), url: origin }]);
  await without.page.goto(`${origin}/account.html`);
  const append = without.page.locator('#append');
  await without.page.waitForFunction(() => document.getElementById('append')?.getAttribute('aria-busy') === 'false');
  assert.equal(await append.getAttribute('data-state'), 'hidden');
  assert.equal(await append.getAttribute('data-reason'), 'no_platform_authenticator');
  assert.equal(await append.getByRole('button', { name: 'Create a passkey' }).count(), 0);
  assert.match(await without.page.locator('#why').innerText(), /passkey prompt: no \(no_platform_authenticator\)/);

  const withIt = await device(true);
  await withIt.context.addCookies([{ name: 'latchkey_session', value: await signIn(), url: origin }]);
  await withIt.page.goto(`${origin}/account.html`);
  await withIt.page.locator('#append').getByRole('button', { name: 'Create a passkey' }).waitFor();
  assert.equal(await withIt.page.locator('#append').getAttribute('data-reason'), 'eligible');
  // "Not now" is recorded by the server: a reload on another device of the user offers nothing for a while.
  await withIt.page.locator('#append').getByRole('button', { name: 'Not now' }).click();
  const third = await device(true);
  await third.context.addCookies([{ name: 'latchkey_session', value: await signIn(), url: origin }]);
  await third.page.goto(`${origin}/account.html`);
  await third.page.waitForFunction(() => document.getElementById('append')?.getAttribute('aria-busy') === 'false');
  assert.equal(await third.page.locator('#append').getAttribute('data-reason'), 'declined_recently');
  await Promise.all([without.context.close(), withIt.context.close(), third.context.close()]);
});

test('the kill switch, flipped through the management API, removes the passkey button within seconds', async () => {
  const { context, page } = await device(true);
  const auth = page.locator('latchkey-auth');
  await page.goto(`${origin}/`);
  await auth.getByRole('button', { name: 'Sign in with a passkey' }).waitFor();
  assert.equal(await auth.getAttribute('data-passkey-button'), 'eligible');
  assert.match(await page.locator('#why').innerText(), /passkey button: yes \(eligible\)/);

  const flipped = Date.now();
  assert.equal((await admin('PATCH', '/rollout-rules/passkey_button', { killSwitch: true })).status, 200);
  // The page asks again on each load (as a user arriving would); within seconds the button is gone.
  let goneAfter = Number.POSITIVE_INFINITY;
  while (Date.now() - flipped < 10_000) {
    await page.reload();
    await page.waitForFunction(() => document.querySelector('latchkey-auth')?.getAttribute('aria-busy') === 'false');
    if ((await auth.getAttribute('data-passkey-button')) === 'kill_switch') {
      goneAfter = Date.now() - flipped;
      break;
    }
    await page.waitForTimeout(250);
  }
  console.log(`# the passkey button was gone ${goneAfter} ms after the kill switch was flipped`);
  assert.ok(goneAfter < 5000, `${goneAfter} ms`);
  assert.equal(await auth.getByRole('button', { name: 'Sign in with a passkey' }).count(), 0);
  assert.match(await page.locator('#why').innerText(), /passkey button: no \(kill_switch\)/);
  // The fallback is offered instead (the demo's e-mail code form).
  await auth.getByRole('button', { name: 'Try another way' }).click();
  assert.equal(await page.locator('#other-ways').getAttribute('open'), '');

  assert.equal((await admin('PATCH', '/rollout-rules/passkey_button', { killSwitch: false })).status, 200);
  await page.reload();
  await auth.getByRole('button', { name: 'Sign in with a passkey' }).waitFor();
  await context.close();
});
