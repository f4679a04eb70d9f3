import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { dialects, startTestServer, type TestServer } from '../helpers/test-server.ts';

/**
 * /latchkey.js, the elements and SDK bundle, also has a versioned URL that caches can keep for a
 * year (a new build has a new URL), and the demo pages load it with Subresource Integrity.
 */
for (const dialect of dialects) {
  describe(`the versioned, cacheable /latchkey.js (${dialect})`, () => {
    let server: TestServer;
    before(async () => {
      server = await startTestServer(dialect);
    });
    after(() => server.close());

    test('/latchkey.js names its versioned URL, which is immutable for a year and has the same bytes', async () => {
      const plain = await fetch(`${server.url}/latchkey.js`);
      assert.equal(plain.status, 200);
      assert.equal(plain.headers.get('cache-control'), 'no-cache');
      const bytes = Buffer.from(await plain.arrayBuffer());
      const hash = createHash('sha256').update(bytes).digest('hex').slice(0, 16);
      assert.equal(plain.headers.get('link'), `</latchkey.${hash}.js>; rel="canonical"`);

      const versioned = await fetch(`${server.url}/latchkey.${hash}.js`);
      assert.equal(versioned.status, 200);
      assert.equal(versioned.headers.get('cache-control'), 'public, max-age=31536000, immutable');
      assert.match(versioned.headers.get('content-type') ?? '', /^text\/javascript/);
      assert.equal(versioned.headers.get('access-control-allow-origin'), '*');
      assert.deepEqual(Buffer.from(await versioned.arrayBuffer()), bytes);
    });

    test('another version is not found (never a year-long cache of the wrong bytes)', async () => {
      for (const version of ['0000000000000000', 'latest', '1.0.0']) {
        const r = await fetch(`${server.url}/latchkey.${version}.js`);
        assert.equal(r.status, 404, version);
        assert.notEqual(r.headers.get('cache-control'), 'public, max-age=31536000, immutable');
      }
    });

    test('the demo page loads the versioned bundle with integrity, and its script imports the same URL', async () => {
      const bytes = Buffer.from(await (await fetch(`${server.url}/latchkey.js`)).arrayBuffer());
      const hash = createHash('sha256').update(bytes).digest('hex').slice(0, 16);
      const integrity = `sha384-${createHash('sha384').update(bytes).digest('base64')}`;
      const page = await (await fetch(`${server.url}/`)).text();
      assert.ok(
        page.includes(`<script type="module" src="/latchkey.${hash}.js" integrity="${integrity}" crossorigin="anonymous"></script>`),
        page.slice(0, 800),
      );
      const app = await (await fetch(`${server.url}/app.js`)).text();
      assert.match(app, new RegExp(`from '/latchkey\\.${hash}\\.js'`));
      assert.doesNotMatch(app, /'\/latchkey\.js'/);
    });
  });
}
