import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { decodeCbor, decodeCborPrefix } from './cbor.ts';

const hex = (h: string) => Uint8Array.from(Buffer.from(h.replace(/\s/g, ''), 'hex'));

describe('strict CBOR reader (SEC-15)', () => {
  test('decodes the items an attestation object uses (RFC 8949 Appendix A vectors)', () => {
    assert.equal(decodeCbor(hex('17')), 23);
    assert.equal(decodeCbor(hex('1903e8')), 1000);
    assert.equal(decodeCbor(hex('3903e7')), -1000);
    assert.equal(decodeCbor(hex('1bffffffffffffffff')), 18446744073709551615n);
    assert.equal(decodeCbor(hex('3bffffffffffffffff')), -18446744073709551616n);
    assert.equal(decodeCbor(hex('6449455446')), 'IETF');
    assert.deepEqual(decodeCbor(hex('4401020304')), Uint8Array.of(1, 2, 3, 4));
    assert.deepEqual(decodeCbor(hex('8301820203820405')), [1, [2, 3], [4, 5]]);
    assert.deepEqual(decodeCbor(hex('a201020304')), new Map([[1, 2], [3, 4]]));
    assert.deepEqual([decodeCbor(hex('f4')), decodeCbor(hex('f5')), decodeCbor(hex('f6'))], [false, true, null]);
  });

  test('a prefix reports its length (the COSE key inside authData)', () => {
    assert.deepEqual(decodeCborPrefix(hex('a10102 ff')), { value: new Map([[1, 2]]), length: 3 });
  });

  test('refuses indefinite lengths, tags, floats, duplicate keys, leftovers, truncation, bad UTF-8, deep nesting', () => {
    const cases: [string, RegExp][] = [
      ['bf0102ff', /indefinite/],
      ['5f4101ff', /indefinite/],
      ['c11a514b67b0', /tags/],
      ['fb3ff199999999999a', /floats/],
      ['a2010201 03', /duplicate CBOR map key 1/],
      ['a2636b65790163 6b657902', /duplicate CBOR map key key/],
      ['0100', /1 bytes after/],
      ['5a ffffffff 00', /length beyond|end of CBOR/],
      ['62c328', /not UTF-8/],
      ['a1f401', /key is not an integer or text/],
      [`${'81'.repeat(40)}01`, /nested too deeply/],
      ['1c', /reserved/],
    ];
    for (const [input, pattern] of cases) assert.throws(() => decodeCbor(hex(input)), pattern, input);
  });
});
