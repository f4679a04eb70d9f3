import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createDatabase } from '../../src/db/create-db.ts';
import { createMigrator, migrateToLatest } from '../../src/db/migrate.ts';
import { newAuthenticator, paths, register, signUp } from '../helpers/flows.ts';
import { createTestDatabase, dialects, startTestServer, type TestServer } from '../helpers/test-server.ts';

/**
 * Look-alike usernames (issue 9): a name whose UTS #39 skeleton equals an existing one's is
 * refused with 409 username_confusable, and names mixing scripts beyond UTS #39's "highly
 * restrictive" level with 400 username_invalid.
 */
const PAY_CYRILLIC = '\u0440\u0430\u0443';
const KNOWN_WITH_CYRILLIC_KA = '\u043anown';

for (const dialect of dialects) {
  describe(`username look-alikes (${dialect})`, () => {
    let server: TestServer;
    before(async () => {
      server = await startTestServer(dialect);
    });
    after(() => server.close());

    test('a whole-script look-alike of an existing username is 409 username_confusable', async () => {
      await signUp(server.client(), newAuthenticator(), 'pay');
      for (const lookalike of [PAY_CYRILLIC, PAY_CYRILLIC.toUpperCase()]) {
        const r = await server.client().post(`${paths.REG}/options`, { username: lookalike });
        assert.equal(r.status, 409, `${lookalike}: ${r.text}`);
        assert.equal(r.body.code, 'username_confusable');
        assert.match(r.headers.get('content-type') ?? '', /^application\/problem\+json/);
      }
      const exact = await server.client().post(`${paths.REG}/options`, { username: 'PAY' });
      assert.equal(exact.body.code, 'username_taken', 'the same name stays username_taken');
    });

    test('digit look-alikes (1/l, 0/O) of an existing username are refused, other names are not', async () => {
      await signUp(server.client(), newAuthenticator(), 'PayPal');
      for (const lookalike of ['paypa1', 'PAYPAI', 'PAYPA1']) {
        const r = await server.client().post(`${paths.REG}/options`, { username: lookalike });
        assert.equal(r.status, 409, lookalike);
        assert.equal(r.body.code, 'username_confusable');
      }
      const other = await server.client().post(`${paths.REG}/options`, { username: 'paypals' });
      assert.equal(other.status, 200, other.text);
    });

    test('"кnown" (Cyrillic к among Latin letters) cannot sign up, with or without "known"', async () => {
      const before = await server.client().post(`${paths.REG}/options`, { username: KNOWN_WITH_CYRILLIC_KA });
      assert.equal(before.status, 400, before.text);
      assert.equal(before.body.code, 'username_invalid');
      assert.match(before.body.detail, /mixes scripts \(Cyrl, Latn\)/);
      await signUp(server.client(), newAuthenticator(), 'known');
      const after = await server.client().post(`${paths.REG}/options`, { username: KNOWN_WITH_CYRILLIC_KA });
      assert.equal(after.status, 400);
      assert.equal(after.body.code, 'username_invalid');
    });

    test('Japanese (Han + Hiragana + Katakana), Latin + Han + Bopomofo and Latin + Han + Hangul names sign up', async () => {
      for (const name of ['\u5c71\u7530\u305f\u308d\u3046', 'Tokyo\u6771\u4eac\u3068\u30c8', 'Lin\u6797\u310c\u3127\u3123', 'Kim\uae40\u91d1', '\u0418\u0432\u0430\u043d']) {
        const user = await signUp(server.client(), newAuthenticator(), name);
        assert.equal(user.user.username, name);
      }
    });

    test('a look-alike whose options came before the original signed up loses at verify (409, no account)', async () => {
      const lateClient = server.client();
      const options = await lateClient.post(`${paths.REG}/options`, { username: '\u0441\u043e\u0440\u0435' });
      assert.equal(options.status, 200, 'no "cope" yet');
      await signUp(server.client(), newAuthenticator(), 'cope');
      const response = await newAuthenticator().createCredential(options.body);
      const verify = await lateClient.post(`${paths.REG}/verify`, response);
      assert.equal(verify.status, 409, verify.text);
      assert.equal(verify.body.code, 'username_confusable');
      assert.equal(verify.headers.getSetCookie().filter((c) => c.startsWith('latchkey_session=')).length, 0);
    });
  });

  describe(`username look-alikes: migrating a database that already has some (${dialect})`, () => {
    let server: TestServer;
    let database: { url: string; drop(): Promise<void> };
    before(async () => {
      database = await createTestDatabase(dialect);
      const handle = createDatabase(database.url, { poolSize: 1 });
      const migrated = await createMigrator(handle.db).migrateTo('2026_12_02_0400_consumed_challenges');
      assert.equal(migrated.error, undefined);
      const user = (id: string, username: string, createdAt: number) => ({
        id,
        username,
        username_key: username.toLowerCase(),
        display_name: username,
        user_handle: `handle-${id}`,
        external_id: null,
        status: 'active',
        created_at: createdAt,
      });
      // Made before the rule existed: Latin "pay" first, then Cyrillic "рау" and "РАУ" (its own key).
      await handle.db.insertInto('users').values([user('u2', PAY_CYRILLIC, 2000), user('u1', 'pay', 1000), user('u3', 'holly', 3000)]).execute();
      await handle.close();
      server = await startTestServer(dialect, { config: { database: { url: database.url } } });
    });
    after(async () => {
      await server.close();
      await database.drop();
    });

    test('the migration keeps both accounts; the older one holds the key and new look-alikes are refused', async () => {
      const rows = await server.database.db.selectFrom('users').select(['id', 'username_skeleton']).orderBy('id').execute();
      assert.deepEqual(
        rows.map((r) => [r.id, r.username_skeleton]),
        [
          ['u1', 'pay'],
          ['u2', null],
          ['u3', 'holly'],
        ],
      );
      for (const lookalike of ['PAY', '\u0420\u0410\u0423']) {
        const r = await server.client().post(`${paths.REG}/options`, { username: lookalike });
        assert.equal(r.status, 409, lookalike);
      }
      const lookalike = await server.client().post(`${paths.REG}/options`, { username: 'ho11y' });
      assert.equal(lookalike.body.code, 'username_confusable');
      const { verify } = await register(server.client(), newAuthenticator(), { username: 'newcomer' });
      assert.equal(verify.status, 200, verify.text);
    });

    test('the migration goes down and up again', async () => {
      const scratch = await createTestDatabase(dialect);
      const handle = createDatabase(scratch.url, { poolSize: 1 });
      try {
        await migrateToLatest(handle.db);
        const down = await createMigrator(handle.db).migrateTo('2026_12_02_0400_consumed_challenges');
        assert.equal(down.error, undefined);
        assert.ok(down.results?.some((r) => r.migrationName === '2026_12_03_0100_username_skeleton_conformance' && r.direction === 'Down'));
        const before = (await handle.db.introspection.getTables()).find((t) => t.name === 'users')?.columns.map((c) => c.name);
        assert.ok(!before?.includes('username_skeleton'));
        await migrateToLatest(handle.db);
        const columns = (await handle.db.introspection.getTables()).find((t) => t.name === 'users')?.columns.map((c) => c.name);
        assert.ok(columns?.includes('username_skeleton'));
      } finally {
        await handle.close();
        await scratch.drop();
      }
    });
  });
}
