import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { caseFold, DISPLAY_NAME_MAX, isEmailShaped, normalizeDisplayName, normalizeUsername, USERNAME_MAX } from './usernames.ts';

function key(input: string): string {
  const r = normalizeUsername(input);
  assert.ok(r.ok, `${JSON.stringify(input)} should be a valid username: ${r.ok ? '' : r.problem}`);
  return r.key;
}
function refused(input: string): string {
  const r = normalizeUsername(input);
  assert.ok(!r.ok, `${JSON.stringify(input)} should be refused, got ${JSON.stringify(r)}`);
  return r.problem;
}

describe('normalizeUsername', () => {
  test('Alice, alice, ALICE and fullwidth Ａlice are one account (SEC-19)', () => {
    const k = key('alice');
    for (const variant of ['Alice', 'ALICE', 'aLiCe', 'Ａlice', 'ＡＬＩＣＥ', ' alice ']) assert.equal(key(variant), k, variant);
    assert.notEqual(key('alice2'), k);
    assert.notEqual(key('alic'), k);
  });

  test('the display form keeps its case but is width-mapped, trimmed and NFC', () => {
    const r = normalizeUsername('  Ａlice  ');
    assert.deepEqual(r, { ok: true, username: 'Alice', key: 'alice' });
    const decomposed = normalizeUsername('Jose\u0301');
    assert.ok(decomposed.ok);
    assert.equal(decomposed.username, 'Jos\u00e9', 'NFC');
    assert.equal(key('Jose\u0301'), key('JOS\u00c9'), 'composed and decomposed forms collide');
  });

  test('ß and SS collide (full case folding)', () => {
    assert.equal(key('straße'), key('STRASSE'));
    assert.equal(key('straße'), key('strasse'));
    assert.equal(key('ß'), 'ss');
  });

  test('capital sharp s ẞ (U+1E9E) collides with ß and ss too', {
  }, () => {
    assert.equal(key('STRAẞE'), key('straße'));
    assert.equal(caseFold('ẞ'), 'ss');
  });

  test('compatibility forms fold in the key (ligatures, superscripts, Roman numerals)', () => {
    assert.equal(key('ﬁle'), key('file'));
    assert.equal(key('x²'), key('x2'));
    assert.equal(key('Ⅻ'), key('xii'));
  });

  test('Greek sigma forms collide', () => {
    assert.equal(key('ΟΔΟΣ'), key('οδος'));
    assert.equal(key('οδοσ'), key('οδος'));
  });

  test('bidirectional and other format characters are refused (SEC-19)', () => {
    for (const bad of ['evil\u202Egnp', 'a\u202Db', 'a\u200Fb', 'a\u200Eb', 'a\u2066b\u2069', 'zero\u200Bwidth', 'a\u2060b', 'a\uFEFFb', 'soft\u00ADhyphen']) {
      assert.match(refused(bad), /control|format|bidi/i, JSON.stringify(bad));
    }
  });

  test('control characters, line separators, private-use and lone surrogates are refused', () => {
    for (const bad of ['a\u0000b', 'bell\u0007', 'a\u001bb', 'a\u007fb', 'a\u0085b', 'a\u2028b', 'a\u2029b', 'pua\uE000', 'half\uD800', 'half\uDC00x']) {
      refused(bad);
    }
  });

  test('spaces inside a username are refused; surrounding whitespace is trimmed', () => {
    for (const bad of ['two words', 'a\u00A0b', 'a\u2003b', 'a\u3000b', 'tab\there', 'new\nline']) refused(bad);
    assert.equal(key('\t alice \n'), key('alice'));
  });

  test('length: 1 to 64 characters, counted in code points not UTF-16 units', () => {
    assert.match(refused(''), /empty/);
    assert.match(refused('   '), /empty/);
    assert.ok(normalizeUsername('a').ok);
    assert.ok(normalizeUsername('x'.repeat(USERNAME_MAX)).ok);
    assert.match(refused('x'.repeat(USERNAME_MAX + 1)), /64/);
    assert.ok(normalizeUsername('😀'.repeat(USERNAME_MAX)).ok, '64 emoji are 128 UTF-16 units but 64 characters');
    refused('😀'.repeat(USERNAME_MAX + 1));
    assert.equal(USERNAME_MAX, 64);
  });

  test('ordinary usernames pass unchanged', () => {
    for (const name of ['alice', 'bob.smith', 'carol_1', 'dave-2', 'erin@example.com', 'Zoë', 'Ünal', '山田', 'محمد', '🦊fox']) {
      const r = normalizeUsername(name);
      assert.ok(r.ok, name);
      assert.equal(r.username, name);
    }
  });

  test('the key is stable: normalizing a key gives the same key', () => {
    for (const name of ['Alice', 'straße', 'ﬁle', 'ΟΔΟΣ', 'Jose\u0301', 'Ａlice']) {
      const k = key(name);
      assert.equal(key(k), k, name);
    }
  });
});

describe('normalizeDisplayName', () => {
  test('whitespace collapsed and trimmed, NFKC', () => {
    assert.deepEqual(normalizeDisplayName('  Alice   A.  '), { ok: true, displayName: 'Alice A.' });
    assert.deepEqual(normalizeDisplayName('Ａlice'), { ok: true, displayName: 'Alice' });
    assert.deepEqual(normalizeDisplayName('tab\there'), { ok: true, displayName: 'tab here' });
  });

  test('empty, too long, control and bidi are refused', () => {
    for (const bad of ['', '   ', 'x'.repeat(DISPLAY_NAME_MAX + 1), 'evil\u202Egnp', 'a\u0000b', 'zero\u200Bwidth']) {
      assert.equal(normalizeDisplayName(bad).ok, false, JSON.stringify(bad));
    }
    assert.equal(normalizeDisplayName('x'.repeat(DISPLAY_NAME_MAX)).ok, true);
  });
});

describe('isEmailShaped', () => {
  test('recognizes addresses, not handles', () => {
    for (const e of ['a@b.co', 'alice.smith@mail.example.com']) assert.equal(isEmailShaped(e), true, e);
    for (const e of ['alice', '@alice', 'alice@localhost', 'a@b', 'a@@b.co']) assert.equal(isEmailShaped(e), false, e);
  });
});
