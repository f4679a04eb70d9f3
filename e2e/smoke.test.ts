// Browser smoke test: the demo page (examples/demo) against a real Latchkey server, in headless
// Chromium with CDP virtual authenticators. It acts as a user (fill, click, read the page) and
// saves a screenshot of each screen to e2e/artifacts/.
//
//   node --test e2e/smoke.test.ts
//
// Chromium: /usr/bin/chromium, or LATCHKEY_CHROMIUM. Never downloads a browser.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import type { Browser, CDPSession, Page } from 'playwright-core';
import { freePort, startTestServer, type TestServer } from '../packages/server/test/helpers/test-server.ts';

const ARTIFACTS = fileURLToPath(new URL('./artifacts/', import.meta.url));
const USERNAME = 'alice';

let server: TestServer;
let browser: Browser;
let page: Page;
let cdp: CDPSession;
let origin: string;
/** Virtual authenticators of the current page, by CDP id. */
const authenticators: string[] = [];
/** Console errors other than the browser's "Failed to load resource" note for expected 4xx answers. */
const consoleErrors: string[] = [];

type AuthenticatorOptions = { transport?: 'internal' | 'usb'; defaultBackupEligibility?: boolean; defaultBackupState?: boolean };

async function addAuthenticator(options: AuthenticatorOptions = {}): Promise<string> {
  const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
    options: {
      protocol: 'ctap2',
      transport: options.transport ?? 'internal',
      hasResidentKey: true,
      hasUserVerification: true,
      isUserVerified: true,
      automaticPresenceSimulation: true,
      ...(options.defaultBackupEligibility !== undefined ? { defaultBackupEligibility: options.defaultBackupEligibility } : {}),
      ...(options.defaultBackupState !== undefined ? { defaultBackupState: options.defaultBackupState } : {}),
    },
  });
  authenticators.push(authenticatorId);
  return authenticatorId;
}
/** Only this authenticator answers (user presence); the others wait for a touch that never comes. */
async function useOnly(authenticatorId: string): Promise<void> {
  for (const id of authenticators) {
    await cdp.send('WebAuthn.setAutomaticPresenceSimulation', { authenticatorId: id, enabled: id === authenticatorId });
  }
}

async function screenshot(name: string): Promise<void> {
  await page.screenshot({ path: `${ARTIFACTS}${name}.png`, fullPage: true, animations: 'disabled' });
}

/** Clicks a button and waits until the page has finished the action it started. */
async function click(name: string): Promise<void> {
  await page.getByRole('button', { name, exact: true }).click();
  await page.waitForFunction(() => document.getElementById('main')?.getAttribute('aria-busy') === 'false');
}

async function statusText(): Promise<string> {
  return (await page.getByRole('status').innerText()).trim();
}

async function statusKind(): Promise<string | null> {
  return page.getByRole('status').getAttribute('data-kind');
}

async function assertSignedIn(username: string, passkeyCount: number): Promise<void> {
  const heading = page.getByRole('heading', { level: 1 });
  assert.equal((await heading.innerText()).trim(), `Signed in as ${username}`, `status: ${await statusText()}`);
  assert.equal(await page.getByRole('textbox', { name: 'Username' }).isVisible(), false);
  const items = page.getByRole('list', { name: 'Your passkeys' }).getByRole('listitem');
  assert.equal(await items.count(), passkeyCount, `passkeys listed: ${await items.allInnerTexts()}`);
  assert.ok(await page.getByRole('button', { name: 'Add a passkey' }).isVisible());
  assert.ok(await page.getByRole('button', { name: 'Sign out' }).isVisible());
}

async function assertSignedOut(): Promise<void> {
  assert.equal((await page.getByRole('heading', { level: 1 }).innerText()).trim(), 'Sign in without a password', `status: ${await statusText()}`);
  assert.ok(await page.getByRole('textbox', { name: 'Username' }).isVisible());
  assert.ok(await page.getByRole('button', { name: 'Sign up', exact: true }).isVisible());
  assert.ok(await page.getByRole('button', { name: 'Sign in with a passkey' }).isVisible());
  assert.equal(await page.getByText('Signed in as').isVisible(), false);
}

async function assertError(message: string): Promise<void> {
  assert.equal(await statusText(), message);
  assert.equal(await statusKind(), 'error');
}

async function signOut(): Promise<void> {
  await click('Sign out');
  await assertSignedOut();
  assert.equal(await statusText(), 'Signed out.');
}

