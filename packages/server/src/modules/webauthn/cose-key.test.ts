import assert from 'node:assert/strict';
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { describe, test } from 'node:test';
import type { CborKey, CborValue } from './cbor.ts';
import { checkCoseKey, isEd25519Point } from './cose-key.ts';

const OFFERED = [-8, -7, -257];
const jwkBytes = (key: KeyObject, member: 'x' | 'y' | 'n' | 'e') => new Uint8Array(Buffer.from(key.export({ format: 'jwk' })[member] as string, 'base64url'));

const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey;
const ed = generateKeyPairSync('ed25519').publicKey;
const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey;
const EC2 = (): Map<CborKey, CborValue> => new Map<CborKey, CborValue>([[1, 2], [3, -7], [-1, 1], [-2, jwkBytes(ec, 'x')], [-3, jwkBytes(ec, 'y')]]);
const OKP = (): Map<CborKey, CborValue> => new Map<CborKey, CborValue>([[1, 1], [3, -8], [-1, 6], [-2, jwkBytes(ed, 'x')]]);
const RSA = (): Map<CborKey, CborValue> => new Map<CborKey, CborValue>([[1, 3], [3, -257], [-1, jwkBytes(rsa, 'n')], [-2, jwkBytes(rsa, 'e')]]);
const withEntry = (key: Map<CborKey, CborValue>, label: number, value: CborValue | undefined) => {
  if (value === undefined) key.delete(label);
  else key.set(label, value);
  return key;
};
const flip = (data: Uint8Array) => {
  const copy = new Uint8Array(data);
  copy[copy.length - 1] = (copy[copy.length - 1] as number) ^ 1;
  return copy;
};
const refused = (key: CborValue, pattern: RegExp) => {
  const result = checkCoseKey(key, OFFERED);
  assert.equal(result.ok, false, `expected a refusal matching ${pattern}`);
  if (!result.ok) assert.match(result.problem, pattern);
};

describe('checkCoseKey', () => {
  test('real ES256, EdDSA and RS256 keys pass with their alg', () => {
    assert.deepEqual(checkCoseKey(EC2(), OFFERED), { ok: true, alg: -7 });
    assert.deepEqual(checkCoseKey(OKP(), OFFERED), { ok: true, alg: -8 });
    assert.deepEqual(checkCoseKey(RSA(), OFFERED), { ok: true, alg: -257 });
  });

  test('not a map, no kty, no alg', () => {
    refused(new Uint8Array(3), /not a COSE_Key map/);
    refused(withEntry(EC2(), 1, undefined), /no integer kty/);
    refused(withEntry(EC2(), 3, undefined), /no integer alg/);
  });

  test('alg must be offered (SEC-13)', () => {
    refused(withEntry(EC2(), 3, -35), /alg -35 was not offered/);
    assert.equal(checkCoseKey(EC2(), [-8]).ok, false);
  });

  test('alg must agree with kty and crv', () => {
    refused(withEntry(EC2(), 3, -257), /alg -257 with kty 2/);
    refused(withEntry(EC2(), 3, -8), /alg -8 with kty 2/);
    refused(withEntry(OKP(), 3, -7), /alg -7 with kty 1/);
    refused(withEntry(EC2(), -1, 2), /crv 2/);
    refused(withEntry(OKP(), -1, 4), /crv 4/);
    refused(withEntry(EC2(), 1, 4), /kty 4/);
  });

  test('EC2: 32-byte x and y, uncompressed, on P-256', () => {
    refused(withEntry(EC2(), -2, new Uint8Array(31)), /x must be a 32-byte/);
    refused(withEntry(EC2(), -3, true), /compressed/);
    refused(withEntry(EC2(), -3, undefined), /compressed/);
    refused(withEntry(EC2(), -3, flip(jwkBytes(ec, 'y'))), /not a point on P-256/);
    refused(withEntry(withEntry(EC2(), -2, new Uint8Array(32)), -3, new Uint8Array(32)), /not a point on P-256/);
  });

  test('OKP: 32-byte x that decodes to an Ed25519 point', () => {
    refused(withEntry(OKP(), -2, new Uint8Array(33)), /x must be a 32-byte/);
    refused(withEntry(OKP(), -2, Uint8Array.of(2, ...new Uint8Array(31))), /not a point on Ed25519/);
    for (let i = 0; i < 20; i++) assert.ok(isEd25519Point(jwkBytes(generateKeyPairSync('ed25519').publicKey, 'x')));
    const yAtLeastP = new Uint8Array(32).fill(0xff);
    yAtLeastP[31] = 0x7f;
    assert.equal(isEd25519Point(yAtLeastP), false, 'y >= p');
  });

  test('RSA: modulus 2048 to 16384 bits and odd; exponent odd, 2^16 < e < 2^256', () => {
    refused(withEntry(RSA(), -1, Uint8Array.of(0xc1, ...new Uint8Array(126), 1)), /modulus of 1024 bits/);
    refused(withEntry(RSA(), -1, flip(jwkBytes(rsa, 'n'))), /modulus is even/);
    refused(withEntry(RSA(), -1, Uint8Array.of(0x80, ...new Uint8Array(2048), 1)), /modulus of 16400 bits/);
    refused(withEntry(RSA(), -2, Uint8Array.of(3)), /exponent/);
    refused(withEntry(RSA(), -2, Uint8Array.of(1, 0, 2)), /exponent/);
    refused(withEntry(RSA(), -2, Uint8Array.of(1, ...new Uint8Array(31), 1)), /exponent/);
    refused(withEntry(RSA(), -2, undefined), /n and e/);
    assert.ok(checkCoseKey(withEntry(RSA(), -1, Uint8Array.of(0, ...jwkBytes(rsa, 'n'))), OFFERED).ok, 'a leading zero byte is tolerated');
  });

  test('private key parameters are refused', () => {
    refused(withEntry(EC2(), -4, new Uint8Array(32)), /private key/);
    refused(withEntry(OKP(), -4, new Uint8Array(32)), /private key/);
    refused(withEntry(RSA(), -3, new Uint8Array(256)), /private key/);
  });
});
