import assert from 'node:assert/strict';
import { createCipheriv, createHash, createHmac } from 'node:crypto';
import { describe, test } from 'node:test';
import { toBase64Url } from './encoding.ts';
import { KEY_LABELS, deriveAtRestKeys, deriveServerKeys, deriveSubkey } from './keys.ts';
import { createSecretBox } from './secret-box.ts';

const secret = new Uint8Array(32).map((_, i) => i + 1);
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const random = (n: number) => new Uint8Array(n).fill(7);

/** What v1 wrote: AES-256-GCM under `key`, associated data as given, `v1.iv.body.tag`. */
function sealV1(key: Uint8Array, plaintext: string, aad: string): string {
  const iv = new Uint8Array(12).fill(9);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from(aad));
  const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return ['v1', toBase64Url(iv), toBase64Url(body), toBase64Url(cipher.getAuthTag())].join('.');
}

describe('server keys (HKDF subkeys under fixed labels)', () => {
  test('each named key is its own HKDF-SHA-256 subkey; none is the secret, none equals another', () => {
    const keys = deriveServerKeys(secret);
    const all = Object.values(keys).map(hex);
    assert.equal(new Set(all).size, Object.keys(KEY_LABELS).length, 'distinct');
    assert.ok(!all.includes(hex(secret)), 'the server secret keys nothing itself');
    for (const key of Object.values(keys)) assert.equal(key.length, 32);
    assert.equal(hex(keys.challengeSealing), hex(deriveSubkey(secret, KEY_LABELS.challengeSealing)), 'stable: the same secret gives the same keys');
    assert.notEqual(hex(deriveServerKeys(new Uint8Array(32)).lookup), hex(keys.lookup), 'another secret gives other keys');
  });

  test('no key is an HMAC of the server secret over any label, so a username equal to a label reproduces nothing', () => {
    const keys = Object.values(deriveServerKeys(secret)).map(hex);
    const labels = [...Object.values(KEY_LABELS), 'latchkey secret-box key v1', 'latchkey:sign-in-challenge-key'];
    for (const label of labels) {
      const oldStyle = hex(createHmac('sha256', secret).update(label).digest());
      assert.ok(!keys.includes(oldStyle), label);
      // A keyed lookup of that label (what a sign-in with it as the username stores) is no key either.
      const lookup = hex(createHmac('sha256', deriveServerKeys(secret).lookup).update(label).digest());
      assert.ok(!keys.includes(lookup), label);
    }
  });

  test('secret box: v2 under the subkey; v1 boxes of either old derivation still open; isCurrent tells them apart', () => {
    const serverKeys = deriveServerKeys(secret);
    const derived = createSecretBox({ keys: deriveAtRestKeys(serverKeys, secret, undefined), randomBytes: random });
    const oldDerived = createHmac('sha256', secret).update('latchkey secret-box key v1').digest();
    const v1 = sealV1(oldDerived, 'SEED', 'user-1');
    assert.equal(derived.open(v1, 'user-1'), 'SEED');
    assert.equal(derived.isCurrent(v1), false);
    const v2 = derived.seal('SEED', 'user-1');
    assert.match(v2, /^v2\./);
    assert.equal(derived.isCurrent(v2), true);
    assert.equal(derived.open(v2, 'user-1'), 'SEED');
    assert.throws(() => derived.open(v2, 'user-2'), 'bound to its associated data');
    assert.throws(() => derived.open(v2.replace(/^v2/, 'v1'), 'user-1'), 'a v2 box read as v1 does not open');
    assert.throws(() => derived.open(`v3${v2.slice(2)}`, 'user-1'), 'unknown version');

    // LATCHKEY_ENCRYPTION_KEY: when set it is the key material (v1 used its SHA-256 directly).
    const configured = 'an encryption key of at least 32 characters';
    const keyed = createSecretBox({ keys: deriveAtRestKeys(serverKeys, secret, configured), randomBytes: random });
    const v1Keyed = sealV1(createHash('sha256').update(configured).digest(), 'SEED', 'user-1');
    assert.equal(keyed.open(v1Keyed, 'user-1'), 'SEED');
    const v2Keyed = keyed.seal('SEED', 'user-1');
    assert.equal(keyed.open(v2Keyed, 'user-1'), 'SEED');
    assert.throws(() => derived.open(v2Keyed, 'user-1'), 'the server secret alone cannot open what the encryption key sealed');
    assert.throws(() => keyed.open(v2, 'user-1'));
  });
});
