import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { AuditEventsTable } from '../../src/modules/audit/audit.tables.ts';
import { authenticate, newAuthenticator, paths, register } from '../helpers/flows.ts';
import type { TestClient, TestResponse } from '../helpers/test-client.ts';
import { dialects, startTestServer, type TestServer } from '../helpers/test-server.ts';

const CHROME_MAC = 'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36';
const FIREFOX_WIN = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0';

/** A browser that sends a real User-Agent on every request. */
function browser(server: TestServer, userAgent = CHROME_MAC): TestClient {
  const client = server.client();
  const request = client.request.bind(client);
  client.request = (method, path, body, options = {}) => request(method, path, body, { ...options, headers: { 'user-agent': userAgent, ...options.headers } });
  return client;
}

for (const dialect of dialects) {
  describe(`audit log (${dialect})`, () => {
    let server: TestServer;
    /** Every session token handed out in this file, to look for in the audit rows at the end. */
    const tokens: string[] = [];
    before(async () => {
      server = await startTestServer(dialect);
    });
    after(() => server.close());

    const rowsFor = (requestId: string) =>
      server.database.db.selectFrom('audit_events').selectAll().where('request_id', '=', requestId).orderBy('created_at').execute();
    const requestIdOf = (r: TestResponse) => {
      const id = r.headers.get('x-request-id');
      assert.ok(id, 'the response names its request id');
      return id;
    };
    const keep = (r: TestResponse) => {
      // A cookie client's token is only in its cookie (never in a body).
      for (const line of r.headers.getSetCookie()) {
        const token = /^latchkey_session=([^;]+)/.exec(line)?.[1];
        if (token) tokens.push(token);
      }
      return r;
    };

    function assertContext(row: AuditEventsTable, requestId: string): void {
      assert.equal(row.request_id, requestId);
      assert.equal(row.ip, '127.0.0.1');
      assert.equal(row.user_agent, CHROME_MAC);
      assert.equal(row.os, 'macOS 10.15.7');
      assert.equal(row.browser, 'Chrome 131');
      assert.equal(row.device, 'desktop');
      assert.ok(Math.abs(Number(row.created_at) - server.clock.now()) < 1000, 'stamped with the server clock');
    }

    test('sign-up writes account.created, passkey.registered and session.created, all with the request\'s context', async () => {
      const client = browser(server);
      const { verify } = await register(client, newAuthenticator(), { username: 'au-ada' });
      keep(verify);
      assert.equal(verify.status, 200, verify.text);
      const requestId = requestIdOf(verify);
      const rows = await rowsFor(requestId);
      assert.deepEqual(rows.map((r) => r.type).sort(), ['account.created', 'passkey.registered', 'session.created']);
      const userId = verify.body.user.id;
      for (const row of rows) {
        assertContext(row, requestId);
        assert.equal(row.outcome, 'success');
        assert.equal(row.subject_user_id, userId);
        assert.equal(row.error_code, null);
        assert.equal(row.reason, null);
      }
      const passkey = rows.find((r) => r.type === 'passkey.registered');
      assert.equal(passkey?.credential_id, verify.body.passkey.id);
      const session = rows.find((r) => r.type === 'session.created');
      assert.ok(session?.session_id, 'the session is named by its id');
      const stored = await server.database.db.selectFrom('sessions').select('id').where('user_id', '=', userId).execute();
      assert.deepEqual(stored.map((s) => s.id), [session?.session_id]);
    });

    test('sign-in writes passkey.authenticated with the passkey, session and UV', async () => {
      const authenticator = newAuthenticator();
      const account = keep((await register(browser(server), authenticator, { username: 'au-bo' })).verify);
      const { verify } = await authenticate(browser(server), authenticator);
      keep(verify);
      assert.equal(verify.status, 200);
      const requestId = requestIdOf(verify);
      const rows = await rowsFor(requestId);
      const event = rows.find((r) => r.type === 'passkey.authenticated');
      assert.ok(event, JSON.stringify(rows.map((r) => r.type)));
      assertContext(event, requestId);
      assert.equal(event.outcome, 'success');
      assert.equal(event.subject_user_id, account.body.user.id);
      assert.equal(event.actor_user_id, account.body.user.id);
      assert.equal(event.credential_id, account.body.passkey.id);
      assert.ok(event.session_id);
      assert.equal(JSON.parse(event.data ?? '{}').userVerified, true);
    });

    test('sign-in records the session it opened as session.created too, as sign-up does (SEC-50 session lifecycle)', {
    }, async () => {
      const authenticator = newAuthenticator();
      keep((await register(browser(server), authenticator, { username: 'au-bo2' })).verify);
      const { verify } = await authenticate(browser(server), authenticator);
      keep(verify);
      const rows = await rowsFor(requestIdOf(verify));
      const created = rows.find((r) => r.type === 'session.created');
      assert.ok(created, `types: ${rows.map((r) => r.type).join(', ')}`);
      assert.equal(created.session_id, rows.find((r) => r.type === 'passkey.authenticated')?.session_id);
    });

    test('a failed sign-in (bogus signature) is recorded as a failure with its code, reason, passkey and user', async () => {
      const authenticator = newAuthenticator();
      const account = keep((await register(browser(server), authenticator, { username: 'au-cy' })).verify);
      const { verify } = await authenticate(browser(server), authenticator, {}, { signature: 'bogus' });
      assert.equal(verify.status, 401);
      const requestId = requestIdOf(verify);
      assert.equal(verify.body.requestId, requestId);
      const rows = await rowsFor(requestId);
      assert.equal(rows.length, 1, JSON.stringify(rows.map((r) => r.type)));
      const row = rows[0] as AuditEventsTable;
      assertContext(row, requestId);
      assert.equal(row.type, 'passkey.authentication_failed');
      assert.equal(row.outcome, 'failure');
      assert.equal(row.error_code, 'verification_failed');
      assert.equal(row.subject_user_id, account.body.user.id);
      assert.equal(row.credential_id, account.body.passkey.id);
      assert.equal(row.session_id, null, 'no session');
      assert.ok(row.reason && row.reason.length > 3, 'the operator sees why');
      assert.match(row.reason, /signature|did not verify/i);
      // The client was told nothing of the reason.
      assert.equal(verify.body.detail, undefined);
      assert.ok(!verify.text.toLowerCase().includes(row.reason.toLowerCase()));
    });

    test('every kind of refusal leaves a failure row with the code the client got and a reason', async () => {
      const authenticator = newAuthenticator();
      await register(browser(server), authenticator, { username: 'au-dee' }).then((r) => keep(r.verify));
      const cases: { tamper: Parameters<typeof authenticate>[3]; code: string; reason: RegExp }[] = [
        { tamper: { clientData: { origin: 'https://evil.example' } }, code: 'verification_failed', reason: /origin/i },
        { tamper: { authData: { up: false } }, code: 'verification_failed', reason: /present|UP|user presence/i },
        { tamper: { clientData: { raw: '{"type":"webauthn.get","type":"x"}' } }, code: 'invalid_response', reason: /duplicate/i },
        { tamper: { clientData: { crossOrigin: true } }, code: 'verification_failed', reason: /cross-origin/i },
      ];
      for (const { tamper, code, reason } of cases) {
        const { verify } = await authenticate(browser(server), authenticator, {}, tamper);
        assert.equal(verify.body.code, code, verify.text);
        const rows = await rowsFor(requestIdOf(verify));
        assert.equal(rows.length, 1, JSON.stringify(tamper));
        assert.equal(rows[0]?.outcome, 'failure');
        assert.equal(rows[0]?.error_code, code);
        assert.match(rows[0]?.reason ?? '', reason, `${JSON.stringify(tamper)}: ${rows[0]?.reason}`);
      }
      // A replayed (consumed) challenge.
      const client = browser(server);
      const { response } = await authenticate(client, authenticator);
      const replay = await client.post(`${paths.AUTH}/verify`, response);
      const rows = await rowsFor(requestIdOf(replay));
      assert.equal(rows[0]?.error_code, 'challenge_invalid');
      assert.match(rows[0]?.reason ?? '', /challenge/i);
      // A failed registration.
      const failed = await register(browser(server), newAuthenticator(), { username: 'au-dee-2' }, { authData: { alg: -65535 } });
      assert.equal(failed.verify.status, 400);
      const regRows = await rowsFor(requestIdOf(failed.verify));
      assert.equal(regRows[0]?.type, 'passkey.registration_failed');
      assert.equal(regRows[0]?.error_code, 'invalid_public_key', 'an algorithm that was not offered');
      assert.ok(regRows[0]?.reason);
    });

    test('attacker-controlled text in a reason is stored with CR, LF and control characters escaped (SEC-51)', async () => {
      const authenticator = newAuthenticator();
      await register(browser(server), authenticator, { username: 'au-eli' }).then((r) => keep(r.verify));
      const origin = 'https://evil.example\r\n2026-01-01 INFO forged line\u0007';
      const { verify } = await authenticate(browser(server), authenticator, {}, { clientData: { origin } });
      assert.equal(verify.status, 401);
      const [row] = await rowsFor(requestIdOf(verify));
      assert.ok(row?.reason, 'a reason is recorded');
      assert.doesNotMatch(row.reason, /[\r\n\u0000-\u001f\u007f]/, row.reason);
      assert.match(row.reason, /evil\.example/, 'the reason names the origin that was refused');
      assert.match(row.reason, /\\u000d\\u000a/, 'CR LF stored escaped');
    });

    test('rename, delete and sign-out are recorded against the user, passkey and session', async () => {
      const client = browser(server);
      const account = keep((await register(client, newAuthenticator(), { username: 'au-fay' })).verify);
      const userId = account.body.user.id;
      const passkeyId = account.body.passkey.id;
      const signUpSession = (await rowsFor(requestIdOf(account))).find((r) => r.type === 'session.created')?.session_id;

      const rename = await client.patch(`/api/v1/passkeys/${passkeyId}`, { name: 'Laptop' });
      assert.equal(rename.status, 200);
      const [renamed] = await rowsFor(requestIdOf(rename));
      assert.equal(renamed?.type, 'passkey.renamed');
      assert.equal(renamed?.outcome, 'success');
      assert.equal(renamed?.credential_id, passkeyId);
      assert.equal(renamed?.subject_user_id, userId);
      assertContext(renamed as AuditEventsTable, requestIdOf(rename));

      // The account's only passkey: SEC-32 asks for explicit confirmation.
      const del = await client.delete(`/api/v1/passkeys/${passkeyId}?confirm=last`);
      assert.equal(del.status, 204);
      const [deleted] = await rowsFor(requestIdOf(del));
      assert.equal(deleted?.type, 'passkey.deleted');
      assert.equal(deleted?.outcome, 'success');
      assert.equal(deleted?.credential_id, passkeyId);
      assert.equal(deleted?.subject_user_id, userId);
      assertContext(deleted as AuditEventsTable, requestIdOf(del));

      const out = await client.delete('/api/v1/session');
      assert.equal(out.status, 204);
      const [revoked] = await rowsFor(requestIdOf(out));
      assert.equal(revoked?.type, 'session.revoked');
      assert.equal(revoked?.outcome, 'success');
      assert.equal(revoked?.subject_user_id, userId);
      assert.equal(revoked?.session_id, signUpSession);
      assertContext(revoked as AuditEventsTable, requestIdOf(out));
    });

    test('the IP comes from the connection, not from a forged X-Forwarded-For (no trusted proxies, SEC-35)', async () => {
      const client = browser(server);
      const { verify } = await register(client, newAuthenticator(), { username: 'au-gus' }).then((r) => {
        keep(r.verify);
        return r;
      });
      const rows = await rowsFor(requestIdOf(verify));
      assert.ok(rows.every((r) => r.ip === '127.0.0.1'));
      const forged = await client.patch(`/api/v1/passkeys/${verify.body.passkey.id}`, { name: 'x' }, { headers: { 'x-forwarded-for': '203.0.113.7' } });
      const [row] = await rowsFor(requestIdOf(forged));
      assert.equal(row?.ip, '127.0.0.1');
    });

    test('another browser is parsed as itself', async () => {
      const { verify } = await register(browser(server, FIREFOX_WIN), newAuthenticator(), { username: 'au-hal' });
      keep(verify);
      const rows = await rowsFor(requestIdOf(verify));
      assert.ok(rows.length > 0);
      for (const row of rows) {
        assert.equal(row.browser, 'Firefox 133');
        assert.match(row.os ?? '', /^Windows/);
      }
    });

    test('audit_events is append-only: UPDATE and DELETE fail in the database itself', async () => {
      const { db } = server.database;
      const before = await db.selectFrom('audit_events').selectAll().orderBy('id').execute();
      assert.ok(before.length > 0);
      const target = before[0] as AuditEventsTable;
      await assert.rejects(db.updateTable('audit_events').set({ outcome: 'failure' }).where('id', '=', target.id).execute(), /append-only/);
      await assert.rejects(db.updateTable('audit_events').set({ reason: 'covered up' }).execute(), /append-only/);
      await assert.rejects(db.deleteFrom('audit_events').where('id', '=', target.id).execute(), /append-only/);
      await assert.rejects(db.deleteFrom('audit_events').execute(), /append-only/);
      const after = await db.selectFrom('audit_events').selectAll().orderBy('id').execute();
      assert.deepEqual(after, before, 'nothing changed');
      // Inserting still works (the log grows).
      const r = await browser(server).post(`${paths.AUTH}/verify`, {});
      assert.equal(r.status, 400);
    });

    test('no session token appears in any audit row', async () => {
      assert.ok(tokens.length >= 8, `collected ${tokens.length} tokens`);
      const rows = await server.database.db.selectFrom('audit_events').selectAll().execute();
      assert.ok(rows.length > 20);
      const dump = JSON.stringify(rows);
      for (const token of tokens) assert.ok(!dump.includes(token), 'a session token was written to the audit log');
      const hashes = await server.database.db.selectFrom('sessions').select('token_hash').execute();
      for (const { token_hash } of hashes) assert.ok(!dump.includes(token_hash), 'nor its hash');
    });
  });
}
