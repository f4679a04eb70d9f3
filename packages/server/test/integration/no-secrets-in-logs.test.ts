import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { generate } from 'otplib';
import { newAuthenticator, sessionTokenOf, signUp } from '../helpers/flows.ts';
import { startMailbox, userWithEmail, type Mailbox } from '../helpers/mailbox.ts';
import { dialects, startTestServer, type TestServer } from '../helpers/test-server.ts';

const PASSWORD = 'canary violet tractor seventeen clouds';

/**
 * SEC-51: with SMTP configured, none of the secrets of the fallback flows (password, e-mailed
 * codes, recovery codes, TOTP seed and codes, session tokens) reach the log at trace level or
 * the audit table.
 */
for (const dialect of dialects) {
  describe(`no secrets in logs or audit (${dialect})`, () => {
    let server: TestServer;
    let mailbox: Mailbox;
    let siemDir: string;
    const lines: string[] = [];
    before(async () => {
      mailbox = await startMailbox();
      siemDir = await mkdtemp(join(tmpdir(), 'latchkey-siem-canary-'));
      const stream = new Writable({
        write(chunk, _encoding, done) {
          lines.push(String(chunk));
          done();
        },
      });
      server = await startTestServer(dialect, {
        config: {
          mail: { smtpUrl: mailbox.url },
          auth: { methods: ['passkey', 'email_code', 'password', 'totp'], passkeyFirst: false },
          // The SIEM export is a log sink too (README, "Personal data in the events").
          siem: { file: join(siemDir, 'ocsf.ndjson'), includeUsername: true, pollIntervalMs: 50 },
        },
        logger: { level: 'trace', stream },
      });
    });
    after(async () => {
      await server.close();
      await mailbox.close();
      await rm(siemDir, { recursive: true, force: true });
    });

    test('canary values of every flow are absent from every log line and audit row', async () => {
      const secrets: string[] = [PASSWORD];
      const { client } = await userWithEmail(server, mailbox, 'canary-ann', 'canary@example.test');
      secrets.push(...(await client.post('/api/v1/account/recovery-codes', {})).body.codes);
      assert.equal((await client.request('PUT', '/api/v1/account/password', { password: PASSWORD })).status, 200);
      const seed = (await client.post('/api/v1/account/totp', {})).body.secret as string;
      secrets.push(seed);
      const totp = await generate({ secret: seed, epoch: Math.floor(server.clock.now() / 1000) });
      assert.equal((await client.post('/api/v1/account/totp/verify', { code: totp })).status, 204);

      server.clock.advance(61_000);
      const other = server.client();
      const before = mailbox.codeCount('canary@example.test');
      await other.post('/api/v1/email-code/sign-in', { email: 'canary@example.test' });
      const code = await mailbox.newCode('canary@example.test', before);
      const signIn = await other.post('/api/v1/email-code/sign-in/verify', { code });
      assert.equal(signIn.status, 200);
      secrets.push(code, sessionTokenOf(other));
      await server.client().post('/api/v1/password/sign-in', { username: 'canary-ann', password: `${PASSWORD}!` });
      const account = await signUp(server.client(), newAuthenticator(), 'canary-bob');
      secrets.push(account.session.token);

      await new Promise((r) => setTimeout(r, 100));
      const audit = JSON.stringify(await server.database.db.selectFrom('audit_events').selectAll().execute());
      const log = lines.join('');
      assert.ok(lines.length > 20, 'the log captured the run');
      await server.app.auditChain.seal();
      await server.app.auditChain.seal();
      const sealed = await server.app.auditChain.newestSeq();
      let siem = '';
      for (const deadline = Date.now() + 20_000; Date.now() < deadline; await new Promise((r) => setTimeout(r, 50))) {
        siem = await readFile(join(siemDir, 'ocsf.ndjson'), 'utf8').catch(() => '');
        if (siem.split('\n').length - 1 >= sealed) break;
      }
      assert.equal(siem.split('\n').length - 1, sealed, 'the SIEM file has every audit event');
      for (const secret of secrets) {
        assert.ok(!log.includes(secret), `a secret (${secret.slice(0, 3)}…) is in the log`);
        assert.ok(!audit.includes(secret), `a secret (${secret.slice(0, 3)}…) is in the audit table`);
        assert.ok(!siem.includes(secret), `a secret (${secret.slice(0, 3)}…) is in the SIEM export`);
      }
      assert.ok(siem.includes('"name":"canary-ann"'), 'usernames are exported when asked for');
      assert.ok(!siem.includes('canary@example.test'), 'e-mail addresses are never exported');
    });
  });
}
