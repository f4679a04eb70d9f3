// <latchkey-passkey-append append-token="…">: a company signs its user in itself, its backend asks
// the management API for an append token, and the element adds a passkey for that user without a
// Latchkey session. The page is on another origin than the API (CORS with credentials), as in
// cross-origin.test.ts. Headless Chromium with a CDP virtual authenticator.
//
//   npm test -- e2e/append-token.test.ts
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { launchChromium, addPlatformAuthenticator } from './browser.ts';
import { freePort, startTestServer, type TestServer } from '../packages/server/test/helpers/test-server.ts';
import { createTestApiKey } from '../packages/server/test/helpers/api-keys.ts';

let api: TestServer;
let site: Server;
let browser: Browser;
let context: BrowserContext;
let page: Page;
let apiOrigin: string;
let appOrigin: string;
let apiKey: string;
/** The token the next page load hands to the element (the company's page template would). */
let currentToken = '';

function appPage(): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Shop account</title>
<script type="module" src="${apiOrigin}/latchkey.js"></script>
<script type="module">
  window.added = null;
  document.addEventListener('latchkey-passkey-added', (event) => { window.added = event.detail; });
</script></head>
<body><main><h1>Your shop account</h1>
<latchkey-passkey-append api-base="${apiOrigin}" append-token="${currentToken}" no-telemetry></latchkey-passkey-append>
</main></body></html>`;
}

async function admin(method: string, path: string, body?: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(`${api.url}/api/admin/v1${path}`, {
    method,
    headers: { authorization: `Bearer ${apiKey}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

before(async () => {
  const [apiPort, sitePort] = [await freePort(), await freePort()];
  apiOrigin = `http://localhost:${apiPort}`;
  appOrigin = `http://localhost:${sitePort}`;
  api = await startTestServer('sqlite', { port: apiPort, config: { rp: { id: 'localhost', origins: [apiOrigin, appOrigin] }, cors: { origins: [appOrigin] } } });
  apiKey = (await createTestApiKey(api, ['append_tokens:issue', 'users:read'], 'shop backend')).secret;
  site = createServer((_request, response) => {
    response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(appPage());
  });
  await new Promise<void>((resolve) => site.listen(sitePort, '127.0.0.1', resolve));
  browser = await launchChromium();
  context = await browser.newContext({ viewport: { width: 720, height: 760 }, locale: 'en-US', timezoneId: 'UTC' });
  page = await context.newPage();
  page.setDefaultTimeout(20_000);
  page.on('console', (message) => {
    if (process.env.DEBUG_E2E) console.log('console:', message.text());
  });
  await addPlatformAuthenticator(context, page);
});

after(async () => {
  await browser?.close();
  await new Promise((resolve) => site?.close(resolve));
  await api?.close();
});

test('append-token: the element adds a passkey to the token\'s user without a session; the passkey then signs in', async () => {
  const issued = await admin('POST', '/append-tokens', { externalId: 'shop-user-77', displayName: 'Grace' });
  assert.equal(issued.status, 201, JSON.stringify(issued.body));
  const user = issued.body.user as { id: string; username: string };
  currentToken = issued.body.token as string;

  await page.goto(`${appOrigin}/`);
  const element = page.locator('latchkey-passkey-append');
  await element.getByRole('button', { name: 'Create a passkey' }).click();
  await page.waitForFunction(() => (window as unknown as { added: unknown }).added !== null);
  assert.equal((await element.getByRole('status').innerText()).trim(), 'Passkey added.');

  const passkeys = await admin('GET', `/users/${user.id}/passkeys`);
  const list = passkeys.body.passkeys as { id: string }[];
  assert.equal(list.length, 1, 'the passkey went to the token\'s user');
  const added = await page.evaluate(() => (window as unknown as { added: { passkey: { id: string } } }).added.passkey.id);
  assert.equal(added, list[0]?.id);
  const cookies = await context.cookies(apiOrigin);
  assert.equal(cookies.some((c) => c.name.includes('latchkey_session')), false, 'no Latchkey session was opened');

  // The new passkey signs in (discoverable: the virtual authenticator offers it by itself).
  const signedIn = await page.evaluate(async (base) => {
    const { LatchkeyClient } = await import(`${base}/latchkey.js`);
    const client = new LatchkeyClient({ baseUrl: base });
    return (await client.signIn()).user.id as string;
  }, apiOrigin);
  assert.equal(signedIn, user.id);

  // Used up: the same page again cannot add a second passkey with it.
  await page.goto(`${appOrigin}/`);
  await element.getByRole('button', { name: 'Create a passkey' }).click();
  await element.getByRole('status').filter({ hasText: /Append token is not valid/ }).waitFor();
  assert.equal(((await admin('GET', `/users/${user.id}/passkeys`)).body.passkeys as unknown[]).length, 1);
});
