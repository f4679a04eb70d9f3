import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { dialects, startTestServer, TEST_ORIGIN, type TestServer } from '../helpers/test-server.ts';

/**
 * A browser origin that Latchkey refuses (the origin check on state-changing requests, or CORS)
 * is logged as a warning naming the variable to set, at most once per origin per 10 minutes and
 * at most 10 in all in that time (issue 10, item 5).
 */
const OTHER_APP = 'http://app.localhost:3000';

interface Line { level: number; msg: string; origin?: string; suppressed?: number }

for (const dialect of dialects) {
  describe(`refused origins are logged for the operator (${dialect})`, () => {
    let server: TestServer;
    const lines: Line[] = [];
    const warnings = () => lines.filter((l) => l.level === 40 && /origin/.test(l.msg));
    before(async () => {
      const stream = new Writable({
        write(chunk, _encoding, done) {
          for (const line of String(chunk).split('\n')) if (line) lines.push(JSON.parse(line) as Line);
          done();
        },
      });
      // OTHER_APP is an allowed origin but not a CORS one.
      server = await startTestServer(dialect, { config: { rp: { origins: [TEST_ORIGIN, OTHER_APP] } }, logger: { level: 'warn', stream } });
    });
    after(() => server.close());

    // As a browser sends it: Sec-Fetch-Site says whether the page is on the API's own origin.
    const post = (origin: string, site = 'cross-site') =>
      fetch(`${server.url}/api/v1/passkeys/authentication/options`, { method: 'POST', headers: { origin, 'sec-fetch-site': site, 'content-type': 'application/json' }, body: '{}' });

    test('a page on an origin not in LATCHKEY_ORIGINS: 403, and one warning that says to add it there', async () => {
      lines.length = 0;
      for (let i = 0; i < 20; i += 1) {
        const r = await post('https://shop.example.org');
        assert.equal(r.status, 403);
        assert.equal(((await r.json()) as { code: string }).code, 'origin_not_allowed');
      }
      const found = warnings();
      assert.equal(found.length, 1, JSON.stringify(found));
      assert.equal(found[0]?.origin, 'https://shop.example.org');
      assert.match(found[0]?.msg ?? '', /add it to LATCHKEY_ORIGINS/);
    });

    test('an allowed origin that is not a CORS origin: the warning names LATCHKEY_CORS_ORIGINS', async () => {
      lines.length = 0;
      const r = await fetch(`${server.url}/api/v1/session`, { headers: { origin: OTHER_APP, 'sec-fetch-site': 'cross-site' } });
      assert.equal(r.headers.get('access-control-allow-origin'), null);
      const [warning, ...more] = warnings();
      assert.equal(more.length, 0);
      assert.equal(warning?.origin, OTHER_APP);
      assert.match(warning?.msg ?? '', /in LATCHKEY_ORIGINS but not in LATCHKEY_CORS_ORIGINS: add it to LATCHKEY_CORS_ORIGINS/);
    });

    test('requests from an allowed origin, and same-origin ones, warn about nothing', async () => {
      lines.length = 0;
      assert.equal((await post(TEST_ORIGIN, 'same-origin')).status, 200);
      await fetch(`${server.url}/api/v1/session`, { headers: { origin: TEST_ORIGIN, 'sec-fetch-site': 'same-origin' } });
      assert.deepEqual(warnings(), []);
    });

    test('made-up origins cannot flood the log: 10 warnings per 10 minutes, then a count of the rest', async () => {
      lines.length = 0;
      server.clock.advance(10 * 60_000);
      for (let i = 0; i < 50; i += 1) await post(`https://flood${i}.example`);
      assert.equal(warnings().length, 10);
      server.clock.advance(10 * 60_000);
      await post('https://later.example');
      const last = warnings().at(-1);
      assert.equal(last?.origin, 'https://later.example');
      assert.equal(last?.suppressed, 40);
    });
  });
}
