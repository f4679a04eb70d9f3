import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { newAuthenticator, signUp } from '../../server/test/helpers/flows.ts';
import { dialects, startTestServer, TEST_ORIGIN, type TestServer } from '../../server/test/helpers/test-server.ts';
import { createVerifier, LatchkeyTokenError } from '../src/index.ts';

const SHOP = 'https://shop.example';

/** What a company backend does with @latchkey/node, against tokens a real Latchkey server signs. */
for (const dialect of dialects) {
  describe(`@latchkey/node verifies what a real server issues (${dialect})`, () => {
    let server: TestServer;
    before(async () => {
      server = await startTestServer(dialect, { config: { tokens: { audiences: [SHOP] } } });
    });
    after(() => server.close());

    const verifierFor = (audience = SHOP) =>
      createVerifier({ issuer: TEST_ORIGIN, audience, jwksUrl: `${server.url}/.well-known/jwks.json`, now: () => new Date(server.clock.now()) });

    test('a login result after a passkey sign-up verifies once, with the user and how they signed in; an access token is no login result', async () => {
      const client = server.client();
      const account = await signUp(client, newAuthenticator(), 'node-e2e');
      const issued = await client.post('/api/v1/session/login-result', { audience: SHOP });
      assert.equal(issued.status, 200, issued.text);
      const verifier = verifierFor();
      const identity = await verifier.verifyLoginResult(issued.body.loginResult);
      assert.equal(identity.userId, account.user.id);
      assert.equal(identity.sub, account.user.id, 'no externalId: sub is the Latchkey user id');
      assert.equal(identity.audience, SHOP);
      assert.ok(identity.amr.includes('passkey'), identity.amr.join());
      assert.equal(identity.acr, 'aal2', 'the soft authenticator verifies the user');
      await assert.rejects(verifier.verifyLoginResult(issued.body.loginResult), (e: unknown) => e instanceof LatchkeyTokenError && e.code === 'replayed');

      const access = await client.post('/api/v1/session/access-token', { audience: SHOP });
      assert.equal(access.status, 200, access.text);
      assert.equal((await verifier.verifyAccessToken(access.body.accessToken)).userId, account.user.id);
      await assert.rejects(verifier.verifyLoginResult(access.body.accessToken), (e: unknown) => e instanceof LatchkeyTokenError && e.code === 'wrong_type');
      await assert.rejects(verifierFor('https://other.example').verifyAccessToken(access.body.accessToken), (e: unknown) => e instanceof LatchkeyTokenError && e.code === 'wrong_audience');
    });
  });
}
