import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { authenticate, newAuthenticator, paths, register } from '../helpers/flows.ts';
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

    test('the code goes to the stored, verified address, not to the address as typed (finding 10)', async () => {
      await userWithEmail(server, mailbox, 'ec-kim', 'Kim.Lee@example.test');
      server.clock.advance(61_000);
      const client = server.client();
      const before = mailbox.codeCount('kim.lee@example.test');
      const start = await client.post(START, { email: ' KIM.LEE@Example.TEST ' });
      assert.equal(start.status, 202, start.text);
      const code = await mailbox.newCode('kim.lee@example.test', before);
      const mail = mailbox.to('kim.lee@example.test').at(-1);
      assert.deepEqual(mail?.rcptTo, ['Kim.Lee@example.test'], 'the envelope names the verified address exactly (the domain part is case-insensitive)');
      const verify = await client.post(VERIFY, { code });
      assert.equal(verify.status, 200, verify.text);
      assert.equal(verify.body.user.username, 'ec-kim');
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

  describe(`e-mail codes count per client: a stranger cannot hold up or lock the owner (${dialect})`, () => {
    let server: TestServer;
    let mailbox: Mailbox;
    before(async () => {
      mailbox = await startMailbox();
      server = await startTestServer(dialect, {
        config: { mail: { smtpUrl: mailbox.url }, emailCode: { perAddressPerHour: 3, addressCeilingPerHour: 8 }, lockout: { freeFailures: 3, hardLimit: 10 } },
      });
    });
    after(async () => {
      await server.close();
      await mailbox.close();
    });

    /** The owner's own browser asks for a sign-in code and uses it. */
    async function ownerSignsIn(owner: ReturnType<TestServer['client']>, email: string): Promise<TestResponse> {
      const before = mailbox.codeCount(email);
      const start = await owner.post(START, { email });
      assert.equal(start.status, 202, `owner's request: ${start.text}`);
      return owner.post(VERIFY, { code: await mailbox.newCode(email, before) });
    }

    /** Asks for a code and waits for its mail, so no mail of this request arrives during a later one. */
    async function sent(client: ReturnType<TestServer['client']>, email: string): Promise<void> {
      const before = mailbox.codeCount(email);
      const start = await client.post(START, { email });
      assert.equal(start.status, 202, start.text);
      await mailbox.newCode(email, before);
    }

    /** A stranger (a new client each time) asks for a code to the address and guesses `guesses` times. */
    async function strangerGuesses(email: string, guesses: number): Promise<TestResponse[]> {
      const stranger = server.client();
      await sent(stranger, email);
      const answers: TestResponse[] = [];
      for (let i = 0; i < guesses; i++) answers.push(await stranger.post(VERIFY, { code: '000000' }));
      return answers;
    }

    test('resend cooldown and quota are per client: the stranger waits, the owner does not; all clients share only a ceiling', async () => {
      const { client: owner } = await userWithEmail(server, mailbox, 'pc-ann', 'pc-ann@example.test');
      server.clock.advance(61_000);
      const stranger = server.client();
      await sent(stranger, 'pc-ann@example.test');
      assertProblem(await stranger.post(START, { email: 'pc-ann@example.test' }), 429, 'rate_limited', "the stranger's own cooldown");
      const signedIn = await ownerSignsIn(owner, 'pc-ann@example.test');
      assert.equal(signedIn.status, 200, `the owner is not held up by the stranger's request: ${signedIn.text}`);

      // The stranger uses up its quota of 3 an hour; the owner's own quota is untouched.
      for (let i = 0; i < 2; i++) {
        server.clock.advance(61_000);
        await sent(stranger, 'pc-ann@example.test');
      }
      server.clock.advance(61_000);
      assertProblem(await stranger.post(START, { email: 'pc-ann@example.test' }), 429, 'rate_limited', "the stranger's quota");
      assert.equal((await ownerSignsIn(owner, 'pc-ann@example.test')).status, 200, 'the owner still gets codes');

      // Every client together: 8 an hour (owner 3, stranger 3 so far), whoever asks.
      for (let i = 0; i < 2; i++) await sent(server.client(), 'pc-ann@example.test');
      assertProblem(await server.client().post(START, { email: 'pc-ann@example.test' }), 429, 'rate_limited', 'the address-wide ceiling');
      server.clock.advance(3600_000);
      assert.equal((await ownerSignsIn(owner, 'pc-ann@example.test')).status, 200, 'the next hour');
    });

    test("a stranger's wrong codes slow only the stranger; the owner's code still works (SEC-34)", async () => {
      const { client: owner } = await userWithEmail(server, mailbox, 'pc-bob', 'pc-bob@example.test');
      server.clock.advance(61_000);
      const answers = await strangerGuesses('pc-bob@example.test', 4);
      for (const r of answers.slice(0, 3)) assertProblem(r, 401, 'code_invalid');
      assertProblem(answers[3] as TestResponse, 429, 'too_many_attempts', 'the stranger is delayed after 3 failures');
      const signedIn = await ownerSignsIn(owner, 'pc-bob@example.test');
      assert.equal(signedIn.status, 200, `the owner is not delayed: ${signedIn.text}`);
    });

    test('100 (here 10) failures from all clients lock the address; a passkey sign-in of the account lifts the lock', async () => {
      const { client: owner, authenticator } = await userWithEmail(server, mailbox, 'pc-cy', 'pc-cy@example.test');
      server.clock.advance(61_000);
      for (let i = 0; i < 3; i++) for (const r of await strangerGuesses('pc-cy@example.test', 3)) assertProblem(r, 401, 'code_invalid');
      const last = await strangerGuesses('pc-cy@example.test', 2);
      assertProblem(last[0] as TestResponse, 401, 'code_invalid', 'the tenth failure');
      assertProblem(last[1] as TestResponse, 429, 'too_many_attempts', 'locked');

      const before = mailbox.codeCount('pc-cy@example.test');
      assert.equal((await owner.post(START, { email: 'pc-cy@example.test' })).status, 202);
      const code = await mailbox.newCode('pc-cy@example.test', before);
      const locked = await owner.post(VERIFY, { code });
      assertProblem(locked, 429, 'too_many_attempts', 'the lock is address-wide');
      assert.match(locked.body.detail, /passkey/);

      const passkey = await authenticate(server.client(), authenticator);
      assert.equal(passkey.verify.status, 200, passkey.verify.text);
      const unlocked = await owner.post(VERIFY, { code });
      assert.equal(unlocked.status, 200, `the same code works once the lock is lifted: ${unlocked.text}`);
    });

    test('support lifts the lock with `latchkey unlock-email <address>`', async () => {
      const { client: owner } = await userWithEmail(server, mailbox, 'pc-dee', 'pc-dee@example.test');
      server.clock.advance(61_000);
      for (let i = 0; i < 4; i++) await strangerGuesses('pc-dee@example.test', 3);
      const before = mailbox.codeCount('pc-dee@example.test');
      assert.equal((await owner.post(START, { email: 'pc-dee@example.test' })).status, 202);
      const code = await mailbox.newCode('pc-dee@example.test', before);
      assertProblem(await owner.post(VERIFY, { code }), 429, 'too_many_attempts', 'locked');

      const cli = fileURLToPath(new URL('../../src/cli.ts', import.meta.url));
      const child = spawn(process.execPath, [cli, 'unlock-email', 'PC-DEE@example.test'], {
        env: { PATH: process.env.PATH ?? '', LATCHKEY_DATABASE_URL: server.config.database.url },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let output = '';
      child.stdout.on('data', (d) => (output += d));
      child.stderr.on('data', (d) => (output += d));
      const exitCode = await new Promise((resolve) => child.on('exit', resolve));
      assert.equal(exitCode, 0, output);
      assert.match(output, /unlocked/);
      assert.equal((await owner.post(VERIFY, { code })).status, 200, 'unlocked');
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
