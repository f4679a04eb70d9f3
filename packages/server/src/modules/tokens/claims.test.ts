import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { isAllowedAudience, tokenClaims } from './claims.ts';

const base = {
  issuer: 'https://login.example.com',
  audience: 'https://shop.example.com',
  jti: 'j1',
  now: 1_780_000_000_500,
  lifetimeSeconds: 120,
};

describe('token claims', () => {
  test('a user-verified passkey session: sub is the external id when set, aal2, "user" in amr, times in seconds', () => {
    const claims = tokenClaims({
      ...base,
      user: { id: 'u-1', externalId: 'cust-42' },
      session: { amr: ['passkey'], userVerified: true, scope: 'full', authTime: 1_779_999_990_900 },
    });
    assert.deepEqual(claims, {
      iss: base.issuer,
      aud: base.audience,
      sub: 'cust-42',
      latchkey_uid: 'u-1',
      auth_time: 1_779_999_990,
      amr: ['passkey', 'user'],
      acr: 'aal2',
      jti: 'j1',
      iat: 1_780_000_000,
      exp: 1_780_000_120,
    });
  });

  test('without an external id sub is the Latchkey id; a passkey without user verification is aal1', () => {
    const claims = tokenClaims({ ...base, user: { id: 'u-1', externalId: null }, session: { amr: ['passkey'], userVerified: false, scope: 'full', authTime: base.now } });
    assert.equal(claims.sub, 'u-1');
    assert.deepEqual(claims.amr, ['passkey']);
    assert.equal(claims.acr, 'aal1');
  });

  test('password plus passkey is aal2 ("mfa"); an e-mailed code alone is aal1', () => {
    const two = tokenClaims({ ...base, user: { id: 'u', externalId: null }, session: { amr: ['pwd', 'passkey', 'mfa'], userVerified: false, scope: 'full', authTime: base.now } });
    assert.equal(two.acr, 'aal2');
    const otp = tokenClaims({ ...base, user: { id: 'u', externalId: null }, session: { amr: ['otp'], userVerified: false, scope: 'full', authTime: base.now } });
    assert.deepEqual([otp.acr, otp.amr], ['aal1', ['otp']]);
  });

  test('audiences: exactly a configured one', () => {
    const allowed = ['https://shop.example.com', 'billing'];
    assert.equal(isAllowedAudience('billing', allowed), true);
    assert.equal(isAllowedAudience('https://shop.example.com/', allowed), false);
    assert.equal(isAllowedAudience('BILLING', allowed), false);
    assert.equal(isAllowedAudience('billing', []), false);
  });
});
