import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { skeleton } from './confusables.ts';
import { usernameSkeleton } from './usernames.ts';

describe('skeleton (UTS #39 §4)', () => {
  test('whole-script look-alikes share a skeleton: Cyrillic "рау" and "paypal" with Cyrillic letters', () => {
    assert.equal(skeleton('\u0440\u0430\u0443'), 'pay');
    assert.equal(skeleton('\u0440\u0430\u0443\u0440\u0430l'), skeleton('paypal'));
    assert.equal(skeleton('\u0441\u043e\u0440\u0435'), 'cope');
    assert.equal(skeleton('\u039a\u039f\u03a1\u0391'), 'KOPA', 'Greek capitals');
  });

  test('digits and letters the data calls confusable: 1/l/I, 0/O, m/rn', () => {
    assert.equal(skeleton('user1'), skeleton('userl'));
    assert.equal(skeleton('userI'), skeleton('userl'));
    assert.equal(skeleton('B0B'), skeleton('BOB'));
    assert.equal(skeleton('modern'), skeleton('rnodern'));
  });

  test('mathematical and fullwidth forms map to their letters', () => {
    assert.equal(skeleton('\u{1D52D}\u{1D4B6}\u{1D561}'), skeleton('pap'));
    assert.equal(skeleton('\uFF41lice'), skeleton('alice'));
  });

  test('the data follows UTS #39, not intuition: Cyrillic к is a kra (ĸ), not k', () => {
    assert.equal(skeleton('\u043anown'), '\u0138nown');
    assert.notEqual(skeleton('\u043anown'), skeleton('known'));
  });

  test('the result is NFD, and every character of the table maps to its prototype', () => {
    assert.equal(skeleton('\u00e9'), 'e\u0301');
    const lines = readFileSync(new URL('../../../data/confusables.txt', import.meta.url), 'utf8').split('\n');
    let entries = 0;
    for (const line of lines) {
      if (line === '' || line.startsWith('#')) continue;
      const [from, to] = line.split(' ; ') as [string, string];
      const source = String.fromCodePoint(Number.parseInt(from, 16));
      const prototype = String.fromCodePoint(...to.split(' ').map((h) => Number.parseInt(h, 16)));
      assert.equal(skeleton(source), prototype, from);
      entries++;
    }
    assert.ok(entries > 5000, `${entries} entries`);
  });
});

describe('usernameSkeleton (case-insensitive look-alike key)', () => {
  test('Cyrillic capitals that look like Latin ones match the Latin name in any case', () => {
    assert.equal(usernameSkeleton('\u041a\u041e\u0420\u0410'), usernameSkeleton('kopa'));
    assert.equal(usernameSkeleton('\u0420\u0410\u0423'), usernameSkeleton('pay'));
    assert.equal(usernameSkeleton('\u0440\u0430\u0443'), usernameSkeleton('PAY'));
  });

  test('case variants and digit look-alikes of a name match it', () => {
    const key = usernameSkeleton('PayPal');
    for (const variant of ['paypal', 'PAYPAL', 'paypa1', 'PAYPAI', 'p\u0430yp\u0430l']) assert.equal(usernameSkeleton(variant), key, variant);
  });

  test('different names stay different', () => {
    for (const [a, b] of [
      ['alice', 'alicia'],
      ['bob', 'rob'],
      ['\u5c71\u7530', '\u5c71\u6751'],
      ['known', 'knowm'],
    ]) {
      assert.notEqual(usernameSkeleton(a as string), usernameSkeleton(b as string), `${a} / ${b}`);
    }
  });
});
