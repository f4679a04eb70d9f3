import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { authenticate, newAuthenticator, signUp } from '../helpers/flows.ts';
import { dialects, startTestServer, type TestServer } from '../helpers/test-server.ts';

const CHROME_MAC = 'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/140.0.0.0 Safari/537.36';

for (const dialect of dialects) {
  describe(`device sessions (${dialect})`, () => {
    let server: TestServer;
    before(async () => {
      server = await startTestServer(dialect);
    });
    after(() => server.close());

    test('a user lists where they are signed in and ends one session or all others (SEC-28, SEC-29)', async () => {
      const authenticator = newAuthenticator();
      const laptop = server.client();
      await signUp(laptop, authenticator, 'traveller');
      const phone = server.client();
      const phoneSignIn = await phone.request('POST', '/api/v1/passkeys/authentication/options', {}, { headers: { 'user-agent': CHROME_MAC } });
      const assertion = await authenticator.getAssertion(phoneSignIn.body);
      assert.equal((await phone.post('/api/v1/passkeys/authentication/verify', assertion, { headers: { 'user-agent': CHROME_MAC } })).status, 200);
      const tablet = server.client();
      assert.equal((await authenticate(tablet, authenticator)).verify.status, 200);

      const list = await laptop.get('/api/v1/sessions');
      assert.equal(list.status, 200);
      assert.equal(list.body.sessions.length, 3);
      assert.equal(list.body.sessions.filter((s: { current: boolean }) => s.current).length, 1);
      const phoneSession = list.body.sessions.find((s: { browser: string | null }) => s.browser?.startsWith('Chrome'));
      assert.ok(phoneSession, 'the phone session shows its browser');
      assert.match(phoneSession.os, /macOS/);
      assert.equal(JSON.stringify(list.body).includes('token'), false, 'no tokens in the list');

      assert.equal((await laptop.delete(`/api/v1/sessions/${phoneSession.id}`)).status, 204);
      assert.equal((await phone.get('/api/v1/session')).status, 401, 'the ended session no longer works');
      assert.equal((await laptop.delete(`/api/v1/sessions/${phoneSession.id}`)).status, 404);

      const others = await laptop.request('DELETE', '/api/v1/sessions');
      assert.equal(others.status, 200);
      assert.equal(others.body.revoked, 1);
      assert.equal((await tablet.get('/api/v1/session')).status, 401);
      assert.equal((await laptop.get('/api/v1/session')).status, 200, 'the current session stays');
    });

    test("another user's session cannot be ended (404, untouched)", async () => {
      const a = server.client();
      const b = server.client();
      await signUp(a, newAuthenticator(), 'owner-a');
      await signUp(b, newAuthenticator(), 'owner-b');
      const bSession = (await b.get('/api/v1/sessions')).body.sessions[0];
      const r = await a.delete(`/api/v1/sessions/${bSession.id}`);
      assert.equal(r.status, 404);
      assert.equal(r.body.code, 'session_not_found');
      assert.equal((await b.get('/api/v1/session')).status, 200);
    });
  });
}
