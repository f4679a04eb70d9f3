// The elements and A/B tests of passkey UX (issue 14 items 1 and 3): <latchkey-passkey-append>
// shows the copy of the user's arm of a running append_prompt experiment and reports the exposure
// once it is on screen; <latchkey-auth> re-asks the decisions for a typed username.
// Headless Chromium with a CDP virtual platform authenticator.
//
//   npm test -- e2e/append-experiment.test.ts
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { launchChromium, addPlatformAuthenticator } from './browser.ts';
import { freePort, startTestServer, TEST_ORIGIN, type TestServer } from '../packages/server/test/helpers/test-server.ts';
import { createTestApiKey } from '../packages/server/test/helpers/api-keys.ts';
import { newAuthenticator, signUp } from '../packages/server/test/helpers/flows.ts';
import { startMailbox, userWithEmail, type Mailbox } from '../packages/server/test/helpers/mailbox.ts';

const WINDOWS_EDGE = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36 Edg/130.0.0.0';
/** Apple Passwords (iCloud Keychain): another ecosystem than a Windows PC's. */
const APPLE_PASSWORDS = 'fbfc3007-154e-4ecc-8c0b-6e020557d7bd';
const EXPERIMENT = 'append-copy-e2e';
const COPY: Record<string, string> = { control: 'Sign in faster next time', bold: 'Skip the password for good' };

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

async function exposures(): Promise<Record<string, number>> {
  const answer = await admin('GET', `/experiments/${EXPERIMENT}`);
  assert.equal(answer.status, 200, JSON.stringify(answer.body));
  const arms = (answer.body.result as { arms: { variant: string; exposures: number }[] }).arms;
  return Object.fromEntries(arms.map((arm) => [arm.variant, arm.exposures]));
}

/** A new device with a platform authenticator; `windowsNoHybrid`: a Windows PC that cannot use a phone. */
async function device(options: { windowsNoHybrid?: boolean } = {}): Promise<{ context: BrowserContext; page: Page; exposureRequests: string[] }> {
  const context = await browser.newContext({
    viewport: { width: 720, height: 900 },
    locale: 'en-US',
    timezoneId: 'UTC',
    ...(options.windowsNoHybrid ? { userAgent: WINDOWS_EDGE } : {}),
  });
  if (options.windowsNoHybrid) {
    await context.addInitScript(() => {
      const original = PublicKeyCredential.getClientCapabilities?.bind(PublicKeyCredential);
      Object.defineProperty(PublicKeyCredential, 'getClientCapabilities', {
        value: async () => ({ ...(original ? await original() : {}), hybridTransport: false }),
      });
    });
  }
  const page = await context.newPage();
  page.setDefaultTimeout(20_000);
  const exposureRequests: string[] = [];
  page.on('request', (request) => {
    if (request.method() === 'POST' && /\/api\/v1\/experiments\/[^/]+\/exposures$/.test(request.url())) exposureRequests.push(request.postData() ?? '');
  });
  page.on('console', (message) => {
    if (process.env.DEBUG_E2E) console.log('console:', message.text());
  });
  await addPlatformAuthenticator(context, page);
  return { context, page, exposureRequests };
}

/** A user with a passkey elsewhere, signed in by e-mailed code (no passkey in the session), and their arm. */
async function signedInUser(name: string): Promise<{ cookie: string; arm: string | undefined }> {
  const email = `${name}@example.test`;
  await userWithEmail(server, mailbox, name, email);
  const client = server.client();
  const count = mailbox.codeCount(email);
  assert.equal((await client.post('/api/v1/email-code/sign-in', { email })).status, 202);
  const verified = await client.post('/api/v1/email-code/sign-in/verify', { code: await mailbox.newCode(email, count) });
  assert.equal(verified.status, 200, verified.text);
  const assignments = await client.get('/api/v1/experiments/assignments');
  const arm = (assignments.body as { assignments: Record<string, { variant: string }> }).assignments.append_prompt?.variant;
  return { cookie: client.cookies.get('latchkey_session') as string, arm };
}

/**
 * A page of the app's origin with the append prompt below the fold, the page's copy for the
 * `bold` arm (and a 600 ms delay for it), loading the elements as an app would.
 */
