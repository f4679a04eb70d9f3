// The SDK against a real server, from Node (bearer mode: no cookies, the ceremony binding travels
// in the Latchkey-Ceremony header). The browser paths are exercised by e2e/*.test.ts.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { SoftAuthenticator } from '../../testkit/src/index.ts';
import { dialects, startTestServer, TEST_ORIGIN, type TestServer } from '../../server/test/helpers/test-server.ts';
import { createTestApiKey } from '../../server/test/helpers/api-keys.ts';
import { base64UrlToBytes, bytesToBase64Url, LatchkeyClient, LatchkeyError } from '../src/index.ts';

test('base64url conversion round-trips every byte value without padding', () => {
  const bytes = new Uint8Array(256).map((_, i) => i);
  const text = bytesToBase64Url(bytes);
  assert.doesNotMatch(text, /[+/=]/);
  assert.deepEqual([...base64UrlToBytes(text)], [...bytes]);
  assert.equal(bytesToBase64Url(new Uint8Array([0xfb, 0xff])), '-_8');
});

for (const dialect of dialects) {
  describe(`SDK over HTTP (${dialect})`, () => {
    let server: TestServer;
    before(async () => {
      server = await startTestServer(dialect);
    });
    after(() => server.close());

    test('reportCeremony adds a report id and the time it happened, so a retry is counted once and a late one on its day', async () => {
      const client = new LatchkeyClient({ baseUrl: server.url, auth: 'bearer' });
      await client.reportCeremony({ ceremony: 'append', mode: 'modal', outcome: 'completed', durationMs: 1234 });
      const row = await server.database.db.selectFrom('audit_events').select('data').where('type', '=', 'ceremony.reported').orderBy('created_at', 'desc').executeTakeFirstOrThrow();
      const data = JSON.parse(row.data!);
      assert.match(data.reportId, /^[0-9a-f-]{36}$/);
      assert.ok(Math.abs(Date.parse(data.occurredAt) - Date.now()) < 60_000, data.occurredAt);
      assert.deepEqual({ ...data, reportId: undefined, occurredAt: undefined }, { ceremony: 'append', mode: 'modal', outcome: 'completed', durationMs: 1234, reportId: undefined, occurredAt: undefined });
    });

    test('sign-up, session, rename, sign-out and sign-in with a bearer token held in memory', async () => {
      const client = new LatchkeyClient({ baseUrl: server.url, auth: 'bearer' });
      const authenticator = new SoftAuthenticator({ origin: TEST_ORIGIN, rpId: 'localhost' });
      assert.equal(await client.getSession(), null);

      const registration = await client.startRegistration({ username: 'sdk-user' });
      assert.ok(registration.binding, 'the options answer carries Latchkey-Ceremony');
      const signedUp = await client.finishRegistration(
        (await authenticator.createCredential(registration.options as never)) as unknown as Record<string, unknown>,
        registration.binding,
      );
      assert.equal(signedUp.user.username, 'sdk-user');
      assert.ok(client.hasToken);
      assert.equal((await client.getSession())?.user.username, 'sdk-user');

      const [passkey] = await client.listPasskeys();
      assert.equal((await client.renamePasskey(passkey!.id, 'Laptop')).name, 'Laptop');

      await client.signOut();
      assert.equal(client.hasToken, false);
      assert.equal(await client.getSession(), null);

      const authentication = await client.startAuthentication({ username: 'sdk-user' });
      const signedIn = await client.finishAuthentication(
        (await authenticator.getAssertion(authentication.options as never)) as unknown as Record<string, unknown>,
        authentication.binding,
      );
      assert.equal(signedIn.user.id, signedUp.user.id);
      assert.equal((await client.getSession())?.user.id, signedUp.user.id);
    });

    test('experiments: the signed-in user\'s arm, and an exposure reported once it is shown', async () => {
      const { secret } = await createTestApiKey(server, ['experiments:read', 'experiments:write'], 'sdk experiments');
      const admin = (path: string, body: unknown) =>
        fetch(`${server.url}/api/admin/v1${path}`, { method: 'POST', headers: { authorization: `Bearer ${secret}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
      assert.equal((await admin('/experiments', { key: 'sdk-copy', feature: 'append_prompt', metric: 'passkey_created', variants: [{ key: 'control' }, { key: 'b' }] })).status, 201);
      assert.equal((await admin('/experiments/sdk-copy/start', {})).status, 200);

      const client = new LatchkeyClient({ baseUrl: server.url, auth: 'bearer' });
      assert.deepEqual(await client.getExperimentAssignments(), {}, 'signed out: no arms, no error');
      const authenticator = new SoftAuthenticator({ origin: TEST_ORIGIN, rpId: 'localhost' });
      const registration = await client.startRegistration({ username: 'sdk-ab' });
      await client.finishRegistration((await authenticator.createCredential(registration.options as never)) as unknown as Record<string, unknown>, registration.binding);
      const { append_prompt: arm } = await client.getExperimentAssignments();
      assert.ok(arm && arm.experiment === 'sdk-copy' && ['control', 'b'].includes(arm.variant));
      await client.reportExposure(arm);
      const rows = await server.database.db.selectFrom('experiment_exposures').select(['variant']).execute();
      assert.deepEqual(rows.map((r) => r.variant), [arm.variant]);
      await client.reportExposure({ ...arm, variant: arm.variant === 'b' ? 'control' : 'b' });
      assert.equal((await server.database.db.selectFrom('experiment_exposures').select(['variant']).execute()).length, 1, 'a wrong arm is refused, silently for the page');
    });

    test('an append token adds a passkey to its user without a session (startRegistration({ appendToken }))', async () => {
      const { secret } = await createTestApiKey(server, ['append_tokens:issue'], 'sdk backend');
      const issued = await fetch(`${server.url}/api/admin/v1/append-tokens`, {
        method: 'POST',
        headers: { authorization: `Bearer ${secret}`, 'content-type': 'application/json' },
        body: JSON.stringify({ externalId: 'sdk-append-user' }),
      });
      assert.equal(issued.status, 201);
      const { token, user } = (await issued.json()) as { token: string; user: { id: string } };
      const client = new LatchkeyClient({ baseUrl: server.url, auth: 'bearer' });
      const authenticator = new SoftAuthenticator({ origin: TEST_ORIGIN, rpId: 'localhost' });
      const registration = await client.startRegistration({ appendToken: token });
      const appended = await client.finishRegistration(
        (await authenticator.createCredential(registration.options as never)) as unknown as Record<string, unknown>,
        registration.binding,
      );
      assert.equal(appended.user.id, user.id);
      assert.equal(appended.session, undefined);
      assert.equal(client.hasToken, false, 'no session was opened');
      const reused = await client.startRegistration({ appendToken: token }).catch((e: unknown) => e);
      assert.ok(reused instanceof LatchkeyError);
      assert.equal(reused.code, 'append_token_invalid');
    });

    test('cookie mode never sees a token (the cookie carries the session); bearer mode gets one, and a second sign-in ends the first (issue 9)', async () => {
      // A browser stand-in: a cookie jar and the page's Origin around fetch.
      const jar = new Map<string, string>();
      const browserFetch: typeof fetch = async (input, init) => {
        const headers = new Headers(init?.headers);
        headers.set('origin', TEST_ORIGIN);
        if (init?.credentials === 'include' && jar.size > 0) headers.set('cookie', [...jar].map(([k, v]) => `${k}=${v}`).join('; '));
        const response = await fetch(input, { ...init, headers });
        for (const line of response.headers.getSetCookie()) {
          const [pair = ''] = line.split(';');
          const eq = pair.indexOf('=');
          jar.set(pair.slice(0, eq), pair.slice(eq + 1));
        }
        return response;
      };
      const authenticator = new SoftAuthenticator({ origin: TEST_ORIGIN, rpId: 'localhost' });
      const cookie = new LatchkeyClient({ baseUrl: server.url, fetch: browserFetch });
      const registration = await cookie.startRegistration({ username: 'sdk-cookie' });
      const signedUp = await cookie.finishRegistration(
        (await authenticator.createCredential(registration.options as never)) as unknown as Record<string, unknown>,
        registration.binding,
      );
      assert.equal(signedUp.session?.token, undefined, 'no token for a cookie client');
      assert.ok(jar.get('latchkey_session'), 'the session is in the cookie');
      assert.equal((await cookie.getSession())?.user.username, 'sdk-cookie');
      assert.equal((await cookie.getSession())?.session.token, undefined);

      const bearer = new LatchkeyClient({ baseUrl: server.url, auth: 'bearer' });
      const signIn = async () => {
        const { options, binding } = await bearer.startAuthentication({ username: 'sdk-cookie' });
        return bearer.finishAuthentication((await authenticator.getAssertion(options as never)) as unknown as Record<string, unknown>, binding);
      };
      const first = await signIn();
      assert.match(first.session?.token ?? '', /^[A-Za-z0-9_-]{43}$/, 'a bearer client gets its token');
      const second = await signIn();
      assert.notEqual(second.session?.token, first.session?.token);
      assert.equal((await bearer.getSession())?.user.username, 'sdk-cookie', 'the new token is the one held');
      const old = await fetch(`${server.url}/api/v1/session`, { headers: { authorization: `Bearer ${first.session?.token}` } });
      assert.equal(old.status, 401, 'the session the client carried ended');
      assert.equal((await cookie.getSession())?.user.username, 'sdk-cookie', "the cookie client's session is another one");
    });

    test('SEC-24: stepUp() in bearer mode picks up the new token the step-up issued; the old one is dead', async () => {
      const authenticator = new SoftAuthenticator({ origin: TEST_ORIGIN, rpId: 'localhost' });
      const client = new LatchkeyClient({ baseUrl: server.url, auth: 'bearer' });
      const registration = await client.startRegistration({ username: 'sdk-step-up' });
      const signedUp = await client.finishRegistration(
        (await authenticator.createCredential(registration.options as never)) as unknown as Record<string, unknown>,
        registration.binding,
      );
      const old = signedUp.session?.token;
      assert.ok(old);
      // navigator.credentials.get played by the software authenticator (Node has no WebAuthn).
      const original = Object.getOwnPropertyDescriptor(globalThis, 'navigator');
      Object.defineProperty(globalThis, 'navigator', {
        configurable: true,
        value: {
          credentials: {
            get: async ({ publicKey }: { publicKey: { challenge: Uint8Array; allowCredentials?: { id: Uint8Array }[] } & Record<string, unknown> }) => {
              const json = {
                ...publicKey,
                challenge: bytesToBase64Url(publicKey.challenge),
                allowCredentials: publicKey.allowCredentials?.map((c) => ({ ...c, id: bytesToBase64Url(c.id) })),
              };
              const assertion = await authenticator.getAssertion(json as never);
              return { toJSON: () => assertion };
            },
          },
        },
      });
      try {
        await client.stepUp();
      } finally {
        if (original) Object.defineProperty(globalThis, 'navigator', original);
        else Reflect.deleteProperty(globalThis, 'navigator');
      }
      assert.equal((await client.getSession())?.user.username, 'sdk-step-up', 'the client holds the new token');
      const stale = await fetch(`${server.url}/api/v1/session`, { headers: { authorization: `Bearer ${old}` } });
      assert.equal(stale.status, 401, 'the token from before the step-up is dead');
    });

    test('passkeyDecisions(): typed answers for a visitor and a signed-in user; declinePasskeyAppend() needs a session', async () => {
      const visitor = new LatchkeyClient({ baseUrl: server.url, auth: 'bearer' });
      const client = { webauthn: true, platformAuthenticator: true, conditionalMediation: false };
      const seen = await visitor.passkeyDecisions({ client, deviceId: 'sdk-device-0000000000' });
      assert.deepEqual(seen.autofill, { offer: false, reason: 'no_conditional_mediation' });
      assert.deepEqual(seen.appendPrompt, { offer: false, reason: 'not_signed_in', variant: 'default' });
      const refused = await visitor.declinePasskeyAppend().catch((error: unknown) => error);
      assert.ok(refused instanceof LatchkeyError && refused.status === 401);
      const invalid = await visitor.passkeyDecisions({ client, deviceId: 'short' }).catch((error: unknown) => error);
      assert.ok(invalid instanceof LatchkeyError && invalid.code === 'invalid_request');

      const user = new LatchkeyClient({ baseUrl: server.url, auth: 'bearer' });
      const authenticator = new SoftAuthenticator({ origin: TEST_ORIGIN, rpId: 'localhost' });
      const registration = await user.startRegistration({ username: 'sdk-decisions' });
      await user.finishRegistration((await authenticator.createCredential(registration.options as never)) as unknown as Record<string, unknown>, registration.binding);
      // (An earlier test left an append_prompt experiment running: the variant is this user's arm of it.)
      const offered = (await user.passkeyDecisions({ client })).appendPrompt;
      assert.deepEqual([offered.offer, offered.reason], [true, 'eligible']);
      assert.equal(typeof offered.variant, 'string');
      await user.declinePasskeyAppend('sdk-device-0000000000');
      assert.deepEqual((await user.passkeyDecisions({ client })).appendPrompt, { offer: false, reason: 'declined_recently', variant: 'default' });
    });

    test('problem+json answers become LatchkeyErrors with the server’s code', async () => {
      const client = new LatchkeyClient({ baseUrl: server.url, auth: 'bearer' });
      await client.startRegistration({ username: 'taken-name' }).then(async ({ options, binding }) => {
        const authenticator = new SoftAuthenticator({ origin: TEST_ORIGIN, rpId: 'localhost' });
        await client.finishRegistration((await authenticator.createCredential(options as never)) as unknown as Record<string, unknown>, binding);
      });
      const error = await new LatchkeyClient({ baseUrl: server.url }).startRegistration({ username: 'taken-name' }).catch((e: unknown) => e);
      assert.ok(error instanceof LatchkeyError);
      assert.equal(error.status, 409);
      assert.equal(error.code, 'username_taken');
      const unauthorized = await new LatchkeyClient({ baseUrl: server.url }).listPasskeys().catch((e: unknown) => e);
      assert.ok(unauthorized instanceof LatchkeyError);
      assert.equal(unauthorized.code, 'unauthorized');
    });
  });
}
