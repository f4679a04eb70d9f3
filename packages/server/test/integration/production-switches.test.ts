import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { loadConfig } from '../../src/config/load.ts';
import { newAuthenticator, signUp } from '../helpers/flows.ts';
import { TestClient } from '../helpers/test-client.ts';
import { dialects, startTestServer, TEST_ORIGIN, type TestServer } from '../helpers/test-server.ts';

/**
 * The demo app at `/` and the API reference at `/docs` (+ `/openapi.json`) are for trying
 * Latchkey out: LATCHKEY_ENV=production turns both off, LATCHKEY_DEMO_ENABLED and
 * LATCHKEY_DOCS_ENABLED turn each on or off whatever the environment. The API, /healthz and the
 * elements bundle are served either way.
 */
const CASES = [
  { name: 'development (the default)', server: {}, demo: true, docs: true },
  { name: 'LATCHKEY_ENV=production', server: { environment: 'production' as const }, demo: false, docs: false },
  { name: 'production with both switched on', server: { environment: 'production' as const, demoEnabled: true, docsEnabled: true }, demo: true, docs: true },
  { name: 'development with the demo switched off', server: { demoEnabled: false }, demo: false, docs: true },
  { name: 'production with the docs switched on', server: { environment: 'production' as const, docsEnabled: true }, demo: false, docs: true },
];

for (const dialect of dialects) {
  for (const c of CASES) {
    describe(`production switches: ${c.name} (${dialect})`, () => {
      let server: TestServer;
      before(async () => {
        server = await startTestServer(dialect, { config: { server: c.server } });
      });
      after(() => server.close());

      test(`the demo is ${c.demo ? 'served' : 'not found'} at /`, async () => {
        const page = await fetch(`${server.url}/`);
        assert.equal(page.status, c.demo ? 200 : 404);
        if (c.demo) assert.match(await page.text(), /<latchkey-auth/);
        else assert.doesNotMatch(await page.text(), /<latchkey-auth/);
      });

      test(`the API reference is ${c.docs ? 'served' : 'not found'} at /docs and /openapi.json`, async () => {
        for (const path of ['/docs', '/docs/', '/docs/json', '/openapi.json']) {
          const r = await fetch(`${server.url}${path}`, { redirect: 'manual' });
          if (c.docs) assert.ok(r.status === 200 || r.status === 302, `${path}: ${r.status}`);
          else assert.equal(r.status, 404, path);
        }
      });

      test('the API, /healthz and /latchkey.js are served either way', async () => {
        assert.equal((await fetch(`${server.url}/healthz`)).status, 200);
        assert.equal((await fetch(`${server.url}/latchkey.js`)).status, 200);
        const account = await signUp(new TestClient(server.url, TEST_ORIGIN), newAuthenticator(), 'switches');
        assert.equal(account.user.username, 'switches');
      });
    });
  }
}

test('LATCHKEY_ENV, LATCHKEY_DEMO_ENABLED and LATCHKEY_DOCS_ENABLED are read from the environment', () => {
  const config = loadConfig({ env: { LATCHKEY_ENV: 'production', LATCHKEY_DEMO_ENABLED: 'true', LATCHKEY_DOCS_ENABLED: 'false' } });
  assert.equal(config.server.environment, 'production');
  assert.equal(config.server.demoEnabled, true);
  assert.equal(config.server.docsEnabled, false);
  assert.throws(() => loadConfig({ env: { LATCHKEY_ENV: 'prod' } }), /LATCHKEY_ENV: must be one of development, production \(got "prod"\)/);
});
