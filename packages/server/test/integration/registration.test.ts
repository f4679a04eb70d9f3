import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { base64urlDecode } from '../../../testkit/src/index.ts';
import { newAuthenticator, paths, register, signUp } from '../helpers/flows.ts';
import { dialects, startTestServer, type TestServer } from '../helpers/test-server.ts';

for (const dialect of dialects) {
  describe(`registration (${dialect})`, () => {
    let server: TestServer;
    before(async () => {
      server = await startTestServer(dialect);
    });
    after(() => server.close());

    test('sign-up returns user, passkey and session, and sets the session cookie', async () => {
      const client = server.client();
      const { verify } = await register(client, newAuthenticator(), { username: 'Alice', displayName: 'Alice A.' });
      assert.equal(verify.status, 200, verify.text);
      assert.equal(verify.body.user.username, 'Alice');
      assert.equal(verify.body.user.displayName, 'Alice A.');
      assert.equal(verify.body.passkey.provider, 'Passkey');
      assert.equal(verify.body.passkey.deviceType, 'singleDevice');
      assert.deepEqual(verify.body.session.amr, ['passkey']);
      assert.equal(verify.body.session.token, undefined, 'a cookie client never sees its token');
      const cookie = verify.headers.getSetCookie().find((c) => c.startsWith('latchkey_session='));
      assert.ok(cookie, 'session cookie set');
      assert.match(cookie, /HttpOnly/);
      assert.match(cookie, /SameSite=Lax/);
      assert.match(cookie, /Path=\//);
      assert.doesNotMatch(cookie, /Domain=/i);
      const session = await client.get('/api/v1/session');
      assert.equal(session.status, 200);
      assert.equal(session.body.user.id, verify.body.user.id);
    });

    test('options are WebAuthn L3 JSON with a random 64-byte user handle, not the username', async () => {
      const client = server.client();
      const options = await client.post(`${paths.REG}/options`, { username: 'handle-check' });
      assert.equal(options.status, 200);
      const handle = base64urlDecode(options.body.user.id);
      assert.equal(handle.length, 64);
      assert.ok(!new TextDecoder().decode(handle).includes('handle-check'));
      assert.equal(base64urlDecode(options.body.challenge).length, 32);
      assert.deepEqual(options.body.pubKeyCredParams.map((p: { alg: number }) => p.alg), [-8, -7, -257]);
      assert.equal(options.body.authenticatorSelection.residentKey, 'required');
      assert.equal(options.body.authenticatorSelection.userVerification, 'preferred');
      assert.equal(options.body.attestation, 'none');
      assert.equal(options.body.rp.id, 'localhost');
      assert.match(options.headers.get('latchkey-ceremony') ?? '', /^[A-Za-z0-9_-]{43}$/);
    });

    for (const alg of [-7, -8, -257] as const) {
      test(`algorithm ${alg} with packed self attestation is accepted and recorded`, async () => {
        const { verify } = await register(server.client(), newAuthenticator({ alg, attestation: 'packed' }), { username: `alg${alg}` });
        assert.equal(verify.status, 200, verify.text);
      });
    }

    test('a username that exists (case, width and NFC folded) is 409 username_taken', async () => {
      await signUp(server.client(), newAuthenticator(), 'Bob');
      for (const variant of ['bob', 'BOB', 'Ｂob', ' bob ']) {
        const r = await server.client().post(`${paths.REG}/options`, { username: variant });
        assert.equal(r.status, 409, variant);
        assert.equal(r.body.code, 'username_taken');
        assert.match(r.headers.get('content-type') ?? '', /^application\/problem\+json/);
      }
    });

    test('usernames with control, bidi or space characters are refused with the rule named', async () => {
      for (const bad of ['a\u0000b', 'evil\u202Egnp', 'two words', '', 'x'.repeat(65)]) {
        const r = await server.client().post(`${paths.REG}/options`, { username: bad });
        assert.equal(r.status, 400, JSON.stringify(bad));
        assert.ok(['username_invalid', 'invalid_request'].includes(r.body.code), r.text);
      }
    });

    test('a credential ID already registered to anyone is refused with 409 and nothing overwritten', async () => {
      const first = newAuthenticator();
      const a = await signUp(server.client(), first, 'owner1');
      const { verify } = await register(server.client(), newAuthenticator(), { username: 'thief1' }, {
        authData: { credentialId: base64urlDecode(a.passkey.id) },
      });
      assert.equal(verify.status, 409, verify.text);
      assert.equal(verify.body.code, 'credential_exists');
      const taken = await server.client().post(`${paths.REG}/options`, { username: 'thief1' });
      assert.equal(taken.status, 200, 'the failed sign-up created no account');
    });

    test('a credential ID over 1023 bytes is refused', async () => {
      const { verify } = await register(server.client(), newAuthenticator(), { username: 'longid' }, {
        authData: { credentialId: new Uint8Array(1024).fill(7) },
      });
      assert.equal(verify.status, 400, verify.text);
    });

    test('an algorithm that was not offered is refused', async () => {
      const { verify } = await register(server.client(), newAuthenticator(), { username: 'rs1' }, { authData: { alg: -65535 } });
      assert.equal(verify.status, 400, verify.text);
      assert.equal(verify.body.code, 'invalid_public_key');
    });

    test('wrong type, origin, RP ID hash, missing UP and BS without BE are refused', async () => {
      const cases = [
        { clientData: { type: 'webauthn.get' } },
        { clientData: { origin: 'https://evil.example' } },
        { clientData: { origin: 'http://localhost:8081' } },
        { authData: { rpIdHash: new Uint8Array(32) } },
        { authData: { up: false } },
        { authData: { bs: true, be: false } },
        { clientData: { crossOrigin: true } },
        { clientData: { topOrigin: 'https://top.example' } },
      ];
      for (const [i, tamper] of cases.entries()) {
        const { verify } = await register(server.client(), newAuthenticator(), { username: `neg${i}` }, tamper);
        assert.equal(verify.status, 400, `${JSON.stringify(tamper)}: ${verify.text}`);
        assert.equal(verify.headers.getSetCookie().filter((c) => c.startsWith('latchkey_session=')).length, 0);
      }
    });

    test('the challenge is single-use: a replayed registration response is refused', async () => {
      const client = server.client();
      const { verify, response } = await register(client, newAuthenticator(), { username: 'replayer' });
      assert.equal(verify.status, 200);
      const again = await client.post(`${paths.REG}/verify`, response);
      assert.equal(again.status, 400);
      assert.equal(again.body.code, 'challenge_invalid');
    });

    test('a response from another client (no ceremony binding) is refused', async () => {
      const options = await server.client().post(`${paths.REG}/options`, { username: 'unbound' });
      const response = await newAuthenticator().createCredential(options.body);
      const r = await server.client().post(`${paths.REG}/verify`, response);
      assert.equal(r.status, 400);
      assert.equal(r.body.code, 'challenge_invalid');
    });

    test('an expired challenge is refused', async () => {
      const client = server.client();
      const options = await client.post(`${paths.REG}/options`, { username: 'slowpoke' });
      const response = await newAuthenticator().createCredential(options.body);
      server.clock.advance(5 * 60_000 + 1);
      const r = await client.post(`${paths.REG}/verify`, response);
      assert.equal(r.status, 400);
      assert.equal(r.body.code, 'challenge_invalid');
    });

    test('signed in, {} adds a passkey with the user\'s passkeys in excludeCredentials', async () => {
      const client = server.client();
      const first = newAuthenticator();
      const account = await signUp(client, first, 'appender');
      const options = await client.post(`${paths.REG}/options`, {});
      assert.equal(options.status, 200);
      assert.deepEqual(options.body.excludeCredentials.map((c: { id: string }) => c.id), [account.passkey.id]);
      await assert.rejects(first.createCredential(options.body), /InvalidState/);
      const second = await newAuthenticator({ backupEligible: true, backupState: true }).createCredential(options.body);
      const verify = await client.post(`${paths.REG}/verify`, second);
      assert.equal(verify.status, 200, verify.text);
      assert.equal(verify.body.user.id, account.user.id);
      assert.equal(verify.body.session, undefined);
      assert.equal(verify.body.passkey.deviceType, 'multiDevice');
      // Added while signed in with another passkey: this one has not signed anybody in yet.
      assert.equal(verify.body.passkey.lastUsedAt, null);
      const list = await client.get('/api/v1/passkeys');
      assert.equal(list.body.passkeys.length, 2);
      assert.ok(list.body.passkeys.find((p: { id: string }) => p.id === account.passkey.id).lastUsedAt, 'the sign-up passkey was used');
    });

    test('signed out, {} is 401', async () => {
      const r = await server.client().post(`${paths.REG}/options`, {});
      assert.equal(r.status, 401);
      assert.equal(r.body.code, 'unauthorized');
    });
  });
}
