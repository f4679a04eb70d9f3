import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { base64url, SignJWT } from 'jose';
import { createMemoryReplayStore, createVerifier, LatchkeyTokenError, type LatchkeyTokenErrorCode, type Verifier } from '../src/index.ts';
import { AUDIENCE, newKey, sign, startIssuer, type SigningKey } from './jwks-fixture.ts';

async function refusal(promise: Promise<unknown>): Promise<LatchkeyTokenErrorCode> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  assert.ok(error instanceof LatchkeyTokenError, `refused with a LatchkeyTokenError, got ${String(error)}`);
  return error.code;
}

describe('createVerifier against a local JWKS', () => {
  let issuer: Awaited<ReturnType<typeof startIssuer>>;
  let key: SigningKey;
  let verifier: Verifier;

  before(async () => {
    key = await newKey('k1');
    issuer = await startIssuer([key]);
    verifier = createVerifier({ issuer: issuer.issuer, audience: AUDIENCE });
  });
  after(() => issuer.close());

  test('a login result verifies once into a typed identity; the same token again is "replayed"', async () => {
    const iat = Math.floor(Date.now() / 1000);
    const jwt = await sign(key, { issuer: issuer.issuer, iat });
    const identity = await verifier.verifyLoginResult(jwt);
    assert.equal(identity.sub, 'shop-42');
    assert.equal(identity.userId, '6f1c2e0e-1111-4c5e-9a1b-000000000042');
    assert.deepEqual(identity.amr, ['passkey']);
    assert.equal(identity.acr, 'aal2');
    assert.equal(identity.audience, AUDIENCE);
    assert.equal(identity.authTime.getTime(), (iat - 5) * 1000);
    assert.equal(identity.expiresAt.getTime(), (iat + 120) * 1000);
    assert.match(identity.jti, /^[0-9a-f-]{36}$/);
    assert.equal(await refusal(verifier.verifyLoginResult(jwt)), 'replayed');
  });

  test('expired beyond the clock tolerance is refused; within it, accepted', async () => {
    const now = Math.floor(Date.now() / 1000);
    assert.equal(await refusal(verifier.verifyLoginResult(await sign(key, { issuer: issuer.issuer, iat: now - 100, exp: now - 31 }))), 'expired');
    await verifier.verifyLoginResult(await sign(key, { issuer: issuer.issuer, iat: now - 100, exp: now - 20 }));
    // A login result lives 120 s: one claiming a longer life is refused once older than that.
    assert.equal(await refusal(verifier.verifyLoginResult(await sign(key, { issuer: issuer.issuer, iat: now - 200, exp: now + 600 }))), 'expired');
    assert.equal(await refusal(verifier.verifyAccessToken(await sign(key, { issuer: issuer.issuer, typ: 'at+jwt', iat: now + 120, exp: now + 900 }))), 'not_yet_valid');
  });

  test('wrong audience and wrong issuer are refused', async () => {
    assert.equal(await refusal(verifier.verifyLoginResult(await sign(key, { issuer: issuer.issuer, claims: { aud: 'another-app' } }))), 'wrong_audience');
    assert.equal(await refusal(verifier.verifyLoginResult(await sign(key, { issuer: 'https://evil.example' }))), 'wrong_issuer');
    assert.equal(await refusal(verifier.verifyLoginResult(await sign(key, { issuer: issuer.issuer, claims: { aud: [AUDIENCE, 'x'] } }))), 'wrong_audience');
  });

  test('alg "none" and HS256 keyed with the public key (algorithm confusion) are refused', async () => {
    const payload = { iss: issuer.issuer, aud: AUDIENCE, sub: 'shop-42', latchkey_uid: 'u', auth_time: 1, amr: ['passkey'], acr: 'aal2', jti: 'j', iat: Math.floor(Date.now() / 1000), exp: Math.floor(Date.now() / 1000) + 60 };
    const encode = (value: unknown) => base64url.encode(JSON.stringify(value));
    const none = `${encode({ alg: 'none', typ: 'latchkey-login+jwt', kid: 'k1' })}.${encode(payload)}.`;
    assert.equal(await refusal(verifier.verifyLoginResult(none)), 'unsupported_alg');
    for (const secret of [JSON.stringify(key.publicJwk), `${key.publicJwk.x}${key.publicJwk.y}`]) {
      const hs = await new SignJWT(payload).setProtectedHeader({ alg: 'HS256', typ: 'latchkey-login+jwt', kid: 'k1' }).sign(new TextEncoder().encode(secret));
      assert.equal(await refusal(verifier.verifyLoginResult(hs)), 'unsupported_alg');
    }
    assert.equal(await refusal(verifier.verifyLoginResult('not.a-jwt')), 'malformed');
    assert.equal(await refusal(verifier.verifyLoginResult('e30.e30.e30')), 'unsupported_alg');
  });

  test('a key from another server is refused: its kid is unknown, or with a known kid the signature fails', async () => {
    const stranger = await newKey('k-other');
    assert.equal(await refusal(verifier.verifyLoginResult(await sign(stranger, { issuer: issuer.issuer }))), 'unknown_key');
    const impostor = await newKey('k1');
    assert.equal(await refusal(verifier.verifyLoginResult(await sign(impostor, { issuer: issuer.issuer }))), 'invalid_signature');
  });

  test('access tokens (at+jwt) verify any number of times; a token of the other type is refused', async () => {
    const access = await sign(key, { issuer: issuer.issuer, typ: 'at+jwt', exp: Math.floor(Date.now() / 1000) + 900 });
    assert.equal((await verifier.verifyAccessToken(access)).sub, 'shop-42');
    assert.equal((await verifier.verifyAccessToken(access)).sub, 'shop-42');
    assert.equal(await refusal(verifier.verifyLoginResult(access)), 'wrong_type');
    assert.equal(await refusal(verifier.verifyAccessToken(await sign(key, { issuer: issuer.issuer }))), 'wrong_type');
  });

  test('a missing or mistyped claim is "malformed"', async () => {
    assert.equal(await refusal(verifier.verifyLoginResult(await sign(key, { issuer: issuer.issuer, claims: { acr: 'aal3' } }))), 'malformed');
    assert.equal(await refusal(verifier.verifyLoginResult(await sign(key, { issuer: issuer.issuer, claims: { amr: 'passkey' } }))), 'malformed');
    assert.equal(await refusal(verifier.verifyLoginResult(await sign(key, { issuer: issuer.issuer, claims: { latchkey_uid: undefined } }))), 'malformed');
    assert.equal(await refusal(verifier.verifyLoginResult(await sign(key, { issuer: issuer.issuer, claims: { jti: undefined } }))), 'malformed');
  });

  test('the clock tolerance is bounded to 60 s', () => {
    assert.throws(() => createVerifier({ issuer: issuer.issuer, audience: AUDIENCE, clockToleranceSeconds: 61 }), RangeError);
  });
});

