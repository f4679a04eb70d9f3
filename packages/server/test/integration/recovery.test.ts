import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { assertNewToken, BearerClient, newAuthenticator, paths, register, sessionTokenOf } from '../helpers/flows.ts';
import { startMailbox, userWithEmail, type Mailbox } from '../helpers/mailbox.ts';
import type { TestClient, TestResponse } from '../helpers/test-client.ts';
import { dialects, startTestServer, type TestServer } from '../helpers/test-server.ts';

const CODES = '/api/v1/account/recovery-codes';

function assertProblem(r: TestResponse, status: number, code: string, label = ''): void {
  assert.equal(r.status, status, `${label} ${r.text}`);
  assert.match(r.headers.get('content-type') ?? '', /^application\/problem\+json/, label);
  assert.equal(r.body.code, code, `${label} ${r.text}`);
}

for (const dialect of dialects) {
  describe(`recovery codes and account recovery (${dialect})`, () => {
    let server: TestServer;
    let mailbox: Mailbox;
    before(async () => {
      mailbox = await startMailbox();
      server = await startTestServer(dialect, { config: { mail: { smtpUrl: mailbox.url } } });
    });
    after(async () => {
      await server.close();
      await mailbox.close();
    });

    /** Starts recovery from a new browser and reads the e-mailed code. */
    async function startRecovery(email: string): Promise<{ client: TestClient; code: string }> {
      server.clock.advance(61_000);
      const client = server.client();
      const before = mailbox.codeCount(email);
      const start = await client.post('/api/v1/recovery/start', { email });
      assert.equal(start.status, 202, start.text);
      return { client, code: await mailbox.newCode(email, before) };
    }

    test('ten codes of at least 112 bits, shown once; regenerating needs step-up and kills the old ones (SEC-38)', async () => {
      const { client } = await userWithEmail(server, mailbox, 'rc-ann', 'rc-ann@example.test');
      const made = await client.post(CODES, {});
      assert.equal(made.status, 200, made.text);
      assert.equal(made.headers.get('cache-control'), 'no-store');
      const codes: string[] = made.body.codes;
      assert.equal(codes.length, 10);
      assert.equal(new Set(codes).size, 10);
      for (const code of codes) {
        assert.match(code, /^[A-Z2-7]{4}(-[A-Z2-7]{4}){5}$/, code);
        assert.ok(code.replaceAll('-', '').length * 5 >= 112, '24 base32 characters = 120 bits');
      }
      assert.equal((await client.get('/api/v1/account')).body.recoveryCodesRemaining, 10);
      const rows = await server.database.db.selectFrom('recovery_codes').select('code_hash').execute();
      assert.ok(!JSON.stringify(rows).includes(codes[0] as string), 'only hashes are stored');
      await mailbox.waitFor('rc-ann@example.test', /New recovery codes/);

      server.clock.advance(6 * 60_000);
      assertProblem(await client.post(CODES, {}), 403, 'step_up_required');
    });

    test('an account disabled after the recovery e-mail was sent cannot recover: no session, no recovery code spent', async () => {
      const { client: owner, userId } = await userWithEmail(server, mailbox, 'rc-off', 'rc-off@example.test');
      const codes: string[] = (await owner.post(CODES, {})).body.codes;
      const { client, code } = await startRecovery('rc-off@example.test');
      await server.database.db.updateTable('users').set({ status: 'disabled' }).where('id', '=', userId).execute();
      const verify = await client.post('/api/v1/recovery/verify', { code, recoveryCode: codes[0] as string });
      assertProblem(verify, 401, 'code_invalid');
      assert.equal(verify.headers.get('set-cookie'), null, 'no session cookie');
      const unused = await server.database.db.selectFrom('recovery_codes').select('code_hash').where('user_id', '=', userId).where('used_at', 'is', null).execute();
      assert.equal(unused.length, 10, 'the recovery code was not spent');
    });

    test('e-mail code + recovery code: a restricted session that can only add a passkey; that ends recovery everywhere (SEC-39)', async () => {
      const { client: oldDevice } = await userWithEmail(server, mailbox, 'rc-bob', 'rc-bob@example.test');
      const codes: string[] = (await oldDevice.post(CODES, {})).body.codes;

      const { client, code } = await startRecovery('rc-bob@example.test');
      const verify = await client.post('/api/v1/recovery/verify', { code, recoveryCode: (codes[3] as string).toLowerCase() });
      assert.equal(verify.status, 200, verify.text);
      assert.equal(verify.body.session.scope, 'recovery');
      assert.equal(verify.body.session.aal, 1);
      assert.equal(verify.body.user.username, 'rc-bob');
      assert.equal(verify.body.recoveryCodesRemaining, 9, 'the client can prompt for new codes');
      await mailbox.waitFor('rc-bob@example.test', /recovery code of your account was used/);

      // Restricted: nothing but GET /session and registering a passkey.
      assert.equal((await client.get('/api/v1/session')).body.session.scope, 'recovery');
      assertProblem(await client.get('/api/v1/passkeys'), 403, 'recovery_session_restricted', 'list');
      assertProblem(await client.get('/api/v1/sessions'), 403, 'recovery_session_restricted', 'sessions');
      assertProblem(await client.post(CODES, {}), 403, 'recovery_session_restricted', 'recovery codes');
      assertProblem(await client.request('PUT', '/api/v1/account/email', { email: 'evil@example.test' }), 403, 'recovery_session_restricted', 'email');
      assert.equal((await oldDevice.get('/api/v1/session')).status, 200, 'the old session still works until recovery completes');
      const recovering = sessionTokenOf(client);

      const added = await register(client, newAuthenticator(), {});
      assert.equal(added.verify.status, 200, added.verify.text);
      // SEC-24: the session recovery made full has a new token; the recovery token is dead.
      await assertNewToken(server.url, added.verify, recovering, 'cookie');
      assert.equal(added.verify.body.session.scope, 'full');
      assert.equal(added.verify.body.session.aal, 2);
      assert.equal(added.verify.body.passkey.lastUsedAt, added.verify.body.passkey.createdAt, 'the new passkey just made the session a full one');
      assert.equal((await client.get('/api/v1/passkeys')).status, 200, 'a full session now');
      assertProblem(await oldDevice.get('/api/v1/session'), 401, 'unauthorized', 'every other session is signed out');
      await mailbox.waitFor('rc-bob@example.test', /Your account was recovered/);
      assert.equal((await client.get('/api/v1/account')).body.recoveryCodesRemaining, 9);
      const events = await server.database.db.selectFrom('audit_events').select('type').where('type', 'in', ['recovery.started', 'account.recovered', 'recovery_code.used']).execute();
      assert.ok(events.length >= 3);
    });

    test('SEC-24: a bearer client that ends recovery with a new passkey gets a new token in the body; the recovery token is dead', async () => {
      const { client: oldDevice } = await userWithEmail(server, mailbox, 'rc-bea', 'rc-bea@example.test');
      const codes: string[] = (await oldDevice.post(CODES, {})).body.codes;
      server.clock.advance(61_000);
      const client = new BearerClient(server.url);
      const before = mailbox.codeCount('rc-bea@example.test');
      const start = await client.post('/api/v1/recovery/start', { email: 'rc-bea@example.test' });
      assert.equal(start.status, 202, start.text);
      const code = await mailbox.newCode('rc-bea@example.test', before);
      const verify = await client.post('/api/v1/recovery/verify', { code, recoveryCode: codes[0] as string }, start.headers.get('latchkey-ceremony'));
      assert.equal(verify.status, 200, verify.text);
      const recovering: string = verify.body.session.token;
      assert.ok(recovering, 'the bearer client got its recovery token');
      client.token = recovering;

      const options = await client.post(`${paths.REG}/options`, {});
      assert.equal(options.status, 200, options.text);
      const added = await client.post(`${paths.REG}/verify`, await newAuthenticator().createCredential(options.body), options.headers.get('latchkey-ceremony'));
      client.token = await assertNewToken(server.url, added, recovering, 'bearer');
      assert.equal(added.body.session.scope, 'full');
      assert.equal((await client.get('/api/v1/passkeys')).status, 200, 'the new token is a full session');
    });

    test('the recovery code is mailed to the stored, verified address, not to the address as typed (finding 10)', async () => {
      const { client: owner } = await userWithEmail(server, mailbox, 'rc-kim', 'Rc.Kim@example.test');
      const codes: string[] = (await owner.post(CODES, {})).body.codes;
      server.clock.advance(61_000);
      const client = server.client();
      const before = mailbox.codeCount('rc.kim@example.test');
      assert.equal((await client.post('/api/v1/recovery/start', { email: 'RC.KIM@EXAMPLE.TEST' })).status, 202);
      const code = await mailbox.newCode('rc.kim@example.test', before);
      assert.deepEqual(mailbox.to('rc.kim@example.test').at(-1)?.rcptTo, ['Rc.Kim@example.test']);
      const verify = await client.post('/api/v1/recovery/verify', { code, recoveryCode: codes[0] });
      assert.equal(verify.status, 200, verify.text);
    });

    test("a stranger's recovery request for the address does not hold up the owner's (per-client cooldown, finding 5)", async () => {
      const { client: owner } = await userWithEmail(server, mailbox, 'rc-fay', 'rc-fay@example.test');
      const codes: string[] = (await owner.post(CODES, {})).body.codes;
      server.clock.advance(61_000);
      let before = mailbox.codeCount('rc-fay@example.test');
      assert.equal((await server.client().post('/api/v1/recovery/start', { email: 'rc-fay@example.test' })).status, 202);
      await mailbox.newCode('rc-fay@example.test', before);
      const client = server.client();
      before = mailbox.codeCount('rc-fay@example.test');
      const start = await client.post('/api/v1/recovery/start', { email: 'rc-fay@example.test' });
      assert.equal(start.status, 202, start.text);
      const code = await mailbox.newCode('rc-fay@example.test', before);
      assert.equal((await client.post('/api/v1/recovery/verify', { code, recoveryCode: codes[0] })).status, 200);
    });

    test('recovery without the second factor fails: wrong or used recovery code, or no e-mail code', async () => {
      const { client: owner } = await userWithEmail(server, mailbox, 'rc-cy', 'rc-cy@example.test');
      const codes: string[] = (await owner.post(CODES, {})).body.codes;

      let attempt = await startRecovery('rc-cy@example.test');
      const wrong = await attempt.client.post('/api/v1/recovery/verify', { code: attempt.code, recoveryCode: 'AAAA-AAAA-AAAA-AAAA-AAAA-AAAA' });
      assertProblem(wrong, 401, 'recovery_failed', 'wrong recovery code');
      assert.equal(attempt.client.cookies.has('latchkey_session'), false, 'no session');

      // The recovery code alone, with no e-mailed code for this flow.
      assertProblem(await server.client().post('/api/v1/recovery/verify', { code: '123456', recoveryCode: codes[0] }), 401, 'code_invalid', 'no e-mail code');

      attempt = await startRecovery('rc-cy@example.test');
      assert.equal((await attempt.client.post('/api/v1/recovery/verify', { code: attempt.code, recoveryCode: codes[0] })).status, 200);
      attempt = await startRecovery('rc-cy@example.test');
      assertProblem(await attempt.client.post('/api/v1/recovery/verify', { code: attempt.code, recoveryCode: codes[0] }), 401, 'recovery_failed', 'a used code');

      // A sign-in code is not a recovery code.
      server.clock.advance(61_000);
      const signIn = server.client();
      const before = mailbox.codeCount('rc-cy@example.test');
      await signIn.post('/api/v1/email-code/sign-in', { email: 'rc-cy@example.test' });
      const signInCode = await mailbox.newCode('rc-cy@example.test', before);
      assertProblem(await signIn.post('/api/v1/recovery/verify', { code: signInCode, recoveryCode: codes[1] }), 401, 'code_invalid', 'purpose');
    });

    test('an unfinished recovery session stops working after 15 minutes', async () => {
      const { client: owner } = await userWithEmail(server, mailbox, 'rc-eli', 'rc-eli@example.test');
      const codes: string[] = (await owner.post(CODES, {})).body.codes;
      const { client, code } = await startRecovery('rc-eli@example.test');
      assert.equal((await client.post('/api/v1/recovery/verify', { code, recoveryCode: codes[0] })).status, 200);
      server.clock.advance(15 * 60_000 + 1);
      assertProblem(await client.get('/api/v1/session'), 401, 'unauthorized');
      assertProblem(await client.post(`${paths.REG}/options`, {}), 401, 'unauthorized');
    });

    test('recovery for an unknown address answers like a known one and never succeeds', async () => {
      server.clock.advance(61_000);
      const client = server.client();
      const start = await client.post('/api/v1/recovery/start', { email: 'no-such@example.test' });
      assert.equal(start.status, 202);
      assertProblem(await client.post('/api/v1/recovery/verify', { code: '000000', recoveryCode: 'AAAA' }), 401, 'code_invalid');
      assert.equal(mailbox.to('no-such@example.test').length, 0);
    });

    test('adding and removing passkeys, changing the address: notifications go to the verified address (SEC-33)', async () => {
      const { client, passkeyId } = await userWithEmail(server, mailbox, 'rc-dee', 'rc-dee@example.test');
      assert.equal((await register(client, newAuthenticator(), {})).verify.status, 200);
      await mailbox.waitFor('rc-dee@example.test', /A new passkey was added/);
      assert.equal((await client.delete(`${paths.REG.replace('/registration', '')}/${passkeyId}`)).status, 204);
      const removed = await mailbox.waitFor('rc-dee@example.test', /A passkey was removed/);
      assert.match(removed.raw, /If it was not you/);
      server.clock.advance(61_000);
      const before = mailbox.codeCount('rc-dee2@example.test');
      assert.equal((await client.request('PUT', '/api/v1/account/email', { email: 'rc-dee2@example.test' })).status, 202);
      const code = await mailbox.newCode('rc-dee2@example.test', before);
      assert.equal((await client.post('/api/v1/account/email/verify', { code })).status, 200);
      await mailbox.waitFor('rc-dee@example.test', /e-mail address of your account was changed/);
    });
  });
}