async function appendPage(page: Page): Promise<void> {
  // The app's own page (served here by the browser itself); the elements come from the server.
  await page.route(`${origin}/app-account.html`, (route) =>
    route.fulfill({
      contentType: 'text/html',
      body: `<!doctype html><html lang="en"><body>
    <div id="spacer" style="height: 2400px">Above the fold</div>
    <latchkey-passkey-append id="append" no-conditional-create></latchkey-passkey-append>
    <script type="module">
      const append = document.getElementById('append');
      append.variants = { bold: { strings: { appendTitle: ${JSON.stringify(COPY.bold)}, appendCreate: 'Go passwordless' }, delay: 600 } };
      window.timing = {};
      document.addEventListener('latchkey-decisions', () => { window.timing.decided = performance.now(); });
      new MutationObserver(() => { if (append.dataset.state === 'offer') window.timing.shown ??= performance.now(); }).observe(append, { attributes: true });
      await import('/latchkey.js');
    </script></body></html>`,
    }),
  );
  await page.goto(`${origin}/app-account.html`);
  await page.waitForFunction(() => document.getElementById('append')?.getAttribute('data-state') === 'offer');
}

before(async () => {
  const port = await freePort();
  origin = `http://localhost:${port}`;
  mailbox = await startMailbox();
  server = await startTestServer('sqlite', { port, config: { rp: { id: 'localhost', origins: [origin, TEST_ORIGIN] }, mail: { smtpUrl: mailbox.url } } });
  apiKey = (await createTestApiKey(server, ['experiments:read', 'experiments:write'], 'product owner')).secret;
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  await server?.close();
  await mailbox?.close();
});

test('the append prompt shows the copy of the user’s arm, reports one exposure once on screen, and the winner’s copy after the stop', async () => {
  const created = await admin('POST', '/experiments', {
    key: EXPERIMENT,
    feature: 'append_prompt',
    metric: 'passkey_created',
    variants: [{ key: 'control' }, { key: 'bold' }],
    baselineRate: 0.2,
    minimumDetectableEffect: 0.05,
  });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  assert.equal((await admin('POST', `/experiments/${EXPERIMENT}/start`)).status, 200);

  // One user in each arm (the arm is a keyed hash of the user id: sign up until both are seen).
  const users = new Map<string, string>();
  for (let i = 0; users.size < 2 && i < 40; i++) {
    const user = await signedInUser(`ab-user-${i}`);
    assert.ok(user.arm, 'every user is in the experiment (trafficPercent 100)');
    if (!users.has(user.arm)) users.set(user.arm, user.cookie);
  }
  assert.deepEqual([...users.keys()].sort(), ['bold', 'control']);

  for (const [arm, cookie] of users) {
    const { context, page, exposureRequests } = await device();
    await context.addCookies([{ name: 'latchkey_session', value: cookie, url: origin }]);
    await appendPage(page);
    const append = page.locator('#append');
    assert.equal(await append.getAttribute('data-variant'), arm);
    assert.equal(await append.getAttribute('data-variant-copy'), arm === 'bold' ? 'page' : 'built-in');
    await append.getByRole('heading', { name: COPY[arm] }).waitFor({ state: 'attached' });
    assert.equal(await append.getByRole('button', { name: 'Go passwordless' }).count(), arm === 'bold' ? 1 : 0);
    if (arm === 'bold') {
      // The bold arm's timing: shown 600 ms after the decision came.
      const { decided, shown } = await page.evaluate(() => (window as unknown as { timing: { decided: number; shown: number } }).timing);
      assert.ok(shown - decided >= 590, `shown ${Math.round(shown - decided)} ms after the decision`);
    }
    // Rendered, but below the fold: not shown yet, so not counted.
    await page.waitForTimeout(800);
    assert.equal(exposureRequests.length, 0, `${arm}: no exposure before the prompt is on screen`);
    assert.equal((await exposures())[arm], 0);

    await append.scrollIntoViewIfNeeded();
    await page.waitForFunction(() => document.getElementById('append')?.shadowRoot?.querySelector('section') !== null);
    for (let waited = 0; (await exposures())[arm] === 0 && waited < 10_000; waited += 100) await page.waitForTimeout(100);
    assert.equal((await exposures())[arm], 1, `${arm}: one exposure once on screen`);
    // Scrolled away and back: still the one report.
    await page.evaluate(() => window.scrollTo(0, 0));
    await page.waitForTimeout(300);
    await append.scrollIntoViewIfNeeded();
    await page.waitForTimeout(800);
    assert.deepEqual(exposureRequests, [JSON.stringify({ variant: arm })]);
    await context.close();
  }
  assert.deepEqual(await exposures(), { control: 1, bold: 1 });

  // Stopped with a winner: everybody sees it, and nothing more is counted.
  assert.equal((await admin('POST', `/experiments/${EXPERIMENT}/stop`, { winner: 'bold' })).status, 200);
  for (const cookie of users.values()) {
    const { context, page, exposureRequests } = await device();
    await context.addCookies([{ name: 'latchkey_session', value: cookie, url: origin }]);
    const assignmentsAsked = page.waitForRequest((request) => request.url().endsWith('/api/v1/experiments/assignments'));
    await appendPage(page);
    const append = page.locator('#append');
    assert.equal(await append.getAttribute('data-variant'), 'bold');
    await append.scrollIntoViewIfNeeded();
    await append.getByRole('heading', { name: COPY.bold }).waitFor();
    await assignmentsAsked;
    await page.waitForTimeout(800);
    assert.deepEqual(exposureRequests, [], 'a concluded experiment sends no exposure');
    await context.close();
  }
  assert.deepEqual(await exposures(), { control: 1, bold: 1 });
});

