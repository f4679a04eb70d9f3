import assert from 'node:assert/strict';
import { createCipheriv, createHash, createHmac } from 'node:crypto';
import { Writable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { generate } from 'otplib';
import { buildApp } from '../../src/app.ts';
import { toBase64Url } from '../../src/platform/encoding.ts';
import { deriveServerKeys } from '../../src/platform/keys.ts';
import { newAuthenticator, signUp } from '../helpers/flows.ts';
import { TestClient } from '../helpers/test-client.ts';
import { dialects, startTestServer, TEST_ORIGIN, type TestServer } from '../helpers/test-server.ts';

const SERVER_SECRET = 'a server secret of at least thirty-two characters';
const ENCRYPTION_KEY = 'an encryption key of at least thirty-two characters';
const PASSWORD = 'violet tractor under seventeen clouds';
/** The label the secret box used to derive its key before subkeys: a valid (if odd) thing to type as a username. */
const OLD_BOX_LABEL = 'latchkey secret-box key v1';

const utf8 = (s: string) => new TextEncoder().encode(s);
/** The secret-box key of the old derivation, HMAC(server secret, label). */
const oldBoxKey = () => createHmac('sha256', utf8(SERVER_SECRET)).update(OLD_BOX_LABEL).digest();

/** A TOTP seed sealed exactly as the server before subkeys sealed it (secret box v1). */
function sealV1(key: Uint8Array, seed: string, userId: string): string {
  const iv = new Uint8Array(12).fill(5);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from(userId));
  const body = Buffer.concat([cipher.update(seed, 'utf8'), cipher.final()]);
  return ['v1', toBase64Url(iv), toBase64Url(body), toBase64Url(cipher.getAuthTag())].join('.');
}

/** Every form a key could be written in: base64url, base64 and hex. */
const forms = (key: Uint8Array) => [toBase64Url(key), Buffer.from(key).toString('base64'), Buffer.from(key).toString('hex')];

