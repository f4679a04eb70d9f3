import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { base64urlEncode } from '../../../testkit/src/index.ts';
import { authenticate, newAuthenticator, paths, register, signUp } from '../helpers/flows.ts';
import { dialects, startTestServer, type TestServer } from '../helpers/test-server.ts';
import { createWebauthnRepository } from '../../src/modules/webauthn/webauthn.module.ts';

const sessionCookies = (r: { headers: Headers }) => r.headers.getSetCookie().filter((c) => /latchkey_session=/.test(c));

for (const dialect of dialects) {
  describe(`authentication (${dialect})`, () => {
    let server: TestServer;
    before(async () => {
      server = await startTestServer(dialect);
    });
    after(() => server.close());

    test('discoverable sign-in returns user, passkey and a new session, and sets the cookie', async () => {
      const authenticator = newAuthenticator();
      const account = await signUp(server.client(), authenticator, 'carol');
      const client = server.client();
      const { options, verify } = await authenticate(client, authenticator);
      assert.deepEqual(options.body.allowCredentials, []);
      assert.equal(options.body.rpId, 'localhost');
      assert.equal(verify.status, 200, verify.text);
      assert.equal(verify.body.user.id, account.user.id);
      assert.equal(verify.body.passkey.id, account.passkey.id);
      assert.notEqual(verify.body.session.token, account.session.token, 'a new token on every sign-in');
      assert.deepEqual(verify.body.session.amr, ['passkey']);
      assert.equal(sessionCookies(verify).length, 1);
      assert.equal((await client.get('/api/v1/session')).status, 200);
    });

    test('identifier-first sign-in lists only that user\'s passkeys', async () => {
      const authenticator = newAuthenticator();
      const account = await signUp(server.client(), authenticator, 'dave');
      const { options, verify } = await authenticate(server.client(), authenticator, { username: 'DAVE' });
      assert.deepEqual(options.body.allowCredentials.map((c: { id: string }) => c.id), [account.passkey.id]);
      assert.equal(verify.status, 200, verify.text);
    });

    test('an unknown username gets options of the same shape, stable across calls (SEC-20)', async () => {
      const erin = await signUp(server.client(), newAuthenticator(), 'erin');
      const known = await server.client().post(`${paths.AUTH}/options`, { username: 'erin' });
      const unknown1 = await server.client().post(`${paths.AUTH}/options`, { username: 'nobody-here' });
      const unknown2 = await server.client().post(`${paths.AUTH}/options`, { username: 'Nobody-Here' });
      assert.equal(unknown1.status, known.status);
      assert.deepEqual(Object.keys(unknown1.body).sort(), Object.keys(known.body).sort());
      assert.ok(unknown1.body.allowCredentials.length >= 1);
      for (const c of unknown1.body.allowCredentials) {
        assert.deepEqual(Object.keys(c).sort(), ['id', 'transports', 'type']);
        assert.equal(c.id.length, known.body.allowCredentials[0].id.length);
      }
      assert.deepEqual(unknown1.body.allowCredentials, unknown2.body.allowCredentials, 'same imaginary credentials every time');
      assert.notEqual(unknown1.body.challenge, unknown2.body.challenge);
      assert.deepEqual([...unknown1.headers.keys()].sort(), [...known.headers.keys()].sort());
      // The challenge carries its own state: none of it may tell the two apart or name the account.
      const knownChallenge = Buffer.from(known.body.challenge, 'base64url');
      const unknownChallenge = Buffer.from(unknown1.body.challenge, 'base64url');
      assert.equal(knownChallenge.length, unknownChallenge.length);
      assert.equal(knownChallenge[39], unknownChallenge[39], 'the same flags byte');
      assert.equal(knownChallenge.includes(Buffer.from(erin.user.id)), false, 'no account id in the challenge');
      assert.equal(knownChallenge.includes(Buffer.from(erin.user.id.replaceAll('-', ''), 'hex')), false);
    });

    test('identifier-first options wait for a fixed floor, known username or not (SEC-20 timing)', async () => {
      await signUp(server.client(), newAuthenticator(), 'floor-known');
      // In-process (no sockets): without the floor an answer takes a few tenths of a millisecond.
      const ask = async (body: object) => {
        const start = performance.now();
        const r = await server.app.inject({
          method: 'POST',
          url: `${paths.AUTH}/options`,
          headers: { 'content-type': 'application/json', origin: 'http://localhost:8080' },
          payload: JSON.stringify(body),
        });
        assert.equal(r.statusCode, 200, r.body);
        return performance.now() - start;
      };
      for (const username of ['floor-known', 'floor-unknown', 'not valid']) {
        const ms = await ask({ username });
        assert.ok(ms >= 1.5, `${username}: ${ms.toFixed(2)} ms`);
      }
      // The fastest of several: on a loaded machine one answer may take a scheduler slice longer.
      const times: number[] = [];
      for (let i = 0; i < 7; i++) times.push(await ask({}));
      const discoverable = Math.min(...times);
      assert.ok(discoverable < 1.5, `discoverable options are not held back: ${discoverable.toFixed(2)} ms`);
    });

    test('a passkey added after identifier-first options were made was not in allowCredentials (SEC-09)', async () => {
      const owner = server.client();
      await signUp(owner, newAuthenticator(), 'late-add');
      const signingIn = server.client();
      const options = await signingIn.post(`${paths.AUTH}/options`, { username: 'late-add' });
      server.clock.advance(1000);
      const second = newAuthenticator();
      const added = await register(owner, second, {});
      assert.equal(added.verify.status, 200, added.verify.text);
      const r = await signingIn.post(`${paths.AUTH}/verify`, await second.getAssertion({ ...options.body, allowCredentials: [] }));
      assert.equal(r.status, 401);
      assert.equal(r.body.code, 'verification_failed');
      // With fresh options, the new passkey is offered and works.
      const fresh = await authenticate(server.client(), second, { username: 'late-add' });
      assert.equal(fresh.verify.status, 200, fresh.verify.text);
    });

    test('a replayed assertion is refused (challenge consumed)', async () => {
      const authenticator = newAuthenticator();
      await signUp(server.client(), authenticator, 'frank');
      const client = server.client();
      const { verify, response } = await authenticate(client, authenticator);
      assert.equal(verify.status, 200);
      const replay = await client.post(`${paths.AUTH}/verify`, response);
      assert.equal(replay.status, 400);
      assert.equal(replay.body.code, 'challenge_invalid');
      assert.equal(sessionCookies(replay).length, 0);
    });

    test('50 parallel submits of one response: exactly one 200 (SEC-01)', async () => {
      const authenticator = newAuthenticator({ counter: 'zero' });
      await signUp(server.client(), authenticator, 'parallel');
      const client = server.client();
      const options = await client.post(`${paths.AUTH}/options`, {});
      const response = await authenticator.getAssertion(options.body);
      const results = await Promise.all(Array.from({ length: 50 }, () => client.post(`${paths.AUTH}/verify`, response)));
      assert.equal(results.filter((r) => r.status === 200).length, 1);
      assert.ok(results.every((r) => r.status === 200 || (r.status >= 400 && r.status < 500)));
    });

    test('a challenge failed once cannot be retried with a good response (consumed on failure)', async () => {
      const authenticator = newAuthenticator();
      await signUp(server.client(), authenticator, 'grace');
      const client = server.client();
      const options = await client.post(`${paths.AUTH}/options`, {});
      const bad = await authenticator.getAssertion(options.body, { signature: 'bogus' });
      assert.equal((await client.post(`${paths.AUTH}/verify`, bad)).status, 401);
      const good = await authenticator.getAssertion(options.body);
      const retry = await client.post(`${paths.AUTH}/verify`, good);
      assert.equal(retry.status, 400);
      assert.equal(retry.body.code, 'challenge_invalid');
    });

    test('a registration challenge cannot be used to sign in', async () => {
      const authenticator = newAuthenticator();
      await signUp(server.client(), authenticator, 'heidi');
      const client = server.client();
      const regOptions = await client.post(`${paths.REG}/options`, { username: 'heidi-two' });
      const assertion = await authenticator.getAssertion({ challenge: regOptions.body.challenge, rpId: 'localhost', allowCredentials: [] });
      const r = await client.post(`${paths.AUTH}/verify`, assertion);
      assert.equal(r.status, 400);
      assert.equal(r.body.code, 'challenge_invalid');
    });

    test('asking for options writes nothing; the verify records the challenge as used', async () => {
      const authenticator = newAuthenticator();
      await signUp(server.client(), authenticator, 'quiet-options');
      const db = server.database.db;
      const count = async (table: 'challenges' | 'consumed_challenges') =>
        Number((await db.selectFrom(table).select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n);
      const before = { challenges: await count('challenges'), consumed: await count('consumed_challenges') };
      const client = server.client();
      const options = await Promise.all([client.post(`${paths.AUTH}/options`, {}), client.post(`${paths.AUTH}/options`, { username: 'quiet-options' })]);
      assert.deepEqual({ challenges: await count('challenges'), consumed: await count('consumed_challenges') }, before);
      const verify = await client.post(`${paths.AUTH}/verify`, await authenticator.getAssertion(options[1].body));
      assert.equal(verify.status, 200, verify.text);
      assert.equal(await count('consumed_challenges'), before.consumed + 1);
    });

    test('a challenge changed in transit is refused, even with a valid signature over it (SEC-01)', async () => {
      const authenticator = newAuthenticator();
      await signUp(server.client(), authenticator, 'tamper');
      const client = server.client();
      const options = await client.post(`${paths.AUTH}/options`, {});
      // Push the expiry far out (bytes 33-38) and let the authenticator sign the forged challenge.
      const bytes = Buffer.from(options.body.challenge, 'base64url');
      bytes[34] = (bytes[34] as number) ^ 0x7f;
      const forged = bytes.toString('base64url');
      const r = await client.post(`${paths.AUTH}/verify`, await authenticator.getAssertion({ ...options.body, challenge: forged }));
      assert.equal(r.status, 400);
      assert.equal(r.body.code, 'challenge_invalid');
    });

    test('an expired sign-in challenge is refused, and a step-up challenge cannot sign in', async () => {
      const authenticator = newAuthenticator();
      const signedIn = server.client();
      await signUp(signedIn, authenticator, 'late-signin');
      const client = server.client();
      const options = await client.post(`${paths.AUTH}/options`, {});
      const assertion = await authenticator.getAssertion(options.body);
      server.clock.advance(5 * 60_000 + 1);
      const late = await client.post(`${paths.AUTH}/verify`, assertion);
      assert.equal(late.status, 400);
      assert.equal(late.body.code, 'challenge_invalid');
      assert.match(late.body.detail, /expired/);
      const stepUp = await signedIn.post('/api/v1/session/step-up/options', {});
      assert.equal(stepUp.status, 200, stepUp.text);
      const misuse = await signedIn.post(`${paths.AUTH}/verify`, await authenticator.getAssertion(stepUp.body));
      assert.equal(misuse.status, 400);
      assert.equal(misuse.body.code, 'challenge_invalid');
    });

    test('used challenges are swept an hour after they expire, in chunks', async () => {
      const db = server.database.db;
      const now = server.clock.now();
      const HOUR = 60 * 60_000;
      const old = Array.from({ length: 4500 }, (_, i) => ({ expires_at: now - HOUR - 1 - i, nonce: `swept-${i}` }));
      for (let i = 0; i < old.length; i += 500) await db.insertInto('consumed_challenges').values(old.slice(i, i + 500)).execute();
      await db.insertInto('consumed_challenges').values([{ expires_at: now - 1, nonce: 'kept-margin' }, { expires_at: now + 60_000, nonce: 'kept-live' }]).execute();
      assert.ok((await createWebauthnRepository().deleteExpiredChallenges(db, now)) >= 4500);
      const left = (await db.selectFrom('consumed_challenges').select('nonce').where((eb) => eb.or([eb('nonce', 'like', 'swept-%'), eb('nonce', 'like', 'kept-%')])).orderBy('nonce').execute()).map((r) => r.nonce);
      assert.deepEqual(left, ['kept-live', 'kept-margin']);
    });

    test('bad signature, wrong origin, RP ID, type, missing UP, topOrigin: one public code, no cookie', async () => {
      const authenticator = newAuthenticator();
      await signUp(server.client(), authenticator, 'ivan');
      const tampers = [
        { signature: 'bogus' as const },
        { clientData: { origin: 'https://localhost.evil.example' } },
        { clientData: { type: 'webauthn.create' } },
        { authData: { rpIdHash: new Uint8Array(32).fill(1) } },
        { authData: { up: false } },
        { clientData: { crossOrigin: true, topOrigin: 'https://evil.example' } },
      ];
      for (const tamper of tampers) {
        const { verify } = await authenticate(server.client(), authenticator, {}, tamper);
        assert.equal(verify.status, 401, `${JSON.stringify(tamper)}: ${verify.text}`);
        assert.equal(verify.body.code, 'verification_failed');
        assert.equal(sessionCookies(verify).length, 0);
      }
    });

    test('an unknown credential gets the same answer as a bad signature', async () => {
      const stranger = newAuthenticator();
      await stranger.createCredential((await server.client().post(`${paths.REG}/options`, { username: 'never-finished' })).body);
      const { verify } = await authenticate(server.client(), stranger);
      assert.equal(verify.status, 401);
      assert.equal(verify.body.code, 'verification_failed');
      assert.equal(verify.body.detail, undefined, 'no detail that tells the reasons apart');
    });

    test('someone else\'s passkey cannot sign in as me: userHandle and identifier-first checks (SEC-08, SEC-09)', async () => {
      const alice = newAuthenticator();
      const mallory = newAuthenticator();
      const a = await signUp(server.client(), alice, 'judy');
      const m = await signUp(server.client(), mallory, 'mallory');
      // Mallory's credential with Judy's user handle.
      const mixed = await authenticate(server.client(), mallory, {}, { userHandle: (await getHandle(server, a.user.id)) });
      assert.equal(mixed.verify.status, 401);
      // Identifier-first for judy, answered with mallory's passkey.
      const client = server.client();
      const options = await client.post(`${paths.AUTH}/options`, { username: 'judy' });
      const assertion = await mallory.getAssertion({ ...options.body, allowCredentials: [] });
      const r = await client.post(`${paths.AUTH}/verify`, assertion);
      assert.equal(r.status, 401);
      assert.equal(r.body.code, 'verification_failed');
      // Discoverable without a user handle is refused.
      const noHandle = await authenticate(server.client(), alice, {}, { userHandle: null });
      assert.equal(noHandle.verify.status, 401);
      assert.ok(m.user.id);
    });

    test('a counter that does not increase is refused and recorded as a possible clone (SEC-10)', async () => {
      const authenticator = newAuthenticator();
      const account = await signUp(server.client(), authenticator, 'kim');
      assert.equal((await authenticate(server.client(), authenticator)).verify.status, 200);
      assert.equal((await authenticate(server.client(), authenticator)).verify.status, 200);
      const clone = newAuthenticator();
      clone.importCredential({ ...authenticator.exportCredential(account.passkey.id) });
      clone.setSignCount(account.passkey.id, 1);
      const { verify } = await authenticate(server.client(), clone);
      assert.equal(verify.status, 401);
      assert.equal(verify.body.code, 'verification_failed');
      const events = await server.database.db.selectFrom('audit_events').select(['type', 'outcome']).where('credential_id', '=', account.passkey.id).execute();
      assert.ok(events.some((e) => e.type === 'passkey.clone_suspected' && e.outcome === 'failure'));
      // The genuine authenticator still works.
      assert.equal((await authenticate(server.client(), authenticator)).verify.status, 200);
    });

    test('two concurrent assertions with the same counter: only one wins (compare-and-set)', async () => {
      const authenticator = newAuthenticator();
      const account = await signUp(server.client(), authenticator, 'leo');
      const c1 = server.client();
      const c2 = server.client();
      const [o1, o2] = await Promise.all([c1.post(`${paths.AUTH}/options`, {}), c2.post(`${paths.AUTH}/options`, {})]);
      const a1 = await authenticator.getAssertion(o1.body);
      authenticator.setSignCount(account.passkey.id, 0);
      const a2 = await authenticator.getAssertion(o2.body);
      const [r1, r2] = await Promise.all([c1.post(`${paths.AUTH}/verify`, a1), c2.post(`${paths.AUTH}/verify`, a2)]);
      assert.deepEqual([r1.status, r2.status].sort(), [200, 401]);
    });

    test('authenticators that keep no counter (always 0) sign in every time', async () => {
      const authenticator = newAuthenticator({ counter: 'zero', backupEligible: true, backupState: true });
      await signUp(server.client(), authenticator, 'synced');
      for (let i = 0; i < 3; i++) assert.equal((await authenticate(server.client(), authenticator)).verify.status, 200);
    });

    test('backup eligibility must not change; backup state is updated (SEC-11)', async () => {
      const authenticator = newAuthenticator({ backupEligible: true, backupState: false });
      const account = await signUp(server.client(), authenticator, 'mia');
      const flipped = await authenticate(server.client(), authenticator, {}, { authData: { be: false, bs: false } });
      assert.equal(flipped.verify.status, 401);
      const backedUp = await authenticate(server.client(), authenticator, {}, { authData: { be: true, bs: true } });
      assert.equal(backedUp.verify.status, 200, backedUp.verify.text);
      assert.equal(backedUp.verify.body.passkey.backedUp, true);
      const row = await server.database.db.selectFrom('credentials').select(['backed_up', 'last_used_at']).where('id', '=', account.passkey.id).executeTakeFirstOrThrow();
      assert.equal(row.backed_up, 1);
      assert.ok(row.last_used_at);
    });

    test('a ceremony started by one client cannot be finished by another (binding)', async () => {
      const authenticator = newAuthenticator();
      await signUp(server.client(), authenticator, 'nina');
      const starter = server.client();
      const options = await starter.post(`${paths.AUTH}/options`, {});
      const assertion = await authenticator.getAssertion(options.body);
      const other = await server.client().post(`${paths.AUTH}/verify`, assertion);
      assert.equal(other.status, 400);
      assert.equal(other.body.code, 'challenge_invalid');
      // A cookie-less client may carry the binding in the Latchkey-Ceremony header instead.
      const headerClient = server.client();
      const o2 = await headerClient.post(`${paths.AUTH}/options`, {});
      const binding = o2.headers.get('latchkey-ceremony') ?? '';
      const a2 = await authenticator.getAssertion(o2.body);
      const r2 = await headerClient.post(`${paths.AUTH}/verify`, a2, { noCookies: true, headers: { 'latchkey-ceremony': binding } });
      assert.equal(r2.status, 200, r2.text);
    });

    test('several ceremonies may be open at once from one browser', async () => {
      const authenticator = newAuthenticator();
      await signUp(server.client(), authenticator, 'olga');
      const client = server.client();
      const o1 = await client.post(`${paths.AUTH}/options`, {});
      const o2 = await client.post(`${paths.AUTH}/options`, { username: 'olga' });
      const second = await client.post(`${paths.AUTH}/verify`, await authenticator.getAssertion(o2.body));
      const first = await client.post(`${paths.AUTH}/verify`, await authenticator.getAssertion(o1.body));
      assert.equal(second.status, 200);
      assert.equal(first.status, 200);
    });

    test('malformed responses are 4xx, never 5xx', async () => {
      const authenticator = newAuthenticator();
      await signUp(server.client(), authenticator, 'pat');
      const client = server.client();
      const options = await client.post(`${paths.AUTH}/options`, {});
      const good = (await authenticator.getAssertion(options.body)) as unknown as { response: Record<string, string> } & Record<string, unknown>;
      const variants: unknown[] = [
        { ...good, response: { ...good.response, clientDataJSON: 'not base64url!' } },
        { ...good, response: { ...good.response, clientDataJSON: base64urlEncode(new TextEncoder().encode('{not json')) } },
        { ...good, response: { ...good.response, clientDataJSON: base64urlEncode(new Uint8Array([0xff, 0xfe, 0x00])) } },
        { ...good, response: { ...good.response, authenticatorData: base64urlEncode(new Uint8Array([0xa1, 0x01])) } },
        { ...good, response: { ...good.response, signature: '' } },
        { ...good, type: 'password' },
        { ...good, id: 'x'.repeat(2000) },
        { ...good, response: 'nope' },
        {},
        [],
      ];
      for (const body of variants) {
        const r = await client.post(`${paths.AUTH}/verify`, body);
        assert.ok(r.status >= 400 && r.status < 500, `${r.status} ${r.text}`);
        assert.match(r.headers.get('content-type') ?? '', /problem\+json/);
      }
    });

    test('clientDataJSON with duplicate keys is refused', async () => {
      const authenticator = newAuthenticator();
      await signUp(server.client(), authenticator, 'quinn');
      const client = server.client();
      const options = await client.post(`${paths.AUTH}/options`, {});
      const raw = `{"type":"webauthn.get","challenge":"${options.body.challenge}","origin":"http://localhost:8080","origin":"https://evil.example"}`;
      const r = await client.post(`${paths.AUTH}/verify`, await authenticator.getAssertion(options.body, { clientData: { raw } }));
      assert.equal(r.status, 400);
      assert.equal(r.body.code, 'invalid_response');
    });

    test('a leading BOM in clientDataJSON is stripped (WebAuthn "UTF-8 decode")', async () => {
      const authenticator = newAuthenticator();
      await signUp(server.client(), authenticator, 'rita');
      const client = server.client();
      const options = await client.post(`${paths.AUTH}/options`, {});
      const raw = `\uFEFF{"type":"webauthn.get","challenge":"${options.body.challenge}","origin":"http://localhost:8080","crossOrigin":false}`;
      const r = await client.post(`${paths.AUTH}/verify`, await authenticator.getAssertion(options.body, { clientData: { raw } }));
      assert.ok(r.status === 200 || r.status === 401, r.text);
    });
  });

  describe(`authentication with userVerification "required" (${dialect})`, () => {
    let server: TestServer;
    before(async () => {
      server = await startTestServer(dialect, { config: { webauthn: { userVerification: 'required' } } });
    });
    after(() => server.close());

    test('UV=0 is refused at registration and at sign-in; UV=1 passes', async () => {
      const noUv = await register(server.client(), newAuthenticator({ userVerified: false }), { username: 'nouv' });
      assert.equal(noUv.verify.status, 400);
      assert.equal(noUv.options.body.authenticatorSelection.userVerification, 'required');
      const authenticator = newAuthenticator();
      await signUp(server.client(), authenticator, 'withuv');
      const bad = await authenticate(server.client(), authenticator, {}, { authData: { uv: false } });
      assert.equal(bad.verify.status, 401);
      const good = await authenticate(server.client(), authenticator);
      assert.equal(good.verify.status, 200);
      assert.equal(good.verify.body.session.userVerified, true);
      assert.equal(good.options.body.userVerification, 'required');
    });
  });

  describe(`authentication with userVerification "preferred" (${dialect})`, () => {
    let server: TestServer;
    before(async () => {
      server = await startTestServer(dialect);
    });
    after(() => server.close());

    test('UV=0 signs in but the session records userVerified false', async () => {
      const authenticator = newAuthenticator({ userVerified: false });
      await signUp(server.client(), authenticator, 'lazy');
      const { verify } = await authenticate(server.client(), authenticator);
      assert.equal(verify.status, 200, verify.text);
      assert.equal(verify.body.session.userVerified, false);
    });
  });
}

async function getHandle(server: TestServer, userId: string): Promise<string> {
  const row = await server.database.db.selectFrom('users').select('user_handle').where('id', '=', userId).executeTakeFirstOrThrow();
  return row.user_handle;
}
