// The console e2e tests' person at a browser: a profile with a virtual platform authenticator,
// navigation under the page CSP, the reason dialog, axe and the light/dark/German screenshots.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { addPlatformAuthenticator } from './browser.ts';

const AXE_SOURCE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

/** What every person of one test file shares (set in its before()). */
export interface ConsoleHarness {
  browser: Browser;
  origin: string;
  /** Errors in any browser console (the file asserts none at the end). */
  errors: string[];
  /** Screenshot folder, with a trailing slash. */
  shots: string;
}

/** One person at their own browser (profile, virtual platform authenticator). */
export class Person {
  context!: BrowserContext;
  page!: Page;
  readonly name: string;
  readonly #h: ConsoleHarness;
  constructor(name: string, harness: ConsoleHarness) {
    this.name = name;
    this.#h = harness;
  }

  async open(): Promise<this> {
    this.context = await this.#h.browser.newContext({ viewport: { width: 1100, height: 900 }, colorScheme: 'light', locale: 'en-US', timezoneId: 'UTC' });
    this.page = await this.context.newPage();
    this.page.setDefaultTimeout(20_000);
    this.page.on('console', (message) => {
      if (message.type() === 'error' && !message.text().startsWith('Failed to load resource')) this.#h.errors.push(`${this.name}: ${message.text()}`);
    });
    this.page.on('pageerror', (error) => this.#h.errors.push(`${this.name} uncaught: ${error.message}`));
    await addPlatformAuthenticator(this.context, this.page);
    return this;
  }

  async goto(path: string): Promise<void> {
    const response = await this.page.goto(`${this.#h.origin}${path}`);
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
    const dialog = this.page.locator('lk-action-dialog dialog');
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
    await this.page.screenshot({ path: `${this.#h.shots}${name}.png`, fullPage: true, animations: 'disabled' });
    await this.click('Dark theme');
    await this.axe(`${name} (dark)`);
    await this.page.screenshot({ path: `${this.#h.shots}${name}-dark.png`, fullPage: true, animations: 'disabled' });
    await this.click('Dark theme');
    await this.page.getByRole('combobox', { name: 'Language' }).selectOption('de');
    await this.page.waitForFunction(() => document.documentElement.lang === 'de');
    await this.axe(`${name} (de)`);
    await this.page.screenshot({ path: `${this.#h.shots}${name}-de.png`, fullPage: true, animations: 'disabled' });
    await this.page.getByRole('combobox', { name: 'Sprache' }).selectOption('en');
    await this.page.waitForFunction(() => document.documentElement.lang === 'en');
  }

  async openEnrolment(enrollUrl: string): Promise<void> {
    const url = new URL(enrollUrl);
    await this.goto(`${url.pathname}${url.hash}`);
    assert.equal(await this.heading(), 'Set up your staff passkey');
    assert.equal(new URL(this.page.url()).hash, '', 'the token leaves the address bar at once');
  }

  /** Enrols the passkey of an enrolment URL (null: the enrolment page is open) and signs in to the console with it. */
  async enrolAndSignIn(enrollUrl: string | null): Promise<void> {
    if (enrollUrl) await this.openEnrolment(enrollUrl);
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

export async function until(check: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

