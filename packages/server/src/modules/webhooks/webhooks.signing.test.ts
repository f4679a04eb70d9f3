import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Webhook } from 'standardwebhooks';
import { newEndpointSecret, nextAttemptAt, signerFor, webhookHeaders, type RetryPolicy } from './webhooks.signing.ts';
import { randomBytes } from 'node:crypto';

const bytes = (n: number) => new Uint8Array(randomBytes(n));

test('signatures verify with the reference library, one or two secrets (SEC-57)', () => {
  const current = newEndpointSecret(bytes);
  const previous = newEndpointSecret(bytes);
  assert.match(current, /^whsec_[A-Za-z0-9+/]{43}=$/);
  const body = JSON.stringify({ type: 'user.created', timestamp: '2026-12-04T10:00:00.000Z', data: { userId: 'u1' } });
  const headers = webhookHeaders({ messageId: 'msg_1', timestampMs: Date.now(), body, signers: [signerFor(current), signerFor(previous)] });
  assert.equal(headers['webhook-signature']?.split(' ').length, 2);
  assert.deepEqual(new Webhook(current).verify(body, headers), JSON.parse(body));
  assert.deepEqual(new Webhook(previous).verify(body, headers), JSON.parse(body));
  assert.throws(() => new Webhook(newEndpointSecret(bytes)).verify(body, headers));
  assert.throws(() => new Webhook(current).verify(`${body} `, headers));
});

test('signatures are byte for byte the reference library\'s, for any secret, id, time and body', () => {
  const bodies = ['', '{}', JSON.stringify({ type: 'user.updated', data: { displayName: 'Zoë 🦊 Ünïcødé', note: 'a\u0000b\n"c"' } }), 'x'.repeat(70_000)];
  for (let i = 0; i < 200; i += 1) {
    // Secrets of every length the spec allows (24 to 64 bytes), with and without the prefix.
    const raw = Buffer.from(bytes(24 + (i % 41))).toString('base64');
    const secret = i % 2 === 0 ? `whsec_${raw}` : raw;
    const messageId = `msg_${Buffer.from(bytes(1 + (i % 30))).toString('hex')}`;
    const timestampMs = 1_700_000_000_000 + i * 7_777_777 + (i % 1000);
    const body = bodies[i % bodies.length] ?? '';
    const ours = signerFor(secret).sign(messageId, Math.floor(timestampMs / 1000), body);
    assert.equal(ours, new Webhook(secret).sign(messageId, new Date(timestampMs), body), `secret ${secret}`);
  }
  assert.throws(() => signerFor('whsec_not base64!'));
});

test('retry schedule: doubling with jitter, capped, Retry-After honoured up to its cap, then give up', () => {
  const policy: RetryPolicy = { baseMs: 60_000, maxDelayMs: 12 * 3600_000, maxAttempts: 16, retryAfterMaxMs: 3600_000 };
  const mid = (attempts: number) => (nextAttemptAt({ now: 0, attempts, policy, jitter: 0.5, retryAfterSeconds: null }) ?? Number.NaN);
  assert.equal(mid(1), 60_000);
  assert.equal(mid(2), 120_000);
  assert.equal(mid(11), 12 * 3600_000);
  assert.equal(nextAttemptAt({ now: 0, attempts: 16, policy, jitter: 0.5, retryAfterSeconds: null }), null);
  let total = 0;
  for (let n = 1; n < 16; n += 1) total += mid(n);
  // About three days in all (README: "Retries").
  assert.ok(total > 2.5 * 86_400_000 && total < 3.5 * 86_400_000, `${total / 86_400_000} days`);
  assert.equal(nextAttemptAt({ now: 0, attempts: 1, policy, jitter: 0, retryAfterSeconds: null }), 45_000);
  assert.equal(nextAttemptAt({ now: 0, attempts: 1, policy, jitter: 0.999, retryAfterSeconds: null }), 74_970);
  assert.equal(nextAttemptAt({ now: 0, attempts: 1, policy, jitter: 0.5, retryAfterSeconds: 600 }), 600_000);
  assert.equal(nextAttemptAt({ now: 0, attempts: 1, policy, jitter: 0.5, retryAfterSeconds: 999_999 }), 3600_000);
});
