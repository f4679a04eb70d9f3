// The elements on another origin than the API: a page on http://localhost:<port A> loads
// /latchkey.js from the API on http://localhost:<port B> and talks to it with CORS and credentials
// (LATCHKEY_CORS_ORIGINS). Same site, other origin: the SameSite=Lax session cookie still travels.
// (An app.localhost page could not use RP ID "localhost": Chromium refuses it with SecurityError.)
// Headless Chromium with a CDP virtual authenticator.
//
//   npm test -- e2e/cross-origin.test.ts
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { launchChromium, addPlatformAuthenticator } from './browser.ts';
import { freePort, startTestServer, type TestServer } from '../packages/server/test/helpers/test-server.ts';

const ARTIFACTS = fileURLToPath(new URL('./artifacts/', import.meta.url));

let api: TestServer;
let site: Server;
let browser: Browser;
let page: Page;
let apiOrigin: string;
let appOrigin: string;
const corsFailures: string[] = [];

function appPage(): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Another origin</title>
<script type="module" src="${apiOrigin}/latchkey.js"></script>
<script type="module">
  const auth = document.querySelector('latchkey-auth');
  const done = () => {
    auth.hidden = true;
    const list = document.createElement('latchkey-passkeys');
    list.setAttribute('api-base', ${JSON.stringify(apiOrigin)});
    document.body.append(list);
  };
  auth.addEventListener('latchkey-signed-in', done);
  auth.addEventListener('latchkey-signed-up', done);
</script></head>
<body><main><h1>Shop on another origin</h1>
<latchkey-auth api-base="${apiOrigin}" no-conditional></latchkey-auth></main></body></html>`;
}

/** The API on another site (127.0.0.1, no cookies across sites): one SDK client in bearer mode, token in memory. */
function bearerPage(): string {
  const base = apiOrigin.replace('localhost', '127.0.0.1');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Another site</title>
<script type="module">
  import { LatchkeyClient } from '${base}/latchkey.js';
  const client = new LatchkeyClient({ baseUrl: '${base}', auth: 'bearer' });
  const auth = document.querySelector('latchkey-auth');
  auth.client = client;
  auth.addEventListener('latchkey-signed-up', () => {
    auth.hidden = true;
    const list = document.createElement('latchkey-passkeys');
    list.setAttribute('api-base', '${base}');
    list.client = client;
    document.body.append(list);
  });
</script></head>
<body><main><h1>App on another site</h1>
<latchkey-auth api-base="${base}" no-conditional no-remember></latchkey-auth></main></body></html>`;
}

/** A page origin whose host the RP ID "localhost" does not cover in Chromium's eyes. */
function badOrigin(): string {
  return appOrigin.replace('//localhost', '//app.localhost');
}

before(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  const [apiPort, sitePort] = [await freePort(), await freePort()];
  apiOrigin = `http://localhost:${apiPort}`;
  appOrigin = `http://localhost:${sitePort}`;
  api = await startTestServer('sqlite', {
    port: apiPort,
    config: { rp: { id: 'localhost', origins: [apiOrigin, appOrigin, badOrigin()] }, cors: { origins: [appOrigin, badOrigin()] } },
  });
  site = createServer((request, response) => {
    response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(request.url === '/bearer' ? bearerPage() : appPage());
  });
  await new Promise<void>((resolve) => site.listen(sitePort, '127.0.0.1', resolve));
  browser = await launchChromium();
  const context = await browser.newContext({ viewport: { width: 720, height: 760 }, locale: 'en-US', timezoneId: 'UTC' });
  page = await context.newPage();
  page.setDefaultTimeout(20_000); // generous: the CI machine may be busy
  page.on('console', (message) => {
    if (process.env.DEBUG_E2E) console.log('console:', message.text());
    if (/CORS|Access-Control/i.test(message.text())) corsFailures.push(message.text());
  });
  await addPlatformAuthenticator(context, page);
});

after(async () => {
  await browser?.close();
  await new Promise((resolve) => site?.close(resolve));
  await api?.close();
});

async function idle(selector: string): Promise<void> {
  await page.waitForFunction((s) => document.querySelector(s)?.getAttribute('aria-busy') === 'false', selector);
}

