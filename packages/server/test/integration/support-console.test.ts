import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { sql, type Kysely } from 'kysely';
import type { Database } from '../../src/db/database.ts';
import { createTestApiKey } from '../helpers/api-keys.ts';
import { authenticate, newAuthenticator, signUp } from '../helpers/flows.ts';
import { TestClient, type TestResponse } from '../helpers/test-client.ts';
import { createDatabase } from '../../src/db/create-db.ts';
import { createMigrator, migrateToLatest } from '../../src/db/migrate.ts';
import { createTestDatabase, dialects, startTestServer, type TestServer } from '../helpers/test-server.ts';

const ADMIN = '/api/admin/v1';
const CHROME_ON_WINDOWS = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36';

function assertProblem(r: TestResponse, status: number, code: string, label = ''): void {
  assert.equal(r.status, status, `${label} ${r.text}`);
  assert.equal(r.body.code, code, `${label} ${r.text}`);
}

/** RFC 4180 parser for the export (quoted cells, doubled quotes, CRLF rows). */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (c === '"') quoted = false;
      else cell += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      row.push(cell);
      cell = '';
    } else if (c === '\r' && text[i + 1] === '\n') {
      row.push(cell);
      rows.push(row);
      row = [];
      cell = '';
      i++;
    } else cell += c;
  }
  assert.equal(cell, '', 'the export ends with a line break');
  return rows;
}

/** Changes rows as an attacker with write access would: append-only triggers off for the change. */
async function asAttacker(server: TestServer, change: (db: Kysely<Database>) => Promise<void>): Promise<void> {
  const { db, dialect } = server.database;
  if (dialect === 'postgres') {
    await sql`ALTER TABLE audit_events DISABLE TRIGGER USER`.execute(db);
    try {
      await change(db);
    } finally {
      await sql`ALTER TABLE audit_events ENABLE TRIGGER USER`.execute(db);
    }
    return;
  }
  const { rows } = await sql<{ name: string; sql: string }>`SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'audit_events'`.execute(db);
  for (const r of rows) await sql`DROP TRIGGER ${sql.raw(r.name)}`.execute(db);
  try {
    await change(db);
  } finally {
    for (const r of rows) await sql.raw(r.sql).execute(db);
  }
}