describe('key rotation and JWKS failures', () => {
  test('a token with a new kid, after the old JWKS was cached, makes the verifier refetch and succeed', async () => {
    const oldKey = await newKey('2026-11');
    const newKeyPair = await newKey('2026-12');
    const issuer = await startIssuer([oldKey]);
    try {
      const verifier = createVerifier({ issuer: issuer.issuer, audience: AUDIENCE, jwksCooldownSeconds: 0 });
      await verifier.verifyLoginResult(await sign(oldKey, { issuer: issuer.issuer }));
      assert.equal(issuer.fetches, 1);
      issuer.keys = [oldKey, newKeyPair]; // rotation: the new key is published beside the old one
      assert.equal((await verifier.verifyLoginResult(await sign(newKeyPair, { issuer: issuer.issuer }))).sub, 'shop-42');
      assert.equal(issuer.fetches, 2, 'one refetch for the unknown kid');
      await verifier.verifyLoginResult(await sign(oldKey, { issuer: issuer.issuer }));
      assert.equal(issuer.fetches, 2, 'both keys come from the cache now');
    } finally {
      await issuer.close();
    }
  });

  test('unknown kids refetch at most once per cooldown', async () => {
    const key = await newKey('a');
    const issuer = await startIssuer([key]);
    try {
      const verifier = createVerifier({ issuer: issuer.issuer, audience: AUDIENCE });
      await verifier.verifyLoginResult(await sign(key, { issuer: issuer.issuer }));
      for (let i = 0; i < 5; i++) assert.equal(await refusal(verifier.verifyLoginResult(await sign(await newKey(`x${i}`), { issuer: issuer.issuer }))), 'unknown_key');
      assert.equal(issuer.fetches, 1, 'within the 30 s cooldown, no refetch');
    } finally {
      await issuer.close();
    }
  });

  test('a JWKS that cannot be fetched gives "jwks_unavailable", not a token error', async () => {
    const key = await newKey('a');
    const issuer = await startIssuer([key]);
    issuer.failWith = 500;
    const verifier = createVerifier({ issuer: issuer.issuer, audience: AUDIENCE });
    assert.equal(await refusal(verifier.verifyLoginResult(await sign(key, { issuer: issuer.issuer }))), 'jwks_unavailable');
    const url = issuer.issuer;
    await issuer.close();
    const closed = createVerifier({ issuer: url, audience: AUDIENCE });
    assert.equal(await refusal(closed.verifyLoginResult(await sign(key, { issuer: url }))), 'jwks_unavailable');
  });
});

test('the memory replay store forgets a jti once it has expired, not before', async () => {
  let now = 1_000_000;
  const store = createMemoryReplayStore({ now: () => now });
  assert.equal(await store.consume('j1', new Date(now + 60_000)), true);
  assert.equal(await store.consume('j1', new Date(now + 60_000)), false);
  now += 61_000;
  assert.equal(await store.consume('j2', new Date(now + 60_000)), true);
  assert.equal(store.size, 1, 'j1 was swept');
});

test('a custom replay store is asked with the jti and the expiry (plus tolerance)', async () => {
  const key = await newKey('a');
  const issuer = await startIssuer([key]);
  try {
    const calls: [string, number][] = [];
    const verifier = createVerifier({
      issuer: issuer.issuer,
      audience: AUDIENCE,
      clockToleranceSeconds: 10,
      replayStore: {
        async consume(jti, expiresAt) {
          calls.push([jti, expiresAt.getTime()]);
          return calls.length === 1;
        },
      },
    });
    const iat = Math.floor(Date.now() / 1000);
    const jwt = await sign(key, { issuer: issuer.issuer, iat, claims: { jti: 'fixed-jti' } });
    await verifier.verifyLoginResult(jwt);
    assert.equal(await refusal(verifier.verifyLoginResult(jwt)), 'replayed');
    assert.deepEqual(calls[0], ['fixed-jti', (iat + 120 + 10) * 1000]);
  } finally {
    await issuer.close();
  }
});
