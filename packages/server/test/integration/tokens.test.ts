import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { createRemoteJWKSet, decodeProtectedHeader, generateKeyPair, jwtVerify, SignJWT, UnsecuredJWT, type JWTPayload } from 'jose';
import { authenticate, newAuthenticator, paths, signUp } from '../helpers/flows.ts';
import { startMailbox, userWithEmail, type Mailbox } from '../helpers/mailbox.ts';
import { TestClient, type TestResponse } from '../helpers/test-client.ts';
import { createTestDatabase, dialects, startTestServer, TEST_ORIGIN, type TestServer } from '../helpers/test-server.ts';
import { createDatabase } from '../../src/db/create-db.ts';
import { migrateToLatest } from '../../src/db/migrate.ts';
import { createTokenSigningKeys } from '../../src/modules/tokens/tokens.module.ts';
import { deriveServerKeys } from '../../src/platform/keys.ts';
import { createTestClock } from '../../src/platform/clock.ts';
import { cryptoRandom } from '../../src/platform/random.ts';
import { loadConfig } from '../../src/config/load.ts';
import { buildApp } from '../../src/app.ts';

const CLI = fileURLToPath(new URL('../../src/cli.ts', import.meta.url));
const JWKS = '/.well-known/jwks.json';
const LOGIN_RESULT = '/api/v1/session/login-result';
const ACCESS_TOKEN = '/api/v1/session/access-token';
const REDEEM = '/api/admin/v1/login-results/redeem';
const SHOP = 'https://shop.example.test';
const BILLING = 'billing-api';