for (const dialect of dialects) {
  describe(`support console data (${dialect})`, () => {
    let server: TestServer;
    /** users:read + audit:read: what a support agent's role holds. */
    let reader: TestClient;
    let writer: TestClient;
    let writerKeyId: string;
    let exporter: TestClient;
    let exporterSecret: string;
    let john: { id: string; credentialId: string; client: TestClient };
    let maria: { id: string };

    const keyClient = (secret: string) => {
      const c = new TestClient(server.url, null);
      c.bearer = secret;
      return c;
    };
    const search = async (q: string, client = reader) => {
      const r = await client.get(`${ADMIN}/users/search?q=${encodeURIComponent(q)}`);
      assert.equal(r.status, 200, r.text);
      return r.body.items as { id: string; username: string; match: string; passkeyCount: number; email: string | null; externalId: string | null; status: string }[];
    };

    before(async () => {
      server = await startTestServer(dialect);
      reader = keyClient((await createTestApiKey(server, ['users:read', 'audit:read'], 'support')).secret);
      const w = await createTestApiKey(server, ['users:write'], 'writer');
      writer = keyClient(w.secret);
      writerKeyId = w.id;
      exporterSecret = (await createTestApiKey(server, ['audit:export'], 'auditor export')).secret;
      exporter = keyClient(exporterSecret);

      const client = server.client();
      const authenticator = newAuthenticator();
      const up = await signUp(client, authenticator, 'john.smith');
      john = { id: up.user.id, credentialId: up.passkey.id, client };
      // A failed sign-in: a real assertion of John's passkey, made for another site (wrong origin).
      const phished = await authenticate(server.client(), authenticator, { username: 'john.smith' }, { clientData: { origin: 'https://examp1e-login.com' } });
      assert.equal(phished.verify.status, 401, phished.verify.text);
      // The browser's side: adding a second passkey was cancelled (NotAllowedError), reported by the elements.
      const report = await client.post('/api/v1/telemetry/ceremonies', { ceremony: 'registration', mode: 'modal', outcome: 'error', errorName: 'NotAllowedError' }, { headers: { 'user-agent': CHROME_ON_WINDOWS } });
      assert.equal(report.status, 204, report.text);

      for (const name of ['johanna', 'jane.doe', 'jon.snow']) await signUp(server.client(), newAuthenticator(), name);
      const created = await writer.post(`${ADMIN}/users`, { username: 'maria.garcia', email: 'Maria.Garcia@Example.com', externalId: 'shop-77' });
      assert.equal(created.status, 201, created.text);
      maria = { id: created.body.id };
      assert.equal((await writer.post(`${ADMIN}/users/${maria.id}/disable`, {})).status, 200);
    });
    after(() => server?.close());

    test('search finds a user by id, credential id, e-mail (any case) and external id, as exact matches', async () => {
      assert.deepEqual((await search(john.id)).map((u) => [u.username, u.match]), [['john.smith', 'id']]);
      assert.deepEqual((await search(john.credentialId)).map((u) => [u.username, u.match]), [['john.smith', 'credential']]);
      const byEmail = await search('MARIA.GARCIA@example.COM');
      assert.deepEqual(byEmail.map((u) => [u.username, u.match]), [['maria.garcia', 'email']]);
      assert.equal(byEmail[0]?.email, 'Maria.Garcia@Example.com');
      assert.equal(byEmail[0]?.status, 'disabled');
      assert.deepEqual((await search('shop-77')).map((u) => [u.username, u.match, u.externalId]), [['maria.garcia', 'external_id', 'shop-77']]);
    });

    test('search by username prefix is case-insensitive, the exact name first, with passkey counts', async () => {
      const hits = await search('JO');
      assert.deepEqual(hits.filter((u) => u.match === 'prefix').map((u) => u.username), ['johanna', 'jon.snow', 'john.smith']);
      assert.equal(hits.find((u) => u.username === 'john.smith')?.passkeyCount, 1);
      assert.equal((await search('john.smith'))[0]?.username, 'john.smith');
      assert.equal((await search('maria'))[0]?.passkeyCount, 0);
    });

    test('a typo in the typed prefix still finds the user (swap, substitution, deletion, insertion), after exact prefixes', async () => {
      for (const typo of ['jhon', 'jonh', 'jahn', 'joohn', 'jhn.s']) {
        const hits = await search(typo);
        const johnHit = hits.find((u) => u.username === 'john.smith');
        assert.ok(johnHit, `${typo}: ${JSON.stringify(hits)}`);
        assert.equal(johnHit.match, 'fuzzy', typo);
      }
      const ranked = await search('jon');
      assert.equal(ranked[0]?.username, 'jon.snow', 'the exact prefix ranks before the fuzzy ones');
      assert.equal(ranked[0]?.match, 'prefix');
      assert.ok(ranked.some((u) => u.username === 'john.smith' && u.match === 'fuzzy'));
      assert.deepEqual(await search('zzzzzz'), []);
    });

    test('searches are audited as reads, with the key as actor', async () => {
      await search('jane');
      const rows = await server.database.db.selectFrom('audit_events').selectAll().where('type', '=', 'management.read').where('data', 'like', '%searchUsers%').execute();
      assert.ok(rows.length > 0);
      assert.equal(rows.at(-1)?.actor_kind, 'api_key');
      assert.equal(rows.at(-1)?.subject_user_id, null);
    });

    test('the timeline explains the phished sign-in and the cancelled prompt, newest first, with device', async () => {
      const r = await reader.get(`${ADMIN}/users/${john.id}/timeline`);
      assert.equal(r.status, 200, r.text);
      const items = r.body.items as { at: string; type: string; outcome: string; title: string; code: string | null; reason: string | null; device: { browser: string | null; os: string | null; platform: string | null } | null; explanation: { key: string; meaning: string; tellUser: string; severity: string } | null }[];
      const times = items.map((i) => Date.parse(i.at));
      assert.deepEqual(times, [...times].sort((a, b) => b - a), 'newest first');
      assert.ok(items.some((i) => i.type === 'account.created' && i.outcome === 'success' && i.explanation === null));

      const phished = items.find((i) => i.type === 'passkey.authentication_failed');
      assert.ok(phished, JSON.stringify(items));
      assert.equal(phished.outcome, 'failure');
      assert.equal(phished.code, 'verification_failed');
      assert.match(phished.reason ?? '', /origin/);
      assert.equal(phished.explanation?.key, 'reason:origin_mismatch');
      assert.equal(phished.explanation?.severity, 'danger');
      assert.match(phished.explanation?.meaning ?? '', /phishing/i);

      const cancelled = items.find((i) => i.type === 'ceremony.reported');
      assert.ok(cancelled);
      assert.equal(cancelled.outcome, 'failure');
      assert.equal(cancelled.code, 'NotAllowedError');
      assert.equal(cancelled.title, 'Creating a passkey failed in the browser (NotAllowedError)');
      assert.equal(cancelled.explanation?.key, 'client:NotAllowedError');
      assert.match(cancelled.explanation?.tellUser ?? '', /try again/);
      assert.deepEqual(cancelled.device, { browser: 'Chrome 120', os: 'Windows 10', platform: 'desktop' });

      const german = await reader.get(`${ADMIN}/users/${john.id}/timeline?lang=de`);
      const de = (german.body.items as { type: string; title: string; explanation: { meaning: string } | null }[]).find((i) => i.type === 'passkey.authentication_failed');
      assert.equal(de?.title, 'Passkey-Anmeldung fehlgeschlagen');
      assert.match(de?.explanation?.meaning ?? '', /Phishing/);
    });

    test('the timeline shows what an API key did to the account, and pages with a cursor', async () => {
      const r = await reader.get(`${ADMIN}/users/${maria.id}/timeline?limit=1`);
      assert.equal(r.status, 200, r.text);
      assert.equal(r.body.items.length, 1);
      assert.equal(r.body.items[0].type, 'account.disabled');
      assert.deepEqual(r.body.items[0].actor, { kind: 'api_key', id: writerKeyId });
      const next = await reader.get(`${ADMIN}/users/${maria.id}/timeline?limit=1&cursor=${r.body.nextCursor}`);
      assert.equal(next.body.items[0].type, 'account.created');
      assertProblem(await reader.get(`${ADMIN}/users/no-such-user/timeline`), 404, 'not_found');
      assertProblem(await reader.get(`${ADMIN}/users/${maria.id}/timeline?cursor=bogus`), 400, 'invalid_request');
    });

    test('the overview: passkeys with provider and BE/BS, sessions with browser and IP, fallbacks, lockouts', async () => {
      const r = await reader.get(`${ADMIN}/users/${john.id}/overview`);
      assert.equal(r.status, 200, r.text);
      const o = r.body;
      assert.equal(o.user.username, 'john.smith');
      assert.equal(o.passkeys.length, 1);
      assert.equal(o.passkeys[0].id, john.credentialId);
      assert.equal(typeof o.passkeys[0].provider, 'string');
      assert.equal(typeof o.passkeys[0].backupEligible, 'boolean');
      assert.equal(o.passkeys[0].synced, o.passkeys[0].backedUp);
      assert.ok(o.sessions.length >= 1);
      assert.equal(o.sessions[0].ip, '127.0.0.1');
      assert.equal(o.recoveryCodesLeft, 0);
      assert.equal(o.emailVerified, false);
      assert.deepEqual(o.fallbacks, { password: false, totp: false, emailCode: false, recoveryCodes: false });
      assert.deepEqual(o.lockouts, []);

      // Recovery codes guessed wrong until the hard limit (what SEC-34's counter holds then).
      await server.database.db.insertInto('failure_counters').values({ key: `recovery:${john.id}`, count: server.config.lockout.hardLimit, last_failure_at: server.clock.now() }).execute();
      const locked = await reader.get(`${ADMIN}/users/${john.id}/overview`);
      assert.equal(locked.body.lockouts.length, 1);
      assert.equal(locked.body.lockouts[0].factor, 'recovery_code');
      assert.equal(locked.body.lockouts[0].locked, true);
      await server.database.db.deleteFrom('failure_counters').execute();

      const m = await reader.get(`${ADMIN}/users/${maria.id}/overview`);
      assert.equal(m.body.emailVerified, true);
      assert.equal(m.body.user.status, 'disabled');
    });

    test('audit search filters by type, subject, actor, outcome and time, and pages', async () => {
      const failures = await reader.get(`${ADMIN}/audit/events?type=passkey.authentication_failed&userId=${john.id}`);
      assert.equal(failures.status, 200, failures.text);
      assert.equal(failures.body.items.length, 1);
      assert.equal(failures.body.items[0].subjectUserId, john.id);
      assert.match(failures.body.items[0].reason, /origin/);

      const byKey = await reader.get(`${ADMIN}/audit/events?actorKind=api_key&actorId=${writerKeyId}`);
      assert.deepEqual(byKey.body.items.map((e: { type: string }) => e.type).sort(), ['account.created', 'account.disabled']);

      const failed = await reader.get(`${ADMIN}/audit/events?outcome=failure&limit=200`);
      assert.ok(failed.body.items.length >= 2);
      assert.ok(failed.body.items.every((e: { outcome: string }) => e.outcome === 'failure'));

      const future = new Date(server.clock.now() + 60_000).toISOString();
      const none = await reader.get(`${ADMIN}/audit/events?from=${encodeURIComponent(future)}`);
      assert.deepEqual(none.body.items, []);
      const ids: string[] = [];
      let cursor: string | null = null;
      do {
        const page: TestResponse = await reader.get(`${ADMIN}/audit/events?to=${encodeURIComponent(future)}&type=account.created&limit=2${cursor ? `&cursor=${cursor}` : ''}`);
        assert.ok(page.body.items.length <= 2);
        ids.push(...page.body.items.map((e: { id: string }) => e.id));
        cursor = page.body.nextCursor;
      } while (cursor);
      assert.equal(new Set(ids).size, ids.length, 'pages do not overlap');
      assert.equal(ids.length, 5, 'five accounts were created');
    });

    test('export: CSV and NDJSON stream every matching event and parse back; formula cells are defused', async () => {
      // A user agent is whatever the client sends: a spreadsheet must not run it.
      const evil = '=HYPERLINK("http://evil.example","x")';
      await john.client.post('/api/v1/telemetry/ceremonies', { ceremony: 'authentication', mode: 'modal', outcome: 'cancelled' }, { headers: { 'user-agent': evil } });
      const expected = await server.database.db.selectFrom('audit_events').select('id').where('subject_user_id', '=', john.id).orderBy('created_at').orderBy('id').execute();

      const csv = await exporter.get(`${ADMIN}/audit/export?format=csv&userId=${john.id}`);
      assert.equal(csv.status, 200, csv.text);
      assert.match(csv.headers.get('content-type') ?? '', /^text\/csv/);
      assert.match(csv.headers.get('content-disposition') ?? '', /attachment; filename="latchkey-audit-.*\.csv"/);
      const [header, ...rows] = parseCsv(csv.text);
      assert.deepEqual(header?.slice(0, 4), ['id', 'at', 'type', 'outcome']);
      assert.deepEqual(rows.map((r) => r[0]), expected.map((e) => e.id), 'every event once, oldest first');
      const ua = header?.indexOf('user_agent') ?? -1;
      assert.ok(rows.some((r) => r[ua] === `'${evil}`), 'the formula got a leading apostrophe');
      assert.ok(rows.every((r) => !/^[=+\-@]/.test(r[ua] ?? '')));

      const nd = await fetch(`${server.url}${ADMIN}/audit/export?format=ndjson&userId=${john.id}&type=ceremony.reported`, { headers: { authorization: `Bearer ${exporterSecret}` } });
      const text = await nd.text();
      assert.equal(nd.status, 200, text);
      assert.match(nd.headers.get('content-type') ?? '', /^application\/x-ndjson/);
      const lines = text.trim().split('\n').map((l) => JSON.parse(l) as { type: string; userAgent: string; data: { outcome: string } });
      assert.equal(lines.length, 2);
      assert.ok(lines.every((l) => l.type === 'ceremony.reported'));
      assert.equal(lines[1]?.userAgent, evil, 'NDJSON keeps the value as it was');

      const audited = await server.database.db.selectFrom('audit_events').selectAll().where('type', '=', 'management.read').where('data', 'like', '%exportAuditEvents%').execute();
      assert.equal(audited.length, 2, 'each export is audited');
    });

    test('export needs audit:export; audit:read alone is refused', async () => {
      assertProblem(await reader.get(`${ADMIN}/audit/export?format=csv`), 403, 'insufficient_scope');
      assertProblem(await exporter.get(`${ADMIN}/audit/export?format=xml`), 400, 'invalid_request');
    });

    test('every endpoint enforces its scope: 401 without a key, 403 with the wrong one', async () => {
      const anonymous = new TestClient(server.url, null);
      const endpoints: [string, string][] = [
        [`${ADMIN}/users/search?q=john`, 'users:read'],
        [`${ADMIN}/users/${john.id}/overview`, 'users:read'],
        [`${ADMIN}/users/${john.id}/timeline`, 'audit:read'],
        [`${ADMIN}/audit/events`, 'audit:read'],
        [`${ADMIN}/audit/verification`, 'audit:read'],
        [`${ADMIN}/audit/export?format=ndjson`, 'audit:export'],
      ];
      for (const [path, scope] of endpoints) {
        assertProblem(await anonymous.get(path), 401, 'unauthorized', path);
        const wrong = scope === 'users:read' ? ['audit:read', 'audit:export'] : scope === 'audit:read' ? ['users:read', 'audit:export'] : ['users:read', 'audit:read'];
        const refused = await keyClient((await createTestApiKey(server, wrong, `not ${scope}`)).secret).get(path);
        assertProblem(refused, 403, 'insufficient_scope', path);
        assert.equal(refused.body.scope, scope, path);
      }
    });

    test('the chain verdict is ok, and names a tampered row', async () => {
      await server.app.auditChain.seal();
      const ok = await reader.get(`${ADMIN}/audit/verification`);
      assert.equal(ok.status, 200, ok.text);
      assert.equal(ok.body.ok, true, ok.text);
      assert.equal(ok.body.scope, 'whole_chain');
      assert.ok(ok.body.checkedEvents > 10);
      assert.equal(ok.body.firstBad, null);

      const victim = await server.database.db
        .selectFrom('audit_events')
        .innerJoin('audit_chain', 'audit_chain.event_id', 'audit_events.id')
        .select(['audit_events.id', 'audit_events.ip', 'audit_chain.seq'])
        .where('audit_events.type', '=', 'passkey.authentication_failed')
        .executeTakeFirstOrThrow();
      await asAttacker(server, (db) => db.updateTable('audit_events').set({ ip: '203.0.113.9' }).where('id', '=', victim.id).execute().then(() => undefined));
      try {
        const bad = await reader.get(`${ADMIN}/audit/verification`);
        assert.equal(bad.status, 200, bad.text);
        assert.equal(bad.body.ok, false);
        assert.equal(bad.body.firstBad.eventId, victim.id);
        assert.equal(bad.body.firstBad.seq, Number(victim.seq));
        assert.equal(bad.body.firstBad.tampering, 'edited');
      } finally {
        await asAttacker(server, (db) => db.updateTable('audit_events').set({ ip: victim.ip }).where('id', '=', victim.id).execute().then(() => undefined));
      }
    });
  });
}

