import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { mixedScriptProblem } from './mixed-script.ts';

const accepted = (name: string) => assert.equal(mixedScriptProblem(name), undefined, name);
const refused = (name: string, _what?: string) => assert.match(mixedScriptProblem(name) ?? '', /mixes scripts|unassigned/, name);

describe('mixedScriptProblem (UTS #39 §5.2, highly restrictive)', () => {
  test('single-script names pass, in any script, with digits and punctuation (Common)', () => {
    for (const name of ['known', 'bob.smith_2', 'Zo\u00eb', '\u0418\u0432\u0430\u043d', '\u0395\u03bb\u03bb\u03b7\u03bd\u03b9\u03ba\u03ac', '\u0645\u062d\u0645\u062f', '\u05d3\u05d5\u05d3', '\u0926\u0947\u0935', '\u0e2a\u0e21\u0e0a\u0e32\u0e22', '\u{1f98a}fox', 'caf\u00e9', 'nai\u0308ve']) {
      accepted(name);
    }
  });

  test('Japanese mixes Han, Hiragana and Katakana and passes, also with Latin', () => {
    accepted('\u5c71\u7530\u305f\u308d\u3046');
    accepted('\u30bf\u30ed\u30a6\u5c71\u7530');
    accepted('Tokyo\u6771\u4eac\u3068\u3046\u304d\u3087\u3046\u30c8\u30a6\u30ad\u30e7\u30a6');
  });

  test('Latin + Han + Bopomofo and Latin + Han + Hangul pass', () => {
    accepted('Lin\u6797\u310c\u3127\u3123');
    accepted('Kim\uae40\u91d1');
  });

  test('Latin with Cyrillic or Greek is refused ("кnown", "pаypal", "Ελλnvika")', () => {
    refused('\u043anown');
    refused('p\u0430ypal');
    refused('\u0395\u03bb\u03bbnvika');
    refused('Ivan.\u0418\u0432\u0430\u043d');
    assert.match(mixedScriptProblem('\u043anown') ?? '', /Cyrl, Latn/);
  });

  test('combinations outside the three allowed sets are refused', () => {
    refused('\u4e2d\u6587\u3105\ud55c', 'Han + Bopomofo + Hangul');
    refused('\u3042\ud55c', 'Hiragana + Hangul');
    refused('\u0627\u05d0', 'Arabic + Hebrew');
    refused('abc\u0e01', 'Latin + Thai');
  });

  test('unassigned code points are refused', () => {
    refused('a\u0378b');
  });

  test('fast enough to run on every sign-up', () => {
    const start = performance.now();
    for (let i = 0; i < 200; i++) mixedScriptProblem(`Tokyo\u6771\u4eac\u3068\u3046\u304d\u3087\u3046\u30c8\u30a6\u30ad\u30e7\u30a6${i}`);
    assert.ok((performance.now() - start) / 200 < 5, 'well under 5 ms a name');
  });
});
