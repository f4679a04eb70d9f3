import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import { EACH, inSample, parseSigninFailedDelivery, receivesEvent, storedSigninFailedDelivery, summaryMessageId, summaryPayloadOf } from './webhooks.signin-failed.ts';

const ids = Array.from({ length: 2000 }, (_, i) => `0193a1c2-5e77-7f01-9a3c-${String(i).padStart(12, '0')}`);

test('settings: each, sampled with a rate in (0, 1], summary; anything else is a problem', () => {
  assert.deepEqual(parseSigninFailedDelivery({ mode: 'each' }), { ok: true, value: { mode: 'each' } });
  assert.deepEqual(parseSigninFailedDelivery({ mode: 'sampled', rate: 0.1 }), { ok: true, value: { mode: 'sampled', rate: 0.1 } });
  assert.deepEqual(parseSigninFailedDelivery({ mode: 'sampled', rate: 1 }), { ok: true, value: { mode: 'sampled', rate: 1 } });
  assert.deepEqual(parseSigninFailedDelivery({ mode: 'summary' }), { ok: true, value: { mode: 'summary' } });
  for (const bad of [
    null,
    'each',
    [],
    {},
    { mode: 'all' },
    { mode: 'sampled' },
    { mode: 'sampled', rate: 0 },
    { mode: 'sampled', rate: -0.5 },
    { mode: 'sampled', rate: 1.5 },
    { mode: 'sampled', rate: '0.1' },
    { mode: 'sampled', rate: Number.NaN },
    { mode: 'each', rate: 0.5 },
    { mode: 'summary', rate: 0.5 },
    { mode: 'summary', window: 60 },
    { mode: '__proto__' },
  ]) {
    const parsed = parseSigninFailedDelivery(bad);
    assert.equal(parsed.ok, false, JSON.stringify(bad));
  }
  assert.deepEqual(storedSigninFailedDelivery(null), EACH);
  assert.deepEqual(storedSigninFailedDelivery('{"mode":"sampled","rate":0.25}'), { mode: 'sampled', rate: 0.25 });
  assert.deepEqual(storedSigninFailedDelivery('not json'), EACH);
});

test('the decision: other types always pass; signin.failed each, sampled by the event id, or not at all in summary mode', () => {
  for (const setting of [EACH, { mode: 'sampled' as const, rate: 0.01 }, { mode: 'summary' as const }]) {
    assert.equal(receivesEvent(setting, 'signin.succeeded', ids[0] ?? ''), true);
    assert.equal(receivesEvent(setting, 'user.created', ids[0] ?? ''), true);
  }
  assert.ok(ids.every((id) => receivesEvent(EACH, 'signin.failed', id)));
  assert.ok(ids.every((id) => !receivesEvent({ mode: 'summary' }, 'signin.failed', id)));
  assert.equal(receivesEvent({ mode: 'summary' }, 'signin.failed.summary', 'x'), true);
  assert.equal(receivesEvent(EACH, 'signin.failed.summary', 'x'), false);
  assert.ok(ids.every((id) => receivesEvent({ mode: 'sampled', rate: 1 }, 'signin.failed', id)), 'rate 1 is every event');
});

test('sampling: the documented rule, about the rate, stable, and nested (a higher rate gets a superset)', () => {
  // The README's rule, written out independently.
  const rule = (id: string, rate: number) => createHash('sha256').update(id).digest().readUInt32BE(0) / 2 ** 32 < rate;
  for (const rate of [0.05, 0.1, 0.5]) {
    const picked = ids.filter((id) => receivesEvent({ mode: 'sampled', rate }, 'signin.failed', id));
    assert.deepEqual(picked, ids.filter((id) => rule(id, rate)));
    // 2,000 draws: the share is within 4 standard deviations of the rate.
    const sd = Math.sqrt((rate * (1 - rate)) / ids.length);
    assert.ok(Math.abs(picked.length / ids.length - rate) < 4 * sd, `${picked.length} of ${ids.length} at ${rate}`);
    assert.deepEqual(picked, ids.filter((id) => inSample(id, rate)), 'the same answer every time');
  }
  const tenth = ids.filter((id) => inSample(id, 0.1));
  assert.ok(tenth.every((id) => inSample(id, 0.5)));
});

test('a summary: the window, total, counts by method and by method and error code; no ids of anyone', () => {
  const start = Date.UTC(2026, 11, 4, 10, 15, 0);
  const body = JSON.parse(
    summaryPayloadOf({ start, end: start + 60_000 }, [
      { method: 'password', errorCode: 'invalid_credentials', count: 2 },
      { method: 'passkey', errorCode: 'verification_failed', count: 5 },
      { method: 'passkey', errorCode: 'challenge_invalid', count: 1 },
      { method: 'email_code', errorCode: 'code_invalid', count: 0 },
    ]),
  );
  assert.deepEqual(body, {
    type: 'signin.failed.summary',
    timestamp: '2026-12-04T10:16:00.000Z',
    data: {
      windowStart: '2026-12-04T10:15:00.000Z',
      windowEnd: '2026-12-04T10:16:00.000Z',
      total: 8,
      byMethod: { passkey: 6, password: 2 },
      counts: [
        { method: 'passkey', errorCode: 'challenge_invalid', count: 1 },
        { method: 'passkey', errorCode: 'verification_failed', count: 5 },
        { method: 'password', errorCode: 'invalid_credentials', count: 2 },
      ],
    },
  });
  assert.equal(summaryMessageId('e1', start), summaryMessageId('e1', start), 'the same minute, the same webhook-id on every node');
  assert.notEqual(summaryMessageId('e1', start), summaryMessageId('e2', start));
  assert.notEqual(summaryMessageId('e1', start), summaryMessageId('e1', start + 60_000));
});
