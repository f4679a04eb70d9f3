import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { authenticate, newAuthenticator, paths, signUp } from '../helpers/flows.ts';
import { TestClient, type TestResponse } from '../helpers/test-client.ts';
import { dialects, startTestServer, type TestServer } from '../helpers/test-server.ts';

const PASSKEYS = '/api/v1/passkeys';
const APPLE_AAGUID = 'fbfc3007-154e-4ecc-8c0b-6e020557d7bd';
const PROVIDERS = JSON.parse(readFileSync(new URL('../../data/passkey-provider-aaguids.json', import.meta.url), 'utf8')) as Record<
  string,
  { name: string; icon_light?: string; icon_dark?: string }
>;
const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

const passkeyPath = (id: string) => `${PASSKEYS}/${encodeURIComponent(id)}`;

function assertProblem(r: TestResponse, status: number, code: string, label = ''): void {
  assert.equal(r.status, status, `${label} ${r.text}`);
  assert.match(r.headers.get('content-type') ?? '', /^application\/problem\+json/, label);
  assert.equal(r.body.code, code, `${label} ${r.text}`);
}

for (const dialect of dialects) {
  describe(`passkeys (${dialect})`, () => {
    let server: TestServer;
    before(async () => {
      server = await startTestServer(dialect);
    });
    after(() => server.close());

    test('GET /passkeys lists the user\'s passkeys with the contract fields; lastUsedAt is set by the sign-up and by a sign-in', async () => {
      const client = server.client();
      const authenticator = newAuthenticator({ transports: ['usb', 'nfc'], attachment: 'cross-platform' });
      const createdAt = server.clock.now();
      const account = await signUp(client, authenticator, 'pk-amy');
      const list = await client.get(PASSKEYS);
      assert.equal(list.status, 200, list.text);
      assert.equal(list.body.passkeys.length, 1);
      const pk = list.body.passkeys[0];
      assert.deepEqual(Object.keys(pk).sort(), ['aaguid', 'backedUp', 'createdAt', 'deviceType', 'id', 'lastUsedAt', 'name', 'provider', 'providerIcon', 'transports']);
      assert.equal(pk.id, account.passkey.id);
      assert.equal(pk.aaguid, '00000000-0000-0000-0000-000000000000');
      assert.equal(pk.provider, 'Passkey', 'unknown AAGUID: generic name');
      assert.deepEqual(pk.providerIcon, { light: null, dark: null });
      assert.equal(pk.name, 'Passkey');
      assert.equal(pk.deviceType, 'singleDevice');
      assert.equal(pk.backedUp, false);
      assert.deepEqual(pk.transports, ['usb', 'nfc']);
      assert.equal(pk.createdAt, new Date(createdAt).toISOString());
      // The sign-up signed the user in with this passkey: it was just used, not "never".
      assert.equal(pk.lastUsedAt, new Date(createdAt).toISOString(), 'used by the sign-up');
      assert.equal((account.passkey as { lastUsedAt?: string }).lastUsedAt, pk.lastUsedAt, 'the sign-up answer says so too');
      assert.ok(!('publicKey' in pk) && !('public_key' in pk) && !('signCount' in pk), 'no key material or counters');

      server.clock.advance(5_000);
      const usedAt = server.clock.now();
      const signIn = await authenticate(server.client(), authenticator);
      assert.equal(signIn.verify.status, 200, signIn.verify.text);
      assert.equal(signIn.verify.body.passkey.lastUsedAt, new Date(usedAt).toISOString());
      const after = await client.get(PASSKEYS);
      assert.equal(after.body.passkeys[0].lastUsedAt, new Date(usedAt).toISOString());
      assert.match(after.body.passkeys[0].createdAt, ISO);
      assert.equal(after.body.passkeys[0].createdAt, pk.createdAt, 'createdAt does not move');
      assert.equal(after.headers.get('cache-control'), 'no-store');
    });

    test('a synced passkey is multiDevice and reports its backup state', async () => {
      const client = server.client();
      await signUp(client, newAuthenticator({ backupEligible: true, backupState: true, counter: 'zero' }), 'pk-bo');
      const pk = (await client.get(PASSKEYS)).body.passkeys[0];
      assert.equal(pk.deviceType, 'multiDevice');
      assert.equal(pk.backedUp, true);
    });

    test('a known AAGUID gets the provider\'s name and icons from the bundled list', async () => {
      const expected = PROVIDERS[APPLE_AAGUID];
      assert.ok(expected, 'the bundled list names this AAGUID');
      assert.equal(expected.name, 'Apple Passwords');
      const client = server.client();
      const account = await signUp(client, newAuthenticator({ aaguid: APPLE_AAGUID, backupEligible: true, backupState: true, counter: 'zero' }), 'pk-cy');
      assert.equal((account.passkey as { provider?: string }).provider, 'Apple Passwords');
      const pk = (await client.get(PASSKEYS)).body.passkeys[0];
      assert.equal(pk.aaguid, APPLE_AAGUID);
      assert.equal(pk.provider, 'Apple Passwords');
      assert.equal(pk.name, 'Apple Passwords', 'a new passkey is named after its provider');
      assert.equal(pk.providerIcon.light, expected.icon_light);
      assert.equal(pk.providerIcon.dark, expected.icon_dark);
      assert.match(pk.providerIcon.light, /^data:image\/svg\+xml;base64,/);
    });

    test('a passkey with an unknown AAGUID is named after the browser and OS it was made on', async () => {
      const client = server.client();
      const ua = 'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36';
      const options = await client.post(`${paths.REG}/options`, { username: 'pk-ua' }, { headers: { 'user-agent': ua } });
      const attestation = await newAuthenticator().createCredential(options.body);
      const verify = await client.post(`${paths.REG}/verify`, attestation, { headers: { 'user-agent': ua } });
      assert.equal(verify.status, 200, verify.text);
      assert.equal(verify.body.passkey.name, 'Chrome on macOS');
      assert.equal(verify.body.passkey.provider, 'Passkey');
      assert.equal((await client.get(PASSKEYS)).body.passkeys[0].name, 'Chrome on macOS');
    });

    test('only the signed-in user\'s passkeys are listed, oldest first', async () => {
      const client = server.client();
      const account = await signUp(client, newAuthenticator(), 'pk-dee');
      await signUp(server.client(), newAuthenticator(), 'pk-dee-neighbour');
      server.clock.advance(1000);
      const options = await client.post(`${paths.REG}/options`, {});
      const second = await newAuthenticator().createCredential(options.body);
      assert.equal((await client.post(`${paths.REG}/verify`, second)).status, 200);
      const list = await client.get(PASSKEYS);
      assert.deepEqual(list.body.passkeys.map((p: { id: string }) => p.id), [account.passkey.id, second.id]);
    });

    test('GET /passkeys works with a bearer token', async () => {
      const account = await signUp(server.client(), newAuthenticator(), 'pk-eli');
      const bearer = new TestClient(server.url, null);
      bearer.bearer = account.session.token;
      const list = await bearer.get(PASSKEYS);
      assert.equal(list.status, 200);
      assert.equal(list.body.passkeys[0].id, account.passkey.id);
    });

    test('PATCH renames: trimmed, inner whitespace collapsed, control and format characters stripped', async () => {
      const client = server.client();
      const account = await signUp(client, newAuthenticator(), 'pk-fin');
      const cases: [string, string][] = [
        ['  Work laptop  ', 'Work laptop'],
        ['Yubi\u0001Key\u0007 5', 'YubiKey 5'],
        ['evil\u202Egnp.exe', 'evilgnp.exe'],
        ['zero\u200Bwidth', 'zerowidth'],
        ['tab\tand\nnewline', 'tabandnewline'],
        ['non\u00A0breaking  \u2003spaces', 'non breaking spaces'],
        ['Cafe\u0301', 'Café'],
        ['🔑'.repeat(64), '🔑'.repeat(64)],
        ['x'.repeat(64), 'x'.repeat(64)],
      ];
      for (const [input, expected] of cases) {
        const r = await client.patch(passkeyPath(account.passkey.id), { name: input });
        assert.equal(r.status, 200, `${JSON.stringify(input)}: ${r.text}`);
        assert.equal(r.body.name, expected, JSON.stringify(input));
        assert.equal(r.body.id, account.passkey.id);
        const listed = (await client.get(PASSKEYS)).body.passkeys[0];
        assert.equal(listed.name, expected, 'the new name is stored');
      }
      // U+0000 is the one control character refused rather than stripped, as in every request body (http/nul-guard.ts).
      const nul = await client.patch(passkeyPath(account.passkey.id), { name: 'Yubi\u0000Key' });
      assert.equal(nul.status, 400, nul.text);
      assert.equal(nul.body.code, 'invalid_request');
      assert.equal((await client.get(PASSKEYS)).body.passkeys[0].name, cases.at(-1)?.[1], 'the name is unchanged');
    });

    test('PATCH refuses names that are empty after cleaning or longer than 64 characters, and keeps the old name', async () => {
      const client = server.client();
      const account = await signUp(client, newAuthenticator(), 'pk-gus');
      assert.equal((await client.patch(passkeyPath(account.passkey.id), { name: 'Keep me' })).status, 200);
      for (const bad of ['', '   ', '\u0000\u0001', '\u200B', 'x'.repeat(65), '🔑'.repeat(65)]) {
        const r = await client.patch(passkeyPath(account.passkey.id), { name: bad });
        assertProblem(r, 400, 'invalid_request', JSON.stringify(bad));
      }
      for (const bad of [{}, { name: 42 }, { name: null }, { name: ['a'] }]) {
        assertProblem(await client.patch(passkeyPath(account.passkey.id), bad), 400, 'invalid_request', JSON.stringify(bad));
      }
      assert.equal((await client.get(PASSKEYS)).body.passkeys[0].name, 'Keep me');
    });

    test('PATCH with fields other than name is 400 invalid_request naming the field, and changes nothing (SEC-46)', async () => {
      const client = server.client();
      const account = await signUp(client, newAuthenticator(), 'pk-hu');
      for (const field of ['aaguid', 'backedUp', 'userId', 'publicKey', 'signCount']) {
        const r = await client.patch(passkeyPath(account.passkey.id), { name: 'renamed', [field]: 'x' });
        assertProblem(r, 400, 'invalid_request', field);
        assert.ok(Array.isArray(r.body.errors), r.text);
        assert.ok(r.body.errors.some((e: { pointer: string }) => e.pointer === `/${field}`), `pointer names /${field}: ${r.text}`);
      }
      const pk = (await client.get(PASSKEYS)).body.passkeys[0];
      assert.equal(pk.name, 'Passkey');
      assert.equal(pk.aaguid, '00000000-0000-0000-0000-000000000000');
    });

    test('DELETE is 204; the passkey leaves the list and can no longer sign in (401 verification_failed)', async () => {
      const client = server.client();
      const kept = newAuthenticator();
      const removed = newAuthenticator();
      const account = await signUp(client, kept, 'pk-ivy');
      const options = await client.post(`${paths.REG}/options`, {});
      const second = await removed.createCredential(options.body);
      assert.equal((await client.post(`${paths.REG}/verify`, second)).status, 200);
      assert.equal((await authenticate(server.client(), removed)).verify.status, 200, 'works before deletion');

      const del = await client.delete(passkeyPath(second.id));
      assert.equal(del.status, 204, del.text);
      assert.equal(del.text, '');
      const list = await client.get(PASSKEYS);
      assert.deepEqual(list.body.passkeys.map((p: { id: string }) => p.id), [account.passkey.id]);

      const discoverable = await authenticate(server.client(), removed);
      assertProblem(discoverable.verify, 401, 'verification_failed', 'discoverable');
      assert.equal(discoverable.verify.headers.getSetCookie().filter((c) => c.includes('latchkey_session=')).length, 0);
      // Identifier-first no longer offers it, and answering with it anyway fails the same way.
      const c2 = server.client();
      const idFirst = await c2.post(`${paths.AUTH}/options`, { username: 'pk-ivy' });
      assert.deepEqual(idFirst.body.allowCredentials.map((c: { id: string }) => c.id), [account.passkey.id]);
      const forced = await removed.getAssertion({ ...idFirst.body, allowCredentials: [] });
      assertProblem(await c2.post(`${paths.AUTH}/verify`, forced), 401, 'verification_failed', 'identifier-first');
      // The other passkey still signs in; deleting again is 404.
      assert.equal((await authenticate(server.client(), kept)).verify.status, 200);
      assertProblem(await client.delete(passkeyPath(second.id)), 404, 'passkey_not_found', 'deleted twice');
    });

    test('another user\'s passkey: PATCH and DELETE are 404 passkey_not_found and it is untouched (SEC-45)', async () => {
      const victimAuthenticator = newAuthenticator();
      const victimClient = server.client();
      const victim = await signUp(victimClient, victimAuthenticator, 'pk-jan');
      const attacker = server.client();
      await signUp(attacker, newAuthenticator(), 'pk-jan-attacker');

      const rename = await attacker.patch(passkeyPath(victim.passkey.id), { name: 'pwned' });
      assertProblem(rename, 404, 'passkey_not_found', 'PATCH');
      const del = await attacker.delete(passkeyPath(victim.passkey.id));
      assertProblem(del, 404, 'passkey_not_found', 'DELETE');
      // Same answer as for an ID that exists nowhere: nothing tells the two apart.
      const nowhere = await attacker.delete(passkeyPath('AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'));
      assertProblem(nowhere, 404, 'passkey_not_found', 'nonexistent');
      assert.equal(nowhere.body.detail, del.body.detail);
      assert.equal(nowhere.body.title, del.body.title);

      const list = await victimClient.get(PASSKEYS);
      assert.equal(list.body.passkeys.length, 1);
      assert.equal(list.body.passkeys[0].name, 'Passkey', 'not renamed');
      assert.equal((await authenticate(server.client(), victimAuthenticator)).verify.status, 200, 'still signs in');
      const attackerList = await attacker.get(PASSKEYS);
      assert.ok(attackerList.body.passkeys.every((p: { id: string }) => p.id !== victim.passkey.id));
    });

    test('signed out: GET, PATCH and DELETE are 401 and change nothing', async () => {
      const owner = server.client();
      const account = await signUp(owner, newAuthenticator(), 'pk-kit');
      const anonymous = server.client();
      assertProblem(await anonymous.get(PASSKEYS), 401, 'unauthorized', 'GET');
      assertProblem(await anonymous.patch(passkeyPath(account.passkey.id), { name: 'x' }), 401, 'unauthorized', 'PATCH');
      assertProblem(await anonymous.delete(passkeyPath(account.passkey.id)), 401, 'unauthorized', 'DELETE');
      const list = await owner.get(PASSKEYS);
      assert.equal(list.body.passkeys.length, 1);
      assert.equal(list.body.passkeys[0].name, 'Passkey');
    });

    test('after signing out, the old token cannot rename or delete', async () => {
      const client = server.client();
      const account = await signUp(client, newAuthenticator(), 'pk-lee');
      assert.equal((await client.delete('/api/v1/session')).status, 204);
      const bearer = new TestClient(server.url, null);
      bearer.bearer = account.session.token;
      assertProblem(await bearer.patch(passkeyPath(account.passkey.id), { name: 'x' }), 401, 'unauthorized', 'PATCH');
      assertProblem(await bearer.delete(passkeyPath(account.passkey.id)), 401, 'unauthorized', 'DELETE');
      const row = await server.database.db.selectFrom('credentials').select(['name']).where('id', '=', account.passkey.id).executeTakeFirst();
      assert.equal(row?.name, 'Passkey');
    });

    test('a passkey ID that is not base64url is 400, not a lookup', async () => {
      const client = server.client();
      await signUp(client, newAuthenticator(), 'pk-max');
      for (const id of ['not base64!', 'a+b/c', "x' OR '1'='1"]) {
        const r = await client.patch(passkeyPath(id), { name: 'x' });
        assertProblem(r, 400, 'invalid_request', id);
      }
    });
  });
}
