import { createHash } from 'node:crypto';

/**
 * How an endpoint receives sign-in events (issue 12: "sign-in succeeded/failed (aggregated or
 * sampled, the endpoint chooses)"): for each outcome, every event, a deterministic sample of them,
 * or one summary a minute instead. Stored as JSON in `webhook_endpoints.signin_failed` and
 * `webhook_endpoints.signin_succeeded`.
 */
export type SigninDelivery = { mode: 'each' } | { mode: 'sampled'; rate: number } | { mode: 'summary' };

export const EACH: SigninDelivery = Object.freeze({ mode: 'each' });

export type SigninOutcome = 'failed' | 'succeeded';

/** What tells the two outcomes apart: their event, their summary, the API field and the summary's `webhook-id`. */
export const SIGNIN_OUTCOMES = {
  failed: { eventType: 'signin.failed', summaryType: 'signin.failed.summary', field: 'signinFailed', messagePrefix: 'msg_sfs_', noun: 'failure' },
  succeeded: { eventType: 'signin.succeeded', summaryType: 'signin.succeeded.summary', field: 'signinSucceeded', messagePrefix: 'msg_sss_', noun: 'sign-in' },
} as const satisfies Record<SigninOutcome, { eventType: string; summaryType: string; field: string; messagePrefix: string; noun: string }>;

export const OUTCOMES = Object.keys(SIGNIN_OUTCOMES) as SigninOutcome[];

/** An endpoint's choice for both outcomes. */
export type SigninDeliveries = Readonly<Record<SigninOutcome, SigninDelivery>>;

const MODES = ['each', 'sampled', 'summary'] as const;

/** Checks a `signinFailed` or `signinSucceeded` as a client sent it; answers the normalized setting or the first problem. */
export function parseSigninDelivery(input: unknown): { ok: true; value: SigninDelivery } | { ok: false; problem: string } {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) return { ok: false, problem: 'an object such as {"mode": "each"}' };
  const { mode, rate, ...rest } = input as Record<string, unknown>;
  const unknown = Object.keys(rest)[0];
  if (unknown !== undefined) return { ok: false, problem: `unknown field "${unknown.slice(0, 32)}" (mode, rate)` };
  if (!MODES.includes(mode as (typeof MODES)[number])) return { ok: false, problem: 'mode is "each", "sampled" or "summary"' };
  if (mode === 'sampled') {
    if (typeof rate !== 'number' || !Number.isFinite(rate) || rate <= 0 || rate > 1) return { ok: false, problem: 'rate is a number above 0 and at most 1 (0.1: one event in ten)' };
    return { ok: true, value: { mode, rate } };
  }
  if (rate !== undefined) return { ok: false, problem: `rate goes with mode "sampled" only, not "${String(mode)}"` };
  return { ok: true, value: mode === 'summary' ? { mode } : EACH };
}

/** A stored column, read back (written only by `parseSigninDelivery`); anything else is "each". */
export function storedSigninDelivery(json: string | null | undefined): SigninDelivery {
  if (!json) return EACH;
  try {
    const parsed = parseSigninDelivery(JSON.parse(json));
    return parsed.ok ? parsed.value : EACH;
  } catch {
    return EACH;
  }
}

/** An endpoint row's settings for both outcomes. */
export function storedSigninDeliveries(row: { signin_failed: string | null; signin_succeeded: string | null }): SigninDeliveries {
  return { failed: storedSigninDelivery(row.signin_failed), succeeded: storedSigninDelivery(row.signin_succeeded) };
}

/**
 * Whether an event of `type` goes to an endpoint with these settings (its event filter already let
 * it through). The one place the choice is made: a function of the settings, the type and the event
 * id only, so every node, every fan-out pass and every retry decide alike.
 */
export function receivesEvent(settings: SigninDeliveries, type: string, eventId: string): boolean {
  for (const outcome of OUTCOMES) {
    const { eventType, summaryType } = SIGNIN_OUTCOMES[outcome];
    const setting = settings[outcome];
    if (type === eventType) return setting.mode === 'each' || (setting.mode === 'sampled' && inSample(eventId, setting.rate));
    if (type === summaryType) return setting.mode === 'summary';
  }
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

/** One minute: a summary covers the sign-ins of one minute of the clock (UTC). */
export const SUMMARY_WINDOW_MS = 60_000;

/** A summary's `webhook-id`: derived from (outcome, endpoint, minute), so two nodes writing it write one delivery. */
export function summaryMessageId(outcome: SigninOutcome, endpointId: string, minuteStart: number): string {
  return `${SIGNIN_OUTCOMES[outcome].messagePrefix}${endpointId}_${minuteStart}`;
}

/** Sign-ins of one method (and for failures, one error code) in a window. */
export interface SigninCount {
  method: string;
  errorCode?: string;
  count: number;
}

/**
 * The body of a `signin.failed.summary` or `signin.succeeded.summary`: the window and the counts,
 * nothing about anyone (no user ids, no addresses, no event ids). `timestamp` is the window's end.
 * Failures are counted by method and error code, successes by method.
 */
export function summaryPayloadOf(outcome: SigninOutcome, window: { start: number; end: number }, counts: readonly SigninCount[]): string {
  // Rows of the same method (and code) are one count: several audit shapes can mean one method.
  const merged = new Map<string, SigninCount>();
  for (const c of counts) {
    if (c.count <= 0) continue;
    const row = outcome === 'failed' ? { method: c.method, errorCode: c.errorCode ?? 'unknown', count: 0 } : { method: c.method, count: 0 };
    const key = `${row.method}\u0000${row.errorCode ?? ''}`;
    const same = merged.get(key) ?? row;
    same.count += c.count;
    merged.set(key, same);
  }
  const sorted = [...merged.values()].sort((a, b) => a.method.localeCompare(b.method) || (a.errorCode ?? '').localeCompare(b.errorCode ?? ''));
  const byMethod: Record<string, number> = {};
  let total = 0;
  for (const c of sorted) {
    byMethod[c.method] = (byMethod[c.method] ?? 0) + c.count;
    total += c.count;
  }
  const end = new Date(window.end).toISOString();
  return JSON.stringify({ type: SIGNIN_OUTCOMES[outcome].summaryType, timestamp: end, data: { windowStart: new Date(window.start).toISOString(), windowEnd: end, total, byMethod, counts: sorted } });
}
