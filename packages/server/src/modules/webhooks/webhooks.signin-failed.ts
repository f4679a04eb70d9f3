import { createHash } from 'node:crypto';

/**
 * How an endpoint receives sign-in failures (issue 12: "aggregated or sampled, the endpoint
 * chooses"): every `signin.failed` event, a deterministic sample of them, or one
 * `signin.failed.summary` a minute instead. Stored as JSON in `webhook_endpoints.signin_failed`.
 */
export type SigninFailedDelivery = { mode: 'each' } | { mode: 'sampled'; rate: number } | { mode: 'summary' };

export const EACH: SigninFailedDelivery = Object.freeze({ mode: 'each' });

const MODES = ['each', 'sampled', 'summary'] as const;

/** Checks an endpoint's `signinFailed` as a client sent it; answers the normalized setting or the first problem. */
export function parseSigninFailedDelivery(input: unknown): { ok: true; value: SigninFailedDelivery } | { ok: false; problem: string } {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) return { ok: false, problem: 'an object such as {"mode": "each"}' };
  const { mode, rate, ...rest } = input as Record<string, unknown>;
  const unknown = Object.keys(rest)[0];
  if (unknown !== undefined) return { ok: false, problem: `unknown field "${unknown.slice(0, 32)}" (mode, rate)` };
  if (!MODES.includes(mode as (typeof MODES)[number])) return { ok: false, problem: 'mode is "each", "sampled" or "summary"' };
  if (mode === 'sampled') {
    if (typeof rate !== 'number' || !Number.isFinite(rate) || rate <= 0 || rate > 1) return { ok: false, problem: 'rate is a number above 0 and at most 1 (0.1: one failure in ten)' };
    return { ok: true, value: { mode, rate } };
  }
  if (rate !== undefined) return { ok: false, problem: `rate goes with mode "sampled" only, not "${String(mode)}"` };
  return { ok: true, value: mode === 'summary' ? { mode } : EACH };
}

/** The stored column, read back (written only by `parseSigninFailedDelivery`); anything else is "each". */
export function storedSigninFailedDelivery(json: string | null | undefined): SigninFailedDelivery {
  if (!json) return EACH;
  try {
    const parsed = parseSigninFailedDelivery(JSON.parse(json));
    return parsed.ok ? parsed.value : EACH;
  } catch {
    return EACH;
  }
}

/**
 * Whether an event of `type` goes to an endpoint with this setting (its event filter already let
 * it through). The one place the choice is made: a function of the setting, the type and the event
 * id only, so every node, every fan-out pass and every retry decide alike.
 */
export function receivesEvent(setting: SigninFailedDelivery, type: string, eventId: string): boolean {
  if (type === 'signin.failed') return setting.mode === 'each' || (setting.mode === 'sampled' && inSample(eventId, setting.rate));
  if (type === SUMMARY_TYPE) return setting.mode === 'summary';
  return true;
}

/**
 * The sampling rule (README, "Webhooks"): an event is in the sample when the first four bytes of
 * SHA-256 of its id, read as a big-endian unsigned integer and divided by 2^32, are below `rate`.
 * Endpoints with the same rate get the same events; a higher rate gets a superset.
 */
export function inSample(eventId: string, rate: number): boolean {
  return createHash('sha256').update(eventId).digest().readUInt32BE(0) / 2 ** 32 < rate;
}

export const SUMMARY_TYPE = 'signin.failed.summary';
/** One minute: a summary covers the failures of one minute of the clock (UTC). */
export const SUMMARY_WINDOW_MS = 60_000;

/** The summary's `webhook-id`: derived from (endpoint, minute), so two nodes writing it write one delivery. */
export function summaryMessageId(endpointId: string, minuteStart: number): string {
  return `msg_sfs_${endpointId}_${minuteStart}`;
}

/** Failures of one method and error code in a window. */
export interface FailureCount {
  method: string;
  errorCode: string;
  count: number;
}

/**
 * The body of a `signin.failed.summary`: the window and the counts, nothing about anyone (no user
 * ids, no addresses, no event ids). `timestamp` is the window's end.
 */
export function summaryPayloadOf(window: { start: number; end: number }, counts: readonly FailureCount[]): string {
  const sorted = [...counts].filter((c) => c.count > 0).sort((a, b) => a.method.localeCompare(b.method) || a.errorCode.localeCompare(b.errorCode));
  const byMethod: Record<string, number> = {};
  let total = 0;
  for (const c of sorted) {
    byMethod[c.method] = (byMethod[c.method] ?? 0) + c.count;
    total += c.count;
  }
  const end = new Date(window.end).toISOString();
  return JSON.stringify({ type: SUMMARY_TYPE, timestamp: end, data: { windowStart: new Date(window.start).toISOString(), windowEnd: end, total, byMethod, counts: sorted } });
}
