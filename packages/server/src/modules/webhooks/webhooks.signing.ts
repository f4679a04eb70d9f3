import { createHmac } from 'node:crypto';
import { Webhook } from 'standardwebhooks';

const SECRET_PREFIX = 'whsec_';

/** Signs Standard Webhooks messages with one endpoint secret. */
export interface WebhookSigner {
  /** `v1,<base64 HMAC-SHA256 of "id.timestamp.body">` (timestamp in whole seconds). */
  sign(messageId: string, timestampSeconds: number, body: string): string;
}

/**
 * Standard Webhooks signing (SEC-57): one `v1,…` signature per secret, space-separated when a
 * rotation overlap sends two.
 */
export function signatureHeader(signers: readonly WebhookSigner[], messageId: string, timestampMs: number, body: string): string {
  const seconds = Math.floor(timestampMs / 1000);
  return signers.map((signer) => signer.sign(messageId, seconds, body)).join(' ');
}

/**
 * A signer for one `whsec_…` secret. The reference library (`standardwebhooks`) reads the secret,
 * so a secret it would refuse is refused here too; the HMAC itself is node:crypto's (OpenSSL),
 * not the library's pure-JavaScript SHA-256: the same bytes (webhooks.signing.test.ts compares
 * them with the library's `sign` and checks them with its `verify`) for a third of the CPU (4-5 µs
 * against 13-17), paid once per delivery attempt on the event loop (bench/RESULTS.md).
 */
export function signerFor(secret: string): WebhookSigner {
  new Webhook(secret); // throws on a secret the reference library cannot read
  const key = Buffer.from(secret.startsWith(SECRET_PREFIX) ? secret.slice(SECRET_PREFIX.length) : secret, 'base64');
  return {
    sign(messageId, timestampSeconds, body) {
      return `v1,${createHmac('sha256', key).update(`${messageId}.${timestampSeconds}.`).update(body).digest('base64')}`;
    },
  };
}

/** A new endpoint secret: `whsec_` and 32 random bytes in base64 (the spec allows 24 to 64). */
export function newEndpointSecret(randomBytes: (n: number) => Uint8Array): string {
  return `${SECRET_PREFIX}${Buffer.from(randomBytes(32)).toString('base64')}`;
}

/** The headers of one attempt. */
export function webhookHeaders(input: { messageId: string; timestampMs: number; body: string; signers: readonly WebhookSigner[] }): Record<string, string> {
  return {
    'content-type': 'application/json',
    'user-agent': 'Latchkey-Webhooks/1',
    'webhook-id': input.messageId,
    'webhook-timestamp': String(Math.floor(input.timestampMs / 1000)),
    'webhook-signature': signatureHeader(input.signers, input.messageId, input.timestampMs, input.body),
  };
}

export interface RetryPolicy {
  /** The first retry's delay; each next one doubles, up to `maxDelayMs`. */
  baseMs: number;
  maxDelayMs: number;
  /** Attempts in all (the first one included); then the delivery has failed. */
  maxAttempts: number;
  /** A receiver's Retry-After is honoured up to this. */
  retryAfterMaxMs: number;
}

/**
 * When to try again after `attempts` failed attempts, or null to give up (SEC-58): exponential
 * backoff, base·2^(n-1) capped, with ±25 % jitter (`jitter` in [0, 1)) so that receivers coming
 * back are not hit by every sender at once; never sooner than the receiver's Retry-After (capped).
 */
export function nextAttemptAt(input: { now: number; attempts: number; policy: RetryPolicy; jitter: number; retryAfterSeconds: number | null }): number | null {
  const { now, attempts, policy } = input;
  if (attempts >= policy.maxAttempts) return null;
  const exponential = Math.min(policy.maxDelayMs, policy.baseMs * 2 ** Math.min(attempts - 1, 40));
  const jittered = Math.round(exponential * (0.75 + 0.5 * input.jitter));
  const asked = input.retryAfterSeconds === null ? 0 : Math.min(input.retryAfterSeconds * 1000, policy.retryAfterMaxMs);
  return now + Math.max(jittered, asked);
}