for (const dialect of dialects) {
  test(`the chain verdict is bounded: from a signed checkpoint a checkpoint's worth below the top, and still finds tampering after it (${dialect})`, async () => {
    const server = await startTestServer(dialect, { config: { audit: { checkpointEveryEvents: 5 } } });
    try {
      const reader = new TestClient(server.url, null);
      reader.bearer = (await createTestApiKey(server, ['audit:read'], 'auditor')).secret;
      for (let i = 0; i < 6; i++) {
        await signUp(server.client(), newAuthenticator(), `bounded-${i}`);
        await server.app.auditChain.seal();
      }
      const top = Number((await server.database.db.selectFrom('audit_chain').select((eb) => eb.fn.max('seq').as('max')).executeTakeFirstOrThrow()).max);
      const r = await reader.get(`${ADMIN}/audit/verification`);
      assert.equal(r.status, 200, r.text);
      assert.equal(r.body.ok, true, r.text);
      assert.equal(r.body.scope, 'since_checkpoint');
      assert.ok(r.body.startCheckpoint.seq <= top - 5, r.text);
      assert.equal(r.body.fromSeq, r.body.startCheckpoint.seq + 1);
      assert.equal(r.body.toSeq, top);
      assert.equal(r.body.checkedEvents, top - r.body.startCheckpoint.seq);
      assert.ok(r.body.checkedEvents < top, 'not the whole chain');

      const victim = await server.database.db
        .selectFrom('audit_chain')
        .innerJoin('audit_events', 'audit_events.id', 'audit_chain.event_id')
        .select(['audit_events.id', 'audit_chain.seq'])
        .where('audit_chain.seq', '=', top - 1)
        .executeTakeFirstOrThrow();
      await asAttacker(server, (db) => db.updateTable('audit_events').set({ reason: 'rewritten' }).where('id', '=', victim.id).execute().then(() => undefined));
      const bad = await reader.get(`${ADMIN}/audit/verification`);
      assert.equal(bad.body.ok, false, bad.text);
      assert.deepEqual([bad.body.firstBad.seq, bad.body.firstBad.eventId, bad.body.firstBad.tampering], [top - 1, victim.id, 'edited']);
    } finally {
      await server.close();
    }
  });

  test(`the console search migration goes up, down and up again (${dialect})`, async () => {
    const fresh = await createTestDatabase(dialect);
    const database = createDatabase(fresh.url);
    try {
      await migrateToLatest(database.db);
      const indexes = async () =>
        dialect === 'postgres'
          ? (await sql<{ name: string }>`SELECT indexname AS name FROM pg_indexes WHERE tablename IN ('users', 'audit_events')`.execute(database.db)).rows.map((r) => r.name)
          : (await sql<{ name: string }>`SELECT name FROM sqlite_master WHERE type = 'index'`.execute(database.db)).rows.map((r) => r.name);
      const ours = dialect === 'postgres' ? ['users_username_key_c', 'audit_events_type_created_at'] : ['audit_events_type_created_at'];
      for (const name of ours) assert.ok((await indexes()).includes(name), name);
      const down = await createMigrator(database.db).migrateTo('2026_12_03_tokens');
      assert.equal(down.error, undefined);
      assert.ok(down.results?.some((r) => r.migrationName === '2026_12_04_console_search' && r.status === 'Success'));
      for (const name of ours) assert.ok(!(await indexes()).includes(name), name);
      await migrateToLatest(database.db);
      for (const name of ours) assert.ok((await indexes()).includes(name), name);
    } finally {
      await database.close();
      await fresh.drop();
    }
  });
}
