// Browser tests of the demo site (examples/demo) built from <latchkey-auth> and <latchkey-passkeys>,
// against a real Latchkey server, in headless Chromium with CDP virtual authenticators. It acts
// as a user (types, clicks, reads the page), runs axe-core on each screen and saves a screenshot
// of each screen to e2e/artifacts/.
//
//   npm test -- e2e/demo.test.ts
//
// What a virtual authenticator cannot do, and how the tests get the same browser behaviour:
// - A user cancelling the prompt: Chromium's virtual authenticators never "cancel". An
//   authenticator without a matching passkey gives the same NotAllowedError a real cancel or
//   timeout gives (browsers do not tell them apart, on purpose), so that path stands in for it.
// - Passkey autofill (conditional UI): Chromium resolves a conditional request at once with the
//   virtual authenticator's passkey, as if the user picked it from the autofill list. The modal
//   flows run in a second browser profile where conditional mediation is reported unavailable.
//
// Chromium: /usr/bin/chromium, or LATCHKEY_CHROMIUM. Never downloads a browser.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import type { Browser, BrowserContext, CDPSession, Page } from 'playwright-core';
import { launchChromium } from './browser.ts';
import { newAuthenticator, signUp } from '../packages/server/test/helpers/flows.ts';
import { startMailbox, type Mailbox } from '../packages/server/test/helpers/mailbox.ts';
import { freePort, startTestServer, type TestServer } from '../packages/server/test/helpers/test-server.ts';

const ARTIFACTS = fileURLToPath(new URL('./artifacts/', import.meta.url));
const AXE_SOURCE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

/** Chromium's virtual authenticators all report this AAGUID. */
const VIRTUAL_AAGUID = '01020304-0506-0708-0102-030405060708';
const svg = (fill: string) =>
  `data:image/svg+xml;base64,${Buffer.from(`<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><rect width="32" height="32" rx="7" fill="${fill}"/><circle cx="12" cy="16" r="5" fill="none" stroke="#fff" stroke-width="3"/><path d="M17 16h10M23 16v5" stroke="#fff" stroke-width="3"/></svg>`).toString('base64')}`;
const ICON_LIGHT = svg('#2f9e44');
const ICON_DARK = svg('#69db7c');

let server: TestServer;
let mailbox: Mailbox;
let providersDir: string | undefined;
let browser: Browser;
let origin: string;
/** Console errors other than the browser's "Failed to load resource" note for expected 4xx answers. */
const consoleErrors: string[] = [];

type AuthenticatorOptions = { transport?: 'internal' | 'usb'; defaultBackupEligibility?: boolean; defaultBackupState?: boolean };

/** One browser profile: its page, its CDP session and its virtual authenticators. */
class Profile {
  page!: Page;
  cdp!: CDPSession;
  context!: BrowserContext;
  readonly authenticators: string[] = [];

  async open(init?: () => void): Promise<this> {
    this.context = await browser.newContext({ viewport: { width: 720, height: 820 }, colorScheme: 'light', locale: 'en-US', timezoneId: 'UTC' });
    if (init) await this.context.addInitScript(init);
    this.page = await this.context.newPage();
    this.page.setDefaultTimeout(20_000); // generous: the CI machine may be busy
    this.page.on('console', (message) => {
      if (message.type() === 'error' && !message.text().startsWith('Failed to load resource')) consoleErrors.push(message.text());
    });
    this.page.on('pageerror', (error) => consoleErrors.push(`uncaught: ${error.message}`));
    this.cdp = await this.context.newCDPSession(this.page);
    await this.cdp.send('WebAuthn.enable', { enableUI: false });
    return this;
  }

