// The support console's page and bundle (src/http/console-pages.ts): every /admin route answers
// with the same small page under the strict CSP, which loads the bundle by its versioned URL
// with Subresource Integrity; nothing inline.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { dialects, startTestServer, type TestServer } from '../helpers/test-server.ts';

for (const dialect of dialects) {
  describe(`console pages (${dialect})`, () => {
    let server: TestServer;
    before(async () => {
      server = await startTestServer(dialect);
    });
    after(async () => {
      await server.close();
    });

    test('every console route is the same page under the strict CSP; the bundle matches its SRI hash and is cached immutably', async () => {
      const pages = await Promise.all(['/admin', '/admin/', '/admin/users/some-id', '/admin/audit', '/admin/enroll'].map((path) => fetch(`${server.url}${path}`)));
      const bodies = await Promise.all(pages.map((r) => r.text()));
      for (const [i, response] of pages.entries()) {
        assert.equal(response.status, 200);
        assert.match(response.headers.get('content-type') ?? '', /^text\/html/);
        assert.match(response.headers.get('content-security-policy') ?? '', /script-src 'self'; style-src 'self'/);
        assert.equal(response.headers.get('x-frame-options'), 'DENY');
        assert.equal(bodies[i], bodies[0]);
      }
      const html = bodies[0]!;
      assert.doesNotMatch(html, /<style|style=|<script>(?!<)/, 'no inline style or script');
      const [, src, integrity] = /<script type="module" src="(\/admin\/console\.[0-9a-f]{16}\.js)" integrity="(sha384-[^"]+)"/.exec(html) ?? [];
      assert.ok(src && integrity, html);
      const bundle = await fetch(`${server.url}${src}`);
      assert.equal(bundle.status, 200);
      assert.match(bundle.headers.get('cache-control') ?? '', /immutable/);
      const bytes = Buffer.from(await bundle.arrayBuffer());
      assert.equal(`sha384-${createHash('sha384').update(bytes).digest('base64')}`, integrity);
      assert.ok(bytes.length < 200_000, `${bytes.length} bytes, minified`);
    });

    test('an old or made-up bundle version is a 404 problem, and /api/admin stays the API', async () => {
      const stale = await fetch(`${server.url}/admin/console.0123456789abcdef.js`);
      assert.equal(stale.status, 404);
      assert.equal((await stale.json()).code, 'not_found');
      const api = await fetch(`${server.url}/api/admin/v1/me`);
      assert.equal(api.status, 401);
      assert.match(api.headers.get('content-type') ?? '', /problem\+json/);
    });
  });
}
