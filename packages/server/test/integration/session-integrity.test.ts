import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { generate } from 'otplib';
import { authenticate, newAuthenticator, paths, register, sessionTokenOf, signUp } from '../helpers/flows.ts';
import { startMailbox, userWithEmail, type Mailbox } from '../helpers/mailbox.ts';
import { TestClient, type TestResponse } from '../helpers/test-client.ts';
import { dialects, startTestServer, TEST_ORIGIN, type TestServer } from '../helpers/test-server.ts';

/**
 * Issue 9 (outside security review): how sessions are issued, upgraded and ended. Each test here
 * failed on the code before the fix.
 */

const SESSION = '/api/v1/session';
const STEP_UP = '/api/v1/session/step-up';
const PASSWORD = 'violet tractor under seventeen clouds';

function assertProblem(r: TestResponse, status: number, code: string, label = ''): void {
  assert.equal(r.status, status, `${label} ${r.text}`);
  assert.match(r.headers.get('content-type') ?? '', /^application\/problem\+json/, label);
  assert.equal(r.body.code, code, `${label} ${r.text}`);
}

/** A bearer client: no cookie jar, binds each ceremony by the Latchkey-Ceremony header it was given. */
class BearerClient extends TestClient {
  binding: string | undefined;
  override async request(method: string, path: string, body?: unknown, options: Parameters<TestClient['request']>[3] = {}): Promise<TestResponse> {
    const headers = { ...(this.binding ? { 'latchkey-ceremony': this.binding } : {}), ...options.headers };
    const r = await super.request(method, path, body, { ...options, headers, noCookies: true });
    this.binding = r.headers.get('latchkey-ceremony') ?? this.binding;
    return r;
  }
}

