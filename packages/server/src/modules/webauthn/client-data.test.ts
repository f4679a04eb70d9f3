import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { crossOriginProblem, hasDuplicateKeys, parseClientData, type ClientData } from './client-data.ts';

const CHALLENGE = 'dGhpcyBpcyBhIDMyLWJ5dGUgY2hhbGxlbmdlIGZvciB0ZXN0cw';
const enc = (bytes: Uint8Array | string) => Buffer.from(typeof bytes === 'string' ? new TextEncoder().encode(bytes) : bytes).toString('base64url');
const json = (value: unknown) => enc(JSON.stringify(value));
const good = { type: 'webauthn.get', challenge: CHALLENGE, origin: 'http://localhost:8080', crossOrigin: false };

function problemOf(input: unknown): string {
  const r = parseClientData(input);
  assert.equal(r.ok, false, `should be refused: ${JSON.stringify(input)}`);
  return r.ok ? '' : r.problem;
}

describe('parseClientData', () => {
  test('a browser\'s clientDataJSON parses to its members', () => {
    const r = parseClientData(json(good));
    assert.deepEqual(r, { ok: true, clientData: { type: 'webauthn.get', challenge: CHALLENGE, origin: 'http://localhost:8080', crossOrigin: false, topOrigin: undefined } });
    const withTop = parseClientData(json({ ...good, crossOrigin: true, topOrigin: 'https://top.example' }));
    assert.ok(withTop.ok);
    assert.equal(withTop.clientData.topOrigin, 'https://top.example');
    // Members the spec may add later are ignored, not refused.
    assert.ok(parseClientData(json({ ...good, other_keys_can_be_added_here: 'do not compare clientDataJSON against a template' })).ok);
  });

  test('a leading UTF-8 BOM is stripped (WebAuthn "UTF-8 decode")', () => {
    const r = parseClientData(enc(`\uFEFF${JSON.stringify(good)}`));
    assert.ok(r.ok, r.ok ? '' : r.problem);
    assert.equal(r.clientData.challenge, CHALLENGE);
    // Only one, and only leading: a second BOM is not JSON.
    problemOf(enc(`\uFEFF\uFEFF${JSON.stringify(good)}`));
  });

  test('duplicate keys are refused, at the top level and nested (no last-one-wins)', () => {
    const base = JSON.stringify(good).slice(0, -1);
    const cases = [
      `${base},"origin":"https://evil.example"}`,
      `${base},"type":"webauthn.create"}`,
      `${base},"challenge":"${CHALLENGE}"}`,
      `${base},"tokenBinding":{"status":"present","status":"supported"}}`,
      `${base},"x":[{"a":1,"a":2}]}`,
      `${base},"x":{"y":{"z":1,"z":1}}}`,
      // The same key spelt with an escape is still the same key.
      `${base},"\\u006frigin":"https://evil.example"}`,
      `${base},"or\\u0069gin":"https://evil.example"}`,
    ];
    for (const text of cases) assert.match(problemOf(enc(text)), /duplicate/, text);
  });

  test('equal keys in different objects, and key-like strings in values, are not duplicates', () => {
    const texts = [
      JSON.stringify({ ...good, a: { type: 1 }, b: { type: 2 } }),
      JSON.stringify({ ...good, note: '"type":"x","type":"y"' }),
      JSON.stringify({ ...good, note: 'ends with a backslash \\' }),
      JSON.stringify({ ...good, list: [{ a: 1 }, { a: 2 }], nested: [[{ a: 1 }], { a: 3 }] }),
      JSON.stringify({ ...good, braces: '{[}]', quote: '\\"', a: 1 }),
    ];
    for (const text of texts) {
      const r = parseClientData(enc(text));
      assert.ok(r.ok, `${text}: ${r.ok ? '' : r.problem}`);
    }
  });

  test('bytes that are not UTF-8 are refused: invalid, overlong, surrogate, UTF-16', () => {
    const bad = [
      new Uint8Array([0xff, 0xfe, 0x7b, 0x00, 0x7d, 0x00]),
      Buffer.concat([Buffer.from('{"type":"webauthn.get","challenge":"'), Buffer.from([0xc3, 0x28]), Buffer.from('","origin":"x"}')]),
      Buffer.concat([Buffer.from('{"type":"webauthn.get","challenge":"a","origin":"'), Buffer.from([0xc0, 0xaf]), Buffer.from('"}')]),
      Buffer.concat([Buffer.from('{"type":"webauthn.get","challenge":"a","origin":"'), Buffer.from([0xed, 0xa0, 0x80]), Buffer.from('"}')]),
      Buffer.concat([Buffer.from(JSON.stringify(good).slice(0, -1)), Buffer.from([0x80]), Buffer.from('}')]),
    ];
    for (const bytes of bad) assert.match(problemOf(enc(bytes)), /UTF-8|JSON/, Buffer.from(bytes).toString('hex'));
  });

  test('not base64url, empty or too large is refused', () => {
    for (const input of ['not base64!', `${json(good)}=`, json(good).replace(/[-_]/g, '+') + '+/', 'A', '']) {
      problemOf(input);
    }
    problemOf(enc(JSON.stringify({ ...good, pad: 'x'.repeat(5000) })));
    for (const input of [undefined, null, 42, {}, ['x']]) problemOf(input);
  });

  test('correctly padded base64url is accepted (older client libraries pad; a recorded real response does)', () => {
    for (const extra of ['', 'x', 'xy', 'xyz']) {
      const text = JSON.stringify({ ...good, extra });
      const padded = Buffer.from(text).toString('base64');
      const result = parseClientData(padded.replace(/\+/g, '-').replace(/\//g, '_'));
      assert.ok(result.ok, padded);
    }
  });

  test('not a JSON object is refused', () => {
    for (const text of ['[]', '"webauthn.get"', 'null', '42', 'true', '{', '{"type":"webauthn.get",}', "{'type':'x'}", `${JSON.stringify(good)} trailing`]) {
      problemOf(enc(text));
    }
  });

  test('the members relied on must be present and of the right type', () => {
    const cases: Record<string, unknown>[] = [
      { ...good, type: undefined },
      { ...good, type: 1 },
      { ...good, challenge: undefined },
      { ...good, challenge: '' },
      { ...good, challenge: 'x'.repeat(257) },
      { ...good, challenge: ['x'] },
      { ...good, origin: undefined },
      { ...good, origin: null },
      { ...good, crossOrigin: 'true' },
      { ...good, crossOrigin: 1 },
      { ...good, topOrigin: 1 },
      { ...good, topOrigin: null },
    ];
    for (const data of cases) problemOf(json(data));
    // crossOrigin may be absent (older browsers).
    assert.ok(parseClientData(json({ type: 'webauthn.get', challenge: CHALLENGE, origin: 'http://localhost:8080' })).ok);
  });

  test('a challenge that is not base64url is refused before any lookup', {
  }, () => {
    for (const challenge of ['abc\u0000', '\u0000', 'has space', 'a+b/c=', '../../x', '😀']) {
      problemOf(json({ ...good, challenge }));
    }
  });
});

describe('hasDuplicateKeys', () => {
  test('finds duplicates in any object, ignores strings', () => {
    assert.equal(hasDuplicateKeys('{"a":1,"a":2}'), true);
    assert.equal(hasDuplicateKeys('{"a":{"b":1},"b":2}'), false);
    assert.equal(hasDuplicateKeys('{"a":{"b":1,"b":2}}'), true);
    assert.equal(hasDuplicateKeys('[{"a":1},{"a":1}]'), false);
    assert.equal(hasDuplicateKeys('[{"a":1,"a":1}]'), true);
    assert.equal(hasDuplicateKeys('{"a":"\\"a\\":1","b":1}'), false);
    assert.equal(hasDuplicateKeys('{"a\\\\":1,"a\\\\":2}'), true);
    assert.equal(hasDuplicateKeys('{"a":[1,2,{"c":1}],"c":1}'), false);
    assert.equal(hasDuplicateKeys('{ "a" : 1 , "a" : 2 }'), true);
    assert.equal(hasDuplicateKeys('{"":1,"":2}'), true);
    assert.equal(hasDuplicateKeys('{}'), false);
  });
});

describe('crossOriginProblem (SEC-04)', () => {
  const cd = (crossOrigin: boolean | undefined, topOrigin?: string): ClientData => ({ type: 'webauthn.get', challenge: CHALLENGE, origin: 'https://app.example.com', crossOrigin, topOrigin });

  test('same-origin ceremonies pass with or without an allowlist', () => {
    assert.equal(crossOriginProblem(cd(false), []), undefined);
    assert.equal(crossOriginProblem(cd(undefined), []), undefined);
    assert.equal(crossOriginProblem(cd(false), ['https://top.example']), undefined);
  });

  test('with no top-origin allowlist, crossOrigin: true or any topOrigin is refused', () => {
    assert.ok(crossOriginProblem(cd(true), []));
    assert.ok(crossOriginProblem(cd(true, 'https://top.example'), []));
    assert.ok(crossOriginProblem(cd(false, 'https://top.example'), []));
    assert.ok(crossOriginProblem(cd(undefined, 'https://top.example'), []));
  });

  test('with an allowlist, only crossOrigin: true together with a listed topOrigin passes', () => {
    const allow = ['https://top.example'];
    assert.equal(crossOriginProblem(cd(true, 'https://top.example'), allow), undefined);
    assert.ok(crossOriginProblem(cd(true, 'https://evil.example'), allow));
    assert.ok(crossOriginProblem(cd(true, 'https://top.example.evil.io'), allow));
    assert.ok(crossOriginProblem(cd(true, 'https://TOP.example'), allow), 'compared exactly');
    assert.ok(crossOriginProblem(cd(true), allow), 'crossOrigin without topOrigin');
    assert.ok(crossOriginProblem(cd(false, 'https://top.example'), allow), 'topOrigin without crossOrigin');
    assert.ok(crossOriginProblem(cd(undefined, 'https://top.example'), allow));
  });
});