test('sign-up on another origin: CORS with credentials, the ceremony header, the session cookie for the API', async () => {
  const ceremonyHeaders: (string | null)[] = [];
  page.on('request', (request) => {
    if (request.url().endsWith('/registration/verify')) ceremonyHeaders.push(request.headers()['latchkey-ceremony'] ?? null);
  });
  await page.goto(`${appOrigin}/`);
  await idle('latchkey-auth');
  await page.getByLabel('Username').fill('dora');
  await page.getByRole('button', { name: 'Create account' }).click();
  await idle('latchkey-passkeys').catch(async (error: Error) => {
    const status = await page.locator('latchkey-auth').getByRole('status').innerText().catch(() => '?');
    throw new Error(`${error.message}; auth says: ${status}`);
  });
  const items = await page.locator('latchkey-passkeys').getByRole('listitem').count();
  assert.equal(items, 1, 'the passkey list loads from the API with the session cookie');
  assert.equal(ceremonyHeaders.length, 1);
  assert.ok(ceremonyHeaders[0], 'the SDK echoes the Latchkey-Ceremony header it could read through CORS');
  await page.screenshot({ path: `${ARTIFACTS}20-cross-origin.png`, fullPage: true });
});

test('a reload on the other origin offers "Continue as dora", which signs in', async () => {
  await page.reload();
  await idle('latchkey-auth');
  await page.getByRole('button', { name: 'Continue as dora' }).click();
  await idle('latchkey-passkeys');
  assert.equal(await page.locator('latchkey-passkeys').getByRole('listitem').count(), 1);
  assert.deepEqual(corsFailures, []);
});

test('a cross-origin PUT (the account e-mail) passes the browser\'s CORS preflight', async () => {
  // PUT is not a CORS-safelisted method: Chromium asks the API first (OPTIONS) and sends the PUT
  // only if the answer allows it. Signed in a moment ago with a passkey ("Continue as dora"): fresh enough for the step-up rule.
  const outcome = await page.evaluate(async (api) => {
    try {
      const r = await fetch(`${api}/api/v1/account/email`, {
        method: 'PUT',
        credentials: 'include',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ email: 'dora@example.com' }),
      });
      return String(r.status);
    } catch (error) {
      return `blocked: ${(error as Error).message}`;
    }
  }, apiOrigin);
  assert.equal(outcome, '202');
  assert.deepEqual(corsFailures, []);
});

test('an API on another site: bearer token in memory, ceremony bound by the Latchkey-Ceremony header', async () => {
  const authorizations: string[] = [];
  page.on('request', (request) => {
    if (request.url().endsWith('/api/v1/passkeys') && request.method() === 'GET') authorizations.push(request.headers()['authorization'] ?? '');
  });
  await page.goto(`${appOrigin}/bearer`);
  await idle('latchkey-auth');
  await page.getByLabel('Username').fill('erin');
  await page.getByRole('button', { name: 'Create account' }).click();
  await idle('latchkey-passkeys').catch(async (error: Error) => {
    const status = await page.locator('latchkey-auth').getByRole('status').innerText().catch(() => '?');
    throw new Error(`${error.message}; auth says: ${status}`);
  });
  assert.equal(await page.locator('latchkey-passkeys').getByRole('listitem').count(), 1);
  assert.match(authorizations[0] ?? '', /^Bearer \S+/);
  // no-remember: no username is kept, and a token never is; the one key is the random device id
  // the passkey decisions use (not personal data, not a credential).
  const stored = await page.evaluate(() => Object.entries(localStorage));
  assert.deepEqual(stored.map(([key]) => key), ['latchkey:device-id'], 'no-remember, and never a token');
  assert.ok(stored.every(([, value]) => !value.includes('erin') && !/^[A-Za-z0-9_-]{40,}$/.test(value)), JSON.stringify(stored));
  assert.deepEqual(corsFailures, []);
});

test('an origin the browser will not use the RP ID on gets the SecurityError message and a retry', async () => {
  await page.goto(`${badOrigin()}/`);
  await idle('latchkey-auth');
  await page.getByLabel('Username').fill('frank');
  await page.getByRole('button', { name: 'Create account' }).click();
  await idle('latchkey-auth');
  assert.equal(
    (await page.locator('latchkey-auth').getByRole('status').innerText()).trim(),
    'This site’s address is not allowed to use passkeys with this server.',
  );
  assert.ok(await page.getByRole('button', { name: 'Try again' }).isVisible());
});
