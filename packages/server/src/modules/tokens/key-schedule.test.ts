import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { JWKS_MAX_AGE_SECONDS, KEY_REFRESH_MS, keySchedule, nextKeyDue, PUBLISH_LEAD_MS, retentionMs, rotationAt, type ScheduledKey } from './key-schedule.ts';

const MIN = 60_000;
const DAY = 86_400_000;
const T0 = Date.UTC(2026, 11, 3);

/** Key 1 made at T0 (active at once); key 2 made by a rotation at `rotatedAt`; retention for 300 s tokens. */
function rotated(rotatedAt: number): ScheduledKey[] {
  const retention = retentionMs(300);
  const second = rotationAt([{ kid: 'a', seq: 1, createdAt: T0, activatedAt: T0, retiredAt: null, publishedUntil: null }], rotatedAt);
  return [
    { kid: 'a', seq: 1, createdAt: T0, activatedAt: T0, retiredAt: second.activatedAt, publishedUntil: second.activatedAt + retention },
    { kid: 'b', seq: second.seq, createdAt: rotatedAt, activatedAt: second.activatedAt, retiredAt: null, publishedUntil: null },
  ];
}

const kids = (keys: readonly ScheduledKey[]) => keys.map((k) => k.kid);

describe('token signing key schedule', () => {
  test('the publish lead covers the JWKS max-age and a node refresh; retention covers max-age and the longest token', () => {
    assert.ok(PUBLISH_LEAD_MS >= JWKS_MAX_AGE_SECONDS * 1000 + KEY_REFRESH_MS);
    assert.ok(retentionMs(300) >= (JWKS_MAX_AGE_SECONDS + 300) * 1000 + KEY_REFRESH_MS);
  });

  test('a fresh install makes key 1, active at once; none is due again until the rotation age', () => {
    assert.deepEqual(nextKeyDue([], T0, 30), { seq: 1, activatedAt: T0 });
    const one: ScheduledKey[] = [{ kid: 'a', seq: 1, createdAt: T0, activatedAt: T0, retiredAt: null, publishedUntil: null }];
    assert.equal(nextKeyDue(one, T0 + 30 * DAY - 1, 30), undefined);
    assert.deepEqual(nextKeyDue(one, T0 + 30 * DAY, 30), { seq: 2, activatedAt: T0 + 30 * DAY + PUBLISH_LEAD_MS });
    assert.equal(nextKeyDue(one, T0 + 3650 * DAY, 0), undefined, '0: rotation by hand only');
  });

  test('after a rotation: both published, the old one signs until the new one activates', () => {
    const at = T0 + DAY;
    const keys = rotated(at);
    const now = keySchedule(keys, at);
    assert.equal(now.signing?.kid, 'a', 'the new key does not sign yet');
    assert.deepEqual(kids(now.published), ['b', 'a'], 'the new key is published at once, newest first');
    assert.equal(now.changesAt, at + PUBLISH_LEAD_MS);
    assert.equal(keySchedule(keys, at + PUBLISH_LEAD_MS - 1).signing?.kid, 'a');
  });

  test('at activation the new key signs; the retired key stays published for its retention, then leaves', () => {
    const at = T0 + DAY;
    const keys = rotated(at);
    const active = at + PUBLISH_LEAD_MS;
    const then = keySchedule(keys, active);
    assert.equal(then.signing?.kid, 'b');
    assert.deepEqual(kids(then.published), ['b', 'a'], 'old tokens still verify');
    assert.equal(then.changesAt, active + retentionMs(300));
    assert.deepEqual(kids(keySchedule(keys, active + retentionMs(300) - 1).published), ['b', 'a']);
    const later = keySchedule(keys, active + retentionMs(300));
    assert.deepEqual(kids(later.published), ['b'], 'gone after max-age + longest token lifetime');
    assert.equal(later.changesAt, Number.POSITIVE_INFINITY);
  });

  test('two rotations in a row: the newest activated key signs; a key made in the future is not yet published', () => {
    const keys: ScheduledKey[] = [
      { kid: 'a', seq: 1, createdAt: T0, activatedAt: T0, retiredAt: T0 + 10 * MIN, publishedUntil: T0 + 30 * MIN },
      { kid: 'b', seq: 2, createdAt: T0 + 3 * MIN, activatedAt: T0 + 10 * MIN, retiredAt: T0 + 12 * MIN, publishedUntil: T0 + 32 * MIN },
      { kid: 'c', seq: 3, createdAt: T0 + 5 * MIN, activatedAt: T0 + 12 * MIN, retiredAt: null, publishedUntil: null },
    ];
    assert.equal(keySchedule(keys, T0 + 4 * MIN).signing?.kid, 'a');
    assert.deepEqual(kids(keySchedule(keys, T0 + 4 * MIN).published), ['b', 'a'], 'c is not created yet at this time');
    assert.equal(keySchedule(keys, T0 + 11 * MIN).signing?.kid, 'b');
    assert.equal(keySchedule(keys, T0 + 12 * MIN).signing?.kid, 'c');
    assert.deepEqual(kids(keySchedule(keys, T0 + 31 * MIN).published), ['c', 'b']);
    assert.equal(keySchedule([], T0).signing, undefined, 'no key, nothing signs');
    assert.equal(rotationAt(keys, T0).seq, 4);
  });
});
