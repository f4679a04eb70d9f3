// A new user opens the demo at http://127.0.0.1:<port>/ although the allowed origin is
// http://localhost:<port> (issue 10, item 5): the page says in plain words that this address
// cannot use passkeys here, never "Origin … is not allowed", and the server log tells the
// operator which variable to set.
//
//   npm test -- e2e/origin-message.test.ts
//
// Chromium: /usr/bin/chromium, or LATCHKEY_CHROMIUM. Never downloads a browser.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import type { Browser } from 'playwright-core';
import { launchChromium } from './browser.ts';
import { freePort, startTestServer, type TestServer } from '../packages/server/test/helpers/test-server.ts';

let server: TestServer;
let browser: Browser;
let port: number;
const warnings: { msg: string; origin?: string }[] = [];

before(async () => {
  port = await freePort();
  const stream = new Writable({
    write(chunk, _encoding, done) {
      for (const line of String(chunk).split('\n')) if (line) warnings.push(JSON.parse(line) as { msg: string; origin?: string });
      done();
    },
  });
  server = await startTestServer('sqlite', { port, config: { rp: { id: 'localhost', origins: [`http://localhost:${port}`] } }, logger: { level: 'warn', stream } });
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  await server?.close();
});

for (const [lang, expected] of [
  ['en-US', 'This site’s address is not allowed to use passkeys with this server.'],
  ['de-DE', 'Die Adresse dieser Seite darf keine Passkeys mit diesem Server verwenden.'],
] as const) {
  test(`the demo on an address that is not an allowed origin shows a plain message (${lang})`, async () => {
    const context = await browser.newContext({ locale: lang });
    try {
      const page = await context.newPage();
      page.setDefaultTimeout(20_000);
      await page.goto(`http://127.0.0.1:${port}/`);
      if (lang === 'de-DE') {
        await page.evaluate(() => {
          document.querySelector('latchkey-auth')!.lang = 'de';
        });
      }
      const auth = page.locator('latchkey-auth');
      await auth.getByRole('button', { name: lang === 'de-DE' ? 'Mit Passkey anmelden' : 'Sign in with a passkey', exact: true }).click();
      const status = auth.getByRole('status');
      await status.filter({ hasText: expected }).waitFor();
      const text = (await status.innerText()).trim();
      assert.equal(text, expected);
      assert.doesNotMatch(text, /origin|127\.0\.0\.1/i);
    } finally {
      await context.close();
    }
  });
}

test('the server log says which variable lets that address in', () => {
  const warning = warnings.find((w) => w.origin === `http://127.0.0.1:${port}`);
  assert.ok(warning, JSON.stringify(warnings));
  assert.match(warning.msg, /add it to LATCHKEY_ORIGINS/);
  assert.equal(warnings.filter((w) => w.origin === `http://127.0.0.1:${port}`).length, 1, 'once, not once per request');
});