/** A new browser profile (own cookies) with the page and a CDP session for virtual authenticators. */
async function openPage(init?: () => void): Promise<void> {
  const context = await browser.newContext({ viewport: { width: 720, height: 760 }, colorScheme: 'light', locale: 'en-US', timezoneId: 'UTC' });
  if (init) await context.addInitScript(init);
  page = await context.newPage();
  page.setDefaultTimeout(10_000);
  page.on('console', (message) => {
    if (message.type() === 'error' && !message.text().startsWith('Failed to load resource')) consoleErrors.push(message.text());
  });
  page.on('pageerror', (error) => consoleErrors.push(`uncaught: ${error.message}`));
  cdp = await context.newCDPSession(page);
  await cdp.send('WebAuthn.enable', { enableUI: false });
  authenticators.length = 0;
}

async function load(): Promise<void> {
  const response = await page.goto(`${origin}/`);
  // The checks on console errors below mean something only if the page runs under the strict CSP.
  assert.match(response?.headers()['content-security-policy'] ?? '', /script-src 'self'; style-src 'self'/);
  await page.waitForFunction(() => document.getElementById('main')?.getAttribute('aria-busy') === 'false');
}

before(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  const port = await freePort();
  origin = `http://localhost:${port}`;
  server = await startTestServer('sqlite', { port, config: { rp: { id: 'localhost', origins: [origin] } } });
  browser = await chromium.launch({
    executablePath: process.env.LATCHKEY_CHROMIUM ?? '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  await openPage();
});

after(async () => {
  await browser?.close();
  await server?.close();
});

let phone: string;

test('the signed-out page loads with a labelled username field and no CSP or script errors', async () => {
  phone = await addAuthenticator();
  await load();
  await assertSignedOut();
  const field = page.getByLabel('Username');
  assert.equal(await field.getAttribute('autocomplete'), 'username webauthn');
  assert.equal(await statusText(), '');
  await screenshot('01-signed-out');
});

test('sign-up without a username asks for one', async () => {
  await click('Sign up');
  await assertError('Choose a username to sign up');
  assert.equal(await page.getByLabel('Username').getAttribute('aria-invalid'), 'true');
});

test('sign up with a username: signed in with one passkey', async () => {
  await page.getByLabel('Username').fill(USERNAME);
  await click('Sign up');
  await assertSignedIn(USERNAME, 1);
  assert.equal(await statusText(), `Welcome, ${USERNAME}! Your passkey is saved.`);
  const item = await page.getByRole('listitem').first().innerText();
  assert.match(item, /This device only/);
  assert.match(item, /Created/);
  assert.match(item, /Last used\s+Never/);
  const { credentials } = await cdp.send('WebAuthn.getCredentials', { authenticatorId: phone });
  assert.equal(credentials.length, 1);
  assert.equal(credentials[0]?.isResidentCredential, true, 'a discoverable credential');
  await screenshot('02-signed-in');
});

test('a reload keeps the session (GET /session decides the view)', async () => {
  await page.reload();
  await page.waitForFunction(() => document.getElementById('main')?.getAttribute('aria-busy') === 'false');
  await assertSignedIn(USERNAME, 1);
});

test('sign out, then sign in with a discoverable passkey (empty username)', async () => {
  await signOut();
  await screenshot('03-signed-out-after-sign-out');
  assert.equal(await page.getByLabel('Username').inputValue(), '');
  await click('Sign in with a passkey');
  await assertSignedIn(USERNAME, 1);
  assert.equal(await statusText(), 'Signed in.');
  assert.doesNotMatch(await page.getByRole('listitem').first().innerText(), /Last used\s+Never/);
});

test('sign out, then sign in identifier-first (typed username)', async () => {
  await signOut();
  await page.getByLabel('Username').fill(USERNAME);
  await click('Sign in with a passkey');
  await assertSignedIn(USERNAME, 1);
});

test('signing up with a taken username shows the server’s problem', async () => {
  await signOut();
  await page.getByLabel('Username').fill(USERNAME.toUpperCase());
  await click('Sign up');
  await assertSignedOut();
  await assertError('Username is taken');
  await screenshot('04-error-username-taken');
  await page.getByLabel('Username').fill('');
  await click('Sign in with a passkey');
  await assertSignedIn(USERNAME, 1);
});

test('adding a passkey on the same authenticator is refused (excludeCredentials)', async () => {
  await click('Add a passkey');
  await assertError('This device already has a passkey for this account');
  await assertSignedIn(USERNAME, 1);
  await screenshot('05-error-already-registered');
});

let securityKey: string;

test('adding a passkey on a second (synced) authenticator lists two passkeys', async () => {
  securityKey = await addAuthenticator({ transport: 'usb', defaultBackupEligibility: true, defaultBackupState: true });
  await useOnly(securityKey);
  await click('Add a passkey');
  await assertSignedIn(USERNAME, 2);
  assert.equal(await statusText(), 'Passkey added.');
  const texts = await page.getByRole('listitem').allInnerTexts();
  assert.equal(texts.filter((t) => /Synced/.test(t)).length, 1, texts.join('\n---\n'));
  assert.equal(texts.filter((t) => /This device only/.test(t)).length, 1, texts.join('\n---\n'));
  await screenshot('06-two-passkeys');
  await page.emulateMedia({ colorScheme: 'dark' });
  await screenshot('07-two-passkeys-dark');
  await page.emulateMedia({ colorScheme: 'light' });
  await page.setViewportSize({ width: 360, height: 760 });
  await screenshot('08-two-passkeys-narrow');
  await page.setViewportSize({ width: 720, height: 760 });
});

test('the second passkey signs in on its own', async () => {
  await signOut();
  await click('Sign in with a passkey');
  await assertSignedIn(USERNAME, 2);
});

test('a bogus signature is refused with a visible error', async () => {
  await signOut();
  await useOnly(phone);
  await cdp.send('WebAuthn.setResponseOverrideBits', { authenticatorId: phone, isBogusSignature: true });
  try {
    await click('Sign in with a passkey');
  } finally {
    await cdp.send('WebAuthn.setResponseOverrideBits', { authenticatorId: phone, isBogusSignature: false });
  }
  await assertSignedOut();
  await assertError('Passkey could not be verified');
  await screenshot('09-error-bogus-signature');
  await page.emulateMedia({ colorScheme: 'dark' });
  await screenshot('10-error-bogus-signature-dark');
  await page.emulateMedia({ colorScheme: 'light' });
  // The same authenticator, honest again, still works: nothing was locked or consumed wrongly.
  await click('Sign in with a passkey');
  await assertSignedIn(USERNAME, 2);
  await signOut();
});

test('a passkey the server never registered is refused with a visible error', async () => {
  const stranger = await addAuthenticator({ transport: 'usb' }); // Chrome allows one internal authenticator
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  await cdp.send('WebAuthn.addCredential', {
    authenticatorId: stranger,
    credential: {
      credentialId: randomBytes(32).toString('base64'),
      isResidentCredential: true,
      rpId: 'localhost',
      privateKey: privateKey.export({ format: 'der', type: 'pkcs8' }).toString('base64'),
      userHandle: randomBytes(32).toString('base64'),
      userName: 'mallory',
      signCount: 1,
    },
  });
  await useOnly(stranger);
  await click('Sign in with a passkey');
  await assertSignedOut();
  await assertError('Passkey could not be verified');
  await screenshot('11-error-unknown-passkey');
});

test('browsers without the WebAuthn JSON helpers use the page’s fallback', async () => {
  await openPage(() => {
    const pkc = PublicKeyCredential as unknown as Record<string, unknown>;
    delete pkc.parseCreationOptionsFromJSON;
    delete pkc.parseRequestOptionsFromJSON;
    delete (PublicKeyCredential.prototype as unknown as Record<string, unknown>).toJSON;
  });
  await addAuthenticator();
  await load();
  const helpers = await page.evaluate(() => [
    typeof (PublicKeyCredential as unknown as Record<string, unknown>).parseCreationOptionsFromJSON,
    typeof (PublicKeyCredential.prototype as unknown as Record<string, unknown>).toJSON,
  ]);
  assert.deepEqual(helpers, ['undefined', 'undefined']);
  await page.getByLabel('Username').fill('bob');
  await click('Sign up');
  await assertSignedIn('bob', 1);
  await signOut();
  await click('Sign in with a passkey');
  await assertSignedIn('bob', 1);
  await signOut();
  await page.getByLabel('Username').fill('bob');
  await click('Sign in with a passkey');
  await assertSignedIn('bob', 1);
});

test('no script or Content-Security-Policy errors in the console', () => {
  assert.deepEqual(consoleErrors, []);
});
