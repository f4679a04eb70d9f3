import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { describe, test } from 'node:test';
import { isoCBOR } from '@simplewebauthn/server/helpers';
import { checkCoseKey, parseImportedPasskey } from './passkey-import.ts';

const bytes = (b64url: string | undefined) => new Uint8Array(Buffer.from(b64url ?? '', 'base64url'));
const cose = (entries: [number, unknown][]) => isoCBOR.encode(new Map(entries) as never);

function ed25519(): Uint8Array {
  const jwk = generateKeyPairSync('ed25519').publicKey.export({ format: 'jwk' });
  return cose([[1, 1], [3, -8], [-1, 6], [-2, bytes(jwk.x)]]);
}
function es256(tamper?: (y: Uint8Array) => void): Uint8Array {
  const jwk = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ format: 'jwk' });
  const y = bytes(jwk.y);
  tamper?.(y);
  return cose([[1, 2], [3, -7], [-1, 1], [-2, bytes(jwk.x)], [-3, y]]);
}
function rs256(modulusLength: number): Uint8Array {
  const jwk = generateKeyPairSync('rsa', { modulusLength }).publicKey.export({ format: 'jwk' });
  return cose([[1, 3], [3, -257], [-1, bytes(jwk.n)], [-2, bytes(jwk.e)]]);
}

describe('checkCoseKey (imported passkeys: the checks a verified attestation would have made)', () => {
  test('EdDSA, ES256 and RS256-2048 keys pass', () => {
    assert.equal(checkCoseKey(ed25519()), undefined);
    assert.equal(checkCoseKey(es256()), undefined);
    assert.equal(checkCoseKey(rs256(2048)), undefined);
  });

  test('a P-256 point off the curve, a 1024-bit RSA key, a mismatched key type or an algorithm not offered are refused', () => {
    assert.match(checkCoseKey(es256((y) => { y[31] = (y[31] ?? 0) ^ 1; })) ?? '', /does not import|curve/);
    assert.match(checkCoseKey(rs256(1024)) ?? '', /RS256/);
    const jwk = generateKeyPairSync('ed25519').publicKey.export({ format: 'jwk' });
    assert.ok(checkCoseKey(cose([[1, 2], [3, -8], [-1, 6], [-2, bytes(jwk.x)]])), 'EdDSA with kty EC2');
    assert.ok(checkCoseKey(cose([[1, 1], [3, -7], [-1, 6], [-2, bytes(jwk.x)]])), 'ES256 with an OKP key');
    assert.ok(checkCoseKey(cose([[1, 1], [3, -8], [-1, 7], [-2, bytes(jwk.x)]])), 'Ed448 curve id');
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey.export({ format: 'jwk' });
    assert.ok(checkCoseKey(cose([[1, 3], [3, -65535], [-1, bytes(rsa.n)], [-2, bytes(rsa.e)]])), 'RS1 (SEC-13)');
  });

  test('trailing bytes, non-CBOR and non-map input are refused', () => {
    const key = ed25519();
    const longer = new Uint8Array(key.length + 1);
    longer.set(key);
    assert.match(checkCoseKey(longer) ?? '', /trailing|canonical/);
    assert.ok(checkCoseKey(new Uint8Array([0xff, 0x00])));
    assert.ok(checkCoseKey(isoCBOR.encode([1, 2, 3] as never)));
  });
});

describe('parseImportedPasskey', () => {
  const good = () => ({ id: Buffer.from('credential-1').toString('base64url'), publicKey: Buffer.from(es256()).toString('base64url') });

  test('fills defaults and keeps what it is given', () => {
    const parsed = parseImportedPasskey({ ...good(), signCount: 7, transports: ['internal', 'hybrid'], deviceType: 'multiDevice', backedUp: true, name: ' My  key ' }, 1000);
    assert.ok(parsed.ok);
    assert.equal(parsed.passkey.signCount, 7);
    assert.equal(parsed.passkey.name, 'My key');
    assert.equal(parsed.passkey.createdAt, 1000);
    assert.equal(parsed.passkey.aaguid, '00000000-0000-0000-0000-000000000000');
  });

  test('refusals name the field', () => {
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ ...good(), id: 'a'.repeat(1366) }, /^\/id/],
      [{ ...good(), id: 'not base64url!' }, /^\/id/],
      [{ ...good(), publicKey: Buffer.from(rs256(1024)).toString('base64url') }, /^\/publicKey/],
      [{ ...good(), signCount: -1 }, /^\/signCount/],
      [{ ...good(), transports: ['carrier-pigeon'] }, /^\/transports/],
      [{ ...good(), backedUp: true }, /^\/backedUp/],
      [{ ...good(), createdAt: 'yesterday' }, /^\/createdAt/],
      [{ ...good(), secret: 'x' }, /^\/secret: unknown field/],
    ];
    for (const [input, expected] of cases) {
      const parsed = parseImportedPasskey(input, 0);
      assert.ok(!parsed.ok, JSON.stringify(input).slice(0, 80));
      assert.match(parsed.problem, expected);
    }
  });
});
