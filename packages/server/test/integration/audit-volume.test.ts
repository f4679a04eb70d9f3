import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { sql } from 'kysely';
import type { AuditEventsTable } from '../../src/modules/audit/audit.tables.ts';
import { newAuthenticator, paths, signUp } from '../helpers/flows.ts';
import { dialects, startTestServer, type TestServer } from '../helpers/test-server.ts';

const DAY_MS = 86_400_000;
const b64url = (text: string) => Buffer.from(text).toString('base64url');

/**
 * What a flood of requests costs the audit log, and how long the log is kept.
 * @see issue 9 (review: "Registration verify has no rate limit, and every junk request writes an audit row")
 */
for (const dialect of dialects) {
  describe(`audit volume (${dialect})`, () => {
    const servers: TestServer[] = [];
    after(async () => {
      for (const s of servers) await s.close();
    });

    test('registration verify is limited per IP (429 + Retry-After); junk that names no ceremony writes one summary row, not one row each', async () => {
      const server = await startTestServer(dialect, { config: { auth: { perIpPerHour: 20 } } });
      servers.push(server);
      const { db } = server.database;
      const client = server.client();
      const options = await client.post(`${paths.REG}/options`, { username: 'flooded' });
      const genuine = await newAuthenticator().createCredential(options.body);
      const withClientData = (clientDataJSON: string) => ({ ...genuine, response: { ...genuine.response, clientDataJSON } });
      const unparseable = withClientData(b64url('garbage, not JSON'));
      const unknownChallenge = withClientData(b64url(JSON.stringify({ type: 'webauthn.create', challenge: b64url('x'.repeat(32)), origin: 'http://localhost:8080' })));
      const countRows = async () => Number((await db.selectFrom('audit_events').select(sql<number>`count(*)`.as('n')).executeTakeFirstOrThrow()).n);
      const rowsBefore = await countRows();

      const statuses: number[] = [];
      for (let i = 0; i < 30; i++) {
        const verify = await client.post(`${paths.REG}/verify`, i % 4 === 3 ? unknownChallenge : unparseable);
        statuses.push(verify.status);
        if (i < 20) {
          assert.equal(verify.status, 400, verify.text);
          assert.equal(verify.body.code, i % 4 === 3 ? 'challenge_invalid' : 'invalid_response');
        } else {
          assert.equal(verify.status, 429, `request ${i + 1} is over the limit: ${verify.text}`);
          assert.equal(verify.body.code, 'rate_limited');
          assert.match(verify.headers.get('retry-after') ?? '', /^\d+$/);
        }
      }
      assert.equal(await countRows(), rowsBefore, 'no audit row per junk request');

      // The sweep writes what was counted: one row, with the counts and the busiest address.
      await server.app.sweep();
      const summaries = await db.selectFrom('audit_events').selectAll().where('type', '=', 'passkey.registration_failures_summarized').execute();
      assert.equal(summaries.length, 1);
      const summary = summaries[0] as AuditEventsTable;
      assert.equal(summary.outcome, 'failure');
      const data = JSON.parse(summary.data ?? '{}');
      assert.equal(data.count, 20);
      assert.deepEqual(data.byErrorCode, { invalid_response: 15, challenge_invalid: 5 });
      assert.deepEqual(data.busiestIps, [{ ip: '127.0.0.1', count: 20 }]);
      await server.app.sweep();
      assert.equal(await countRows(), rowsBefore + 1, 'nothing new counted, nothing new written');
    });

    test('audit rows past the retention age are swept in chunks, oldest first; younger rows stay, and stay append-only', async () => {
      const server = await startTestServer(dialect, { config: { audit: { retentionDays: 30 } } });
      servers.push(server);
      const { db } = server.database;
      const now = server.clock.now();
      // 2,500 rows from 31 to 40 days ago (more than two chunks), and 10 from 29 days ago.
      const row = (i: number, createdAt: number): AuditEventsTable => ({
        id: `old-${i}`, created_at: createdAt, type: 'session.created', outcome: 'success', actor_kind: null, actor_id: null, actor_user_id: null, subject_user_id: null,
        credential_id: null, session_id: null, error_code: null, reason: null, request_id: null, ip: null, user_agent: null, os: null, browser: null, device: null, data: null,
      });
      const old = Array.from({ length: 2500 }, (_, i) => row(i, now - 40 * DAY_MS + i * 300_000));
      for (let i = 0; i < old.length; i += 250) await db.insertInto('audit_events').values(old.slice(i, i + 250)).execute();
      await db.insertInto('audit_events').values(Array.from({ length: 10 }, (_, i) => ({ ...row(i, now - 29 * DAY_MS), id: `young-${i}` }))).execute();
      await signUp(server.client(), newAuthenticator(), 'kept');

      // Before the sweep the database itself refuses to delete any of them.
      await assert.rejects(db.deleteFrom('audit_events').where('id', '=', 'old-0').execute(), /append-only/);

      await server.app.sweep();
      const left = await db.selectFrom('audit_events').select(['id', 'type']).execute();
      assert.equal(left.filter((r) => r.id.startsWith('old-')).length, 0, 'every row older than 30 days is gone');
      assert.equal(left.filter((r) => r.id.startsWith('young-')).length, 10, 'rows younger than 30 days stay');
      assert.ok(left.some((r) => r.type === 'account.created'), "today's sign-up stays");
      // Younger rows are as append-only as before.
      await assert.rejects(db.deleteFrom('audit_events').where('id', '=', 'young-0').execute(), /append-only/);
      await assert.rejects(db.updateTable('audit_events').set({ reason: 'covered up' }).where('id', '=', 'young-0').execute(), /append-only/);
    });
  });
}
