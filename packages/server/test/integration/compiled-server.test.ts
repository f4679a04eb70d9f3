import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { buildServer } from '../../../../scripts/build-server.mjs';
import { authenticate, newAuthenticator, signUp } from '../helpers/flows.ts';
import { TestClient } from '../helpers/test-client.ts';
import { freePort, TEST_ORIGIN, TEST_RP_ID } from '../helpers/test-server.ts';

/**
 * What `npm start` runs: the server compiled by `npm run build` (packages/server/dist), not the
 * TypeScript the other tests load. Checks that the build is complete — worker scripts, data files,
 * the demo and the prebuilt /latchkey.js are all found from dist — with a verify worker, and that
 * SIGTERM ends it cleanly.
 */
describe('the compiled server (npm start)', () => {
  const dir = mkdtempSync('/tmp/latchkey-compiled-');
  let server: ReturnType<typeof spawn>;
  let url: string;
  let output = '';

  before(async () => {
    const entry = buildServer();
    const port = await freePort();
    url = `http://127.0.0.1:${port}`;
    server = spawn(process.execPath, ['--max-semi-space-size=4', entry], {
      env: {
        PATH: process.env.PATH ?? '',
        LATCHKEY_PORT: String(port),
        LATCHKEY_HOST: '127.0.0.1',
        LATCHKEY_DATABASE_URL: `sqlite:${join(dir, 'latchkey.db')}`,
        LATCHKEY_ORIGINS: TEST_ORIGIN,
        LATCHKEY_RP_ID: TEST_RP_ID,
        LATCHKEY_VERIFY_WORKERS: '1',
        LATCHKEY_LOG_LEVEL: 'info',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    server.stdout?.on('data', (d) => (output += d));
    server.stderr?.on('data', (d) => (output += d));
    const deadline = Date.now() + 20_000;
    for (;;) {
      try {
        if ((await fetch(`${url}/healthz`)).ok) break;
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline || server.exitCode !== null) throw new Error(`the compiled server did not start:\n${output}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  });

  after(() => {
    if (server.exitCode === null) server.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  test('signs up and signs in (verification on a worker thread)', async () => {
    const authenticator = newAuthenticator();
    const account = await signUp(new TestClient(url, TEST_ORIGIN), authenticator, 'compiled');
    const { verify } = await authenticate(new TestClient(url, TEST_ORIGIN), authenticator);
    assert.equal(verify.status, 200, verify.text);
    assert.equal(verify.body.user.id, account.user.id);
  });

  test('serves the demo, the API reference and the prebuilt /latchkey.js', async () => {
    const page = await fetch(`${url}/`);
    assert.equal(page.status, 200);
    assert.match(await page.text(), /<latchkey-auth/);
    assert.equal((await fetch(`${url}/docs/`)).status, 200);
    const bundle = await fetch(`${url}/latchkey.js`);
    assert.equal(bundle.status, 200);
    assert.match(bundle.headers.get('content-type') ?? '', /javascript/);
    assert.match(await bundle.text(), /customElements\.define/);
  });

  test('ends cleanly on SIGTERM, and says so in its JSON log', async () => {
    const exited = new Promise<number | null>((resolve) => server.on('exit', (code) => resolve(code)));
    server.kill('SIGTERM');
    assert.equal(await exited, 0);
    assert.match(output, /"msg":"shutting down: finishing in-flight requests"/);
    assert.doesNotMatch(output, /"level":50/, 'no error was logged');
  });
});