for (const dialect of dialects) {
  describe(`session integrity, issue 9 (${dialect})`, () => {
    let server: TestServer;
    let mailbox: Mailbox;
    before(async () => {
      mailbox = await startMailbox();
      server = await startTestServer(dialect, {
        config: { mail: { smtpUrl: mailbox.url }, auth: { methods: ['passkey', 'email_code', 'password', 'totp'], passkeyFirst: true } },
      });
    });
    after(async () => {
      await server.close();
      await mailbox.close();
    });

    const auditTypes = async (userId: string) =>
      (await server.database.db.selectFrom('audit_events').select('type').where('subject_user_id', '=', userId).execute()).map((r) => r.type);

    /** Starts recovery from a new browser and opens the restricted session. */
    async function recoverySession(email: string, recoveryCode: string): Promise<{ client: TestClient; verify: TestResponse }> {
      server.clock.advance(61_000);
      const client = server.client();
      const before = mailbox.codeCount(email);
      assert.equal((await client.post('/api/v1/recovery/start', { email })).status, 202);
      const code = await mailbox.newCode(email, before);
      const verify = await client.post('/api/v1/recovery/verify', { code, recoveryCode });
      assert.equal(verify.status, 200, verify.text);
      assert.equal(verify.body.session.scope, 'recovery');
      return { client, verify };
    }

    test('finding 1: a recovery session cannot sign up another account, and so never becomes a full session without recovering', async () => {
      const { client: victimDevice, userId } = await userWithEmail(server, mailbox, 'si-victim', 'si-victim@example.test');
      const codes: string[] = (await victimDevice.post('/api/v1/account/recovery-codes', {})).body.codes;
      const { client: attacker } = await recoverySession('si-victim@example.test', codes[0] as string);

      // Sign-up options with the recovery session: refused.
      assertProblem(await attacker.post(`${paths.REG}/options`, { username: 'si-throwaway' }), 409, 'signed_in', 'sign-up options');
      // Nor can it finish a sign-up begun elsewhere (a signed-out client's options, its binding sent as the header).
      const elsewhere = server.client();
      const options = await elsewhere.post(`${paths.REG}/options`, { username: 'si-throwaway' });
      assert.equal(options.status, 200, options.text);
      const response = await newAuthenticator().createCredential(options.body);
      const verify = await attacker.post(`${paths.REG}/verify`, response, { headers: { 'latchkey-ceremony': options.headers.get('latchkey-ceremony') as string } });
      assertProblem(verify, 409, 'signed_in', 'sign-up verify');

      // Still a restricted recovery session, AAL1; the victim's device is still signed in; nothing was recovered.
      const current = await attacker.get(SESSION);
      assert.equal(current.body.session.scope, 'recovery');
      assert.equal(current.body.session.aal, 1);
      assertProblem(await attacker.get('/api/v1/passkeys'), 403, 'recovery_session_restricted');
      assert.equal((await victimDevice.get(SESSION)).status, 200);
      assert.ok(!(await auditTypes(userId)).includes('account.recovered'));
      const throwaway = await server.database.db.selectFrom('users').select('id').where('username', '=', 'si-throwaway').execute();
      assert.equal(throwaway.length, 0, 'no account was made');
    });

    test('finding 2: a password sign-in told secondFactor "passkey" cannot be finished with a TOTP code', async () => {
      const owner = server.client();
      const authenticator = newAuthenticator();
      await signUp(owner, authenticator, 'si-tp');
      assert.equal((await owner.request('PUT', '/api/v1/account/password', { password: PASSWORD })).status, 200);
      const enrol = await owner.post('/api/v1/account/totp', {});
      assert.equal(enrol.status, 200, enrol.text);
      const code = (offsetMs = 0) => generate({ secret: enrol.body.secret, epoch: Math.floor((server.clock.now() + offsetMs) / 1000) });
      assert.equal((await owner.post('/api/v1/account/totp/verify', { code: await code() })).status, 204);

      server.clock.advance(30_000);
      const client = server.client();
      const signIn = await client.post('/api/v1/password/sign-in', { username: 'si-tp', password: PASSWORD });
      assert.equal(signIn.status, 200, signIn.text);
      assert.equal(signIn.body.secondFactor, 'passkey');
      assertProblem(await client.post('/api/v1/session/totp', { code: await code() }), 403, 'second_factor_mismatch', 'TOTP for a passkey sign-in');
      const current = await client.get(SESSION);
      assert.equal(current.body.session.scope, 'second_factor');
      assert.equal(current.body.session.aal, 1);
      assertProblem(await client.get('/api/v1/passkeys'), 403, 'second_factor_required');

      // A full session has no second factor to finish: TOTP does not add "mfa" to it either.
      server.clock.advance(30_000);
      assertProblem(await owner.post('/api/v1/session/totp', { code: await code() }), 403, 'second_factor_mismatch', 'TOTP on a full session');
      assert.deepEqual((await owner.get(SESSION)).body.session.amr, ['passkey']);

      // The factor recorded on the session still finishes it.
      const options = await client.post(`${STEP_UP}/options`, {});
      assert.equal(options.status, 200, options.text);
      const done = await client.post(`${STEP_UP}/verify`, await authenticator.getAssertion(options.body));
      assert.equal(done.status, 200, done.text);
      assert.deepEqual(done.body.session.amr, ['pwd', 'passkey', 'mfa']);
      assert.equal(done.body.session.aal, 2);
    });

    test('finding 6: a cookie client never gets its token in a body; a bearer client does, where a session is issued', async () => {
      const noToken = (r: TestResponse, label: string) => {
        assert.equal(r.status, 200, `${label}: ${r.text}`);
        assert.ok(r.body.session, label);
        assert.equal(r.body.session.token, undefined, label);
        assert.ok(r.headers.getSetCookie().some((c) => c.startsWith('latchkey_session=')), `${label}: the cookie is set`);
        return r;
      };
      // Cookie clients: sign-up, passkey sign-in, e-mail code, password, recovery.
      const browser = server.client();
      const authenticator = newAuthenticator();
      noToken((await register(browser, authenticator, { username: 'si-cookie' })).verify, 'sign-up');
      noToken((await authenticate(server.client(), authenticator)).verify, 'passkey sign-in');
      assert.equal((await browser.request('PUT', '/api/v1/account/password', { password: PASSWORD })).status, 200);
      noToken(await server.client().post('/api/v1/password/sign-in', { username: 'si-cookie', password: PASSWORD }), 'password');

      const { client: mailUser, userId } = await userWithEmail(server, mailbox, 'si-mail', 'si-mail@example.test');
      const codes: string[] = (await mailUser.post('/api/v1/account/recovery-codes', {})).body.codes;
      server.clock.advance(61_000);
      const emailBrowser = server.client();
      let before = mailbox.codeCount('si-mail@example.test');
      await emailBrowser.post('/api/v1/email-code/sign-in', { email: 'si-mail@example.test' });
      noToken(await emailBrowser.post('/api/v1/email-code/sign-in/verify', { code: await mailbox.newCode('si-mail@example.test', before) }), 'e-mail code');
      noToken((await recoverySession('si-mail@example.test', codes[0] as string)).verify, 'recovery');

      // A bearer client gets the token, and it works; GET /session never echoes it.
      const bearer = new BearerClient(server.url, null);
      const bearerKey = newAuthenticator();
      const signUpOptions = await bearer.post(`${paths.REG}/options`, { username: 'si-bearer' });
      const up = await bearer.post(`${paths.REG}/verify`, await bearerKey.createCredential(signUpOptions.body));
      assert.equal(up.status, 200, up.text);
      assert.match(up.body.session.token, /^[A-Za-z0-9_-]{43}$/);
      const signInOptions = await bearer.post(`${paths.AUTH}/options`, {});
      const signIn = await bearer.post(`${paths.AUTH}/verify`, await bearerKey.getAssertion(signInOptions.body));
      assert.equal(signIn.status, 200, signIn.text);
      assert.match(signIn.body.session.token, /^[A-Za-z0-9_-]{43}$/);
      bearer.bearer = signIn.body.session.token;
      const current = await bearer.get(SESSION);
      assert.equal(current.status, 200, current.text);
      assert.equal(current.body.session.token, undefined, 'GET /session never echoes a token');
      assert.ok(!current.text.includes(signIn.body.session.token));

      server.clock.advance(61_000);
      const bearerMail = new BearerClient(server.url, null);
      before = mailbox.codeCount('si-mail@example.test');
      await bearerMail.post('/api/v1/email-code/sign-in', { email: 'si-mail@example.test' });
      const byCode = await bearerMail.post('/api/v1/email-code/sign-in/verify', { code: await mailbox.newCode('si-mail@example.test', before) });
      assert.equal(byCode.status, 200, byCode.text);
      assert.match(byCode.body.session.token, /^[A-Za-z0-9_-]{43}$/, 'e-mail code, bearer client');
      assert.ok(userId);
    });

    test('finding 7: signing in again ends the session the request carried, on every sign-in path', async () => {
      const authenticator = newAuthenticator();
      const account = await signUp(server.client(), authenticator, 'si-again');
      const client = server.client();
      assert.equal((await authenticate(client, authenticator)).verify.status, 200);
      const first = sessionTokenOf(client);
      const again = await authenticate(client, authenticator);
      assert.equal(again.verify.status, 200, again.verify.text);
      const second = sessionTokenOf(client);
      assert.notEqual(first, second);
      const byToken = (token: string) => {
        const c = new TestClient(server.url, null);
        c.bearer = token;
        return c.get(SESSION);
      };
      assertProblem(await byToken(first), 401, 'unauthorized', 'the carried session ended');
      assert.equal((await byToken(second)).status, 200);
      assert.equal((await byToken(account.session.token)).status, 200, "another client's session is untouched");
      const revoked = await server.database.db
        .selectFrom('audit_events')
        .select(['type', 'data'])
        .where('request_id', '=', again.verify.headers.get('x-request-id') as string)
        .execute();
      assert.ok(revoked.some((r) => r.type === 'session.revoked'), 'the ended session is audited in the same commit');

      // A failed sign-in ends nothing; a session carried as a bearer token ends like a cookie's.
      const bearer = new TestClient(server.url, TEST_ORIGIN);
      bearer.bearer = second;
      assert.equal((await bearer.post('/api/v1/password/sign-in', { username: 'si-again', password: 'not the password' })).status, 401);
      assert.equal((await byToken(second)).status, 200, 'a failed sign-in ends nothing');
      assert.equal((await authenticate(bearer, authenticator)).verify.status, 200);
      assertProblem(await byToken(second), 401, 'unauthorized', 'carried as a bearer token');

      // So does one carried into an e-mail code or a password sign-in.

      const { client: mailUser } = await userWithEmail(server, mailbox, 'si-again-mail', 'si-again-mail@example.test');
      const codes: string[] = (await mailUser.post('/api/v1/account/recovery-codes', {})).body.codes;
      const carried = sessionTokenOf(mailUser);
      server.clock.advance(61_000);
      const before = mailbox.codeCount('si-again-mail@example.test');
      await mailUser.post('/api/v1/email-code/sign-in', { email: 'si-again-mail@example.test' });
      const byCode = await mailUser.post('/api/v1/email-code/sign-in/verify', { code: await mailbox.newCode('si-again-mail@example.test', before) });
      assert.equal(byCode.status, 200, byCode.text);
      assertProblem(await byToken(carried), 401, 'unauthorized', 'carried into an e-mail code sign-in');

      const carriedIntoRecovery = sessionTokenOf(mailUser);
      server.clock.advance(61_000);
      const beforeRecovery = mailbox.codeCount('si-again-mail@example.test');
      assert.equal((await mailUser.post('/api/v1/recovery/start', { email: 'si-again-mail@example.test' })).status, 202);
      const recoveryCode = await mailbox.newCode('si-again-mail@example.test', beforeRecovery);
      const recovered = await mailUser.post('/api/v1/recovery/verify', { code: recoveryCode, recoveryCode: codes[0] });
      assert.equal(recovered.status, 200, recovered.text);
      assertProblem(await byToken(carriedIntoRecovery), 401, 'unauthorized', 'carried into a recovery');

      const pwdUser = server.client();
      await signUp(pwdUser, newAuthenticator(), 'si-again-pwd');
      assert.equal((await pwdUser.request('PUT', '/api/v1/account/password', { password: PASSWORD })).status, 200);
      const beforePassword = sessionTokenOf(pwdUser);
      assert.equal((await pwdUser.post('/api/v1/password/sign-in', { username: 'si-again-pwd', password: PASSWORD })).status, 200);
      assertProblem(await byToken(beforePassword), 401, 'unauthorized', 'carried into a password sign-in');
    });

    test('finding 8: a step-up challenge asked for by one session cannot be answered in another session of the same user', async () => {
      const authenticator = newAuthenticator();
      await signUp(server.client(), authenticator, 'si-stepper');
      const a = server.client();
      const b = server.client();
      assert.equal((await authenticate(a, authenticator)).verify.status, 200);
      assert.equal((await authenticate(b, authenticator)).verify.status, 200);
      server.clock.advance(6 * 60_000);
      const before = (await b.get(SESSION)).body.session.authTime;

      const options = await a.post(`${STEP_UP}/options`, {});
      assert.equal(options.status, 200, options.text);
      const assertion = await authenticator.getAssertion(options.body);
      // Session B answers A's challenge, even with A's ceremony binding.
      const stolen = await b.post(`${STEP_UP}/verify`, assertion, { headers: { 'latchkey-ceremony': options.headers.get('latchkey-ceremony') as string } });
      assertProblem(stolen, 400, 'challenge_invalid', "another session's step-up");
      assert.equal((await b.get(SESSION)).body.session.authTime, before, 'B was not stepped up');
      assertProblem(await b.post(`${paths.REG}/options`, {}), 403, 'step_up_required');

      // Its own session's step-up works.
      const own = await b.post(`${STEP_UP}/options`, {});
      const done = await b.post(`${STEP_UP}/verify`, await authenticator.getAssertion(own.body));
      assert.equal(done.status, 200, done.text);
    });
  });
}