  async addAuthenticator(options: AuthenticatorOptions = {}): Promise<string> {
    const { authenticatorId } = await this.cdp.send('WebAuthn.addVirtualAuthenticator', {
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
    this.authenticators.push(authenticatorId);
    return authenticatorId;
  }

  async removeAuthenticator(authenticatorId: string): Promise<void> {
    await this.cdp.send('WebAuthn.removeVirtualAuthenticator', { authenticatorId });
    this.authenticators.splice(this.authenticators.indexOf(authenticatorId), 1);
  }

  /** Only this authenticator answers (user presence); the others wait for a touch that never comes. */
  async useOnly(authenticatorId: string): Promise<void> {
    for (const id of this.authenticators) {
      await this.cdp.send('WebAuthn.setAutomaticPresenceSimulation', { authenticatorId: id, enabled: id === authenticatorId });
    }
  }

  async screenshot(name: string): Promise<void> {
    await this.page.screenshot({ path: `${ARTIFACTS}${name}.png`, fullPage: true, animations: 'disabled' });
  }

  async home(): Promise<void> {
    const response = await this.page.goto(`${origin}/`);
    // The checks on console errors mean something only if the page runs under the strict CSP.
    assert.match(response?.headers()['content-security-policy'] ?? '', /script-src 'self'; style-src 'self'/);
    await this.authIdle();
  }

  async authIdle(): Promise<void> {
    await this.page.waitForFunction(() => document.querySelector('latchkey-auth')?.getAttribute('aria-busy') === 'false');
  }

  async click(name: string): Promise<void> {
    await this.page.getByRole('button', { name, exact: true }).click();
  }

  /** Clicks a button of <latchkey-auth> and waits until the box has finished (or the page moved on). */
  async authClick(name: string): Promise<void> {
    const t0 = Date.now();
    await this.page.locator('latchkey-auth').getByRole('button', { name, exact: true }).click();
    if (process.env.DEBUG_E2E) this.page.once('close', () => undefined);
    await this.page.waitForFunction(() => {
      const auth = document.querySelector('latchkey-auth');
      return !auth || auth.getAttribute('aria-busy') === 'false';
    });
    if (process.env.DEBUG_E2E && Date.now() - t0 > 2000) console.log(`SLOW authClick ${name}: ${Date.now() - t0} ms`);
  }

  /**
   * For requests no authenticator can answer: Chromium usually rejects them at once
   * (NotAllowedError), but now and then keeps waiting, as a real browser waits for another device.
   * Then the user presses the page's Cancel; both end in the same "cancelled" message.
   */
  async clickOrCancel(name: string): Promise<void> {
    await this.page.locator('latchkey-auth').getByRole('button', { name, exact: true }).click();
    const answered = await this.page
      .waitForFunction(() => document.querySelector('latchkey-auth')?.getAttribute('aria-busy') === 'false', undefined, { timeout: 3000 })
      .then(
        () => true,
        () => false,
      );
    if (!answered) await this.authClick('Cancel');
  }

  async authStatus(): Promise<string> {
    return (await this.page.locator('latchkey-auth').getByRole('status').innerText()).trim();
  }

  async authView(): Promise<string | null> {
    return this.page.locator('latchkey-auth').getAttribute('data-view');
  }

  async passkeyTexts(): Promise<string[]> {
    await this.page.waitForFunction(() => document.querySelector('latchkey-passkeys')?.getAttribute('aria-busy') === 'false');
    return this.page.locator('latchkey-passkeys').getByRole('listitem').allInnerTexts();
  }

  async passkeyNames(): Promise<string[]> {
    await this.passkeyTexts();
    return (await this.page.locator('latchkey-passkeys li .name > span:first-child').allInnerTexts()).map((t) => t.trim());
  }

  async passkeysStatus(): Promise<string> {
    await this.page.waitForFunction(() => document.querySelector('latchkey-passkeys')?.getAttribute('aria-busy') === 'false');
    return (await this.page.locator('latchkey-passkeys').getByRole('status').innerText()).trim();
  }

  async expectAccount(username: string, passkeys: number, notice?: string): Promise<string[]> {
    await this.page.waitForURL('**/account.html').catch(async (error: Error) => {
      throw new Error(`${error.message}; still on ${this.page.url()}: ${await this.authStatus().catch(() => '')}`);
    });
    await this.page.waitForFunction(() => document.getElementById('main')?.getAttribute('aria-busy') === 'false');
    assert.equal((await this.page.getByRole('heading', { level: 1 }).innerText()).trim(), `Signed in as ${username}`);
    const texts = await this.passkeyTexts();
    assert.equal(texts.length, passkeys, texts.join('\n---\n'));
    if (notice !== undefined) assert.equal((await this.page.locator('#notice').innerText()).trim(), notice);
    return texts;
  }

  async signOut(): Promise<void> {
    await this.click('Sign out');
    await this.page.waitForURL((url) => url.pathname === '/');
    await this.authIdle();
    assert.equal((await this.page.locator('#notice').innerText()).trim(), 'Signed out.');
  }

  /** Runs axe-core in the page (shadow roots included) and fails on any violation. */
  async axe(label: string): Promise<void> {
    // page.evaluate runs outside the page's CSP, which (rightly) refuses inline scripts.
    await this.page.evaluate(AXE_SOURCE);
    const violations = await this.page.evaluate(async () => {
      const axe = (globalThis as unknown as { axe: { run: (context: Document, options: object) => Promise<{ violations: { id: string; help: string; nodes: { target: unknown }[] }[] }> } }).axe;
      const result = await axe.run(document, { resultTypes: ['violations'] });
      return result.violations.map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => JSON.stringify(n.target)).join(', ')})`);
    });
    assert.deepEqual(violations, [], `axe on ${label}`);
  }
}

/** Records the WebAuthn Signal API calls the page makes (and still passes them on). */
function spyOnSignals(): void {
  const calls: { method: string; options: unknown }[] = [];
  (globalThis as unknown as { __signals: typeof calls }).__signals = calls;
  const pkc = PublicKeyCredential as unknown as Record<string, (options: unknown) => Promise<void>>;
  for (const method of ['signalUnknownCredential', 'signalAllAcceptedCredentials', 'signalCurrentUserDetails']) {
    const original = pkc[method];
    pkc[method] = (options: unknown) => {
      calls.push({ method, options });
      return original ? original.call(PublicKeyCredential, options) : Promise.resolve();
    };
  }
}

/** Makes the browser report passkey autofill (conditional mediation) as unavailable. */
function withoutConditionalUi(): void {
  const pkc = PublicKeyCredential as unknown as Record<string, unknown>;
  const original = pkc.getClientCapabilities as () => Promise<Record<string, boolean>>;
  pkc.isConditionalMediationAvailable = async () => false;
  pkc.getClientCapabilities = async () => ({ ...(await original.call(PublicKeyCredential)), conditionalGet: false });
}

before(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  const port = await freePort();
  origin = `http://localhost:${port}`;
  providersDir = mkdtempSync(join(tmpdir(), 'latchkey-e2e-'));
  const providersFile = join(providersDir, 'providers.json');
  writeFileSync(providersFile, JSON.stringify({ [VIRTUAL_AAGUID]: { name: 'Virtual Keychain', icon_light: ICON_LIGHT, icon_dark: ICON_DARK } }));
  mailbox = await startMailbox();
  server = await startTestServer('sqlite', { port, config: { rp: { id: 'localhost', origins: [origin] }, webauthn: { providersFile }, mail: { smtpUrl: mailbox.url } } });
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  await server?.close();
  await mailbox?.close();
  if (providersDir) rmSync(providersDir, { recursive: true, force: true });
});

const alice = new Profile();
let phone: string;
let securityKey: string;
/** The credential of alice's deleted passkey, as a CDP credential (private key included). */
let deletedCredential: Record<string, unknown>;
/** Alice's phone passkey, to put on another profile's authenticator ("the right device"). */
let phoneCredential: Record<string, unknown>;

describe('a device with passkey autofill: sign-up, returning device, autofill, passkey management', () => {
  test('the home page loads with a labelled username field, passkey autocomplete and no axe violations', async () => {
    await alice.open(spyOnSignals);
    phone = await alice.addAuthenticator();
    await alice.home();
    assert.equal(await alice.authView(), 'start');
    const field = alice.page.getByLabel('Username');
    assert.equal(await field.getAttribute('autocomplete'), 'username webauthn');
    assert.equal(await alice.authStatus(), '');
    assert.ok(await alice.page.getByRole('button', { name: 'Sign in with a passkey' }).isVisible());
    assert.ok(await alice.page.getByRole('button', { name: 'Create account' }).isVisible());
    await alice.axe('home');
    await alice.screenshot('01-home');
    await alice.page.emulateMedia({ colorScheme: 'dark' });
    await alice.screenshot('01-home-dark');
    await alice.page.emulateMedia({ colorScheme: 'light' });
  });

  test('German strings through the lang property, overrides through the strings property', async () => {
    await alice.page.evaluate(() => {
      document.querySelector('latchkey-auth')!.lang = 'de';
    });
    await alice.page.getByRole('button', { name: 'Mit Passkey anmelden' }).waitFor();
    assert.ok(await alice.page.getByLabel('Benutzername').isVisible());
    await alice.screenshot('01-home-de');
    await alice.page.evaluate(() => {
      document.querySelector('latchkey-auth')!.lang = '';
    });
    // Back to the page's language (<html lang="en">).
    await alice.page.getByRole('button', { name: 'Sign in with a passkey' }).waitFor();
    // Any string can be replaced through the strings property.
    await alice.page.evaluate(() => {
      document.querySelector('latchkey-auth')!.strings = { signIn: 'Log in with a passkey' };
    });
    await alice.page.getByRole('button', { name: 'Log in with a passkey' }).waitFor();
    await alice.page.evaluate(() => {
      document.querySelector('latchkey-auth')!.strings = undefined;
    });
    await alice.page.getByRole('button', { name: 'Sign in with a passkey' }).waitFor();
  });

  test('keyboard only: the focus starts in the username field and Tab reaches both actions in order', async () => {
    const focused = () =>
      alice.page.evaluate(() => {
        const active = document.querySelector('latchkey-auth')?.shadowRoot?.activeElement;
        return active ? (active.id || active.textContent?.trim() || active.tagName) : null;
      });
    await alice.page.getByLabel('Username').focus();
    assert.equal(await focused(), 'username');
    await alice.page.keyboard.press('Tab');
    assert.equal(await focused(), 'Sign in with a passkey');
    await alice.page.keyboard.press('Tab');
    assert.equal(await focused(), 'Create account');
  });

  test('"Create account" without a username asks for one', async () => {
    await alice.authClick('Create account');
    assert.equal(await alice.authStatus(), 'Enter a username to create an account.');
    assert.equal(await alice.page.getByLabel('Username').getAttribute('aria-invalid'), 'true');
    assert.equal(await alice.page.locator('latchkey-auth').getByRole('status').getAttribute('data-kind'), 'error');
  });

  test('sign-up with a username lands on the account page with one passkey', async () => {
    await alice.page.getByLabel('Username').fill('alice');
    await alice.authClick('Create account');
    const [item] = await alice.expectAccount('alice', 1, 'Welcome, alice! Your passkey is saved.');
    assert.match(item!, /This device only/);
    assert.match(item!, /Created/);
    // The passkey just signed the user up (and in): last used now, not "Never".
    assert.doesNotMatch(item!, /Never/);
    assert.match(item!, /Last used\s+\w/);
    const { credentials } = await alice.cdp.send('WebAuthn.getCredentials', { authenticatorId: phone });
    assert.equal(credentials.length, 1);
    assert.equal(credentials[0]?.isResidentCredential, true, 'a discoverable credential');
    // The provider list names Chromium's virtual authenticator (see before()): name and icons.
    assert.match(item!, /Virtual Keychain/);
    const icon = alice.page.locator('latchkey-passkeys li picture').first();
    assert.equal(await icon.locator('img').getAttribute('src'), ICON_LIGHT);
    assert.equal(await icon.locator('source').getAttribute('srcset'), ICON_DARK);
    assert.equal(await icon.locator('source').getAttribute('media'), '(prefers-color-scheme: dark)');
    // Nothing secret on the device: the session is in the HttpOnly cookie, localStorage has a name
    // and the random device id of passkey decisions (README, "Passkey intelligence").
    const stored = await alice.page.evaluate(() => ({ ...localStorage }));
    assert.deepEqual(Object.keys(stored).sort(), ['latchkey:device-id', 'latchkey:last-username']);
    assert.equal(stored['latchkey:last-username'], 'alice');
    assert.match(stored['latchkey:device-id'] ?? '', /^[A-Za-z0-9_-]{22}$/);
    assert.equal(await alice.page.evaluate(() => document.cookie), '');
    await alice.axe('account');
    await alice.screenshot('02-account');
  });

  test('a reload keeps the session', async () => {
    await alice.page.reload();
    await alice.expectAccount('alice', 1);
  });

  test('sign-out returns home, where this device offers "Continue as alice"', async () => {
    await alice.signOut();
    assert.equal(await alice.authView(), 'returning');
    assert.ok(await alice.page.getByRole('button', { name: 'Continue as alice' }).isVisible());
    await alice.axe('returning');
    await alice.screenshot('03-returning');
  });

  test('one tap on "Continue as alice" signs in', async () => {
    await alice.authClick('Continue as alice');
    const [item] = await alice.expectAccount('alice', 1, 'Signed in.');
    assert.doesNotMatch(item!, /Last used\s+Never/);
  });

  test('"Use another account" shows the username field, and passkey autofill signs in', async () => {
    await alice.signOut();
    await alice.authClick('Use another account');
    // Chromium's virtual authenticator answers the conditional request as a user picking the
    // passkey from the username field's autofill.
    await alice.expectAccount('alice', 1, 'Signed in.');
  });

  test('adding a passkey on the same authenticator is refused (excludeCredentials)', async () => {
    await alice.click('Add a passkey');
    assert.equal(await alice.passkeysStatus(), 'This device already has a passkey for this account.');
    assert.equal((await alice.passkeyTexts()).length, 1);
    await alice.screenshot('04-error-already-registered');
  });

  test('adding a passkey on a second (synced) authenticator lists two passkeys', async () => {
    securityKey = await alice.addAuthenticator({ transport: 'usb', defaultBackupEligibility: true, defaultBackupState: true });
    await alice.useOnly(securityKey);
    await alice.click('Add a passkey');
    assert.equal(await alice.passkeysStatus(), 'Passkey added.');
    const texts = await alice.passkeyTexts();
    assert.equal(texts.length, 2);
    assert.equal(texts.filter((t) => /Synced/.test(t)).length, 1, texts.join('\n---\n'));
    assert.equal(texts.filter((t) => /This device only/.test(t)).length, 1, texts.join('\n---\n'));
    await alice.screenshot('05-two-passkeys');
    await alice.page.emulateMedia({ colorScheme: 'dark' });
    await alice.screenshot('05-two-passkeys-dark');
    await alice.page.emulateMedia({ colorScheme: 'light' });
    await alice.page.setViewportSize({ width: 360, height: 820 });
    await alice.screenshot('05-two-passkeys-narrow');
    await alice.page.setViewportSize({ width: 720, height: 820 });
  });

  test('rename a passkey with the keyboard; the name stays after a reload', async () => {
    const [first] = await alice.passkeyNames();
    await alice.page.locator('latchkey-passkeys li').first().getByRole('button', { name: `Rename ${first}` }).click();
    const field = alice.page.getByLabel(`New name for ${first}`);
    assert.equal(await field.evaluate((el) => (el.getRootNode() as ShadowRoot).activeElement === el), true, 'focus moves to the field');
    await alice.screenshot('06-rename');
    await field.fill('Work laptop');
    await field.press('Enter');
    assert.equal(await alice.passkeysStatus(), 'Passkey renamed.');
    assert.equal((await alice.passkeyNames())[0], 'Work laptop');
    await alice.page.reload();
    await alice.expectAccount('alice', 2);
    assert.equal((await alice.passkeyNames())[0], 'Work laptop');
  });

  test('delete a passkey after confirming', async () => {
    const texts = await alice.passkeyTexts();
    const index = texts.findIndex((t) => /Synced/.test(t));
    const synced = (await alice.passkeyNames())[index]!;
    const { credentials } = await alice.cdp.send('WebAuthn.getCredentials', { authenticatorId: securityKey });
    deletedCredential = credentials[0] as unknown as Record<string, unknown>;
    await alice.page.locator('latchkey-passkeys li').nth(index).getByRole('button', { name: `Delete ${synced}` }).click();
    assert.ok(await alice.page.getByText(`Delete “${synced}”? You will no longer be able to sign in with it.`).isVisible());
    await alice.axe('delete confirmation');
    await alice.screenshot('07-delete-confirm');
    await alice.click('Delete passkey');
    assert.equal(await alice.passkeysStatus(), 'Passkey deleted.');
    const left = await alice.passkeyTexts();
    assert.equal(left.length, 1);
    assert.deepEqual(await alice.passkeyNames(), ['Work laptop']);
    await alice.screenshot('08-after-delete');
    // WebAuthn Signal API: the provider hears which passkeys the server still accepts.
    const signals = await alice.page.evaluate(() => (globalThis as unknown as { __signals: { method: string; options: Record<string, unknown> }[] }).__signals);
    const unknown = signals.filter((s) => s.method === 'signalUnknownCredential');
    assert.equal(unknown.length, 1);
    assert.equal(unknown[0]!.options.rpId, 'localhost');
    assert.equal(Buffer.from(String(unknown[0]!.options.credentialId), 'base64url').toString('base64'), deletedCredential.credentialId);
    const accepted = signals.filter((s) => s.method === 'signalAllAcceptedCredentials');
    assert.ok(accepted.length >= 1, 'the list load signals the accepted credentials');
    assert.equal((accepted[0]!.options.allAcceptedCredentialIds as string[]).length, 2);
    const details = signals.find((s) => s.method === 'signalCurrentUserDetails');
    assert.equal(details?.options.name, 'alice');
  });

  test('<latchkey-passkey-append>: hidden after a passkey sign-in, "Not now" is remembered, "Create a passkey" adds one', async () => {
    const page = alice.page;
    assert.equal(await page.locator('#append').getAttribute('data-state'), 'hidden', 'the session was made with a passkey');
    const mount = (conditionalCreate: boolean) =>
      page.evaluate((conditional) => {
        document.querySelector('latchkey-passkey-append.test')?.remove();
        const element = document.createElement('latchkey-passkey-append');
        element.className = 'test';
        element.setAttribute('force', '');
        if (!conditional) element.setAttribute('no-conditional-create', '');
        document.getElementById('passkeys')!.before(element);
      }, conditionalCreate);
    const settled = async () => {
      await page.waitForFunction(() => document.querySelector('latchkey-passkey-append.test')?.getAttribute('aria-busy') === 'false');
      return page.locator('latchkey-passkey-append.test').getAttribute('data-state');
    };
    await mount(false);
    assert.equal(await settled(), 'offer');
    await alice.axe('append offer');
    await alice.screenshot('09-append-offer');
    await page.getByRole('button', { name: 'Not now' }).click();
    assert.equal(await settled(), 'hidden');
    assert.ok(await page.evaluate(() => Object.keys(localStorage).some((k) => k.startsWith('latchkey:append-dismissed:'))));
    await mount(false);
    assert.equal(await settled(), 'hidden', '"Not now" holds for snooze-days');

    await page.evaluate(() => {
      for (const key of Object.keys(localStorage)) if (key.startsWith('latchkey:append-dismissed:')) localStorage.removeItem(key);
    });
    await alice.useOnly(securityKey);
    await mount(false);
    assert.equal(await settled(), 'offer');
    await page.getByRole('button', { name: 'Create a passkey' }).click();
    assert.equal(await settled(), 'done');
    assert.equal((await page.locator('latchkey-passkey-append.test').getByRole('status').innerText()).trim(), 'Passkey added.');
    await page.waitForFunction(() => document.querySelector('latchkey-passkeys')?.shadowRoot?.querySelectorAll('li').length === 2);
    await alice.screenshot('10-append-done');

    // Conditional create: the element asks silently while showing the offer. Chromium's virtual
    // authenticator leaves a conditional create pending (a real password manager decides), so
    // only the pending request and its clean abort by "Not now" can be checked here.
    await mount(true);
    assert.equal(await settled(), 'offer');
    assert.equal(await page.locator('latchkey-passkey-append.test').getAttribute('data-conditional'), 'pending');
    await page.getByRole('button', { name: 'Not now' }).click();
    assert.equal(await settled(), 'hidden');
    assert.equal(await page.locator('latchkey-passkey-append.test').getAttribute('data-conditional'), 'off');
    await page.evaluate(() => document.querySelector('latchkey-passkey-append.test')?.remove());
  });
});

const other = new Profile();

describe('a device without passkey autofill: cancel and retry, identifier-first, discoverable, refusals', () => {
  let internal: string;

  test('cancelled (no passkey on this device) shows why and a retry, which works on the right device', async () => {
    await other.open(withoutConditionalUi);
    internal = await other.addAuthenticator();
    await other.home();
    assert.equal(await other.authView(), 'start');
    await other.clickOrCancel('Sign in with a passkey');
    assert.equal(await other.authStatus(), 'Sign-in was cancelled or timed out.');
    const retry = other.page.getByRole('button', { name: 'Try again' });
    assert.equal(await retry.evaluate((el) => (el.getRootNode() as ShadowRoot).activeElement === el), true, 'focus moves to the retry');
    await other.axe('cancelled');
    await other.screenshot('09-cancelled');
    // The demo asks for a fallback: "Try another way" fires latchkey-fallback with the reason.
    const fallback = other.page.evaluate(
      () => new Promise((resolve) => document.addEventListener('latchkey-fallback', (e) => resolve((e as CustomEvent).detail), { once: true })),
    );
    await other.page.getByRole('button', { name: 'Try another way' }).click();
    assert.deepEqual(await fallback, { reason: 'NotAllowedError' });
    // The user now uses the device that has the passkey (a copy with the current counter).
    const { credentials } = await alice.cdp.send('WebAuthn.getCredentials', { authenticatorId: phone });
    phoneCredential = credentials[0] as unknown as Record<string, unknown>;
    await other.cdp.send('WebAuthn.addCredential', { authenticatorId: internal, credential: phoneCredential as never });
    await other.authClick('Try again');
    await other.expectAccount('alice', 2, 'Signed in.');
  });

  test('while the browser waits for a passkey, the page’s Cancel ends the request; retry works', async () => {
    await other.signOut();
    await other.cdp.send('WebAuthn.setAutomaticPresenceSimulation', { authenticatorId: internal, enabled: false });
    await other.page.getByRole('button', { name: 'Continue as alice' }).click();
    await other.page.locator('latchkey-auth').getByRole('button', { name: 'Cancel' }).waitFor();
    assert.equal(await other.authStatus(), 'Waiting for your passkey…');
    const cancel = other.page.locator('latchkey-auth').getByRole('button', { name: 'Cancel' });
    assert.equal(await cancel.evaluate((el) => (el.getRootNode() as ShadowRoot).activeElement === el), true, 'focus moves to Cancel');
    await other.screenshot('09-waiting');
    await other.authClick('Cancel');
    assert.equal(await other.authStatus(), 'Sign-in was cancelled or timed out.');
    assert.equal(await other.page.getByRole('button', { name: 'Create account as alice' }).count(), 0);
    await other.cdp.send('WebAuthn.setAutomaticPresenceSimulation', { authenticatorId: internal, enabled: true });
    await other.authClick('Try again');
    await other.expectAccount('alice', 2, 'Signed in.');
  });

  test('identifier-first: a typed username goes straight to the passkey prompt', async () => {
    await other.signOut();
    await other.authClick('Use another account');
    await other.page.getByLabel('Username').fill('alice');
    await other.page.getByLabel('Username').press('Enter');
    await other.expectAccount('alice', 2, 'Signed in.');
  });

  test('an unknown username is offered sign-up', async () => {
    await other.signOut();
    await other.authClick('Use another account');
    await other.page.getByLabel('Username').fill('carol');
    await other.clickOrCancel('Sign in with a passkey');
    assert.equal(await other.authStatus(), 'No passkey for “carol” was used. Try again, or create an account with this name.');
    await other.screenshot('10-offer-sign-up');
    await other.authClick('Create account as carol');
    await other.expectAccount('carol', 1, 'Welcome, carol! Your passkey is saved.');
  });

  test('a taken username offers to sign in instead', async () => {
    await other.signOut();
    await other.authClick('Use another account');
    await other.page.getByLabel('Username').fill('ALICE');
    await other.authClick('Create account');
    assert.equal(await other.authStatus(), 'The username “ALICE” is taken. If it is yours, sign in.');
    await other.screenshot('11-username-taken');
    await other.authClick('Sign in as ALICE');
    await other.expectAccount('alice', 2, 'Signed in.');
  });

  test('discoverable sign-in with an empty username, picking one of two accounts on the device', async () => {
    await other.signOut();
    await other.authClick('Use another account');
    await other.authClick('Sign in with a passkey');
    await other.page.waitForURL('**/account.html');
    // The page fills in the name once GET /session answers: wait for it, not just for the URL.
    await other.page.getByRole('heading', { level: 1, name: /^Signed in as (alice|carol)$/ }).waitFor();
  });

  test('a deleted passkey is refused', async () => {
    await other.signOut();
    const stale = await other.addAuthenticator({ transport: 'usb' });
    await other.cdp.send('WebAuthn.addCredential', { authenticatorId: stale, credential: deletedCredential as never });
    await other.useOnly(stale);
    await other.authClick('Use another account');
    await other.authClick('Sign in with a passkey');
    assert.equal(await other.authStatus(), 'The passkey could not be verified.');
    assert.equal(other.page.url(), `${origin}/`);
    await other.screenshot('12-deleted-passkey-refused');
    await other.removeAuthenticator(stale);
  });

  test('a passkey the server never registered is refused', async () => {
    const stranger = await other.addAuthenticator({ transport: 'usb' });
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    await other.cdp.send('WebAuthn.addCredential', {
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
    await other.useOnly(stranger);
    await other.authClick('Try again');
    assert.equal(await other.authStatus(), 'The passkey could not be verified.');
    // Only the device with alice's passkey stays: with several, Chromium may settle an
    // identifier-first request on an authenticator that has none of the allowed credentials.
    await other.removeAuthenticator(stranger);
  });

  test('a bogus signature is refused; the same authenticator, honest again, still works', async () => {
    await other.useOnly(internal);
    await other.cdp.send('WebAuthn.setResponseOverrideBits', { authenticatorId: internal, isBogusSignature: true });
    try {
      await other.page.getByLabel('Username').fill('alice');
      await other.authClick('Sign in with a passkey');
    } finally {
      await other.cdp.send('WebAuthn.setResponseOverrideBits', { authenticatorId: internal, isBogusSignature: false });
    }
    assert.equal(await other.authStatus(), 'The passkey could not be verified.');
    await other.page.emulateMedia({ colorScheme: 'dark' });
    await other.screenshot('13-error-dark');
    await other.page.emulateMedia({ colorScheme: 'light' });
    await other.authClick('Try again');
    await other.expectAccount('alice', 2, 'Signed in.');
  });
});

describe('a browser without the WebAuthn JSON helpers', () => {
  test('signs up, signs in by "Continue as" and by autofill through the SDK’s own conversion', async () => {
    const old = new Profile();
    await old.open(() => {
      const pkc = PublicKeyCredential as unknown as Record<string, unknown>;
      delete pkc.parseCreationOptionsFromJSON;
      delete pkc.parseRequestOptionsFromJSON;
      delete (PublicKeyCredential.prototype as unknown as Record<string, unknown>).toJSON;
    });
    await old.addAuthenticator();
    await old.home();
    const helpers = await old.page.evaluate(() => [
      typeof (PublicKeyCredential as unknown as Record<string, unknown>).parseCreationOptionsFromJSON,
      typeof (PublicKeyCredential.prototype as unknown as Record<string, unknown>).toJSON,
    ]);
    assert.deepEqual(helpers, ['undefined', 'undefined']);
    await old.page.getByLabel('Username').fill('bob');
    await old.authClick('Create account');
    await old.expectAccount('bob', 1);
    await old.signOut();
    await old.authClick('Continue as bob');
    await old.expectAccount('bob', 1);
    await old.signOut();
    await old.authClick('Use another account');
    await old.expectAccount('bob', 1);
    await old.context.close();
  });
});

describe('sensitive operations after a while: step-up and the last passkey', () => {
  test('deleting a passkey ten minutes after sign-in asks for the passkey again, then warns it is the only one', async () => {
    const dora = new Profile();
    await dora.open(withoutConditionalUi);
    await dora.addAuthenticator();
    await dora.home();
    await dora.page.getByLabel('Username').fill('dora');
    await dora.authClick('Create account');
    await dora.expectAccount('dora', 1);
    // The sign-up counted as a fresh user-verified authentication; ten minutes later it no longer does.
    server.clock.advance(10 * 60_000);
    const name = (await dora.passkeyNames())[0]!;
    const stepUps = () => server.database.db.selectFrom('audit_events').select('id').where('type', '=', 'session.stepped_up').execute();
    const before = (await stepUps()).length;
    await dora.page.locator('latchkey-passkeys').getByRole('button', { name: `Delete ${name}` }).click();
    await dora.click('Delete passkey');
    // The element answered 403 step_up_required with a passkey prompt (the virtual authenticator
    // says yes at once), then the server refused the account's only passkey (SEC-32).
    await dora.page.getByText(`Delete “${name}”, your only passkey?`, { exact: false }).waitFor();
    assert.equal(await dora.passkeysStatus(), 'This is the only passkey on your account.');
    assert.equal((await stepUps()).length, before + 1, 'one step-up was recorded');
    await dora.axe('last passkey confirmation');
    await dora.screenshot('15-last-passkey-confirm');
    await dora.click('Delete passkey');
    assert.equal(await dora.passkeysStatus(), 'Passkey deleted.');
    assert.deepEqual(await dora.passkeyNames(), []);
    await dora.context.close();
  });
});

describe('no passkey at hand: sign in with a code by e-mail', () => {
  test('the code from the mailbox signs in (low assurance), a wrong one says so, and the account page offers a passkey', async () => {
    // Set-up through the API, as in the server tests: an account whose address is confirmed.
    const api = server.client({ origin });
    await signUp(api, newAuthenticator({ origin }), 'erin');
    const email = 'erin@example.com';
    let before = mailbox.codeCount(email);
    assert.equal((await api.request('PUT', '/api/v1/account/email', { email })).status, 202);
    assert.equal((await api.post('/api/v1/account/email/verify', { code: await mailbox.newCode(email, before) })).status, 200);

    const erin = new Profile();
    await erin.open(withoutConditionalUi);
    // A device that can make a passkey: the account page offers one after the code sign-in
    // (without a platform authenticator it would not: e2e/rollout.test.ts).
    await erin.addAuthenticator();
    await erin.home();
    await erin.page.getByText('No passkey with you? Sign in with a code by e-mail').click();
    const form = erin.page.locator('latchkey-email-code#email-code');
    before = mailbox.codeCount(email);
    await form.getByLabel('E-mail address').fill(email);
    await form.getByRole('button', { name: 'E-mail me a code' }).click();
    await form.getByText(`If an account has ${email}, a six-digit code is on its way.`, { exact: false }).waitFor();
    const code = await mailbox.newCode(email, before);
    await erin.axe('e-mail code form');
    await erin.screenshot('16-email-code');
    const wrong = code === '000000' ? '111111' : '000000';
    await form.getByLabel('Code from the e-mail').fill(wrong);
    await form.getByRole('button', { name: 'Sign in', exact: true }).click();
    await form.getByText('That code is wrong, used or expired.', { exact: false }).waitFor();
    await erin.screenshot('17-email-code-wrong');
    await form.getByLabel('Code from the e-mail').fill(code);
    await form.getByRole('button', { name: 'Sign in', exact: true }).click();
    await erin.expectAccount('erin', 1, 'Signed in with a code from your e-mail.');
    const session = await erin.page.evaluate(async () => (await (await fetch('/api/v1/session')).json()) as { session: { amr: string[]; aal: number } });
    assert.deepEqual(session.session.amr, ['otp']);
    assert.equal(session.session.aal, 1);
    // A code session did not use a passkey: the account page offers one.
    await erin.page.getByText('Sign in faster next time').waitFor();
    await erin.screenshot('18-signed-in-by-code');
    await erin.context.close();
  });
});

describe('every passkey lost: recovery codes, then account recovery', () => {
  test('codes made on the account page, then e-mail + a recovery code + a new passkey recover the account', async () => {
    const finn = new Profile();
    await finn.open(withoutConditionalUi);
    const lost = await finn.addAuthenticator();
    await finn.home();
    await finn.page.getByLabel('Username').fill('finn');
    await finn.authClick('Create account');
    await finn.expectAccount('finn', 1);
    // Set-up through the API from the page (the <latchkey-email> form has its own test in account-elements.test.ts): a confirmed address.
    const email = 'finn@example.com';
    let before = mailbox.codeCount(email);
    const call = (method: string, path: string, body: unknown) =>
      finn.page.evaluate(
        async ([m, p, b]) => (await fetch(p as string, { method: m as string, headers: { 'content-type': 'application/json' }, body: JSON.stringify(b) })).status,
        [method, path, body] as const,
      );
    assert.equal(await call('PUT', '/api/v1/account/email', { email }), 202);
    assert.equal(await call('POST', '/api/v1/account/email/verify', { code: await mailbox.newCode(email, before) }), 200);

    // The account page makes recovery codes and shows them once.
    const codesBox = finn.page.locator('latchkey-recovery-codes');
    await codesBox.getByText('You have no recovery codes yet.', { exact: false }).waitFor();
    await codesBox.getByRole('button', { name: 'Make new recovery codes' }).click();
    await codesBox.getByRole('listitem').first().waitFor();
    const codes = (await codesBox.getByRole('listitem').allInnerTexts()).map((c) => c.trim());
    assert.equal(codes.length, 10);
    await finn.axe('recovery codes');
    await finn.screenshot('19-recovery-codes');
    await codesBox.getByRole('button', { name: 'I have saved them' }).click();
    await codesBox.getByText('10 unused recovery codes left.', { exact: false }).waitFor();

    // The device with the only passkey is gone.
    await finn.signOut();
    await finn.removeAuthenticator(lost);
    await finn.addAuthenticator();
    await finn.home();
    await finn.authClick('Use another account');
    await finn.page.getByText('Lost every passkey? Recover your account').click();
    const recovery = finn.page.locator('latchkey-email-code[mode="recovery"]');
    before = mailbox.codeCount(email);
    await recovery.getByLabel('E-mail address').fill(email);
    await recovery.getByRole('button', { name: 'E-mail me a code' }).click();
    const mailed = await mailbox.newCode(email, before);
    // A wrong recovery code is refused, whatever the e-mailed code (SEC-39).
    await recovery.getByLabel('Code from the e-mail').fill(mailed);
    await recovery.getByLabel('Recovery code').fill('AAAA-BBBB-CCCC-DDDD-EEEE-FFFF');
    await recovery.getByRole('button', { name: 'Continue' }).click();
    await recovery.getByText('That recovery code is wrong or was used.', { exact: false }).waitFor();
    // The e-mailed code was spent by that try: ask for a new one, as a user would.
    await recovery.getByRole('button', { name: 'Send a new code' }).click();
    server.clock.advance(61_000); // the resend cooldown
    before = mailbox.codeCount(email);
    await recovery.getByRole('button', { name: 'E-mail me a code' }).click();
    await recovery.getByLabel('Code from the e-mail').fill(await mailbox.newCode(email, before));
    await recovery.getByLabel('Recovery code').fill(codes[0]!);
    await recovery.getByRole('button', { name: 'Continue' }).click();
    await finn.page.waitForURL('**/account.html');
    await finn.page.getByText('Finish recovering your account').waitFor();
    assert.equal(await finn.page.locator('latchkey-passkeys').count(), 0, 'a recovery session cannot manage passkeys');
    await finn.screenshot('20-recovery-session');
    await finn.page.locator('latchkey-passkey-append').getByRole('button', { name: 'Create a passkey' }).click();
    await finn.page.getByText('Your account is recovered', { exact: false }).waitFor();
    const texts = await finn.passkeyTexts();
    assert.equal(texts.length, 2, 'the new passkey next to the lost one (which the user can now delete)');
    const session = await finn.page.evaluate(async () => (await (await fetch('/api/v1/session')).json()) as { session: { scope: string } });
    assert.equal(session.session.scope, 'full');
    await finn.screenshot('21-recovered');
    await finn.context.close();
  });
});

describe('a browser without WebAuthn', () => {
  test('says so, and still shows the fallback slot', async () => {
    const none = new Profile();
    await none.open(() => {
      delete (globalThis as unknown as Record<string, unknown>).PublicKeyCredential;
    });
    await none.home();
    assert.equal(await none.authView(), 'unsupported');
    assert.equal(await none.authStatus(), 'This browser does not support passkeys.');
    assert.ok(await none.page.getByText('No passkey with you? Sign in with a code by e-mail').isVisible());
    assert.ok(await none.page.getByRole('button', { name: 'Try another way' }).isVisible());
    assert.equal(await none.page.getByLabel('Username').count(), 0);
    await none.axe('unsupported');
    await none.screenshot('14-unsupported');
    await none.context.close();
  });
});

test('each ceremony’s client-side outcome was reported and kept as an audit event', async () => {
  const rows = await server.database.db.selectFrom('audit_events').select(['data', 'browser', 'actor_user_id']).where('type', '=', 'ceremony.reported').execute();
  const reports = rows.map((r) => JSON.parse(r.data!) as { ceremony: string; mode: string; outcome: string; errorName?: string; conditionalGet?: boolean });
  const seen = new Set(reports.map((r) => `${r.ceremony}/${r.mode}/${r.outcome}${r.errorName ? `/${r.errorName}` : ''}`));
  for (const expected of [
    'authentication/modal/offered',
    'registration/modal/started',
    'registration/modal/completed',
    'authentication/modal/completed',
    'authentication/modal/cancelled',
    'authentication/conditional/offered',
    'authentication/conditional/completed',
    'registration/modal/error/InvalidStateError',
    'authentication/modal/error/verification_failed',
  ]) {
    assert.ok(seen.has(expected), `${expected} in ${[...seen].join(', ')}`);
  }
  assert.ok(reports.some((r) => r.conditionalGet === false) && reports.some((r) => r.conditionalGet === true), 'capabilities are reported');
  assert.ok(rows.every((r) => r.browser?.startsWith('Chrome')), 'the user agent is parsed');
});

test('no script or Content-Security-Policy errors in the console', () => {
  assert.deepEqual(consoleErrors, []);
});