function runCli(databaseUrl: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { env: { PATH: process.env.PATH ?? '', LATCHKEY_DATABASE_URL: databaseUrl }, timeout: 60_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

function assertProblem(r: TestResponse, status: number, code: string, label = ''): void {
  assert.equal(r.status, status, `${label} ${r.text}`);
  assert.match(r.headers.get('content-type') ?? '', /^application\/problem\+json/, label);
  assert.equal(r.body.code, code, `${label} ${r.text}`);
}

for (const dialect of dialects) {
  describe(`signed tokens (${dialect})`, () => {
    let server: TestServer;
    let mailbox: Mailbox;
    before(async () => {
      mailbox = await startMailbox();
      server = await startTestServer(dialect, {
        config: { tokens: { audiences: [SHOP, BILLING] }, mail: { smtpUrl: mailbox.url }, auth: { methods: ['passkey', 'email_code', 'password'] } },
      });
    });
    after(async () => {
      await server.close();
      await mailbox.close();
    });

    /** What an app backend does: fetch the JWKS from the running server and check everything. */
    const verifyAsBackend = (token: string, options: { audience?: string; issuer?: string; typ?: string; at?: number } = {}) =>
      jwtVerify(token, createRemoteJWKSet(new URL(`${server.url}${JWKS}`)), {
        issuer: options.issuer ?? TEST_ORIGIN,
        audience: options.audience ?? SHOP,
        algorithms: ['ES256'],
        typ: options.typ ?? 'latchkey-login+jwt',
        currentDate: new Date(options.at ?? server.clock.now()),
      });
    const loginResultFor = async (client: TestClient, audience = SHOP) => {
      const r = await client.post(LOGIN_RESULT, { audience });
      assert.equal(r.status, 200, r.text);
      return r.body as { loginResult: string; expiresAt: string };
    };
    const jwks = async () => (await server.client().get(JWKS)).body as { keys: Record<string, string>[] };

    test('JWKS: public ES256 keys with kid, alg and use, cacheable for 5 minutes', async () => {
      const r = await server.client().get(JWKS);
      assert.equal(r.status, 200);
      assert.equal(r.headers.get('cache-control'), 'public, max-age=300');
      assert.match(r.headers.get('content-type') ?? '', /^application\/json/);
      assert.equal(r.body.keys.length, 1, 'one key, made on first start');
      const [key] = r.body.keys;
      assert.deepEqual(Object.keys(key).sort(), ['alg', 'crv', 'kid', 'kty', 'use', 'x', 'y']);
      assert.deepEqual([key.kty, key.crv, key.alg, key.use], ['EC', 'P-256', 'ES256', 'sig']);
      const rows = await server.database.db.selectFrom('signing_keys').selectAll().execute();
      assert.equal(rows.length, 1);
      assert.equal(rows[0]?.kid, key.kid);
      assert.equal(Number(rows[0]?.activated_at), Number(rows[0]?.created_at), 'the first key signs from the moment it is published');
      assert.match(rows[0]?.private_key_sealed ?? '', /^v2\./, 'the private key is sealed');
      assert.ok(!(rows[0]?.private_key_sealed ?? '').includes('"d"'), 'never stored in the clear');
    });

    test('a login result verifies against the running server JWKS; claims of a passkey user (sub = Latchkey id); audited without the token', async () => {
      const client = server.client();
      const { user } = await signUp(client, newAuthenticator(), 'tok-ann');
      const { loginResult, expiresAt } = await loginResultFor(client);
      const header = decodeProtectedHeader(loginResult);
      assert.equal(header.typ, 'latchkey-login+jwt');
      assert.equal(header.alg, 'ES256');
      assert.equal(header.kid, (await jwks()).keys[0]?.kid);
      const { payload } = await verifyAsBackend(loginResult);
      const now = Math.floor(server.clock.now() / 1000);
      assert.deepEqual(
        { ...payload, jti: typeof payload.jti },
        { iss: TEST_ORIGIN, aud: SHOP, sub: user.id, latchkey_uid: user.id, auth_time: now, amr: ['passkey', 'user'], acr: 'aal2', jti: 'string', iat: now, exp: now + 120 },
      );
      assert.equal(Date.parse(expiresAt), (now + 120) * 1000);
      const rows = await server.database.db.selectFrom('audit_events').selectAll().where('type', '=', 'token.issued').where('subject_user_id', '=', user.id).execute();
      assert.equal(rows.length, 1);
      assert.deepEqual(JSON.parse(rows[0]?.data ?? '{}'), { kind: 'login_result', audience: SHOP, jti: payload.jti, kid: header.kid });
      assert.ok(!JSON.stringify(rows).includes(loginResult.split('.')[2] ?? '-'), 'no token in the audit log');
    });

    test('with an externalId, sub is the external id and latchkey_uid still the Latchkey id', async () => {
      const client = server.client();
      const { user } = await signUp(client, newAuthenticator(), 'tok-ext');
      // The company's backend sets it (management API import/creation); here straight in the row.
      await server.database.db.updateTable('users').set({ external_id: 'cust-4711' }).where('id', '=', user.id).execute();
      const { payload } = await verifyAsBackend((await loginResultFor(client)).loginResult);
      assert.equal(payload.sub, 'cust-4711');
      assert.equal(payload.latchkey_uid, user.id);
    });

    test('access token: typ at+jwt, 5 minutes, for another configured audience; the login-result type is refused for it', async () => {
      const client = server.client();
      await signUp(client, newAuthenticator(), 'tok-at');
      const r = await client.post(ACCESS_TOKEN, { audience: BILLING });
      assert.equal(r.status, 200, r.text);
      assert.equal(r.body.tokenType, 'Bearer');
      const { payload, protectedHeader } = await verifyAsBackend(r.body.accessToken, { audience: BILLING, typ: 'at+jwt' });
      assert.equal(protectedHeader.typ, 'at+jwt');
      assert.equal((payload.exp ?? 0) - (payload.iat ?? 0), 300);
      await assert.rejects(verifyAsBackend(r.body.accessToken, { audience: BILLING }), { code: 'ERR_JWT_CLAIM_VALIDATION_FAILED' }, 'an access token is no login result');
    });

    test('passkey sign-in verify with ?audience= carries a login result; an unconfigured audience is 400 before the ceremony is spent', async () => {
      const authenticator = newAuthenticator();
      const { user } = await signUp(server.client(), authenticator, 'tok-verify');
      const client = server.client();
      const options = await client.post(`${paths.AUTH}/options`, {});
      const response = await authenticator.getAssertion(options.body);
      assertProblem(await client.post(`${paths.AUTH}/verify?audience=${encodeURIComponent('https://evil.example')}`, response), 400, 'audience_not_allowed');
      const verify = await client.post(`${paths.AUTH}/verify?audience=${encodeURIComponent(SHOP)}`, response);
      assert.equal(verify.status, 200, verify.text);
      const { payload } = await verifyAsBackend(verify.body.loginResult);
      assert.equal(payload.sub, user.id);
      assert.equal(Date.parse(verify.body.loginResultExpiresAt), ((payload.exp as number) * 1000));
      const plain = await authenticate(server.client(), authenticator);
      assert.equal(plain.verify.status, 200);
      assert.equal(plain.verify.body.loginResult, undefined, 'none without ?audience=');
    });

    test('refused: unconfigured audience, no session, a recovery session, a session waiting for its second factor', async () => {
      const client = server.client();
      const { user } = await signUp(client, newAuthenticator(), 'tok-refused');
      assertProblem(await client.post(LOGIN_RESULT, { audience: 'https://other.example' }), 400, 'audience_not_allowed');
      assertProblem(await client.post(ACCESS_TOKEN, { audience: `${SHOP}/` }), 400, 'audience_not_allowed');
      assertProblem(await client.post(LOGIN_RESULT, {}), 400, 'invalid_request');
      assertProblem(await server.client().post(LOGIN_RESULT, { audience: SHOP }), 401, 'unauthorized');
      assertProblem(await server.client().post(ACCESS_TOKEN, { audience: SHOP }), 401, 'unauthorized');

      // A password right on an account with a passkey: the session waits for the passkey.
      assert.equal((await client.request('PUT', '/api/v1/account/password', { password: 'correct horse battery staple 9' })).status, 200);
      const pending = server.client();
      const signIn = await pending.post('/api/v1/password/sign-in', { username: 'tok-refused', password: 'correct horse battery staple 9' });
      assert.equal(signIn.body.session?.scope, 'second_factor', signIn.text);
      assertProblem(await pending.post(LOGIN_RESULT, { audience: SHOP }), 403, 'second_factor_required');
      assertProblem(await pending.post(ACCESS_TOKEN, { audience: SHOP }), 403, 'second_factor_required');

      // E-mail code + recovery code: a recovery session may only enrol a passkey.
      const { client: owner, userId: recoveringId } = await userWithEmail(server, mailbox, 'tok-rec', 'tok-rec@example.test');
      const codes: string[] = (await owner.post('/api/v1/account/recovery-codes', {})).body.codes;
      server.clock.advance(61_000);
      const recovering = server.client();
      const sent = mailbox.codeCount('tok-rec@example.test');
      assert.equal((await recovering.post('/api/v1/recovery/start', { email: 'tok-rec@example.test' })).status, 202);
      const code = await mailbox.newCode('tok-rec@example.test', sent);
      const recovered = await recovering.post('/api/v1/recovery/verify', { code, recoveryCode: codes[0] });
      assert.equal(recovered.body.session?.scope, 'recovery', recovered.text);
      assertProblem(await recovering.post(LOGIN_RESULT, { audience: SHOP }), 403, 'recovery_session_restricted');
      assertProblem(await recovering.post(ACCESS_TOKEN, { audience: SHOP }), 403, 'recovery_session_restricted');
      const issued = await server.database.db.selectFrom('audit_events').select('id').where('type', '=', 'token.issued').where('subject_user_id', 'in', [user.id, recoveringId]).execute();
      assert.equal(issued.length, 0, 'nothing was issued');
    });

    test('what a verifier must check (jose as a relying party): expiry, audience, issuer, alg none, a key of another server', async () => {
      const client = server.client();
      await signUp(client, newAuthenticator(), 'tok-neg');
      const { loginResult } = await loginResultFor(client);
      const { payload } = await verifyAsBackend(loginResult);

      await assert.rejects(verifyAsBackend(loginResult, { at: ((payload.exp as number) + 1) * 1000 }), { code: 'ERR_JWT_EXPIRED' }, 'expired');
      await assert.rejects(verifyAsBackend(loginResult, { audience: BILLING }), { code: 'ERR_JWT_CLAIM_VALIDATION_FAILED', claim: 'aud' }, 'wrong audience');
      await assert.rejects(verifyAsBackend(loginResult, { issuer: 'https://login.other.example' }), { code: 'ERR_JWT_CLAIM_VALIDATION_FAILED', claim: 'iss' }, 'wrong issuer');

      const unsecured = new UnsecuredJWT({ ...payload } as JWTPayload).encode();
      await assert.rejects(verifyAsBackend(unsecured), { code: 'ERR_JOSE_ALG_NOT_ALLOWED' }, 'alg none is never accepted');

      // Another Latchkey server (its own database, so its own key) issues for the same audience and issuer.
      const other = await startTestServer('sqlite', { config: { tokens: { audiences: [SHOP] } } });
      try {
        const otherClient = other.client();
        await signUp(otherClient, newAuthenticator(), 'tok-neg');
        const foreign = (await otherClient.post(LOGIN_RESULT, { audience: SHOP })).body.loginResult as string;
        await assert.rejects(verifyAsBackend(foreign), { code: 'ERR_JWKS_NO_MATCHING_KEY' }, "another server's key is not in this JWKS");
      } finally {
        await other.close();
      }
      // A forger's key, claiming this server's kid: the signature does not verify.
      const { privateKey } = await generateKeyPair('ES256');
      const forged = await new SignJWT({ ...payload }).setProtectedHeader({ alg: 'ES256', typ: 'latchkey-login+jwt', kid: decodeProtectedHeader(loginResult).kid as string }).sign(privateKey);
      await assert.rejects(verifyAsBackend(forged), { code: 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED' }, 'forged with our kid');
    });

    test('rotation: `keys rotate` publishes a new key at once, it signs after the publish lead, the old one verifies through the overlap and then leaves', async () => {
      const client = server.client();
      await signUp(client, newAuthenticator(), 'tok-rot');
      const oldKid = (await jwks()).keys[0]?.kid as string;

      const cli = await runCli(server.config.database.url, ['keys', 'rotate']);
      assert.equal(cli.code, 0, cli.stderr);
      const rows = await server.database.db.selectFrom('signing_keys').selectAll().orderBy('seq').execute();
      assert.equal(rows.length, 2);
      const fresh = rows[1] as (typeof rows)[number];
      const old = rows[0] as (typeof rows)[number];
      assert.match(cli.stdout, new RegExp(fresh.kid));
      assert.equal(Number(old.retired_at), Number(fresh.activated_at), 'the old key retires when the new one signs');

      // Each node reloads its keys within a minute: then both are published, the old one still signs.
      server.clock.set(Math.max(server.clock.now(), Number(fresh.created_at)) + 61_000);
      assert.deepEqual((await jwks()).keys.map((k) => k.kid), [fresh.kid, oldKid]);
      const before = await client.post(ACCESS_TOKEN, { audience: SHOP });
      assert.equal(decodeProtectedHeader(before.body.accessToken).kid, oldKid, 'not signing before the publish lead');

      server.clock.set(Number(fresh.activated_at) - 1000);
      const lastOld = (await loginResultFor(client)).loginResult;
      assert.equal(decodeProtectedHeader(lastOld).kid, oldKid);
      server.clock.set(Number(fresh.activated_at) + 30_000);
      const firstNew = (await loginResultFor(client)).loginResult;
      assert.equal(decodeProtectedHeader(firstNew).kid, fresh.kid, 'the new key signs');
      await verifyAsBackend(firstNew);
      await verifyAsBackend(lastOld); // signed by the retired key, still valid and still published

      const listed = await runCli(server.config.database.url, ['keys', 'list']);
      assert.equal(listed.code, 0, listed.stderr);
      assert.match(listed.stdout, new RegExp(`${fresh.kid}  #2`));

      server.clock.set(Number(old.published_until) - 1000);
      assert.deepEqual((await jwks()).keys.map((k) => k.kid), [fresh.kid, oldKid], 'published for max-age + the longest token');
      server.clock.set(Number(old.published_until));
      assert.deepEqual((await jwks()).keys.map((k) => k.kid), [fresh.kid], 'then gone');
      await assert.rejects(verifyAsBackend(lastOld, { at: Number(fresh.activated_at) }), { code: 'ERR_JWKS_NO_MATCHING_KEY' });
      await verifyAsBackend((await loginResultFor(client)).loginResult);
    });

    test('online redemption (scope tokens:redeem): verified and used up; a second redemption is 409 login_result_used', async () => {
      const keyFor = async (scopes: string) => {
        const made = await runCli(server.config.database.url, ['api-keys', 'create', '--name', `redeem ${scopes}`, '--scopes', scopes]);
        assert.equal(made.code, 0, made.stderr);
        const backend = new TestClient(server.url, null);
        backend.bearer = /lk_live_[a-z2-7]{16}_[A-Za-z0-9_-]{43}/.exec(made.stdout)?.[0];
        return backend;
      };
      const backend = await keyFor('tokens:redeem');
      const client = server.client();
      const { user } = await signUp(client, newAuthenticator(), 'tok-redeem');
      const { loginResult } = await loginResultFor(client);

      assertProblem(await (await keyFor('users:read')).post(REDEEM, { loginResult }), 403, 'insufficient_scope');
      assertProblem(await backend.post(REDEEM, { loginResult, audience: BILLING }), 400, 'login_result_invalid', 'for another audience');
      const first = await backend.post(REDEEM, { loginResult, audience: SHOP });
      assert.equal(first.status, 200, first.text);
      assert.equal(first.body.claims.sub, user.id);
      assert.equal(first.body.claims.aud, SHOP);
      assertProblem(await backend.post(REDEEM, { loginResult }), 409, 'login_result_used', 'replayed');

      const access = (await client.post(ACCESS_TOKEN, { audience: SHOP })).body.accessToken as string;
      assertProblem(await backend.post(REDEEM, { loginResult: access }), 400, 'login_result_invalid', 'an access token is no login result');
      const late = (await loginResultFor(client)).loginResult;
      server.clock.advance(121_000);
      assertProblem(await backend.post(REDEEM, { loginResult: late }), 400, 'login_result_invalid', 'expired');
      const audited = await server.database.db.selectFrom('audit_events').select(['outcome', 'error_code']).where('type', '=', 'login_result.redeemed').where('subject_user_id', '=', user.id).orderBy('created_at').execute();
      assert.deepEqual(audited.map((r) => [r.outcome, r.error_code]), [['success', null], ['failure', 'login_result_used']]);
      // The used jti is kept until the token would have expired anyway, then swept.
      const kept = () => server.database.db.selectFrom('redeemed_login_results').select('jti').where('jti', '=', first.body.claims.jti).execute();
      assert.equal((await kept()).length, 1);
      await server.app.sweep();
      assert.equal((await kept()).length, 0);
    });

    test('scheduled rotation: when the newest key is LATCHKEY_TOKEN_KEY_ROTATION_DAYS old, a node makes the next one (published, not yet signing)', async () => {
      const before = (await jwks()).keys.map((k) => k.kid);
      const signingBefore = (await server.database.db.selectFrom('signing_keys').select(['kid', 'created_at']).orderBy('seq', 'desc').executeTakeFirstOrThrow());
      server.clock.set(Number(signingBefore.created_at) + 30 * 86_400_000);
      const after = (await jwks()).keys.map((k) => k.kid);
      assert.equal(after.length, before.length + 1, 'one new key');
      assert.deepEqual(after.slice(1), before);
      const client = server.client();
      await signUp(client, newAuthenticator(), 'tok-sched');
      assert.equal(decodeProtectedHeader((await loginResultFor(client)).loginResult).kid, signingBefore.kid, 'the new key waits out the publish lead');
    });

    test('OpenAPI: the token routes have operationIds and their 4xx answers; verify documents ?audience=', async () => {
      const doc = (await server.client().get('/openapi.json')).body;
      const op = (path: string, method: string) => doc.paths[path]?.[method] as { operationId?: string; responses: Record<string, unknown>; parameters?: { name: string; in: string }[] };
      assert.equal(op(JWKS, 'get').operationId, 'getJwks');
      for (const [path, id, codes] of [
        [LOGIN_RESULT, 'createLoginResult', ['400', '401', '403']],
        [ACCESS_TOKEN, 'createAccessToken', ['400', '401', '403']],
        [REDEEM, 'redeemLoginResult', ['400', '401', '403', '409']],
      ] as const) {
        assert.equal(op(path, 'post').operationId, id);
        for (const code of codes) assert.ok(op(path, 'post').responses[code], `${id} documents ${code}`);
      }
      assert.ok(op(`${paths.AUTH}/verify`, 'post').parameters?.some((p) => p.name === 'audience' && p.in === 'query'));
      for (const code of ['audience_not_allowed', 'login_result_invalid', 'login_result_used']) assert.match(doc.info.description, new RegExp(code));
    });

    test('two nodes starting on one empty database make one key between them', async () => {
      const fresh = await createTestDatabase(dialect);
      const handles = [createDatabase(fresh.url, { poolSize: 3 }), createDatabase(fresh.url, { poolSize: 3 })];
      try {
        await migrateToLatest((handles[0] as (typeof handles)[number]).db);
        const listed = await runCli(fresh.url, ['keys', 'list']);
        assert.equal(listed.code, 0, listed.stderr);
        assert.match(listed.stdout, /No signing keys yet/, 'listing makes no key');
        const config = loadConfig({ env: {}, overrides: { database: { url: fresh.url } } });
        const keys = deriveServerKeys(new Uint8Array(32).fill(3));
        const clock = createTestClock(Date.now());
        const nodes = handles.map((h) => createTokenSigningKeys({ db: h.db, clock, random: cryptoRandom, keys, config }));
        await Promise.all(nodes.map((n) => n.refresh()));
        const kids = await Promise.all(nodes.map(async (n) => (await n.signer()).kid));
        assert.equal(kids[0], kids[1], 'both sign with the same key');
        const count = await handles[0]?.db.selectFrom('signing_keys').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow();
        assert.equal(Number(count?.n), 1);
      } finally {
        for (const h of handles) await h.close();
        await fresh.drop();
      }
    });
  });

  describe(`signed tokens without a usable signing key (${dialect})`, () => {
    let server: TestServer;
    before(async () => {
      server = await startTestServer(dialect, { config: { tokens: { audiences: [SHOP] }, secrets: { encryptionKey: 'the first encryption key, 32+ characters long' } } });
    });
    after(() => server.close());

    test('a node whose LATCHKEY_ENCRYPTION_KEY does not open the sealed key answers 503 signing_key_unavailable with Retry-After, logs the fix once, still serves the JWKS', async () => {
      const client = server.client();
      await signUp(client, newAuthenticator(), 'tk-seal');
      const published = (await client.get(JWKS)).body.keys as { kid: string }[];
      assert.equal((await client.post(LOGIN_RESULT, { audience: SHOP })).status, 200, 'the first node signs');

      // Another node on the same database, started with a different encryption key.
      const lines: string[] = [];
      const stream = new Writable({
        write(chunk, _encoding, done) {
          lines.push(String(chunk));
          done();
        },
      });
      const other = await buildApp(
        { ...server.config, secrets: { ...server.config.secrets, encryptionKey: 'a different encryption key, also 32+ characters' } },
        { database: server.database, clock: server.clock, logger: { level: 'info', stream } },
      );
      try {
        await other.listen({ host: '127.0.0.1', port: 0 });
        const address = other.server.address();
        const elsewhere = new TestClient(`http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`, TEST_ORIGIN);
        for (const [name, value] of client.cookies) elsewhere.cookies.set(name, value);
        const refused = await elsewhere.post(LOGIN_RESULT, { audience: SHOP });
        assertProblem(refused, 503, 'signing_key_unavailable', 'login result');
        const retryAfter = Number(refused.headers.get('retry-after'));
        assert.ok(Number.isInteger(retryAfter) && retryAfter > 0, `Retry-After: ${refused.headers.get('retry-after')}`);
        assertProblem(await elsewhere.post(ACCESS_TOKEN, { audience: SHOP }), 503, 'signing_key_unavailable', 'access token');
        const errors = lines.map((line) => JSON.parse(line) as { level: number; msg: string; code?: string; reason?: string }).filter((l) => l.level >= 50);
        assert.equal(errors.length, 2, 'one error line per refused request');
        assert.equal(errors[0]?.code, 'signing_key_unavailable');
        assert.match(errors[0]?.reason ?? '', /latchkey keys rotate/, 'the log names the fix');
        const jwks = await elsewhere.get(JWKS);
        assert.equal(jwks.status, 200, 'verification is not affected');
        assert.deepEqual((jwks.body.keys as { kid: string }[]).map((k) => k.kid), published.map((k) => k.kid));
      } finally {
        await other.close();
      }
    });
  });
}
