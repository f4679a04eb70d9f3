// examples/existing-app: an app with its own users, password login and session cookie adds passkeys
// through Latchkey. Password login → the app's backend issues an append token (management API,
// @latchkey/node) → <latchkey-passkey-append> registers a passkey → sign out → passkey sign-in on
// Latchkey → the page posts a signed login result to the app → the app verifies it once and opens
// its own session. Latchkey and the app run on two origins (localhost, two ports; RP ID localhost).
// Headless Chromium with a CDP virtual authenticator.
//
//   npm test -- e2e/existing-app.test.ts
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { launchChromium, addPlatformAuthenticator } from './browser.ts';
import { freePort, startTestServer, type TestServer } from '../packages/server/test/helpers/test-server.ts';
import { createTestApiKey } from '../packages/server/test/helpers/api-keys.ts';
import { startApp } from '../examples/existing-app/src/server.ts';

const ARTIFACTS = fileURLToPath(new URL('./artifacts/', import.meta.url));
const AUDIENCE = 'existing-app';

let latchkey: TestServer;
let app: Awaited<ReturnType<typeof startApp>>;
let browser: Browser;
let context: BrowserContext;
let page: Page;
let latchkeyOrigin: string;
let appOrigin: string;
let aliceId: number;

before(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  const [latchkeyPort, appPort] = [await freePort(), await freePort()];
  latchkeyOrigin = `http://localhost:${latchkeyPort}`;
  appOrigin = `http://localhost:${appPort}`;
  // LATCHKEY_ORIGINS (both: the app's page runs the ceremonies), LATCHKEY_CORS_ORIGINS, LATCHKEY_TOKEN_AUDIENCES.
  latchkey = await startTestServer('sqlite', {
    port: latchkeyPort,
    config: { rp: { id: 'localhost', origins: [latchkeyOrigin, appOrigin] }, cors: { origins: [appOrigin] }, tokens: { audiences: [AUDIENCE] } },
  });
  // `npm run latchkey -- api-keys create --name existing-app --scopes append_tokens:issue`
  const apiKey = (await createTestApiKey(latchkey, ['append_tokens:issue'], 'existing-app')).secret;
  app = await startApp({ origin: appOrigin, latchkeyUrl: latchkeyOrigin, apiKey, audience: AUDIENCE, databasePath: ':memory:', port: appPort });
  await app.addUser('bob', 'Bob Builder', 'decoy password 1'); // someone else in the app's table
  aliceId = await app.addUser('alice', 'Alice Example', 'correct horse battery staple');

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
  await app?.close();
  await latchkey?.close();
});

async function appCookie(): Promise<string | undefined> {
  return (await context.cookies(appOrigin)).find((c) => c.name === 'app_session')?.value;
}

test('existing app: password login, passkey added with an append token, then a passkey login into the app\'s own session; a replayed login result is refused', async () => {
  // 1. The app's own password login.
  await page.goto(`${appOrigin}/`);
  await page.getByLabel('Username').first().fill('alice');
  await page.getByLabel('Password').fill('correct horse battery staple');
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await page.waitForURL(`${appOrigin}/account`);
  assert.match(await page.locator('#who').innerText(), /as alice with your password/);
  const passwordSession = await appCookie();
  assert.ok(passwordSession, 'the app set its own session cookie');

  // 2. The account page carries an append token from the app's backend; the element adds a passkey.
  const append = page.locator('latchkey-passkey-append');
  await append.getByRole('button', { name: 'Create a passkey' }).click();
  await append.getByRole('status').filter({ hasText: 'Passkey added.' }).waitFor();
  assert.equal((await context.cookies(latchkeyOrigin)).some((c) => c.name.includes('latchkey_session')), false, 'no Latchkey session so far');

  // 3. Sign out of the app.
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.waitForURL(`${appOrigin}/`);
  assert.equal(await appCookie(), undefined);
  const stale = await fetch(`${appOrigin}/account`, { headers: { cookie: `app_session=${passwordSession}` }, redirect: 'manual' });
  assert.equal(stale.status, 303, 'the app ended its session on its side too');

  // 4. Passkey sign-in: Latchkey signs a login result for the app's audience; the app verifies it.
  const posted: string[] = [];
  page.on('request', (request) => {
    if (request.url() === `${appOrigin}/login/passkey`) posted.push(request.postData() ?? '');
  });
  await page.locator('latchkey-auth').getByRole('button', { name: 'Sign in with a passkey' }).click();
  await page.waitForURL(`${appOrigin}/account`);
  // The app's own page, from the app's own table: Alice (not Bob), signed in with the passkey.
  assert.equal(await page.getByRole('heading', { level: 1 }).innerText(), 'Hello, Alice Example');
  assert.match(await page.locator('#who').innerText(), /as alice with a passkey/);
  const passkeySession = await appCookie();
  assert.ok(passkeySession && passkeySession !== passwordSession, 'a new session of the app');
  assert.equal((await context.cookies(latchkeyOrigin)).some((c) => c.name.includes('latchkey_session')), false, 'the Latchkey session was ended: the app keeps its own');

  // The login result's subject is the app's user id (the externalId the append token was issued for).
  assert.equal(posted.length, 1);
  const { loginResult } = JSON.parse(posted[0] ?? '{}') as { loginResult: string };
  const claims = JSON.parse(Buffer.from(loginResult.split('.')[1] ?? '', 'base64url').toString()) as { sub: string; aud: string };
  assert.equal(claims.sub, String(aliceId));
  assert.equal(claims.aud, AUDIENCE);

  // 5. The same login result again (a replay) opens no session.
  const replay = await fetch(`${appOrigin}/login/passkey`, {
    method: 'POST',
    headers: { origin: appOrigin, 'content-type': 'application/json' },
    body: JSON.stringify({ loginResult }),
  });
  assert.equal(replay.status, 401);
  assert.deepEqual(await replay.json(), { error: 'replayed' });
  assert.equal(replay.headers.get('set-cookie'), null);

  await page.screenshot({ path: `${ARTIFACTS}30-existing-app.png`, fullPage: true });
});
