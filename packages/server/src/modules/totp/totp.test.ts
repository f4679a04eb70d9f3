import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { generate } from 'otplib';
import { toBase32 } from '../../platform/encoding.ts';
import { deriveAtRestKeys, deriveServerKeys } from '../../platform/keys.ts';
import { createSecretBox } from '../../platform/secret-box.ts';
import { TOTP_SECRET_BYTES, totpStep } from './totp.ts';

const secret = toBase32(new Uint8Array(TOTP_SECRET_BYTES).map((_, i) => i * 7 + 1));
const now = Date.UTC(2026, 11, 2, 9, 0, 10);
const codeAt = (ms: number) => generate({ secret, epoch: Math.floor(ms / 1000) });

describe('TOTP (SEC-40, injected clock)', () => {
  test('the current step and one step of drift either way are accepted; two steps are not', async () => {
    const step = Math.floor(now / 30_000);
    assert.equal(await totpStep(secret, await codeAt(now), now), step);
    assert.equal(await totpStep(secret, await codeAt(now - 30_000), now), step - 1);
    assert.equal(await totpStep(secret, await codeAt(now + 30_000), now), step + 1);
    assert.equal(await totpStep(secret, await codeAt(now - 60_000), now), undefined);
    assert.equal(await totpStep(secret, await codeAt(now + 60_000), now), undefined);
  });

  test('malformed codes are refused without throwing', async () => {
    for (const bad of ['', '12345', '1234567', 'abcdef', '12 456']) assert.equal(await totpStep(secret, bad, now), undefined, bad);
  });

  test('the seed is 160 bits and is sealed with AES-256-GCM bound to the user', () => {
    assert.equal(secret.length, 32, '20 bytes = 32 base32 characters');
    const keysOf = (encryptionKey: string) => deriveAtRestKeys(deriveServerKeys(new Uint8Array(32).fill(1)), new Uint8Array(32).fill(1), encryptionKey);
    const box = createSecretBox({ keys: keysOf('k'.repeat(32)), randomBytes: (n) => new Uint8Array(n).fill(3) });
    const sealed = box.seal(secret, 'user-1');
    assert.ok(!sealed.includes(secret));
    assert.equal(box.open(sealed, 'user-1'), secret);
    assert.throws(() => box.open(sealed, 'user-2'), 'another user\'s row cannot be swapped in');
    const other = createSecretBox({ keys: keysOf('x'.repeat(32)), randomBytes: (n) => new Uint8Array(n) });
    assert.throws(() => other.open(sealed, 'user-1'), 'another key cannot open it');
  });
});
