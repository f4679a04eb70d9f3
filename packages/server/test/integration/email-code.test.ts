import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { newAuthenticator, paths, register } from '../helpers/flows.ts';
import { startMailbox, userWithEmail, type Mailbox } from '../helpers/mailbox.ts';
import type { TestResponse } from '../helpers/test-client.ts';
import { dialects, startTestServer, type TestServer } from '../helpers/test-server.ts';

const START = '/api/v1/email-code/sign-in';
const VERIFY = '/api/v1/email-code/sign-in/verify';

function assertProblem(r: TestResponse, status: number, code: string, label = ''): void {
  assert.equal(r.status, status, `${label} ${r.text}`);
  assert.match(r.headers.get('content-type') ?? '', /^application\/problem\+json/, label);
  assert.equal(r.body.code, code, `${label} ${r.text}`);
}

for (const dialect of dialects) {
  describe(`e-mail codes over SMTP (${dialect})`, () => {
    let server: TestServer;
    let mailbox: Mailbox;
    before(async () => {
      mailbox = await startMailbox();
      server = await startTestServer(dialect, { config: { mail: { smtpUrl: mailbox.url, from: 'Latchkey <no-reply@example.test>' } } });
    });
    after(async () => {
      await server.close();
      await mailbox.close();
    });

    test('an address is set by a code sent to it; GET /account shows it', async () => {
      const { client } = await userWithEmail(server, mailbox, 'ec-ann', 'ann@example.test');
      const account = await client.get('/api/v1/account');
      assert.equal(account.status, 200, account.text);
      assert.equal(account.body.email, 'ann@example.test');
      assert.equal(account.body.passkeys, 1);
    });

    test('an address given at sign-up is confirmed by the code mailed to it; a malformed one is a 400', async () => {
      const client = server.client();
      const { verify } = await register(client, newAuthenticator(), { username: 'ec-zed', email: 'zed@example.test' });
      assert.equal(verify.status, 200, verify.text);
      assert.equal(verify.body.emailCodeSent, true);
      const code = await mailbox.newCode('zed@example.test', 0);
      assert.equal((await client.get('/api/v1/account')).body.email, null, 'not before it is confirmed');
      const confirm = await client.post('/api/v1/account/email/verify', { code });
      assert.equal(confirm.status, 200, confirm.text);
      assert.equal((await client.get('/api/v1/account')).body.email, 'zed@example.test');
      assertProblem(await server.client().post(`${paths.REG}/options`, { username: 'ec-zed2', email: 'nope' }), 400, 'email_invalid');
    });

    test('sign-in with an e-mailed code gives an AAL1 "otp" session that cannot do sensitive things (SEC-37)', async () => {
      const { passkeyId } = await userWithEmail(server, mailbox, 'ec-bob', 'Bob@Example.test');
      const client = server.client();
      const before = mailbox.codeCount('bob@example.test');
      const start = await client.post(START, { email: 'bob@example.test' });
      assert.equal(start.status, 202, start.text);
      const code = await mailbox.newCode('bob@example.test', before);
      const mail = mailbox.to('bob@example.test').at(-1)?.raw ?? '';
      assert.match(mail, /From: Latchkey <no-reply@example\.test>/);
      const verify = await client.post(VERIFY, { code });
      assert.equal(verify.status, 200, verify.text);
      assert.equal(verify.body.user.username, 'ec-bob');
      assert.deepEqual(verify.body.session.amr, ['otp']);
      assert.equal(verify.body.session.aal, 1);
      assert.equal(verify.body.session.userVerified, false);
      assert.equal(verify.body.session.token, undefined, 'a cookie client never sees its token');
      assert.ok(client.cookies.get('latchkey_session'));
      const session = await client.get('/api/v1/session');
      assert.equal(session.body.session.aal, 1);

      assertProblem(await client.post(`${paths.REG}/options`, {}), 403, 'step_up_required', 'add passkey');
      assertProblem(await client.delete(`/api/v1/passkeys/${passkeyId}`), 403, 'step_up_required', 'delete passkey');
      assertProblem(await client.post('/api/v1/account/recovery-codes', {}), 403, 'step_up_required', 'recovery codes');
      assertProblem(await client.request('PUT', '/api/v1/account/email', { email: 'mallory@example.test' }), 403, 'step_up_required', 'change e-mail');
      assert.equal((await client.get('/api/v1/passkeys')).status, 200, 'reading is fine');
    });

    test('an unknown address gets the same status and body shape, and no mail (SEC-36)', async () => {
      await userWithEmail(server, mailbox, 'ec-cy', 'cy@example.test');
      const known = await server.client().post(START, { email: 'cy@example.test' });
      const unknown = await server.client().post(START, { email: 'nobody@example.test' });
      assert.equal(known.status, 202);
      assert.equal(unknown.status, 202);
      assert.deepEqual(Object.keys(known.body).sort(), Object.keys(unknown.body).sort());
      assert.equal(known.headers.get('content-type'), unknown.headers.get('content-type'));
      await mailbox.waitFor('cy@example.test', /code is/);
      await new Promise((r) => setTimeout(r, 100));
      assert.equal(mailbox.to('nobody@example.test').length, 0, 'nothing is sent to an address without an account');
      // Guessing a code for the unknown address fails exactly like a wrong code for a known one.
      const client = server.client();
      await client.post(START, { email: 'nobody2@example.test' });
      assertProblem(await client.post(VERIFY, { code: '123456' }), 401, 'code_invalid', 'unknown');
      const knownClient = server.client();
      server.clock.advance(61_000);
      await knownClient.post(START, { email: 'cy@example.test' });
      assertProblem(await knownClient.post(VERIFY, { code: 'x' }), 401, 'code_invalid', 'known, wrong');
    });

    test('brute force: five tries per code, then the code is dead; resending keeps the failure count (SEC-34, SEC-36)', async () => {
      await userWithEmail(server, mailbox, 'ec-dee', 'dee@example.test');
      const client = server.client();
      server.clock.advance(61_000);
      let before = mailbox.codeCount('dee@example.test');
      await client.post(START, { email: 'dee@example.test' });
      const code = await mailbox.newCode('dee@example.test', before);
      const wrong = code === '000000' ? '111111' : '000000';
      for (let i = 0; i < 5; i++) assertProblem(await client.post(VERIFY, { code: wrong }), 401, 'code_invalid', `try ${i + 1}`);
      server.clock.advance(2_000);
      assertProblem(await client.post(VERIFY, { code }), 401, 'code_invalid', 'the right code after five wrong ones');

      // A new code does not reset the per-account counter: one more failure and the next try must wait.
      server.clock.advance(61_000);
      before = mailbox.codeCount('dee@example.test');
      assert.equal((await client.post(START, { email: 'dee@example.test' })).status, 202);
      const second = await mailbox.newCode('dee@example.test', before);
      assertProblem(await client.post(VERIFY, { code: second === '000000' ? '111111' : '000000' }), 401, 'code_invalid', 'sixth failure');
      const delayed = await client.post(VERIFY, { code: second });
      assertProblem(delayed, 429, 'too_many_attempts', 'delayed');
      assert.ok(Number(delayed.headers.get('retry-after')) >= 1, 'Retry-After');
      server.clock.advance(Number(delayed.headers.get('retry-after')) * 1000);
      const ok = await client.post(VERIFY, { code: second });
      assert.equal(ok.status, 200, ok.text);
    });

    test('replay, expiry and another client: the code is single-use, 10 minutes, bound to its flow', async () => {
      await userWithEmail(server, mailbox, 'ec-eve', 'eve@example.test');
      const client = server.client();
      server.clock.advance(61_000);
      let before = mailbox.codeCount('eve@example.test');
      await client.post(START, { email: 'eve@example.test' });
      let code = await mailbox.newCode('eve@example.test', before);
      const thief = server.client();
      assertProblem(await thief.post(VERIFY, { code }), 401, 'code_invalid', 'another client');
      assert.equal((await client.post(VERIFY, { code })).status, 200);
      assertProblem(await client.post(VERIFY, { code }), 401, 'code_invalid', 'replay');

      server.clock.advance(61_000);
      before = mailbox.codeCount('eve@example.test');
      await client.post(START, { email: 'eve@example.test' });
      code = await mailbox.newCode('eve@example.test', before);
      server.clock.advance(10 * 60_000 + 1);
      const expired = await client.post(VERIFY, { code });
      assertProblem(expired, 401, 'code_invalid', 'expired');
      assert.match(expired.body.detail, /expired/);
    });

    test('resend cooldown answers 429 with Retry-After, for known and unknown addresses alike', async () => {
      await userWithEmail(server, mailbox, 'ec-fay', 'fay@example.test');
      server.clock.advance(61_000);
      const client = server.client();
      assert.equal((await client.post(START, { email: 'fay@example.test' })).status, 202);
      const again = await client.post(START, { email: 'fay@example.test' });
      assertProblem(again, 429, 'rate_limited', 'known');
      assert.ok(Number(again.headers.get('retry-after')) > 0);
      assert.equal((await client.post(START, { email: 'ghost@example.test' })).status, 202);
      assertProblem(await client.post(START, { email: 'ghost@example.test' }), 429, 'rate_limited', 'unknown');
    });

    test('malformed addresses are a 400 whatever the account state; the code and the address never appear in audit rows', async () => {
      assertProblem(await server.client().post(START, { email: 'not-an-address' }), 400, 'email_invalid');
      const rows = await server.database.db.selectFrom('audit_events').select(['reason', 'data']).execute();
      const all = JSON.stringify(rows);
      assert.doesNotMatch(all, /@example\.test/, 'no addresses in the audit log');
    });
  });

  describe(`e-mail codes disabled and per-IP limits (${dialect})`, () => {
    let server: TestServer;
    let limited: TestServer;
    before(async () => {
      server = await startTestServer(dialect, { config: { auth: { methods: ['passkey'] } } });
      limited = await startTestServer(dialect, { config: { emailCode: { perIpPerHour: 3, resendCooldownSeconds: 0 }, auth: { perIpPerHour: 3 } } });
    });
    after(async () => {
      await server.close();
      await limited.close();
    });

    test('"passkey" only: e-mail sign-in and recovery answer 403 method_disabled (SEC-37)', async () => {
      assertProblem(await server.client().post(START, { email: 'a@example.test' }), 403, 'method_disabled');
      assertProblem(await server.client().post('/api/v1/recovery/start', { email: 'a@example.test' }), 403, 'method_disabled');
    });

    test('per-IP limit: 429 with Retry-After; a forged X-Forwarded-For does not reset it (SEC-35)', async () => {
      const client = limited.client();
      for (let i = 0; i < 3; i++) assert.equal((await client.post(START, { email: `ip${i}@example.test` })).status, 202);
      const blocked = await client.post(START, { email: 'ip9@example.test' }, { headers: { 'x-forwarded-for': `203.0.113.${Math.floor(Math.random() * 200)}` } });
      assertProblem(blocked, 429, 'rate_limited');
      assert.ok(Number(blocked.headers.get('retry-after')) > 0);
    });

    test('passkey sign-in options are limited per IP too (LATCHKEY_AUTH_PER_IP_PER_HOUR)', async () => {
      const client = limited.client();
      for (let i = 0; i < 3; i++) assert.equal((await client.post(`${paths.AUTH}/options`, {})).status, 200);
      const blocked = await client.post(`${paths.AUTH}/options`, {}, { headers: { 'x-forwarded-for': '198.51.100.7' } });
      assertProblem(blocked, 429, 'rate_limited');
      assert.ok(Number(blocked.headers.get('retry-after')) > 0);
    });
  });
}
