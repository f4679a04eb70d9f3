// Issue 3 server pieces over HTTP: client-side ceremony telemetry, CORS for configured origins,
// and the well-known documents from config.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { loadConfig, ConfigError } from '../../src/config/load.ts';
import { newAuthenticator, signUp } from '../helpers/flows.ts';
import { dialects, startTestServer, type TestServer } from '../helpers/test-server.ts';

const APP_ORIGIN = 'http://app.localhost:3000';
const CHROME_UA = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/142.0.0.0 Safari/537.36';
const REPORT = { ceremony: 'authentication', mode: 'modal', outcome: 'cancelled', errorName: 'NotAllowedError', conditionalGet: true, platformAuthenticator: true, hybrid: false };
const AASA = JSON.stringify({ webcredentials: { apps: ['ABCDE12345.com.example.app'] } });
const ASSET_LINKS = JSON.stringify([{ relation: ['delegate_permission/common.get_login_creds'], target: { namespace: 'android_app', package_name: 'com.example.app' } }]);

for (const dialect of dialects) {
  describe(`telemetry, CORS and well-known documents (${dialect})`, () => {
    let server: TestServer;
    let configured: TestServer;
    before(async () => {
      server = await startTestServer(dialect, { config: { telemetry: { perIpPerHour: 5 } } });
      configured = await startTestServer(dialect, {
        config: {
          rp: { origins: ['http://localhost:8080', APP_ORIGIN] },
          cors: { origins: [APP_ORIGIN] },
          wellKnown: { relatedOrigins: ['https://example.co.uk', 'https://example.de'], appleAppSiteAssociation: AASA, assetLinks: ASSET_LINKS },
        },
      });
    });
    after(async () => {
      await server.close();
      await configured.close();
    });

    const rows = (s: TestServer) =>
      s.database.db.selectFrom('audit_events').selectAll().where('type', '=', 'ceremony.reported').orderBy('created_at').execute();

    test('a ceremony report becomes an audit event with the parsed user agent and no user when signed out', async () => {
      const client = server.client();
      const answer = await client.post('/api/v1/telemetry/ceremonies', REPORT, { headers: { 'user-agent': CHROME_UA } });
      assert.equal(answer.status, 204, answer.text);
      const [row] = await rows(server);
      assert.ok(row);
      assert.equal(row.outcome, 'failure');
      assert.equal(row.actor_user_id, null);
      assert.equal(row.browser, 'Chrome 142');
      assert.equal(row.os, 'Linux');
      assert.deepEqual(JSON.parse(row.data!), REPORT);
    });

    test('a signed-in report carries the user id of the session, nothing else about the user', async () => {
      const client = server.client();
      const { user } = await signUp(client, newAuthenticator(), 'telemetry-user');
      const answer = await client.post('/api/v1/telemetry/ceremonies', { ceremony: 'registration', mode: 'conditional', outcome: 'completed' });
      assert.equal(answer.status, 204, answer.text);
      const last = (await rows(server)).at(-1)!;
      assert.equal(last.actor_user_id, user.id);
      assert.equal(last.outcome, 'success');
      assert.doesNotMatch(last.data!, /telemetry-user/);
    });

    test('reports are schema-validated: unknown fields, outcomes and free text are 400s', async () => {
      const client = server.client();
      for (const body of [
        { ...REPORT, username: 'alice' },
        { ...REPORT, outcome: 'exploded' },
        { ...REPORT, errorName: 'NotAllowedError: alice@example.com pressed cancel' },
        { ceremony: 'authentication' },
      ]) {
        const answer = await client.post('/api/v1/telemetry/ceremonies', body);
        assert.equal(answer.status, 400, JSON.stringify(body));
        assert.equal(answer.body.code, 'invalid_request');
      }
    });

    test('reports are rate-limited per IP (429 with Retry-After)', async () => {
      const client = server.client();
      let limited: Awaited<ReturnType<typeof client.post>> | undefined;
      for (let i = 0; i < 8 && !limited; i++) {
        const answer = await client.post('/api/v1/telemetry/ceremonies', REPORT);
        if (answer.status === 429) limited = answer;
        else assert.equal(answer.status, 204);
      }
      assert.ok(limited, 'the limit of 5 per hour applies');
      assert.equal(limited.body.code, 'rate_limited');
      assert.ok(Number(limited.headers.get('retry-after')) > 0);
    });

    test('CORS: a configured origin gets a credentialed preflight and exposed Latchkey-Ceremony', async () => {
      const client = configured.client({ origin: APP_ORIGIN });
      const preflight = await client.request('OPTIONS', '/api/v1/passkeys/authentication/options', undefined, {
        headers: { 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type, latchkey-ceremony' },
      });
      assert.equal(preflight.status, 204);
      assert.equal(preflight.headers.get('access-control-allow-origin'), APP_ORIGIN);
      assert.equal(preflight.headers.get('access-control-allow-credentials'), 'true');
      assert.match(preflight.headers.get('access-control-allow-methods') ?? '', /POST/);
      assert.match(preflight.headers.get('access-control-allow-headers') ?? '', /Latchkey-Ceremony/i);
      assert.match(preflight.headers.get('access-control-allow-headers') ?? '', /Content-Type/i);

      const options = await client.post('/api/v1/passkeys/authentication/options', {});
      assert.equal(options.status, 200, options.text);
      assert.equal(options.headers.get('access-control-allow-origin'), APP_ORIGIN);
      assert.equal(options.headers.get('access-control-allow-credentials'), 'true');
      assert.match(options.headers.get('access-control-expose-headers') ?? '', /Latchkey-Ceremony/);
      assert.ok(options.headers.get('latchkey-ceremony'));
      assert.match(options.headers.get('vary') ?? '', /Origin/);
    });

    test('CORS: PUT is allowed (preflight), so a configured origin can set the account e-mail', async () => {
      // Sign up, then carry the same session cookie from the app's origin.
      const home = configured.client();
      await signUp(home, newAuthenticator(), 'cors-putter');
      const app = configured.client({ origin: APP_ORIGIN });
      for (const [name, value] of home.cookies) app.cookies.set(name, value);
      for (const path of ['/api/v1/account/email', '/api/v1/account/password']) {
        const preflight = await app.request('OPTIONS', path, undefined, {
          headers: { 'access-control-request-method': 'PUT', 'access-control-request-headers': 'content-type' },
        });
        assert.equal(preflight.status, 204, path);
        const methods = (preflight.headers.get('access-control-allow-methods') ?? '').split(/\s*,\s*/);
        assert.ok(methods.includes('PUT'), `${path}: ${methods.join(', ')}`);
      }
      const put = await app.request('PUT', '/api/v1/account/email', { email: 'cors-putter@example.com' });
      assert.equal(put.status, 202, put.text);
      assert.equal(put.headers.get('access-control-allow-origin'), APP_ORIGIN);
      assert.equal(put.headers.get('access-control-allow-credentials'), 'true');
    });

    test('CORS: other origins get no CORS headers, and their state changes are still refused', async () => {
      const evil = configured.client({ origin: 'https://evil.example' });
      const preflight = await evil.request('OPTIONS', '/api/v1/passkeys/authentication/options', undefined, {
        headers: { 'access-control-request-method': 'POST' },
      });
      assert.equal(preflight.headers.get('access-control-allow-origin'), null);
      const post = await evil.post('/api/v1/passkeys/authentication/options', {});
      assert.equal(post.status, 403);
      assert.equal(post.body.code, 'origin_not_allowed');
      assert.equal(post.headers.get('access-control-allow-origin'), null);
      // Without configuration, even the app origin gets nothing (default: no CORS).
      const unconfigured = await server.client({ origin: APP_ORIGIN }).get('/api/v1/session');
      assert.equal(unconfigured.headers.get('access-control-allow-origin'), null);
    });

    test('/latchkey.js serves the elements and SDK as one module, loadable from other origins', async () => {
      const answer = await server.client({ origin: null }).get('/latchkey.js');
      assert.equal(answer.status, 200);
      assert.match(answer.headers.get('content-type') ?? '', /^text\/javascript/);
      assert.equal(answer.headers.get('access-control-allow-origin'), '*');
      for (const tag of ['latchkey-auth', 'latchkey-passkeys', 'latchkey-passkey-append']) assert.ok(answer.text.includes(`"${tag}"`), tag);
      assert.ok(answer.text.includes('LatchkeyClient'), 'the SDK is exported');
      assert.doesNotMatch(answer.text, /^import /m, 'self-contained: no bare imports left');
    });

    test('well-known documents are 404 problems when not configured', async () => {
      const client = server.client();
      for (const path of ['/.well-known/webauthn', '/.well-known/apple-app-site-association', '/.well-known/assetlinks.json']) {
        const answer = await client.get(path);
        assert.equal(answer.status, 404, path);
        assert.match(answer.headers.get('content-type') ?? '', /application\/problem\+json/);
        assert.equal(answer.body.code, 'not_found');
      }
    });

    test('well-known documents are served as JSON from config', async () => {
      const client = configured.client();
      const webauthn = await client.get('/.well-known/webauthn');
      assert.equal(webauthn.status, 200);
      assert.match(webauthn.headers.get('content-type') ?? '', /^application\/json/);
      assert.deepEqual(webauthn.body, { origins: ['https://example.co.uk', 'https://example.de'] });
      const aasa = await client.get('/.well-known/apple-app-site-association');
      assert.equal(aasa.status, 200);
      assert.deepEqual(aasa.body, JSON.parse(AASA));
      const links = await client.get('/.well-known/assetlinks.json');
      assert.equal(links.status, 200);
      assert.deepEqual(links.body, JSON.parse(ASSET_LINKS));
    });
  });
}

test('config refuses CORS and related origins that are not origins, and well-known documents that are not JSON', () => {
  assert.throws(
    () =>
      loadConfig({
        env: {
          LATCHKEY_ORIGINS: 'https://app.example.com',
          LATCHKEY_RP_ID: 'example.com',
          LATCHKEY_CORS_ORIGINS: 'https://app.example.com/path,*,https://shop.example.com,https://app.example.com',
          LATCHKEY_RELATED_ORIGINS: 'http://example.de',
          LATCHKEY_ASSET_LINKS: '{not json',
        },
      }),
    (error: unknown) => {
      assert.ok(error instanceof ConfigError);
      const text = error.problems.join('\n');
      assert.match(text, /LATCHKEY_CORS_ORIGINS: "https:\/\/app.example.com\/path" is not an origin/);
      assert.match(text, /LATCHKEY_CORS_ORIGINS: "\*" is not an origin/);
      assert.match(text, /LATCHKEY_CORS_ORIGINS: "https:\/\/shop.example.com" must also be in LATCHKEY_ORIGINS/);
      assert.doesNotMatch(text, /"https:\/\/app.example.com" must also be/);
      assert.match(text, /LATCHKEY_RELATED_ORIGINS: "http:\/\/example.de" must use https/);
      assert.match(text, /LATCHKEY_ASSET_LINKS: must be a JSON document/);
      return true;
    },
  );
});