test('identifier-first: no passkey button for a username whose passkeys all live on another ecosystem, on a device without hybrid', async () => {
  // ivy's and jo's only passkeys are in iCloud Keychain; this "Windows PC" cannot use a phone.
  for (const name of ['ivy-icloud', 'jo-icloud']) {
    await signUp(server.client(), newAuthenticator({ aaguid: APPLE_PASSWORDS, backupEligible: true, backupState: true }), name);
  }
  const { context, page } = await device({ windowsNoHybrid: true });
  await page.goto(`${origin}/`);
  const auth = page.locator('latchkey-auth');
  const button = auth.getByRole('button', { name: 'Sign in with a passkey' });
  await button.waitFor();
  assert.equal(await auth.getAttribute('data-passkey-button'), 'eligible');
  const ceremonies: string[] = [];
  page.on('request', (request) => {
    if (request.url().includes('/api/v1/passkeys/authentication/options')) ceremonies.push(request.url());
  });

  // Typed (no submit): the button goes once the server has been asked about ivy.
  const input = auth.getByRole('textbox', { name: 'Username' });
  await input.pressSequentially('ivy-icloud', { delay: 30 });
  await page.waitForFunction(() => document.querySelector('latchkey-auth')?.getAttribute('data-passkey-button') === 'passkeys_on_other_ecosystem_no_hybrid');
  assert.equal(await button.count(), 0);
  await auth.getByRole('button', { name: 'Try another way' }).waitFor();
  assert.match(await page.locator('#why').innerText(), /passkey button: no \(passkeys_on_other_ecosystem_no_hybrid\)/);

  // Cleared: the page's own answer again.
  await input.fill('');
  await button.waitFor();
  assert.equal(await auth.getAttribute('data-passkey-button'), 'eligible');
  // A username without passkeys (here: unknown) keeps the button: trying it offers "Create account as …".
  const asked = page.waitForResponse((response) => response.url().endsWith('/api/v1/passkey-decisions') && response.request().postData()?.includes('nobody-here') === true);
  await input.fill('nobody-here');
  assert.equal((await (await asked).json()).passkeyButton.reason, 'no_passkeys');
  await page.waitForTimeout(200);
  assert.equal(await button.count(), 1);
  assert.equal(await auth.getAttribute('data-passkey-button'), 'eligible');

  // Another such username typed and submitted at once (before the debounce): the submit waits for
  // the answer, and no passkey prompt is started for jo; the fallback is offered instead.
  const fallback = page.evaluate(
    () => new Promise<string>((resolve) => document.querySelector('latchkey-auth')?.addEventListener('latchkey-fallback', (e) => resolve((e as CustomEvent<{ reason: string }>).detail.reason), { once: true })),
  );
  await input.fill('jo-icloud');
  await input.press('Enter');
  assert.equal(await Promise.race([fallback, page.waitForTimeout(10_000).then(() => 'no latchkey-fallback within 10 s')]), 'passkeys_on_other_ecosystem_no_hybrid');
  assert.deepEqual(ceremonies, []);
  assert.equal(await button.count(), 0);
  await context.close();
});
