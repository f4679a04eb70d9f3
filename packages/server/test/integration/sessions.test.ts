import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/app.ts';
import { authenticate, newAuthenticator, register, sessionTokenOf, signUp } from '../helpers/flows.ts';
import { TestClient, type TestResponse } from '../helpers/test-client.ts';
import { dialects, startTestServer, TEST_ORIGIN, type TestServer } from '../helpers/test-server.ts';

const SESSION = '/api/v1/session';
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

const sessionCookies = (r: TestResponse) => r.headers.getSetCookie().filter((c) => /latchkey_session=/.test(c));

/** A client that carries only a bearer token: no cookie jar, no Origin (as a native app or a server). */
function bearerClient(server: { url: string }, token: string): TestClient {
  const client = new TestClient(server.url, null);
  client.bearer = token;
  return client;
}

/** A client that carries only the session cookie. */
function cookieClient(server: { url: string }, token: string, name = 'latchkey_session'): TestClient {
  const client = new TestClient(server.url, TEST_ORIGIN);
  client.cookies.set(name, token);
  return client;
}

function assertUnauthorized(r: TestResponse, label: string): void {
  assert.equal(r.status, 401, `${label}: ${r.text}`);
  assert.match(r.headers.get('content-type') ?? '', /^application\/problem\+json/, label);
  assert.equal(r.body.code, 'unauthorized', label);
  assert.equal(r.body.status, 401, label);
  assert.equal(r.body.session, undefined, label);
  assert.equal(r.body.user, undefined, label);
}

const sha256b64url = (text: string) => createHash('sha256').update(text).digest('base64url');

