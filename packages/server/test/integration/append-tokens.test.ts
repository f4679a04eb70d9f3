import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { authenticate, newAuthenticator, paths, signUp } from '../helpers/flows.ts';
import { TestClient, type TestResponse } from '../helpers/test-client.ts';
import { createTestApiKey } from '../helpers/api-keys.ts';
import { dialects, startTestServer, type TestServer } from '../helpers/test-server.ts';

const ADMIN = '/api/admin/v1';
const REG = paths.REG;

function assertProblem(r: TestResponse, status: number, code: string, label = ''): void {
  assert.equal(r.status, status, `${label} ${r.text}`);
  assert.match(r.headers.get('content-type') ?? '', /^application\/problem\+json/, label);
  assert.equal(r.body.code, code, `${label} ${r.text}`);
}

for (const dialect of dialects) {
  describe(`append tokens (${dialect})`, () => {
    let server: TestServer;
    let backend: TestClient;
    let backendKeyId: string;

    const keyClient = async (scopes: string[]) => {
      const made = await createTestApiKey(server, scopes, `backend ${scopes.join(' ')}`);
      const client = new TestClient(server.url, null);
      client.bearer = made.secret;
      return { client, id: made.id };
    };
    const issue = async (body: Record<string, unknown>) => {
      const r = await backend.post(`${ADMIN}/append-tokens`, body);
      assert.equal(r.status, 201, r.text);
      return r.body as { token: string; expiresAt: string; user: { id: string; username: string; externalId: string | null }; userCreated: boolean };
    };
    const newUser = async (username: string) => {
      const r = await backend.post(`${ADMIN}/users`, { username });
      assert.equal(r.status, 201, r.text);
      return r.body as { id: string; username: string };
    };
    const passkeysOf = async (userId: string) => {
      const r = await backend.get(`${ADMIN}/users/${userId}/passkeys`);
      assert.equal(r.status, 200, r.text);
      return (r.body as { passkeys: { id: string }[] }).passkeys;
    };

    before(async () => {
      // 60 s tokens: the lifetime is configurable (and shorter than the 300 s challenge here).
      server = await startTestServer(dialect, { config: { webauthn: { appendTokenTtlSeconds: 60 } } });
      const made = await keyClient(['append_tokens:issue', 'users:read', 'users:write', 'audit:read']);
      backend = made.client;
      backendKeyId = made.id;
    });
    after(async () => {
      await server.close();
    });

    test('issue → options → verify adds a passkey to the token\'s user without a session; the passkey then signs in; audited with key and token', async () => {
      const user = await newUser('ana-append');
      const issued = await issue({ userId: user.id });
      assert.match(issued.token, /^lk_append_[A-Za-z0-9_-]{43}$/);
      assert.equal(issued.user.id, user.id);
      assert.equal(issued.userCreated, false);
      assert.equal(Date.parse(issued.expiresAt) - server.clock.now(), 60_000);
      const stored = await server.database.db.selectFrom('append_tokens').selectAll().execute();
      assert.ok(stored.every((row) => row.token_hash !== issued.token && !JSON.stringify(row).includes(issued.token)), 'only a hash is stored');

      const browser = server.client();
      const authenticator = newAuthenticator();
      const options = await browser.post(`${REG}/options`, { appendToken: issued.token });
      assert.equal(options.status, 200, options.text);
      assert.equal(options.body.user.name, 'ana-append');
      const verify = await browser.post(`${REG}/verify`, await authenticator.createCredential(options.body));
      assert.equal(verify.status, 200, verify.text);
      assert.equal(verify.body.user.id, user.id);
      assert.equal(verify.body.session, undefined, 'no session is opened');
      assert.equal(verify.headers.getSetCookie().some((c) => c.startsWith('latchkey_session=')), false, 'no session cookie');
      assert.deepEqual((await passkeysOf(user.id)).map((p) => p.id), [verify.body.passkey.id]);

      const signIn = await authenticate(server.client(), authenticator);
      assert.equal(signIn.verify.status, 200, signIn.verify.text);
      assert.equal(signIn.verify.body.user.id, user.id);

      const rows = await server.database.db.selectFrom('audit_events').selectAll().where('subject_user_id', '=', user.id).orderBy('created_at').orderBy('id').execute();
      const issuedRow = rows.find((r) => r.type === 'append_token.issued');
      assert.equal(issuedRow?.actor_kind, 'api_key');
      assert.equal(issuedRow?.actor_id, backendKeyId);
      const tokenId = (JSON.parse(issuedRow?.data ?? '{}') as { appendTokenId: string }).appendTokenId;
      assert.ok(tokenId);
      const registered = rows.find((r) => r.type === 'passkey.registered');
      assert.equal(registered?.actor_kind, 'append_token');
      assert.equal(registered?.actor_id, tokenId);
      assert.equal(registered?.credential_id, verify.body.passkey.id);
    });

    test('a used token is refused: no second passkey with it', async () => {
      const user = await newUser('ben-append');
      const { token } = await issue({ userId: user.id });
      const browser = server.client();
      const options = await browser.post(`${REG}/options`, { appendToken: token });
      assert.equal((await browser.post(`${REG}/verify`, await newAuthenticator().createCredential(options.body))).status, 200);
      assertProblem(await server.client().post(`${REG}/options`, { appendToken: token }), 401, 'append_token_invalid', 'reuse');
      assert.equal((await passkeysOf(user.id)).length, 1);
    });

    test('an expired token is refused, at options and at verify', async () => {
      const user = await newUser('cleo-append');
      const early = await issue({ userId: user.id });
      server.clock.advance(61_000);
      assertProblem(await server.client().post(`${REG}/options`, { appendToken: early.token }), 401, 'append_token_invalid', 'expired at options');

      const late = await issue({ userId: user.id });
      const browser = server.client();
      const options = await browser.post(`${REG}/options`, { appendToken: late.token });
      assert.equal(options.status, 200, options.text);
      const response = await newAuthenticator().createCredential(options.body);
      server.clock.advance(61_000);
      assertProblem(await browser.post(`${REG}/verify`, response), 401, 'append_token_invalid', 'expired before verify');
      assert.equal((await passkeysOf(user.id)).length, 0);
    });

    test('one token runs one ceremony: a second start takes it over and the first cannot finish', async () => {
      const user = await newUser('dora-append');
      const { token } = await issue({ userId: user.id });
      const first = server.client();
      const second = server.client();
      const firstOptions = await first.post(`${REG}/options`, { appendToken: token });
      const secondOptions = await second.post(`${REG}/options`, { appendToken: token });
      assert.equal(secondOptions.status, 200, secondOptions.text);
      assertProblem(await first.post(`${REG}/verify`, await newAuthenticator().createCredential(firstOptions.body)), 401, 'append_token_invalid', 'first ceremony');
      assert.equal((await second.post(`${REG}/verify`, await newAuthenticator().createCredential(secondOptions.body))).status, 200);
      assert.equal((await passkeysOf(user.id)).length, 1);
    });

    test('five ceremonies started and finished at once with one token: exactly one passkey', async () => {
      const user = await newUser('dan-append');
      const { token } = await issue({ userId: user.id });
      const browsers = Array.from({ length: 5 }, () => server.client());
      const started = await Promise.all(browsers.map((b) => b.post(`${REG}/options`, { appendToken: token })));
      const responses = await Promise.all(started.map((o) => newAuthenticator().createCredential(o.body)));
      const finished = await Promise.all(browsers.map((b, i) => b.post(`${REG}/verify`, responses[i])));
      assert.deepEqual(finished.map((f) => f.status).sort(), [200, 401, 401, 401, 401]);
      assert.equal((await passkeysOf(user.id)).length, 1);
    });

    test("a token for A registers for A only: not for a username, not for the session's user B", async () => {
      const a = await newUser('eve-append');
      const browser = server.client();
      const b = await signUp(browser, newAuthenticator(), 'finn-append');
      const { token } = await issue({ userId: a.id });
      assertProblem(await browser.post(`${REG}/options`, { appendToken: token, username: 'finn-append' }), 400, 'invalid_request', 'with username');
      const options = await browser.post(`${REG}/options`, { appendToken: token });
      assert.equal(options.body.user.name, 'eve-append');
      const verify = await browser.post(`${REG}/verify`, await newAuthenticator().createCredential(options.body));
      assert.equal(verify.status, 200, verify.text);
      assert.equal(verify.body.user.id, a.id);
      assert.equal((await passkeysOf(a.id)).length, 1);
      assert.equal((await passkeysOf(b.user.id)).length, 1, "B's passkeys are unchanged");
    });

    test('the token is not a session or an API key: no session, no passkey list, no delete, no management', async () => {
      const user = await newUser('gil-append');
      const { token } = await issue({ userId: user.id });
      const holder = new TestClient(server.url, null);
      holder.bearer = token;
      assertProblem(await holder.get('/api/v1/session'), 401, 'unauthorized', 'GET /session');
      assertProblem(await holder.get('/api/v1/passkeys'), 401, 'unauthorized', 'GET /passkeys');
      assertProblem(await holder.delete('/api/v1/passkeys/abc'), 401, 'unauthorized', 'DELETE /passkeys/:id');
      assert.equal((await holder.get(`${ADMIN}/users/${user.id}`)).status, 401);
      const cookie = server.client();
      cookie.cookies.set('latchkey_session', token);
      assertProblem(await cookie.get('/api/v1/session'), 401, 'unauthorized', 'as a cookie');
      // Still good for what it is for.
      assert.equal((await server.client().post(`${REG}/options`, { appendToken: token })).status, 200);
    });

    test('a key without append_tokens:issue is refused with 403 insufficient_scope', async () => {
      const user = await newUser('hal-append');
      const { client } = await keyClient(['users:read', 'users:write']);
      const r = await client.post(`${ADMIN}/append-tokens`, { userId: user.id });
      assertProblem(r, 403, 'insufficient_scope');
      assert.equal(r.body.scope, 'append_tokens:issue');
      assertProblem(await backend.post(`${ADMIN}/append-tokens`, { userId: 'no-such-user' }), 404, 'not_found');
    });

    test('by externalId: a new user is created on the fly, the next issuance reuses it; a disabled user gets none', async () => {
      const first = await issue({ externalId: 'crm-4711', displayName: 'Ida' });
      assert.equal(first.userCreated, true);
      assert.equal(first.user.username, 'crm-4711');
      assert.equal(first.user.externalId, 'crm-4711');
      const second = await issue({ externalId: 'crm-4711' });
      assert.equal(second.userCreated, false);
      assert.equal(second.user.id, first.user.id);
      assert.notEqual(second.token, first.token);

      assertProblem(await backend.post(`${ADMIN}/append-tokens`, { externalId: 'crm 4712' }), 400, 'username_invalid', 'externalId not a username');
      const named = await issue({ externalId: 'crm 4712', username: 'jo-append' });
      assert.equal(named.user.username, 'jo-append');
      assert.equal(named.userCreated, true);

      const browser = server.client();
      const options = await browser.post(`${REG}/options`, { appendToken: first.token });
      assert.equal(options.status, 200, options.text);
      assert.equal((await browser.post(`${REG}/verify`, await newAuthenticator().createCredential(options.body))).status, 200);
      assert.equal((await passkeysOf(first.user.id)).length, 1);

      assert.equal((await backend.post(`${ADMIN}/users/${first.user.id}/disable`)).status, 200);
      assertProblem(await backend.post(`${ADMIN}/append-tokens`, { externalId: 'crm-4711' }), 409, 'user_disabled');
    });
  });
}
