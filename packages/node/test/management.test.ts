import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createTestApiKey } from '../../server/test/helpers/api-keys.ts';
import { dialects, startTestServer, TEST_ORIGIN, type TestServer } from '../../server/test/helpers/test-server.ts';
import { SoftAuthenticator } from '../../testkit/src/index.ts';
import { createManagementClient, LatchkeyApiError, MANAGEMENT_OPERATIONS, type ManagementClient } from '../src/index.ts';

async function apiError(promise: Promise<unknown>): Promise<LatchkeyApiError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  assert.ok(error instanceof LatchkeyApiError, `a LatchkeyApiError, got ${String(error)}`);
  return error;
}

for (const dialect of dialects) {
  describe(`management client against a real server (${dialect})`, () => {
    let server: TestServer;
    let latchkey: ManagementClient;
    const keyWith = async (scopes: string[]) => {
      return (await createTestApiKey(server, scopes, 'node client')).secret;
    };

    before(async () => {
      server = await startTestServer(dialect);
      const apiKey = await keyWith(['users:read', 'users:write', 'users:delete', 'sessions:write', 'audit:read', 'append_tokens:issue']);
      latchkey = createManagementClient({ baseUrl: `${server.url}/`, apiKey });
    });
    after(() => server.close());

    test('every operation the client calls exists in /openapi.json with that method, path and operationId', async () => {
      const doc = (await (await fetch(`${server.url}/openapi.json`)).json()) as { paths: Record<string, Record<string, { operationId?: string }>> };
      for (const [operationId, [method, path]] of Object.entries(MANAGEMENT_OPERATIONS)) {
        const operation = doc.paths[path]?.[method.toLowerCase()];
        assert.ok(operation, `${method} ${path} (${operationId}) is in the OpenAPI document`);
        assert.equal(operation.operationId, operationId, `${method} ${path}`);
      }
    });

    test('users, passkeys, sessions, audit events and append tokens, end to end', async () => {
      const created = await latchkey.users.create({ username: 'node-ada', displayName: 'Ada', email: 'ada@example.com', externalId: 'shop-1' });
      assert.equal(created.status, 'active');
      assert.equal((await latchkey.users.get(created.id)).username, 'node-ada');
      assert.equal((await latchkey.users.getByExternalId('shop-1')).id, created.id);
      assert.equal((await latchkey.users.getByUsername('NODE-ADA')).id, created.id);
      assert.equal((await latchkey.users.getByEmail('ada@example.com')).id, created.id);
      const page = await latchkey.users.search({ query: 'node-', limit: 10 });
      assert.deepEqual(page.items.map((u) => u.id), [created.id]);
      assert.equal(page.nextCursor, null);
      assert.equal((await latchkey.users.update(created.id, { displayName: 'Ada L.' })).displayName, 'Ada L.');

      // An append token, then a passkey with it (as the browser would), then a sign-in session.
      const issued = await latchkey.appendTokens.create({ externalId: 'shop-1' });
      assert.equal(issued.user.id, created.id);
      assert.equal(issued.userCreated, false);
      const authenticator = new SoftAuthenticator({ origin: TEST_ORIGIN, rpId: 'localhost' });
      const browser = server.client();
      const options = await browser.post('/api/v1/passkeys/registration/options', { appendToken: issued.token });
      assert.equal((await browser.post('/api/v1/passkeys/registration/verify', await authenticator.createCredential(options.body))).status, 200);
      const signIn = await browser.post('/api/v1/passkeys/authentication/options', {});
      assert.equal((await browser.post('/api/v1/passkeys/authentication/verify', await authenticator.getAssertion(signIn.body))).status, 200);

      const passkeys = await latchkey.passkeys.list(created.id);
      assert.equal(passkeys.length, 1);
      const sessions = await latchkey.sessions.list(created.id);
      assert.equal(sessions.length, 1);
      await latchkey.sessions.revoke(created.id, sessions[0]!.id);
      assert.equal(await latchkey.sessions.revokeAll(created.id), 0);
      const events = await latchkey.auditEvents.list(created.id, { types: ['passkey.registered', 'append_token.issued'], limit: 10 });
      assert.deepEqual(events.items.map((e) => e.type).sort(), ['append_token.issued', 'passkey.registered']);
      await latchkey.passkeys.delete(created.id, passkeys[0]!.id);
      assert.equal((await latchkey.passkeys.list(created.id)).length, 0);

      assert.equal((await latchkey.users.disable(created.id)).status, 'disabled');
      assert.equal((await latchkey.users.enable(created.id)).status, 'active');
      await latchkey.users.delete(created.id);
      const gone = await apiError(latchkey.users.get(created.id));
      assert.equal(gone.status, 404);
      assert.equal(gone.code, 'not_found');
    });

    test('problems become LatchkeyApiError with status, code and the problem document', async () => {
      await latchkey.users.create({ username: 'node-taken' });
      const taken = await apiError(latchkey.users.create({ username: 'node-taken' }));
      assert.equal(taken.status, 409);
      assert.equal(taken.code, 'username_taken');
      assert.equal(taken.problem.status, 409);
      const readOnly = createManagementClient({ baseUrl: server.url, apiKey: await keyWith(['users:read']) });
      const denied = await apiError(readOnly.appendTokens.create({ externalId: 'x' }));
      assert.equal(denied.status, 403);
      assert.equal(denied.code, 'insufficient_scope');
      assert.equal(denied.problem.scope, 'append_tokens:issue');
      const bad = await apiError(createManagementClient({ baseUrl: server.url, apiKey: 'lk_live_nope' }).users.get('x'));
      assert.equal(bad.status, 401);
    });
  });
}