for (const dialect of dialects) {
  describe(`sessions (${dialect})`, () => {
    let server: TestServer;
    before(async () => {
      server = await startTestServer(dialect);
    });
    after(() => server.close());

    test('GET /session works with the cookie and with Authorization: Bearer, and both name the same user', async () => {
      const client = server.client();
      const account = await signUp(client, newAuthenticator(), 'sess-ann');
      const byCookie = await client.get(SESSION);
      assert.equal(byCookie.status, 200, byCookie.text);
      assert.deepEqual(byCookie.body.user, { id: account.user.id, username: 'sess-ann', displayName: 'sess-ann' });
      const byBearer = await bearerClient(server, account.session.token).get(SESSION);
      assert.equal(byBearer.status, 200, byBearer.text);
      assert.deepEqual(byBearer.body.user, byCookie.body.user);
      assert.equal(byBearer.body.session.expiresAt, byCookie.body.session.expiresAt);
      // A cookie client finds the token in its HttpOnly cookie only, never in a body.
      assert.equal(byCookie.body.session.token, undefined);
    });

    test('the session JSON has amr ["passkey"], userVerified, authTime and expiries, and never the token again', async () => {
      const client = server.client();
      const signedUpAt = server.clock.now();
      const account = await signUp(client, newAuthenticator({ userVerified: true }), 'sess-bea');
      const r = await client.get(SESSION);
      assert.equal(r.status, 200);
      const s = r.body.session;
      assert.deepEqual(s.amr, ['passkey']);
      assert.equal(s.userVerified, true);
      assert.equal(s.authTime, new Date(signedUpAt).toISOString());
      assert.equal(s.expiresAt, new Date(signedUpAt + 24 * HOUR).toISOString(), 'absolute timeout 24 h');
      assert.equal(s.idleExpiresAt, new Date(signedUpAt + HOUR).toISOString(), 'idle timeout 1 h');
      assert.equal(s.token, undefined, 'the token leaves the server only once, in the sign-in response');
      assert.ok(!r.text.includes(account.session.token));

      const lazy = newAuthenticator({ userVerified: false });
      await signUp(server.client(), lazy, 'sess-bea-nouv');
      const lazyClient = server.client();
      const signIn = await authenticate(lazyClient, lazy);
      assert.equal(signIn.verify.status, 200, signIn.verify.text);
      const noUv = await bearerClient(server, sessionTokenOf(lazyClient)).get(SESSION);
      assert.equal(noUv.body.session.userVerified, false);
      assert.deepEqual(noUv.body.session.amr, ['passkey']);
    });

    test('no token, a garbage token, a too-short or too-long token: 401 problem+json (cookie and bearer)', async () => {
      assertUnauthorized(await server.client().get(SESSION), 'no token');
      assertUnauthorized(await new TestClient(server.url, null).get(SESSION), 'no token, no origin');
      const garbage = ['x'.repeat(43), 'short', 'A'.repeat(500), '../../etc/passwd', "' OR 1=1 --", '%00'];
      for (const token of garbage) {
        assertUnauthorized(await bearerClient(server, token).get(SESSION), `bearer ${token.slice(0, 20)}`);
        assertUnauthorized(await cookieClient(server, encodeURIComponent(token)).get(SESSION), `cookie ${token.slice(0, 20)}`);
      }
      assertUnauthorized(await new TestClient(server.url, null).get(SESSION, { headers: { authorization: 'Basic dXNlcjpwYXNz' } }), 'basic auth');
      assertUnauthorized(await new TestClient(server.url, null).get(SESSION, { headers: { authorization: 'Bearer ' } }), 'empty bearer');
    });

    test('GET /session/status answers 200 signed out (GET /session stays 401), and the same user and session signed in', async () => {
      const STATUS = `${SESSION}/status`;
      const out = await server.client().get(STATUS);
      assert.equal(out.status, 200, out.text);
      assert.deepEqual(out.body, { signedIn: false });
      assert.equal(out.headers.get('cache-control'), 'no-store');
      assertUnauthorized(await server.client().get(SESSION), 'the contract keeps 401 for GET /session');
      assert.deepEqual((await bearerClient(server, 'x'.repeat(43)).get(STATUS)).body, { signedIn: false }, 'an unknown token is signed out');

      const client = server.client();
      const account = await signUp(client, newAuthenticator(), 'sess-status');
      const [status, session] = [await client.get(STATUS), await client.get(SESSION)];
      assert.equal(status.status, 200);
      assert.equal(status.body.signedIn, true);
      assert.deepEqual(status.body.user, session.body.user);
      assert.deepEqual(status.body.session.amr, ['passkey']);
      assert.equal(status.body.session.expiresAt, session.body.session.expiresAt);
      assert.ok(!status.text.includes(account.session.token), 'never the token');
      assert.equal((await bearerClient(server, account.session.token).get(STATUS)).body.user.id, account.user.id);

      assert.equal((await client.delete(SESSION)).status, 204);
      assert.deepEqual((await client.get(STATUS)).body, { signedIn: false });
      assert.deepEqual((await cookieClient(server, account.session.token).get(STATUS)).body, { signedIn: false }, 'an ended session is signed out');
    });

    test('the Authorization scheme is case-insensitive (RFC 9110 §11.1): "bearer" and "BEARER" work', {
    }, async () => {
      const account = await signUp(server.client(), newAuthenticator(), 'sess-case');
      for (const scheme of ['bearer', 'BEARER']) {
        const r = await new TestClient(server.url, null).get(SESSION, { headers: { authorization: `${scheme} ${account.session.token}` } });
        assert.equal(r.status, 200, `${scheme}: ${r.text}`);
      }
    });

    test('a token is bound to nothing but its own hash: a token with one character changed is 401', async () => {
      const account = await signUp(server.client(), newAuthenticator(), 'sess-flip');
      const token = account.session.token;
      const flipped = (token[0] === 'A' ? 'B' : 'A') + token.slice(1);
      assertUnauthorized(await bearerClient(server, flipped).get(SESSION), 'flipped');
      assert.equal((await bearerClient(server, token).get(SESSION)).status, 200);
    });

    test('DELETE /session is 204, clears the cookie, and the token stops working for cookie AND bearer', async () => {
      const client = server.client();
      const account = await signUp(client, newAuthenticator(), 'sess-cleo');
      const token = account.session.token;
      const out = await client.delete(SESSION);
      assert.equal(out.status, 204, out.text);
      assert.equal(out.text, '');
      const cleared = sessionCookies(out);
      assert.equal(cleared.length, 1, 'the cookie is cleared');
      assert.match(cleared[0] ?? '', /^latchkey_session=;|Max-Age=0|Expires=Thu, 01 Jan 1970/i);
      assertUnauthorized(await cookieClient(server, token).get(SESSION), 'cookie after sign-out');
      assertUnauthorized(await bearerClient(server, token).get(SESSION), 'bearer after sign-out');
      assertUnauthorized(await cookieClient(server, token).delete(SESSION), 'second sign-out');
      assertUnauthorized(await bearerClient(server, token).get('/api/v1/passkeys'), 'passkeys after sign-out');
    });

    test('signing out by bearer ends the cookie session too (one session, one token)', async () => {
      const client = server.client();
      const account = await signUp(client, newAuthenticator(), 'sess-dora');
      const out = await bearerClient(server, account.session.token).delete(SESSION);
      assert.equal(out.status, 204, out.text);
      assertUnauthorized(await client.get(SESSION), 'the browser that still holds the cookie');
    });

    test('DELETE /session signed out is 401', async () => {
      assertUnauthorized(await server.client().delete(SESSION), 'signed out');
    });

    test('signing out ends only that session: other sessions of the same user keep working', async () => {
      const authenticator = newAuthenticator();
      const first = server.client();
      await signUp(first, authenticator, 'sess-eve');
      const second = server.client();
      assert.equal((await authenticate(second, authenticator)).verify.status, 200);
      assert.equal((await first.delete(SESSION)).status, 204);
      assertUnauthorized(await first.get(SESSION), 'signed-out browser');
      assert.equal((await second.get(SESSION)).status, 200, 'the other browser is still signed in');
    });

    test('idle timeout: unused for more than 1 h the session is gone (401), for cookie and bearer', async () => {
      const client = server.client();
      const account = await signUp(client, newAuthenticator(), 'sess-fay');
      server.clock.advance(HOUR - MINUTE);
      assert.equal((await bearerClient(server, account.session.token).get(SESSION)).status, 200, 'still alive at 59 min');
      server.clock.advance(HOUR + 1);
      assertUnauthorized(await client.get(SESSION), 'cookie after idle timeout');
      assertUnauthorized(await bearerClient(server, account.session.token).get(SESSION), 'bearer after idle timeout');
    });

    test('idle timeout exactly: at 3600 s of no use the session is expired', async () => {
      const account = await signUp(server.client(), newAuthenticator(), 'sess-gil');
      server.clock.advance(3600 * 1000);
      assertUnauthorized(await bearerClient(server, account.session.token).get(SESSION), 'at 3600 s');
    });

    test('sliding: a request every 50 min keeps it alive until the absolute 24 h limit, then 401', async () => {
      const start = server.clock.now();
      const account = await signUp(server.client(), newAuthenticator(), 'sess-hal');
      const bearer = bearerClient(server, account.session.token);
      let requests = 0;
      while (server.clock.now() + 50 * MINUTE < start + 24 * HOUR) {
        server.clock.advance(50 * MINUTE);
        const r = await bearer.get(SESSION);
        assert.equal(r.status, 200, `alive after ${(server.clock.now() - start) / MINUTE} min`);
        assert.equal(r.body.session.expiresAt, new Date(start + 24 * HOUR).toISOString(), 'the absolute expiry never moves');
        assert.ok(Date.parse(r.body.session.idleExpiresAt) <= start + 24 * HOUR, 'idle expiry is capped at the absolute expiry');
        requests++;
      }
      assert.equal(requests, 28);
      server.clock.advance(50 * MINUTE);
      assert.ok(server.clock.now() > start + 24 * HOUR);
      assertUnauthorized(await bearer.get(SESSION), 'past the absolute timeout');
    });

    test('a request within the idle window moves the idle expiry forward (shown in the session JSON)', async () => {
      const account = await signUp(server.client(), newAuthenticator(), 'sess-ida');
      const bearer = bearerClient(server, account.session.token);
      server.clock.advance(30 * MINUTE);
      const r = await bearer.get(SESSION);
      assert.equal(r.body.session.idleExpiresAt, new Date(server.clock.now() + HOUR).toISOString());
      server.clock.advance(50 * MINUTE); // 80 min after sign-in, 50 after the last use
      assert.equal((await bearer.get(SESSION)).status, 200);
    });

    test('a new token on every sign-in; another client\'s token stays its own session and is never upgraded (SEC-24)', async () => {
      const authenticator = newAuthenticator();
      const account = await signUp(server.client(), authenticator, 'sess-jo');
      const client = server.client();
      const one = await authenticate(client, authenticator);
      assert.equal(one.verify.status, 200);
      const oneToken = sessionTokenOf(client);
      const other = server.client();
      assert.equal((await authenticate(other, authenticator)).verify.status, 200);
      const tokens = [account.session.token, oneToken, sessionTokenOf(other)];
      assert.equal(new Set(tokens).size, 3, 'three sign-ins, three tokens');
      for (const t of tokens) assert.match(t, /^[A-Za-z0-9_-]{43,}$/, 'at least 256 bits, base64url');
      // Ending one client's session does not end another's.
      assert.equal((await bearerClient(server, tokens[2] as string).delete(SESSION)).status, 204);
      assert.equal((await bearerClient(server, tokens[1] as string).get(SESSION)).status, 200);
      assert.equal((await bearerClient(server, tokens[0] as string).get(SESSION)).status, 200);
      assertUnauthorized(await bearerClient(server, tokens[2] as string).get(SESSION), 'newest, signed out');
    });

    test('fixation: a session cookie planted before sign-in is replaced and ends; the victim\'s session is never the planted one', async () => {
      const attacker = newAuthenticator();
      const attackerAccount = await signUp(server.client(), attacker, 'sess-mallory');
      const victim = newAuthenticator();
      const victimAccount = await signUp(server.client(), victim, 'sess-victim');
      // The victim's browser carries the attacker's session cookie, then the victim signs in.
      const browser = cookieClient(server, attackerAccount.session.token);
      const { verify } = await authenticate(browser, victim);
      assert.equal(verify.status, 200, verify.text);
      assert.equal(sessionCookies(verify).length, 1, 'a fresh cookie is set');
      const newToken = sessionTokenOf(browser);
      assert.notEqual(newToken, attackerAccount.session.token);
      // The carried (planted) session ended with the sign-in: it was never upgraded to the victim.
      assertUnauthorized(await bearerClient(server, attackerAccount.session.token).get(SESSION), 'the planted session');
      assert.equal((await bearerClient(server, newToken).get(SESSION)).body.user.id, victimAccount.user.id);
    });

    test('the database stores only the SHA-256 of a token, nowhere the token itself', async () => {
      const authenticator = newAuthenticator();
      const account = await signUp(server.client(), authenticator, 'sess-kai');
      const signInClient = server.client();
      await authenticate(signInClient, authenticator);
      const tokens = [account.session.token, sessionTokenOf(signInClient)];
      const { db } = server.database;
      const sessions = await db.selectFrom('sessions').selectAll().where('user_id', '=', account.user.id).execute();
      assert.equal(sessions.length, 2);
      assert.deepEqual(sessions.map((s) => s.token_hash).sort(), tokens.map(sha256b64url).sort());
      const tables = ['sessions', 'users', 'credentials', 'challenges', 'audit_events', 'server_secrets', 'rate_limits'] as const;
      for (const table of tables) {
        const rows = await db.selectFrom(table).selectAll().execute();
        const dump = JSON.stringify(rows, (_k, v) => (v instanceof Uint8Array ? Buffer.from(v).toString('base64url') : v));
        for (const token of tokens) assert.ok(!dump.includes(token), `${table} contains a session token`);
      }
    });

    test('session cookie on http://localhost: latchkey_session; HttpOnly; SameSite=Lax; Path=/; no Domain, no Secure', async () => {
      const authenticator = newAuthenticator();
      const signUpClient = server.client();
      const { verify: signUpResponse } = await register(signUpClient, authenticator, { username: 'sess-lou' });
      const signIn = await authenticate(server.client(), authenticator);
      for (const r of [signUpResponse, signIn.verify]) {
        const cookies = sessionCookies(r);
        assert.equal(cookies.length, 1);
        const cookie = cookies[0] as string;
        const [pair, ...attrs] = cookie.split(';').map((p) => p.trim());
        assert.match(pair ?? '', /^latchkey_session=[A-Za-z0-9_-]{43,}$/);
        const names = attrs.map((a) => a.split('=')[0]?.toLowerCase());
        assert.ok(names.includes('httponly'), cookie);
        assert.ok(attrs.some((a) => /^samesite=lax$/i.test(a)), cookie);
        assert.ok(attrs.some((a) => a === 'Path=/'), cookie);
        assert.ok(!names.includes('domain'), cookie);
        assert.ok(!names.includes('secure'), `no Secure on http://localhost: ${cookie}`);
        const maxAge = attrs.find((a) => /^max-age=/i.test(a));
        assert.equal(maxAge, 'Max-Age=86400', 'the cookie lives as long as the absolute timeout');
      }
    });
  });

  describe(`sessions survive a restart only as far as the database says (${dialect})`, () => {
    let server: TestServer;
    let restarted: FastifyInstance | undefined;
    before(async () => {
      server = await startTestServer(dialect);
    });
    after(async () => {
      await restarted?.close();
      await server.close();
    });

    test('a signed-out token is still invalid after a restart; a live one still works', async () => {
      const live = await signUp(server.client(), newAuthenticator(), 'restart-live');
      const gone = await signUp(server.client(), newAuthenticator(), 'restart-gone');
      assert.equal((await bearerClient(server, gone.session.token).delete(SESSION)).status, 204);

      // "Restart": stop this app and build a new one on the same database (no state carried in memory).
      await server.app.close();
      restarted = await buildApp(server.config, { database: server.database, clock: server.clock });
      await restarted.listen({ host: '127.0.0.1', port: 0 });
      const address = restarted.server.address();
      const url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;

      assertUnauthorized(await bearerClient({ url }, gone.session.token).get(SESSION), 'bearer after restart');
      assertUnauthorized(await cookieClient({ url }, gone.session.token).get(SESSION), 'cookie after restart');
      const r = await bearerClient({ url }, live.session.token).get(SESSION);
      assert.equal(r.status, 200, r.text);
      assert.equal(r.body.user.id, live.user.id);
      // Expiry is also decided by the database after a restart.
      server.clock.advance(HOUR + 1);
      assertUnauthorized(await bearerClient({ url }, live.session.token).get(SESSION), 'expired after restart');
    });
  });

  describe(`sessions on an https origin (${dialect})`, () => {
    const ORIGIN = 'https://app.example.com';
    let server: TestServer;
    before(async () => {
      server = await startTestServer(dialect, { config: { rp: { id: 'example.com', origins: [ORIGIN] } } });
    });
    after(() => server.close());

    test('the session cookie is __Host-latchkey_session; Secure; HttpOnly; SameSite=Lax; Path=/; no Domain', async () => {
      const client = server.client({ origin: ORIGIN });
      const authenticator = newAuthenticator({ origin: ORIGIN, rpId: 'example.com' });
      const account = await signUp(client, authenticator, 'https-user');
      const { verify } = await authenticate(server.client({ origin: ORIGIN }), authenticator);
      assert.equal(verify.status, 200, verify.text);
      const cookies = verify.headers.getSetCookie().filter((c) => c.includes('latchkey_session='));
      assert.equal(cookies.length, 1, verify.headers.getSetCookie().join(' | '));
      const cookie = cookies[0] as string;
      assert.ok(cookie.startsWith('__Host-latchkey_session='), cookie);
      const attrs = cookie.split(';').slice(1).map((a) => a.trim());
      assert.ok(attrs.includes('Secure'), cookie);
      assert.ok(attrs.includes('HttpOnly'), cookie);
      assert.ok(attrs.some((a) => /^samesite=lax$/i.test(a)), cookie);
      assert.ok(attrs.includes('Path=/'), cookie);
      assert.ok(!attrs.some((a) => /^domain=/i.test(a)), cookie);
      // Every cookie the server sets on https is __Host- prefixed (the ceremony cookie too).
      assert.ok([...client.cookies.keys()].every((name) => name.startsWith('__Host-')), [...client.cookies.keys()].join(', '));
      // The prefixed cookie is what the server reads back; the plain name is ignored.
      const byPrefixed = await cookieClient(server, account.session.token, '__Host-latchkey_session').get(SESSION);
      assert.equal(byPrefixed.status, 200, byPrefixed.text);
      assertUnauthorized(await cookieClient(server, account.session.token, 'latchkey_session').get(SESSION), 'unprefixed cookie on https');
      assert.match(verify.headers.get('strict-transport-security') ?? '', /max-age=\d{7,}/, 'HSTS when served over https');
    });

    test('DELETE /session clears the __Host- cookie with the same attributes', async () => {
      const client = server.client({ origin: ORIGIN });
      await signUp(client, newAuthenticator({ origin: ORIGIN, rpId: 'example.com' }), 'https-out');
      const out = await client.delete(SESSION);
      assert.equal(out.status, 204, out.text);
      const cleared = out.headers.getSetCookie().find((c) => c.startsWith('__Host-latchkey_session='));
      assert.ok(cleared, out.headers.getSetCookie().join(' | '));
      assert.match(cleared, /Secure/);
      assert.match(cleared, /Path=\//);
      assert.equal((await client.get(SESSION)).status, 401);
    });
  });
}