async function listen(app: Awaited<ReturnType<typeof buildApp>>): Promise<string> {
  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address();
  return `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
}

for (const dialect of dialects) {
  describe(`server keys: HKDF subkeys, nothing keyed by user input (${dialect})`, () => {
    let server: TestServer;
    const lines: string[] = [];
    before(async () => {
      const stream = new Writable({
        write(chunk, _encoding, done) {
          lines.push(String(chunk));
          done();
        },
      });
      server = await startTestServer(dialect, {
        config: {
          secrets: { serverSecret: SERVER_SECRET },
          auth: { methods: ['passkey', 'password', 'totp'], passkeyFirst: false },
          lockout: { freeFailures: 10, hardLimit: 10 },
        },
        logger: { level: 'trace', stream },
      });
    });
    after(() => server.close());

    test('a sign-in whose username is a key-derivation label writes no key to the database or the log (finding 3)', async () => {
      const client = server.client();
      for (const username of [OLD_BOX_LABEL, 'latchkey/v2/encryption-at-rest', 'latchkey/v2/lookup']) {
        for (let i = 0; i < 11; i++) {
          const r = await client.post('/api/v1/password/sign-in', { username, password: 'wrong password, long enough' });
          assert.ok(r.status === 401 || r.status === 429, r.text);
        }
        // Locked: the refusal is logged (without the counter key).
        const locked = await client.post('/api/v1/password/sign-in', { username, password: 'wrong password, long enough' });
        assert.equal(locked.status, 429, locked.text);
        assert.equal(locked.body.code, 'too_many_attempts');
        assert.equal((await client.post('/api/v1/passkeys/authentication/options', { username })).status, 200);
      }
      await new Promise((r) => setTimeout(r, 50));
      const keys = [oldBoxKey(), ...Object.values(deriveServerKeys(utf8(SERVER_SECRET))), createHash('sha256').update(SERVER_SECRET).digest()];
      const { db } = server.database;
      const stored = JSON.stringify([
        await db.selectFrom('failure_counters').selectAll().execute(),
        await db.selectFrom('rate_limits').selectAll().execute(),
        await db.selectFrom('audit_events').selectAll().execute(),
      ]);
      const counters = await db.selectFrom('failure_counters').select('key').where('key', 'like', 'pwd:%').execute();
      assert.equal(counters.length, 3, 'each username has its own counter');
      const log = lines.join('');
      assert.match(log, /request refused/, 'the lock was logged');
      for (const key of keys) {
        for (const form of forms(key)) {
          assert.ok(!stored.includes(form), `a server key is stored (${form.slice(0, 6)}…)`);
          assert.ok(!log.includes(form), `a server key is in the log (${form.slice(0, 6)}…)`);
        }
      }
      assert.ok(!log.includes('pwd:'), 'counter keys are not logged');
    });

    test('a TOTP seed sealed the old way (v1) still works after the upgrade and is re-sealed at start', async () => {
      const client = server.client();
      const { user } = await signUp(client, newAuthenticator(), 'keys-ann');
      assert.equal((await client.request('PUT', '/api/v1/account/password', { password: PASSWORD })).status, 200);
      const enrol = await client.post('/api/v1/account/totp', {});
      assert.equal(enrol.status, 200, enrol.text);
      const seed: string = enrol.body.secret;
      const code = (offsetMs = 0) => generate({ secret: seed, epoch: Math.floor((server.clock.now() + offsetMs) / 1000) });
      assert.equal((await client.post('/api/v1/account/totp/verify', { code: await code() })).status, 204);

      // The database as the old server left it: the seed in a v1 box under HMAC(server secret, label).
      const { db } = server.database;
      const v1 = sealV1(oldBoxKey(), seed, user.id);
      await db.updateTable('totp_secrets').set({ secret_enc: v1 }).where('user_id', '=', user.id).execute();

      await server.app.close();
      const upgraded = await buildApp(server.config, { database: server.database, clock: server.clock });
      try {
        const url = await listen(upgraded);
        const row = await db.selectFrom('totp_secrets').select('secret_enc').where('user_id', '=', user.id).executeTakeFirstOrThrow();
        assert.match(row.secret_enc, /^v2\./, 're-sealed under the subkey at start');
        assert.ok(!row.secret_enc.includes(seed));

        server.clock.advance(30_000);
        const signIn = new TestClient(url, TEST_ORIGIN);
        const first = await signIn.post('/api/v1/password/sign-in', { username: 'keys-ann', password: PASSWORD });
        assert.equal(first.status, 200, first.text);
        assert.equal(first.body.secondFactor, 'totp');
        const done = await signIn.post('/api/v1/session/totp', { code: await code() });
        assert.equal(done.status, 200, done.text);
        assert.deepEqual(done.body.session.amr, ['pwd', 'totp', 'mfa']);
      } finally {
        await upgraded.close();
      }
    });
  });

  describe(`server keys with LATCHKEY_ENCRYPTION_KEY (${dialect})`, () => {
    let server: TestServer;
    before(async () => {
      server = await startTestServer(dialect, {
        config: { secrets: { serverSecret: SERVER_SECRET, encryptionKey: ENCRYPTION_KEY }, auth: { methods: ['passkey', 'password', 'totp'], passkeyFirst: false } },
      });
    });
    after(() => server.close());

    test('a seed sealed under the old SHA-256 of the encryption key still works after the upgrade and is re-sealed', async () => {
      const client = server.client();
      const { user } = await signUp(client, newAuthenticator(), 'keys-bob');
      assert.equal((await client.request('PUT', '/api/v1/account/password', { password: PASSWORD })).status, 200);
      const seed: string = (await client.post('/api/v1/account/totp', {})).body.secret;
      const code = () => generate({ secret: seed, epoch: Math.floor(server.clock.now() / 1000) });
      assert.equal((await client.post('/api/v1/account/totp/verify', { code: await code() })).status, 204);
      const { db } = server.database;
      const v2 = (await db.selectFrom('totp_secrets').select('secret_enc').where('user_id', '=', user.id).executeTakeFirstOrThrow()).secret_enc;
      await db.updateTable('totp_secrets').set({ secret_enc: sealV1(createHash('sha256').update(ENCRYPTION_KEY).digest(), seed, user.id) }).where('user_id', '=', user.id).execute();

      await server.app.close();
      const upgraded = await buildApp(server.config, { database: server.database, clock: server.clock });
      try {
        const url = await listen(upgraded);
        const row = await db.selectFrom('totp_secrets').select('secret_enc').where('user_id', '=', user.id).executeTakeFirstOrThrow();
        assert.match(row.secret_enc, /^v2\./);
        assert.match(v2, /^v2\./, 'new seeds are sealed v2 too');
        server.clock.advance(30_000);
        const signIn = new TestClient(url, TEST_ORIGIN);
        assert.equal((await signIn.post('/api/v1/password/sign-in', { username: 'keys-bob', password: PASSWORD })).status, 200);
        const done = await signIn.post('/api/v1/session/totp', { code: await code() });
        assert.equal(done.status, 200, done.text);

        // Without the encryption key (only the server secret, which the database holds) the seed does not open.
        const withoutKey = await buildApp({ ...server.config, secrets: { serverSecret: SERVER_SECRET } }, { database: server.database, clock: server.clock });
        await withoutKey.close();
        const after = await db.selectFrom('totp_secrets').select('secret_enc').where('user_id', '=', user.id).executeTakeFirstOrThrow();
        assert.equal(after.secret_enc, row.secret_enc, 'a box that does not open is left alone, not destroyed');
      } finally {
        await upgraded.close();
      }
    });
  });
}
