import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { assertNewToken, authenticate, BearerClient, bearerStepUp, newAuthenticator, paths, register, signUp } from '../helpers/flows.ts';
import type { TestResponse } from '../helpers/test-client.ts';
import { dialects, startTestServer, type TestServer } from '../helpers/test-server.ts';

const STEP_UP = '/api/v1/session/step-up';
const SIX_MINUTES = 6 * 60_000;

function assertProblem(r: TestResponse, status: number, code: string, label = ''): void {
  assert.equal(r.status, status, `${label} ${r.text}`);
  assert.match(r.headers.get('content-type') ?? '', /^application\/problem\+json/, label);
  assert.equal(r.body.code, code, `${label} ${r.text}`);
}

for (const dialect of dialects) {
  describe(`step-up and the last passkey (${dialect})`, () => {
    let server: TestServer;
    before(async () => {
      server = await startTestServer(dialect);
    });
    after(() => server.close());

    test('a fresh user-verified sign-up counts as step-up; after 5 minutes adding or deleting a passkey is 403 step_up_required', async () => {
      const client = server.client();
      const first = newAuthenticator();
      const account = await signUp(client, first, 'su-ann');
      const second = await register(client, newAuthenticator(), {});
      assert.equal(second.verify.status, 200, 'right after sign-up: allowed');

      server.clock.advance(SIX_MINUTES);
      assertProblem(await client.post(`${paths.REG}/options`, {}), 403, 'step_up_required', 'append');
      assertProblem(await client.delete(`/api/v1/passkeys/${second.verify.body.passkey.id}`), 403, 'step_up_required', 'delete');
      const list = await client.get('/api/v1/passkeys');
      assert.equal(list.status, 200, 'reading is not sensitive');
      assert.equal(list.body.passkeys.length, 2, 'nothing was deleted');
      assert.ok(account.user.id);
    });

    test('step-up asks for UV on the user\'s own passkeys and refreshes the auth time; then the operation passes', async () => {
      const client = server.client();
      const authenticator = newAuthenticator();
      const account = await signUp(client, authenticator, 'su-bob');
      server.clock.advance(SIX_MINUTES);
      const options = await client.post(`${STEP_UP}/options`, {});
      assert.equal(options.status, 200, options.text);
      assert.equal(options.body.userVerification, 'required');
      assert.deepEqual(options.body.allowCredentials.map((c: { id: string }) => c.id), [account.passkey.id]);
      const verify = await client.post(`${STEP_UP}/verify`, await authenticator.getAssertion(options.body));
      assert.equal(verify.status, 200, verify.text);
      assert.equal(verify.body.session.authTime, new Date(server.clock.now()).toISOString());
      assert.equal(verify.body.session.aal, 2);
      // SEC-24: the re-authenticated session has a new token (new cookie, none in the body); the old one is dead.
      await assertNewToken(server.url, verify, account.session.token, 'cookie');
      const session = await client.get('/api/v1/session');
      assert.equal(session.body.session.authTime, verify.body.session.authTime);
      const rows = await server.database.db.selectFrom('sessions').select('id').where('user_id', '=', account.user.id).execute();
      assert.equal(rows.length, 1, 'the same session (device list, audit), with a new token');
      assert.equal((await register(client, newAuthenticator(), {})).verify.status, 200, 'append after step-up');
    });

    test('SEC-24: a bearer client\'s step-up answers the new token in the body; the old bearer token is dead at once', async () => {
      const authenticator = newAuthenticator();
      const account = await signUp(server.client(), authenticator, 'su-bea');
      server.clock.advance(SIX_MINUTES);
      const client = new BearerClient(server.url, account.session.token);
      const verify = await bearerStepUp(client, authenticator);
      client.token = await assertNewToken(server.url, verify, account.session.token, 'bearer');
      assert.equal(verify.body.session.aal, 2);
      const session = await client.get('/api/v1/session');
      assert.equal(session.status, 200, session.text);
      assert.equal(session.body.session.authTime, verify.body.session.authTime, 'the new token carries the fresh step-up');
    });

    test('a step-up without user verification is refused and does not refresh anything', async () => {
      const client = server.client();
      const authenticator = newAuthenticator();
      await signUp(client, authenticator, 'su-cy');
      server.clock.advance(SIX_MINUTES);
      const before = (await client.get('/api/v1/session')).body.session.authTime;
      const options = await client.post(`${STEP_UP}/options`, {});
      const verify = await client.post(`${STEP_UP}/verify`, await authenticator.getAssertion(options.body, { authData: { uv: false } }));
      assertProblem(verify, 401, 'verification_failed', 'UV=0');
      assert.equal((await client.get('/api/v1/session')).body.session.authTime, before);
      assertProblem(await client.post(`${paths.REG}/options`, {}), 403, 'step_up_required');
    });

    test('a step-up cannot be finished by another user\'s session, nor used as a sign-in', async () => {
      const alice = server.client();
      const aliceKey = newAuthenticator();
      await signUp(alice, aliceKey, 'su-dee');
      const mallory = server.client();
      await signUp(mallory, newAuthenticator(), 'su-mal');
      server.clock.advance(SIX_MINUTES);
      const options = await alice.post(`${STEP_UP}/options`, {});
      const assertion = await aliceKey.getAssertion(options.body);
      // Mallory replays Alice's step-up assertion with her own session (and Alice's binding header).
      const stolen = await mallory.post(`${STEP_UP}/verify`, assertion, { headers: { 'latchkey-ceremony': alice.cookies.get('latchkey_ceremony') ?? '' } });
      assert.ok(stolen.status === 400 || stolen.status === 401, stolen.text);
      assertProblem(await mallory.post(`${paths.REG}/options`, {}), 403, 'step_up_required', 'mallory gained nothing');
      // A step-up challenge is not a sign-in challenge either.
      const options2 = await alice.post(`${STEP_UP}/options`, {});
      const signIn = await alice.post(`${paths.AUTH}/verify`, await aliceKey.getAssertion(options2.body));
      assertProblem(signIn, 400, 'challenge_invalid');
      assertProblem(await server.client().post(`${STEP_UP}/options`, {}), 401, 'unauthorized', 'signed out');
    });

    test('a new sign-in with UV is a fresh step-up', async () => {
      const authenticator = newAuthenticator();
      await signUp(server.client(), authenticator, 'su-eve');
      server.clock.advance(SIX_MINUTES);
      const client = server.client();
      assert.equal((await authenticate(client, authenticator)).verify.status, 200);
      assert.equal((await register(client, newAuthenticator(), {})).verify.status, 200);
    });

    test('SEC-32: the last passkey is not deleted without another sign-in method or ?confirm=last', async () => {
      const client = server.client();
      const account = await signUp(client, newAuthenticator(), 'su-fay');
      const extra = await register(client, newAuthenticator(), {});
      assert.equal((await client.delete(`/api/v1/passkeys/${extra.verify.body.passkey.id}`)).status, 204, 'not the last one');
      assertProblem(await client.delete(`/api/v1/passkeys/${account.passkey.id}`), 409, 'last_passkey');
      assert.equal((await client.get('/api/v1/passkeys')).body.passkeys.length, 1, 'still there');
      assert.equal((await client.delete(`/api/v1/passkeys/${account.passkey.id}?confirm=last`)).status, 204);
      assert.equal((await client.get('/api/v1/passkeys')).body.passkeys.length, 0);
    });

    test('GET /session says how the user signed in: amr, aal and scope', async () => {
      const client = server.client();
      await signUp(client, newAuthenticator(), 'su-gus');
      const session = (await client.get('/api/v1/session')).body.session;
      assert.deepEqual(session.amr, ['passkey']);
      assert.equal(session.userVerified, true);
      assert.equal(session.aal, 2);
      assert.equal(session.scope, 'full');
      const noUv = server.client();
      await signUp(noUv, newAuthenticator({ userVerified: false }), 'su-hal');
      const weak = (await noUv.get('/api/v1/session')).body.session;
      assert.equal(weak.aal, 1, 'a passkey without UV is one factor');
    });
  });
}
