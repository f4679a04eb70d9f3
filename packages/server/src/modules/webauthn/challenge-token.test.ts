import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';
import { bindingTag, createChallengeCodec } from './challenge-token.ts';

const key = randomBytes(32);
const codec = createChallengeCodec(key);
const USER = '0190c5f2-7a3e-7c4d-8a9b-1234567890ab';
const SESSION = '0190c5f2-7a3e-7c4d-8a9b-5e5510000001';
const issue = (over: Partial<Parameters<typeof codec.issue>[0]> = {}) =>
  codec.issue({
    nonce: randomBytes(32),
    expiresAt: 1_800_000_000_000,
    ceremony: 'authentication',
    audience: { userId: USER },
    binding: 'binding-of-this-client',
    ...over,
  });

describe('sign-in challenge tokens', () => {
  test('carry what they were issued with, and a fresh nonce each time', () => {
    const nonce = randomBytes(32);
    const token = issue({ nonce, ceremony: 'step_up', sessionId: SESSION });
    const claims = codec.open(token);
    assert.ok(claims);
    assert.equal(claims.nonce, nonce.toString('base64url'));
    assert.equal(claims.expiresAt, 1_800_000_000_000);
    assert.equal(claims.ceremony, 'step_up');
    assert.equal(codec.isFor(claims, USER), true);
    assert.equal(codec.isFor(claims, '0190c5f2-7a3e-7c4d-8a9b-000000000000'), false);
    assert.deepEqual(claims.bindingTag, bindingTag('binding-of-this-client'));
    assert.notEqual(issue(), issue());
    assert.equal(codec.isForSession(claims, SESSION), true);
    assert.equal(codec.isForSession(claims, '0190c5f2-7a3e-7c4d-8a9b-000000000001'), false, "another session's step-up");
    assert.equal(codec.open(issue())?.sessionTag, null, 'a sign-in challenge names no session');
  });

  test('a step-up, and only a step-up, is bound to the session that asked (issue 9)', () => {
    assert.throws(() => issue({ ceremony: 'step_up' }));
    assert.throws(() => issue({ sessionId: SESSION }));
    // The flags say which tags follow; a step-up flag with the session bit cleared is another token
    // entirely (its MAC no longer matches), so the binding cannot be stripped.
    const bytes = Buffer.from(issue({ ceremony: 'step_up', sessionId: SESSION }), 'base64url');
    assert.equal(bytes.length, 1 + 32 + 6 + 1 + 16 + 16 + 16 + 16);
  });

  test('discoverable sign-in names no user; an unknown username is answered by no user', () => {
    const discoverable = codec.open(issue({ audience: null }));
    assert.equal(discoverable?.userTag, null);
    assert.equal(codec.isFor(discoverable!, USER), false);
    const unknown = codec.open(issue({ audience: { unknownUsernameKey: 'nobody-here' } }));
    assert.ok(unknown?.userTag);
    assert.equal(codec.isFor(unknown, USER), false);
  });

  test('reveal nothing that tells a known username from an unknown one (SEC-20)', () => {
    const known = issue({ audience: { userId: USER } });
    const unknown = issue({ audience: { unknownUsernameKey: 'nobody-here' } });
    assert.equal(known.length, unknown.length);
    const knownBytes = Buffer.from(known, 'base64url');
    const unknownBytes = Buffer.from(unknown, 'base64url');
    assert.equal(knownBytes[39], unknownBytes[39], 'the same flags');
    assert.equal(knownBytes.includes(Buffer.from(USER)), false, 'no user id in the clear');
    assert.equal(knownBytes.includes(Buffer.from(USER.replaceAll('-', ''), 'hex')), false, 'nor its bytes');
  });

  test('carry 32 random bytes (SEC-01), are base64url, and short enough for any client', () => {
    const token = issue();
    assert.match(token, /^[A-Za-z0-9_-]+$/);
    assert.ok(Buffer.from(token, 'base64url').length >= 32 + 16);
    assert.ok(token.length <= 160, `${token.length} characters`);
  });

  test('any changed byte, a cut, or another server key is refused', () => {
    const bytes = Buffer.from(issue(), 'base64url');
    for (let i = 0; i < bytes.length; i++) {
      for (const bit of [0x01, 0x80]) {
        const forged = Buffer.from(bytes);
        forged[i] = (forged[i] as number) ^ bit;
        assert.equal(codec.open(forged.toString('base64url')), undefined, `byte ${i} bit ${bit}`);
      }
    }
    assert.equal(codec.open(bytes.subarray(0, bytes.length - 1).toString('base64url')), undefined);
    assert.equal(codec.open(Buffer.concat([bytes, Buffer.from([0])]).toString('base64url')), undefined);
    assert.equal(createChallengeCodec(randomBytes(32)).open(bytes.toString('base64url')), undefined);
  });

  test('anything that is not one of ours is refused without an exception', () => {
    for (const text of ['', 'a', randomBytes(32).toString('base64url'), 'not base64url!', '=====', 'A'.repeat(5000), '\u0000']) {
      assert.equal(codec.open(text), undefined, JSON.stringify(text.slice(0, 20)));
    }
  });
});
