import { Webhook } from 'standardwebhooks';

/**
 * Standard Webhooks signing (SEC-57) with the reference library: `v1,<base64 HMAC-SHA256 of
 * "id.timestamp.body">` per secret, space-separated when a rotation overlap sends two.
 */
export function signatureHeader(signers: readonly Webhook[], messageId: string, timestampMs: number, body: string): string {
  const at = new Date(Math.floor(timestampMs / 1000) * 1000);
  return signers.map((signer) => signer.sign(messageId, at, body)).join(' ');
}

/** A signer for one `whsec_…` secret (the reference library's; keep it, decoding the secret once). */
export function signerFor(secret: string): Webhook {
  return new Webhook(secret);
}

/** A new endpoint secret: `whsec_` and 32 random bytes in base64 (the spec allows 24 to 64). */
export function newEndpointSecret(randomBytes: (n: number) => Uint8Array): string {
  return `whsec_${Buffer.from(randomBytes(32)).toString('base64')}`;
}

/** The headers of one attempt. */
export function webhookHeaders(input: { messageId: string; timestampMs: number; body: string; signers: readonly Webhook[] }): Record<string, string> {
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
