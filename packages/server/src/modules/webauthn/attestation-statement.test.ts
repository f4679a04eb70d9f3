import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { attestationStatementProblem } from './attestation-statement.ts';
import type { CborKey, CborValue } from './cbor.ts';

const b = (n: number) => new Uint8Array(n).fill(1);
const stmt = (members: Record<string, CborValue>) => new Map<CborKey, CborValue>(Object.entries(members));
const ok = (fmt: string, members: Record<string, CborValue>, alg = -7) => assert.equal(attestationStatementProblem(fmt, stmt(members), alg), undefined, fmt);
const bad = (fmt: CborValue, members: Record<string, CborValue> | CborValue, pattern: RegExp, alg = -7) => {
  const statement = members instanceof Map || members === null || typeof members !== 'object' || members instanceof Uint8Array || Array.isArray(members) ? members : stmt(members as Record<string, CborValue>);
  assert.match(attestationStatementProblem(fmt, statement, alg) ?? 'accepted', pattern);
};
const x5c = [b(300)];

describe('attestationStatementProblem (WebAuthn L3 §8)', () => {
  test('fmt must be text and attStmt a map', () => {
    bad(1, {}, /fmt is not a text string/);
    bad('none', [], /not a map/);
  });

  test('none: empty (§8.7)', () => {
    ok('none', {});
    bad('none', { sig: b(1) }, /empty map/);
  });

  test('packed (§8.2): alg and sig; self attestation alg = the credential key alg; x5c non-empty bytes; no ECDAA', () => {
    ok('packed', { alg: -7, sig: b(70) });
    ok('packed', { alg: -257, sig: b(70), x5c }, -7);
    bad('packed', { alg: -257, sig: b(70) }, /self attestation alg -257 differs from the credential key's alg -7/);
    bad('packed', { sig: b(70) }, /alg is missing/);
    bad('packed', { alg: '-7', sig: b(70) }, /alg has the wrong type/);
    bad('packed', { alg: -7 }, /sig is missing/);
    bad('packed', { alg: -7, sig: 'text' }, /sig has the wrong type/);
    bad('packed', { alg: -7, sig: new Uint8Array(0) }, /sig has the wrong type/);
    bad('packed', { alg: -7, sig: b(70), x5c: [] }, /non-empty array/);
    bad('packed', { alg: -7, sig: b(70), x5c: [b(3), 'pem'] }, /byte strings/);
    bad('packed', { alg: -7, sig: b(70), ecdaaKeyId: b(32) }, /ECDAA/);
  });

  test('tpm (§8.3)', () => {
    const good = { ver: '2.0', alg: -257, x5c, sig: b(256), certInfo: b(100), pubArea: b(100) };
    ok('tpm', good);
    bad('tpm', { ...good, ver: '1.2' }, /ver has the wrong type/);
    for (const member of ['alg', 'sig', 'certInfo', 'pubArea']) {
      const { [member]: _, ...rest } = good as Record<string, CborValue>;
      bad('tpm', rest, new RegExp(`${member} is missing`));
    }
    const { x5c: _x5c, ...noX5c } = good;
    bad('tpm', noX5c, /x5c/);
    bad('tpm', { ...good, ecdaaKeyId: b(32) }, /ECDAA/);
  });

  test('android-key (§8.4), android-safetynet (§8.5), apple (§8.8)', () => {
    ok('android-key', { alg: -7, sig: b(70), x5c });
    bad('android-key', { alg: -7, sig: b(70) }, /x5c/);
    ok('android-safetynet', { ver: '12345', response: b(500) });
    bad('android-safetynet', { ver: '', response: b(500) }, /ver/);
    bad('android-safetynet', { ver: '1' }, /response is missing/);
    ok('apple', { x5c });
    bad('apple', { x5c: 'MIIC' }, /x5c/);
  });

  test('fido-u2f (§8.6): sig, exactly one certificate, an ES256 credential key', () => {
    ok('fido-u2f', { sig: b(70), x5c });
    bad('fido-u2f', { sig: b(70), x5c: [b(300), b(300)] }, /exactly one/);
    bad('fido-u2f', { x5c }, /sig is missing/);
    bad('fido-u2f', { sig: b(70), x5c }, /must be ES256/, -8);
  });

  test('unknown formats, other spellings and prototype names are refused', () => {
    for (const fmt of ['packed2', 'None', 'PACKED', '', '__proto__', 'constructor', 'toString']) bad(fmt, {}, /unsupported attestation statement format/);
  });
});
