import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { assertNewToken, authenticate, BearerClient, bearerStepUp, newAuthenticator, sessionTokenOf, signUp } from '../helpers/flows.ts';
import type { TestResponse } from '../helpers/test-client.ts';
import { dialects, startTestServer, type TestServer } from '../helpers/test-server.ts';

const SIGN_IN = '/api/v1/password/sign-in';
const STRONG = 'violet tractor under seventeen clouds';

function assertProblem(r: TestResponse, status: number, code: string, label = ''): void {
  assert.equal(r.status, status, `${label} ${r.text}`);
  assert.match(r.headers.get('content-type') ?? '', /^application\/problem\+json/, label);
  assert.equal(r.body.code, code, `${label} ${r.text}`);
}

for (const dialect of dialects) {
  describe(`passwords (${dialect})`, () => {
    let server: TestServer;
    let off: TestServer;
    before(async () => {
      server = await startTestServer(dialect, { config: { auth: { methods: ['passkey', 'email_code', 'password'] } } });
      off = await startTestServer(dialect);
    });
    after(async () => {
      await server.close();
      await off.close();
    });

    test('off by default: 403 method_disabled', async () => {
      assertProblem(await off.client().post(SIGN_IN, { username: 'x', password: STRONG }), 403, 'method_disabled');
    });

    test('setting a password follows NIST rules: length in code points, blocklist, username; 1 KiB cap', async () => {
      const client = server.client();
      await signUp(client, newAuthenticator(), 'pw-alice');
      const put = (password: string) => client.request('PUT', '/api/v1/account/password', { password });
      assertProblem(await put('tooshort'), 400, 'password_rejected', 'short');
      assertProblem(await put('QwertyUiop12345'), 400, 'password_rejected', 'common');
      assertProblem(await put('pw-alice2026!!!!'), 400, 'password_rejected', 'username');
      assertProblem(await put('é'.repeat(1025)), 400, 'invalid_request', 'over 1 KiB');
      const ok = await put(STRONG);
      assert.equal(ok.status, 200, ok.text);
    });

    test('passkey-first: a right password on an account with a passkey needs the passkey too; then AAL2 with amr pwd+passkey+mfa', async () => {
      const first = server.client();
      const authenticator = newAuthenticator();
      await signUp(first, authenticator, 'pw-bob');
      assert.equal((await first.request('PUT', '/api/v1/account/password', { password: STRONG })).status, 200);

      const client = server.client();
      const signIn = await client.post(SIGN_IN, { username: 'PW-Bob', password: STRONG });
      assert.equal(signIn.status, 200, signIn.text);
      assert.equal(signIn.body.secondFactor, 'passkey');
      assert.equal(signIn.body.session.scope, 'second_factor');
      assert.deepEqual(signIn.body.session.amr, ['pwd']);
      assertProblem(await client.get('/api/v1/passkeys'), 403, 'second_factor_required');
      const pending = sessionTokenOf(client);

      const options = await client.post('/api/v1/session/step-up/options', {});
      assert.equal(options.status, 200, options.text);
      const verify = await client.post('/api/v1/session/step-up/verify', await authenticator.getAssertion(options.body));
      assert.equal(verify.status, 200, verify.text);
      // SEC-24: the finished sign-in has a new token; the half-signed-in one is dead.
      await assertNewToken(server.url, verify, pending, 'cookie');
      assert.deepEqual(verify.body.session.amr, ['pwd', 'passkey', 'mfa']);
      assert.equal(verify.body.session.aal, 2);
      assert.equal(verify.body.session.scope, 'full');
      assert.equal((await client.get('/api/v1/passkeys')).status, 200);

      // A half-finished sign-in does not linger: after 15 minutes the second_factor session is dead.
      const late = server.client();
      assert.equal((await late.post(SIGN_IN, { username: 'pw-bob', password: STRONG })).status, 200);
      server.clock.advance(15 * 60_000 + 1);
      assertProblem(await late.get('/api/v1/session'), 401, 'unauthorized', 'expired second_factor session');
      assert.equal((await client.get('/api/v1/session')).status, 200, 'the finished one lives on');
    });

    test('SEC-24: a bearer client that finishes a password sign-in with its passkey gets a new token in the body; the pending one is dead', async () => {
      const authenticator = newAuthenticator();
      const owner = server.client();
      await signUp(owner, authenticator, 'pw-bea');
      assert.equal((await owner.request('PUT', '/api/v1/account/password', { password: STRONG })).status, 200);

      const client = new BearerClient(server.url);
      // A password sign-in has no ceremony: a bearer client sends a Latchkey-Ceremony header without the cookie.
      const signIn = await client.post(SIGN_IN, { username: 'pw-bea', password: STRONG }, 'A'.repeat(43));
      assert.equal(signIn.status, 200, signIn.text);
      assert.equal(signIn.body.secondFactor, 'passkey');
      const pending: string = signIn.body.session.token;
      assert.ok(pending, 'the bearer client got its pending token');
      client.token = pending;
      const verify = await bearerStepUp(client, authenticator);
      client.token = await assertNewToken(server.url, verify, pending, 'bearer');
      assert.equal(verify.body.session.scope, 'full');
      assert.equal((await client.get('/api/v1/passkeys')).status, 200, 'the new token is a full session');
    });

    test('a wrong password and an unknown user get the same 401; NFKC makes fullwidth input the same password', async () => {
      const client = server.client();
      await signUp(client, newAuthenticator(), 'pw-cy');
      await client.request('PUT', '/api/v1/account/password', { password: 'ｆｕｌｌｗｉｄｔｈ ｌｅｔｔｅｒｓ ｏｋａｙ' });
      const wrong = await server.client().post(SIGN_IN, { username: 'pw-cy', password: 'not the password at all' });
      const unknown = await server.client().post(SIGN_IN, { username: 'pw-nobody', password: 'not the password at all' });
      assertProblem(wrong, 401, 'invalid_credentials');
      assertProblem(unknown, 401, 'invalid_credentials');
      assert.deepEqual(Object.keys(wrong.body).sort(), Object.keys(unknown.body).sort());
      assert.equal(wrong.body.detail, unknown.body.detail);
      const ascii = await server.client().post(SIGN_IN, { username: 'pw-cy', password: 'fullwidth letters okay' });
      assert.equal(ascii.status, 200, ascii.text);
    });

    test('consecutive failures slow the account down (429 + Retry-After), success clears them (SEC-34)', async () => {
      const client = server.client();
      await signUp(client, newAuthenticator(), 'pw-dee');
      await client.request('PUT', '/api/v1/account/password', { password: STRONG });
      for (let i = 0; i < 5; i++) assertProblem(await server.client().post(SIGN_IN, { username: 'pw-dee', password: `wrong guess number ${i}` }), 401, 'invalid_credentials');
      const delayed = await server.client().post(SIGN_IN, { username: 'pw-dee', password: STRONG });
      assertProblem(delayed, 429, 'too_many_attempts');
      assert.ok(Number(delayed.headers.get('retry-after')) >= 1);
      // The same limit holds for a username nobody has: no enumeration through lockout either.
      for (let i = 0; i < 5; i++) await server.client().post(SIGN_IN, { username: 'pw-ghost', password: `wrong guess number ${i}` });
      assertProblem(await server.client().post(SIGN_IN, { username: 'pw-ghost', password: STRONG }), 429, 'too_many_attempts', 'unknown user');
      server.clock.advance(2_000);
      assert.equal((await server.client().post(SIGN_IN, { username: 'pw-dee', password: STRONG })).status, 200);
      assertProblem(await server.client().post(SIGN_IN, { username: 'pw-dee', password: 'wrong again, once' }), 401, 'invalid_credentials', 'counter was cleared');
    });

    test('a passkey sign-in clears the delays a password guesser caused (the owner is not locked out)', async () => {
      const client = server.client();
      const authenticator = newAuthenticator();
      await signUp(client, authenticator, 'pw-fay');
      await client.request('PUT', '/api/v1/account/password', { password: STRONG });
      for (let i = 0; i < 6; i++) await server.client().post(SIGN_IN, { username: 'pw-fay', password: `attacker guess ${i}` });
      assertProblem(await server.client().post(SIGN_IN, { username: 'pw-fay', password: STRONG }), 429, 'too_many_attempts', 'delayed');
      await authenticate(server.client(), authenticator, { username: 'pw-fay' });
      const after = await server.client().post(SIGN_IN, { username: 'pw-fay', password: STRONG });
      assert.equal(after.status, 200, `after the passkey sign-in: ${after.text}`);
    });

    test('changing the password needs step-up and signs out every other session (SEC-42)', async () => {
      const client = server.client();
      const authenticator = newAuthenticator();
      await signUp(client, authenticator, 'pw-eve');
      assert.equal((await client.request('PUT', '/api/v1/account/password', { password: STRONG })).status, 200);
      const other = server.client();
      const viaPassword = await other.post(SIGN_IN, { username: 'pw-eve', password: STRONG });
      assert.equal(viaPassword.status, 200);
      server.clock.advance(6 * 60_000);
      assertProblem(await client.request('PUT', '/api/v1/account/password', { password: `${STRONG} again` }), 403, 'step_up_required');
      const options = await client.post('/api/v1/session/step-up/options', {});
      assert.equal((await client.post('/api/v1/session/step-up/verify', await authenticator.getAssertion(options.body))).status, 200);
      const changed = await client.request('PUT', '/api/v1/account/password', { password: `${STRONG} again` });
      assert.equal(changed.status, 200, changed.text);
      assert.equal(changed.body.sessionsRevoked, 1);
      assertProblem(await other.get('/api/v1/session'), 401, 'unauthorized');
    });
  });
}
