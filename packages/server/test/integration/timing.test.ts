import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startMailbox, userWithEmail, type Mailbox } from '../helpers/mailbox.ts';
import { newAuthenticator, signUp } from '../helpers/flows.ts';
import type { TestClient } from '../helpers/test-client.ts';
import { dialects, startTestServer, type TestServer } from '../helpers/test-server.ts';

/**
 * SEC-36 / issue 4: no enumeration by timing. Measures the e-mail code request for an address
 * with an account and one without, interleaved, and reports mean and median (ms). The bound is
 * loose on purpose (shared CI machines); the numbers go to the test diagnostics and the issue note.
 */
const ROUNDS = 40;

function stats(samples: number[]): { mean: number; median: number } {
  const sorted = [...samples].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  const median = sorted.length % 2 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
  return { mean: samples.reduce((a, b) => a + b, 0) / samples.length, median };
}

async function timed(client: TestClient, path: string, body: unknown): Promise<{ ms: number; status: number }> {
  const start = process.hrtime.bigint();
  const r = await client.post(path, body);
  return { ms: Number(process.hrtime.bigint() - start) / 1e6, status: r.status };
}

for (const dialect of dialects) {
  describe(`timing of known vs unknown accounts (${dialect})`, () => {
    let server: TestServer;
    let mailbox: Mailbox;
    before(async () => {
      mailbox = await startMailbox();
      server = await startTestServer(dialect, {
        config: {
          mail: { smtpUrl: mailbox.url },
          emailCode: { resendCooldownSeconds: 0, perAddressPerHour: 1000, addressCeilingPerHour: 1000, perIpPerHour: 1_000_000 },
          auth: { methods: ['passkey', 'email_code', 'password'] },
          lockout: { freeFailures: 50 },
        },
      });
    });
    after(async () => {
      await server.close();
      await mailbox.close();
    });

    test('POST /api/v1/email-code/sign-in: known and unknown addresses take comparable time', async (t) => {
      await userWithEmail(server, mailbox, 'tm-ann', 'tm-ann@example.test');
      const client = server.client();
      const known: number[] = [];
      const unknown: number[] = [];
      for (let i = 0; i < 5; i++) {
        await timed(client, '/api/v1/email-code/sign-in', { email: 'tm-ann@example.test' });
        await timed(client, '/api/v1/email-code/sign-in', { email: `warm${i}@example.test` });
      }
      for (let i = 0; i < ROUNDS; i++) {
        const pair = [
          () => timed(client, '/api/v1/email-code/sign-in', { email: 'tm-ann@example.test' }).then((r) => known.push(r.ms)),
          () => timed(client, '/api/v1/email-code/sign-in', { email: `tm-nobody${i}@example.test` }).then((r) => unknown.push(r.ms)),
        ];
        if (i % 2) pair.reverse();
        for (const run of pair) await run();
      }
      const k = stats(known);
      const u = stats(unknown);
      const line = `email-code start (${dialect}, n=${ROUNDS}): known mean ${k.mean.toFixed(2)} ms median ${k.median.toFixed(2)} ms; unknown mean ${u.mean.toFixed(2)} ms median ${u.median.toFixed(2)} ms; median difference ${(k.median - u.median).toFixed(2)} ms`;
      t.diagnostic(line);
      console.log(`TIMING ${line}`);
      await mailbox.waitFor('tm-ann@example.test', /code is/);
      assert.ok(Math.abs(k.median - u.median) < 15, line);
    });

    test('POST /api/v1/password/sign-in: a wrong password and an unknown user take comparable time (dummy argon2id)', async (t) => {
      const owner = server.client();
      await signUp(owner, newAuthenticator(), 'tm-bob');
      assert.equal((await owner.request('PUT', '/api/v1/account/password', { password: 'violet tractor under seventeen clouds' })).status, 200);
      const client = server.client();
      const known: number[] = [];
      const unknown: number[] = [];
      for (let i = 0; i < 3; i++) {
        await timed(client, '/api/v1/password/sign-in', { username: 'tm-bob', password: `warm-up guess ${i}` });
        await timed(client, '/api/v1/password/sign-in', { username: `tm-warm${i}`, password: `warm-up guess ${i}` });
      }
      for (let i = 0; i < ROUNDS; i++) {
        const pair = [
          () => timed(client, '/api/v1/password/sign-in', { username: 'tm-bob', password: `wrong guess ${i}` }).then((r) => known.push(r.ms)),
          () => timed(client, '/api/v1/password/sign-in', { username: `tm-nobody${i}`, password: `wrong guess ${i}` }).then((r) => unknown.push(r.ms)),
        ];
        if (i % 2) pair.reverse();
        for (const run of pair) await run();
      }
      const k = stats(known);
      const u = stats(unknown);
      const line = `password sign-in (${dialect}, n=${ROUNDS}): known user, wrong password mean ${k.mean.toFixed(2)} ms median ${k.median.toFixed(2)} ms; unknown user mean ${u.mean.toFixed(2)} ms median ${u.median.toFixed(2)} ms; median difference ${(k.median - u.median).toFixed(2)} ms`;
      t.diagnostic(line);
      console.log(`TIMING ${line}`);
      assert.ok(Math.abs(k.median - u.median) < 15, line);
    });
  });
}
