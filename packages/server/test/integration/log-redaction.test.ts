import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { TestClient } from '../helpers/test-client.ts';
import { createTestApiKey } from '../helpers/api-keys.ts';
import { dialects, startTestServer, type TestServer } from '../helpers/test-server.ts';

const ADMIN = '/api/admin/v1';

/**
 * SEC-51: a management lookup names a person in its body (never its URL) and a search in its query;
 * the access log keeps the route's shape and not the person.
 */
for (const dialect of dialects) {
  describe(`management URLs in the log (${dialect})`, () => {
    let server: TestServer;
    const lines: string[] = [];
    let admin: TestClient;
    before(async () => {
      const stream = new Writable({
        write(chunk, _encoding, done) {
          lines.push(String(chunk));
          done();
        },
      });
      server = await startTestServer(dialect, { logger: { level: 'info', stream } });
      const { secret } = await createTestApiKey(server, ['users:read', 'users:write'], 'log test');
      admin = new TestClient(server.url, null);
      admin.bearer = secret;
    });
    after(() => server.close());

    test('lookups by e-mail, username and external id, and searches, are logged without the person they name', async () => {
      const created = await admin.post(`${ADMIN}/users`, { username: 'log-quinn', email: 'quinn.canary@example.test', externalId: 'crm-canary-77' });
      assert.equal(created.status, 201, created.text);
      for (const by of [{ email: 'quinn.canary@example.test' }, { username: 'log-quinn' }, { externalId: 'crm-canary-77' }]) {
        assert.equal((await admin.post(`${ADMIN}/users/lookup`, by)).status, 200, JSON.stringify(by));
      }
      assert.equal((await admin.get(`${ADMIN}/users?query=quinn.canary`)).status, 200);
      const log = lines.join('');
      assert.match(log, /\/api\/admin\/v1\/users\?\[redacted\]/, 'the route is still there to read');
      for (const personal of ['quinn.canary', 'log-quinn', 'crm-canary-77']) assert.ok(!log.includes(personal), `${personal} is not in the log`);
    });
  });
}
