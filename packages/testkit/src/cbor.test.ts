import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { cborRaw, decodeCbor, decodeCborPrefix, encodeCbor, type CborValue } from './cbor.ts';

const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');
const fromHex = (text: string): Uint8Array => new Uint8Array(Buffer.from(text, 'hex'));

describe('encodeCbor', () => {
  // RFC 8949 Appendix A
  const vectors: [CborValue, string][] = [
    [0, '00'],
    [23, '17'],
    [24, '1818'],
    [100, '1864'],
    [1000, '1903e8'],
    [1000000, '1a000f4240'],
    [1000000000000, '1b000000e8d4a51000'],
    [18446744073709551615n, '1bffffffffffffffff'],
    [-18446744073709551616n, '3bffffffffffffffff'],
    [-1, '20'],
    [-10, '29'],
    [-100, '3863'],
    [-1000, '3903e7'],
    [1.1, 'fb3ff199999999999a'],
    [false, 'f4'],
    [true, 'f5'],
    [null, 'f6'],
    [undefined, 'f7'],
    [new Uint8Array(0), '40'],
    [fromHex('01020304'), '4401020304'],
    ['', '60'],
    ['a', '6161'],
    ['IETF', '6449455446'],
    ['\u00fc', '62c3bc'],
    [[], '80'],
    [[1, [2, 3], [4, 5]], '8301820203820405'],
    [{}, 'a0'],
    [new Map([[1, 2], [3, 4]]), 'a201020304'],
    [{ a: 1, b: [2, 3] }, 'a26161016162820203'],
  ];
  for (const [value, expected] of vectors) {
    test(`encodes ${expected}`, () => assert.equal(hex(encodeCbor(value)), expected));
  }

  test('sorts map keys canonically (length first, then bytewise)', () => {
    const map = new Map<CborValue, CborValue>([
      ['bb', 1],
      ['a', 2],
      [-1, 3],
      [10, 4],
    ]);
    assert.equal(hex(encodeCbor(map)), 'a40a04200361610262626201');
    assert.equal(hex(encodeCbor(map, { canonical: false })), 'a46262620161610220030a04');
    assert.equal(hex(encodeCbor({ authData: 1, fmt: 2, attStmt: 3 })), 'a363666d74026761747453746d740368617574684461746101');
  });

  test('COSE key order is 1, 3, -1, -2, -3', () => {
    const key = new Map<number, CborValue>([
      [-3, new Uint8Array(1)],
      [-2, new Uint8Array(1)],
      [-1, 1],
      [3, -7],
      [1, 2],
    ]);
    assert.equal(hex(encodeCbor(key)), 'a5010203262001214100224100');
  });

  test('raw splices and rejects what it cannot encode', () => {
    assert.equal(hex(encodeCbor([cborRaw(fromHex('a20101')), 2])), '82a2010102');
    assert.throws(() => encodeCbor(2 ** 60), RangeError);
    assert.throws(() => encodeCbor(new Date() as unknown as CborValue), TypeError);
  });
});

describe('decodeCbor', () => {
  test('round-trips', () => {
    const value = new Map<CborValue, CborValue>([
      [1, 2],
      [-3, fromHex('cafe')],
      ['s', [true, false, null, 'x', -70000, 2n ** 63n]],
    ]);
    assert.deepEqual(decodeCbor(encodeCbor(value)), value);
  });

  test('prefix, trailing bytes, duplicates, floats', () => {
    assert.deepEqual(decodeCborPrefix(fromHex('0102')), { value: 1, length: 1 });
    assert.throws(() => decodeCbor(fromHex('0102')), /trailing/);
    assert.throws(() => decodeCbor(fromHex('a201010102')), /duplicate/);
    assert.throws(() => decodeCbor(fromHex('5f')), RangeError);
    assert.throws(() => decodeCbor(fromHex('44010203')), /end of input/);
    assert.equal(decodeCbor(fromHex('f93c00')), 1);
    assert.equal(decodeCbor(fromHex('fa47c35000')), 100000);
    assert.equal(decodeCbor(fromHex('fb3ff199999999999a')), 1.1);
  });
});
