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
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { addPlatformAuthenticator, launchChromium } from './browser.ts';
import { authenticate, newAuthenticator, signUp } from '../packages/server/test/helpers/flows.ts';
import { enrollTokenIn, runCli } from '../packages/server/test/helpers/staff.ts';
import type { TestClient } from '../packages/server/test/helpers/test-client.ts';
import { createTestDatabase, freePort, startTestServer, TEST_ORIGIN, type TestServer } from '../packages/server/test/helpers/test-server.ts';

const SHOTS = fileURLToPath(new URL('./artifacts/console/', import.meta.url));
const AXE_SOURCE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

let server: TestServer;
let dropDatabase: () => Promise<void>;
let browser: Browser;
let origin: string;
const consoleErrors: string[] = [];

/** One person at their own browser (profile, virtual platform authenticator). */
class Person {
  context!: BrowserContext;
  page!: Page;
  readonly name: string;
  constructor(name: string) {
    this.name = name;
  }

  async open(): Promise<this> {
    this.context = await browser.newContext({ viewport: { width: 1100, height: 900 }, colorScheme: 'light', locale: 'en-US', timezoneId: 'UTC' });
    this.page = await this.context.newPage();
    this.page.setDefaultTimeout(20_000);
    this.page.on('console', (message) => {
      if (message.type() === 'error' && !message.text().startsWith('Failed to load resource')) consoleErrors.push(`${this.name}: ${message.text()}`);
    });
    this.page.on('pageerror', (error) => consoleErrors.push(`${this.name} uncaught: ${error.message}`));
    await addPlatformAuthenticator(this.context, this.page);
    return this;
  }

  async goto(path: string): Promise<void> {
    const response = await this.page.goto(`${origin}${path}`);
    assert.match(response?.headers()['content-security-policy'] ?? '', /script-src 'self'; style-src 'self'/);
    await this.settled();
  }

  /** The page's heading has rendered (every console page has one h1). */
  async settled(): Promise<void> {
    await this.page.locator('h1').first().waitFor();
  }

  heading(): Promise<string> {
    return this.page.locator('h1').first().innerText();
  }

  async click(name: string | RegExp): Promise<void> {
    await this.page.getByRole('button', { name, exact: typeof name === 'string' }).click();
  }

  /** Fills the reason dialog and confirms; the virtual authenticator answers any step-up. */
  async confirmWithReason(reason: string, confirm: string | RegExp): Promise<void> {
    const dialog = this.page.getByRole('dialog');
    await dialog.getByLabel(/Reason|Begründung/).fill(reason);
    await dialog.getByRole('button', { name: confirm }).click();
    await dialog.waitFor({ state: 'hidden' });
  }

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

  /**
   * axe, then screenshots in light, dark and German (the page as it is; theme and language by
   * the page's own controls, then back), axe again in dark and German.
   */
  async capture(name: string): Promise<void> {
    await this.axe(`${name} (light, en)`);
    await this.page.screenshot({ path: `${SHOTS}${name}.png`, fullPage: true, animations: 'disabled' });
    await this.click('Dark theme');
    await this.axe(`${name} (dark)`);
    await this.page.screenshot({ path: `${SHOTS}${name}-dark.png`, fullPage: true, animations: 'disabled' });
    await this.click('Dark theme');
    await this.page.getByRole('combobox', { name: 'Language' }).selectOption('de');
    await this.page.waitForFunction(() => document.documentElement.lang === 'de');
    await this.axe(`${name} (de)`);
    await this.page.screenshot({ path: `${SHOTS}${name}-de.png`, fullPage: true, animations: 'disabled' });
    await this.page.getByRole('combobox', { name: 'Sprache' }).selectOption('en');
    await this.page.waitForFunction(() => document.documentElement.lang === 'en');
  }

  /** Enrols the passkey of an enrolment URL and signs in to the console with it. */
  async enrolAndSignIn(enrollUrl: string): Promise<void> {
    const url = new URL(enrollUrl);
    await this.goto(`${url.pathname}${url.hash}`);
    assert.equal(await this.heading(), 'Set up your staff passkey');
    assert.equal(new URL(this.page.url()).hash, '', 'the token leaves the address bar at once');
    await this.click('Create a passkey');
    await this.page.getByText(/Your passkey is set up/).waitFor();
    await this.page.getByRole('link', { name: 'Go to sign-in' }).click();
    assert.equal(await this.heading(), 'Staff sign-in');
    await this.click('Sign in with a passkey');
    await this.page.getByRole('navigation', { name: 'Console sections' }).waitFor();
  }

  /** A call the page makes with its own session cookie, as a curious staff member could. */
  forced(method: string, path: string, body?: unknown): Promise<{ status: number; code: string }> {
    return this.page.evaluate(
      async ({ method, path, body }) => {
        const response = await fetch(path, { method, headers: { 'content-type': 'application/json' }, body: body === undefined ? '{}' : JSON.stringify(body) });
        const problem = (await response.json().catch(() => ({}))) as { code?: string };
        return { status: response.status, code: problem.code ?? '' };
      },
      { method, path, body },
    );
  }
}

const alice = new Person('alice (admin)');
const sam = new Person('sam (support)');
const ada = new Person('ada (auditor)');
const john = new Person('john (user)');
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
    for (const [link, heading, shot] of [
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
    await sam.enrolAndSignIn(url);
    const nav = await sam.page.getByRole('navigation', { name: 'Console sections' }).getByRole('link').allInnerTexts();
    assert.deepEqual(nav, ['Find a user', 'Audit log'], 'support sees no staff, API keys or settings');
  });
});
