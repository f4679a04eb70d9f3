import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import { EACH, inSample, parseSigninDelivery, receivesEvent, storedSigninDeliveries, storedSigninDelivery, summaryMessageId, summaryPayloadOf, type SigninDelivery } from './webhooks.signin-delivery.ts';

const ids = Array.from({ length: 2000 }, (_, i) => `0193a1c2-5e77-7f01-9a3c-${String(i).padStart(12, '0')}`);

test('settings: each, sampled with a rate in (0, 1], summary; anything else is a problem', () => {
  assert.deepEqual(parseSigninDelivery({ mode: 'each' }), { ok: true, value: { mode: 'each' } });
  assert.deepEqual(parseSigninDelivery({ mode: 'sampled', rate: 0.1 }), { ok: true, value: { mode: 'sampled', rate: 0.1 } });
  assert.deepEqual(parseSigninDelivery({ mode: 'sampled', rate: 1 }), { ok: true, value: { mode: 'sampled', rate: 1 } });
  assert.deepEqual(parseSigninDelivery({ mode: 'summary' }), { ok: true, value: { mode: 'summary' } });
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
    const parsed = parseSigninDelivery(bad);
    assert.equal(parsed.ok, false, JSON.stringify(bad));
  }
  assert.deepEqual(storedSigninDelivery(null), EACH);
  assert.deepEqual(storedSigninDelivery('{"mode":"sampled","rate":0.25}'), { mode: 'sampled', rate: 0.25 });
  assert.deepEqual(storedSigninDelivery('not json'), EACH);
});

/** Both outcomes' settings, failures as given and successes each unless named. */
const only = (failed: SigninDelivery, succeeded: SigninDelivery = EACH) => ({ failed, succeeded });

test('the decision: other types always pass; signin.failed each, sampled by the event id, or not at all in summary mode', () => {
  for (const setting of [EACH, { mode: 'sampled' as const, rate: 0.01 }, { mode: 'summary' as const }]) {
    assert.equal(receivesEvent(only(setting), 'signin.succeeded', ids[0] ?? ''), true);
    assert.equal(receivesEvent(only(setting), 'user.created', ids[0] ?? ''), true);
  }
  assert.ok(ids.every((id) => receivesEvent(only(EACH), 'signin.failed', id)));
  assert.ok(ids.every((id) => !receivesEvent(only({ mode: 'summary' }), 'signin.failed', id)));
  assert.equal(receivesEvent(only({ mode: 'summary' }), 'signin.failed.summary', 'x'), true);
  assert.equal(receivesEvent(only(EACH), 'signin.failed.summary', 'x'), false);
  assert.ok(ids.every((id) => receivesEvent(only({ mode: 'sampled', rate: 1 }), 'signin.failed', id)), 'rate 1 is every event');
});

test('the decision for successes is the same rule on signin.succeeded, independent of the failures', () => {
  const summarized = only(EACH, { mode: 'summary' });
  assert.ok(ids.every((id) => !receivesEvent(summarized, 'signin.succeeded', id)));
  assert.ok(ids.every((id) => receivesEvent(summarized, 'signin.failed', id)), 'failures still each');
  assert.equal(receivesEvent(summarized, 'signin.succeeded.summary', 'x'), true);
  assert.equal(receivesEvent(summarized, 'signin.failed.summary', 'x'), false);
  assert.equal(receivesEvent(only({ mode: 'summary' }), 'signin.succeeded.summary', 'x'), false);
  const sampled = only({ mode: 'summary' }, { mode: 'sampled', rate: 0.1 });
  assert.deepEqual(
    ids.filter((id) => receivesEvent(sampled, 'signin.succeeded', id)),
    ids.filter((id) => inSample(id, 0.1)),
    'the same sampling rule as failures',
  );
  assert.deepEqual(storedSigninDeliveries({ signin_failed: '{"mode":"summary"}', signin_succeeded: null }), { failed: { mode: 'summary' }, succeeded: EACH });
});

test('sampling: the documented rule, about the rate, stable, and nested (a higher rate gets a superset)', () => {
  // The README's rule, written out independently.
  const rule = (id: string, rate: number) => createHash('sha256').update(id).digest().readUInt32BE(0) / 2 ** 32 < rate;
  for (const rate of [0.05, 0.1, 0.5]) {
    const picked = ids.filter((id) => receivesEvent(only({ mode: 'sampled', rate }), 'signin.failed', id));
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
    summaryPayloadOf('failed', { start, end: start + 60_000 }, [
      { method: 'password', errorCode: 'invalid_credentials', count: 2 },
      { method: 'passkey', errorCode: 'verification_failed', count: 3 },
      { method: 'passkey', errorCode: 'challenge_invalid', count: 1 },
      { method: 'passkey', errorCode: 'verification_failed', count: 2 },
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
  assert.equal(summaryMessageId('failed', 'e1', start), summaryMessageId('failed', 'e1', start), 'the same minute, the same webhook-id on every node');
  assert.equal(summaryMessageId('failed', 'e1', start), `msg_sfs_e1_${start}`);
  assert.notEqual(summaryMessageId('failed', 'e1', start), summaryMessageId('failed', 'e2', start));
  assert.notEqual(summaryMessageId('failed', 'e1', start), summaryMessageId('failed', 'e1', start + 60_000));
  assert.notEqual(summaryMessageId('failed', 'e1', start), summaryMessageId('succeeded', 'e1', start), 'the two summaries of one minute are two messages');
});

test('a success summary: counts by method only, rows of one method merged', () => {
  const start = Date.UTC(2026, 11, 4, 10, 15, 0);
  const body = JSON.parse(
    summaryPayloadOf('succeeded', { start: start + 5_000, end: start + 60_000 }, [
      { method: 'passkey', count: 40 },
      { method: 'password', count: 3 },
      { method: 'passkey', count: 2 },
      { method: 'recovery', count: 1 },
      { method: 'email_code', count: 0 },
    ]),
  );
  assert.deepEqual(body, {
    type: 'signin.succeeded.summary',
    timestamp: '2026-12-04T10:16:00.000Z',
    data: {
      windowStart: '2026-12-04T10:15:05.000Z',
      windowEnd: '2026-12-04T10:16:00.000Z',
      total: 46,
      byMethod: { passkey: 42, password: 3, recovery: 1 },
      counts: [
        { method: 'passkey', count: 42 },
        { method: 'password', count: 3 },
        { method: 'recovery', count: 1 },
      ],
    },
  });
  assert.equal(summaryMessageId('succeeded', 'e1', start), `msg_sss_e1_${start}`);
});
