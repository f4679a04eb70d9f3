import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { generate } from 'otplib';
import { assertNewToken, BearerClient, newAuthenticator, sessionTokenOf, signUp } from '../helpers/flows.ts';
import type { TestClient, TestResponse } from '../helpers/test-client.ts';
import { dialects, startTestServer, type TestServer } from '../helpers/test-server.ts';

const PASSWORD = 'violet tractor under seventeen clouds';

function assertProblem(r: TestResponse, status: number, code: string, label = ''): void {
  assert.equal(r.status, status, `${label} ${r.text}`);
  assert.equal(r.body.code, code, `${label} ${r.text}`);
}

for (const dialect of dialects) {
  describe(`TOTP as a second factor (${dialect})`, () => {
    let server: TestServer;
    before(async () => {
      // Password + TOTP without the passkey-first rule, so TOTP is the second factor asked for.
      server = await startTestServer(dialect, { config: { auth: { methods: ['passkey', 'password', 'totp'], passkeyFirst: false } } });
    });
    after(() => server.close());

    const code = (secret: string, offsetMs = 0) => generate({ secret, epoch: Math.floor((server.clock.now() + offsetMs) / 1000) });

    async function enrolled(username: string): Promise<{ client: TestClient; secret: string }> {
      const client = server.client();
      await signUp(client, newAuthenticator(), username);
      assert.equal((await client.request('PUT', '/api/v1/account/password', { password: PASSWORD })).status, 200);
      const enrol = await client.post('/api/v1/account/totp', {});
      assert.equal(enrol.status, 200, enrol.text);
      assert.match(enrol.body.otpauthUrl, /^otpauth:\/\/totp\//);
      assert.equal(enrol.body.secret.length, 32, '160-bit seed');
      const row = await server.database.db.selectFrom('totp_secrets').select('secret_enc').executeTakeFirst();
      assert.ok(row && !row.secret_enc.includes(enrol.body.secret), 'encrypted at rest');
      const confirm = await client.post('/api/v1/account/totp/verify', { code: await code(enrol.body.secret) });
      assert.equal(confirm.status, 204, confirm.text);
      return { client, secret: enrol.body.secret };
    }

    test('password then TOTP code: amr pwd+totp+mfa, AAL2; the same step is accepted once', async () => {
      const { secret } = await enrolled('tp-ann');
      server.clock.advance(30_000);
      const client = server.client();
      const signIn = await client.post('/api/v1/password/sign-in', { username: 'tp-ann', password: PASSWORD });
      assert.equal(signIn.status, 200, signIn.text);
      assert.equal(signIn.body.secondFactor, 'totp');
      assertProblem(await client.get('/api/v1/passkeys'), 403, 'second_factor_required');
      const pending = sessionTokenOf(client);
      const current = await code(secret);
      const done = await client.post('/api/v1/session/totp', { code: current });
      assert.equal(done.status, 200, done.text);
      // SEC-24: the finished sign-in has a new token (a new cookie, none in the body); the pending one is dead.
      await assertNewToken(server.url, done, pending, 'cookie');
      assert.deepEqual(done.body.session.amr, ['pwd', 'totp', 'mfa']);
      assert.equal(done.body.session.aal, 2);
      assert.equal((await client.get('/api/v1/passkeys')).status, 200);

      const again = server.client();
      await again.post('/api/v1/password/sign-in', { username: 'tp-ann', password: PASSWORD });
      assertProblem(await again.post('/api/v1/session/totp', { code: current }), 401, 'totp_invalid', 'replayed step');
      assertProblem(await again.post('/api/v1/session/totp', { code: await code(secret, -60_000) }), 401, 'totp_invalid', 'two steps old');
      assert.equal((await again.post('/api/v1/session/totp', { code: await code(secret, 30_000) })).status, 200, 'next step (drift +1)');
    });

    test('SEC-24: a bearer client that finishes with a TOTP code gets the new token in the body; the pending one is dead', async () => {
      const { secret } = await enrolled('tp-bea');
      server.clock.advance(30_000);
      const client = new BearerClient(server.url);
      const signIn = await client.post('/api/v1/password/sign-in', { username: 'tp-bea', password: PASSWORD }, 'B'.repeat(43));
      assert.equal(signIn.status, 200, signIn.text);
      assert.equal(signIn.body.secondFactor, 'totp');
      const pending: string = signIn.body.session.token;
      assert.ok(pending, 'the bearer client got its pending token');
      client.token = pending;
      const done = await client.post('/api/v1/session/totp', { code: await code(secret) });
      client.token = await assertNewToken(server.url, done, pending, 'bearer');
      assert.equal(done.body.session.aal, 2);
      assert.equal((await client.get('/api/v1/passkeys')).status, 200, 'the new token is a full session');
    });

    test('enrol and remove need step-up; a TOTP code is not accepted from a full or signed-out session', async () => {
      const { client } = await enrolled('tp-bob');
      server.clock.advance(6 * 60_000);
      assertProblem(await client.post('/api/v1/account/totp', {}), 403, 'step_up_required');
      assertProblem(await client.request('DELETE', '/api/v1/account/totp'), 403, 'step_up_required');
      assertProblem(await server.client().post('/api/v1/session/totp', { code: '123456' }), 401, 'unauthorized');
    });

    test('issue 9: only the recorded second factor finishes a sign-in: not a passkey step-up for "totp", not a TOTP code on a full session', async () => {
      const authenticator = newAuthenticator();
      const owner = server.client();
      await signUp(owner, authenticator, 'tp-dee');
      assert.equal((await owner.request('PUT', '/api/v1/account/password', { password: PASSWORD })).status, 200);
      const enrol = await owner.post('/api/v1/account/totp', {});
      assert.equal((await owner.post('/api/v1/account/totp/verify', { code: await code(enrol.body.secret) })).status, 204);
      server.clock.advance(30_000);
      // A full session is waiting for nothing: a valid code does not make it "mfa".
      assertProblem(await owner.post('/api/v1/session/totp', { code: await code(enrol.body.secret) }), 403, 'second_factor_mismatch', 'full session');
      assert.deepEqual((await owner.get('/api/v1/session')).body.session.amr, ['passkey']);

      const client = server.client();
      const signIn = await client.post('/api/v1/password/sign-in', { username: 'tp-dee', password: PASSWORD });
      assert.equal(signIn.body.secondFactor, 'totp');
      assertProblem(await client.post('/api/v1/session/step-up/options', {}), 403, 'second_factor_mismatch', 'step-up options');
      // Options made by the owner's session, answered by this one, are refused as well (and never reach the session).
      const options = await owner.post('/api/v1/session/step-up/options', {});
      const verify = await client.post('/api/v1/session/step-up/verify', await authenticator.getAssertion(options.body), {
        headers: { 'latchkey-ceremony': options.headers.get('latchkey-ceremony') as string },
      });
      assertProblem(verify, 403, 'second_factor_mismatch', 'step-up verify');
      assert.equal((await client.get('/api/v1/session')).body.session.scope, 'second_factor');
      server.clock.advance(30_000);
      const done = await client.post('/api/v1/session/totp', { code: await code(enrol.body.secret) });
      assert.equal(done.status, 200, done.text);
      assert.equal(done.body.session.aal, 2);
    });

    test('TOTP guessing is limited per account (SEC-34)', async () => {
      await enrolled('tp-cy');
      server.clock.advance(30_000);
      const client = server.client();
      await client.post('/api/v1/password/sign-in', { username: 'tp-cy', password: PASSWORD });
      for (let i = 0; i < 5; i++) assertProblem(await client.post('/api/v1/session/totp', { code: String(100000 + i) }), 401, 'totp_invalid');
      const delayed = await client.post('/api/v1/session/totp', { code: '999999' });
      assertProblem(delayed, 429, 'too_many_attempts');
      assert.ok(delayed.headers.get('retry-after'));
    });
  });
}
