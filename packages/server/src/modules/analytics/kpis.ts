import { DURATION_BUCKETS_MS } from './analytics.facts.ts';

/**
 * The KPI arithmetic over summed rollup counts: pure functions (table-driven tests in
 * kpis.test.ts). A rate whose denominator is 0 is null ("no data"), never 0 or NaN.
 */

/** Summed counts of one slice (a day, a dimension value or a whole range): metric → detail → count. */
export type Counts = ReadonlyMap<string, ReadonlyMap<string, number>>;

export function countsOf(rows: Iterable<{ metric: string; detail: string; count: number }>): Map<string, Map<string, number>> {
  const counts = new Map<string, Map<string, number>>();
  for (const r of rows) {
    let details = counts.get(r.metric);
    if (!details) {
      details = new Map();
      counts.set(r.metric, details);
    }
    details.set(r.detail, (details.get(r.detail) ?? 0) + r.count);
  }
  return counts;
}

/** The count of one metric (one detail, or all of them summed). */
export function count(counts: Counts, metric: string, detail?: string): number {
  const details = counts.get(metric);
  if (!details) return 0;
  if (detail !== undefined) return details.get(detail) ?? 0;
  let sum = 0;
  for (const n of details.values()) sum += n;
  return sum;
}

export function rate(numerator: number, denominator: number): number | null {
  return denominator > 0 ? Math.min(1, numerator / denominator) : null;
}

/**
 * The `q` quantile (0..1) of a duration histogram (counts per DURATION_BUCKETS_MS bucket index),
 * interpolated linearly inside the bucket it falls in; the open last bucket gives its lower bound.
 */
export function quantileOfHistogram(buckets: ReadonlyMap<number, number>, q: number): number | null {
  let total = 0;
  for (const n of buckets.values()) total += n;
  if (total === 0) return null;
  const target = q * total;
  let cumulative = 0;
  for (let i = 0; i <= DURATION_BUCKETS_MS.length; i++) {
    const n = buckets.get(i) ?? 0;
    if (n > 0 && cumulative + n >= target) {
      const lower = i === 0 ? 0 : (DURATION_BUCKETS_MS[i - 1] as number);
      const upper = DURATION_BUCKETS_MS[i];
      if (upper === undefined) return lower;
      return Math.round(lower + ((target - cumulative) / n) * (upper - lower));
    }
    cumulative += n;
  }
  return null;
}

export interface Kpis {
  /** Passkey adoption rate: append prompts offered on a capable device, and the passkeys created from them. */
  adoption: { offered: number; created: number; rate: number | null; offeredToIncapable: number };
  /** Passkey login rate: passkey sign-in prompts shown (started) and how they ended. */
  login: { prompts: number; succeeded: number; aborted: number; failed: number; rate: number | null; medianMs: number | null; p90Ms: number | null };
  /** Distinct users per day (summed over the days of a range: user-days). */
  activeUsers: number;
  activeUsersWithPasskey: number;
  passkeyUserShare: number | null;
  signIns: { total: number; passkey: number; emailCode: number; password: number; failed: number; passkeyShare: number | null; successRate: number | null };
  fallback: { signIns: number; share: number | null; emailCodesSent: number };
  recovery: { started: number; completed: number };
  passkeysCreated: number;
}

export function kpisOf(counts: Counts): Kpis {
  const offered = count(counts, 'adoption.offered');
  const created = count(counts, 'adoption.created');
  const prompts = count(counts, 'login.prompt');
  const succeeded = count(counts, 'funnel.authentication.completed');
  const aborted = count(counts, 'funnel.authentication.cancelled') + count(counts, 'funnel.authentication.timed_out');
  const failed = count(counts, 'funnel.authentication.error');
  const histogram = new Map<number, number>();
  for (const [detail, n] of counts.get('login.duration') ?? []) histogram.set(Number(detail), n);
  const activeUsers = count(counts, 'active.users');
  const activeUsersWithPasskey = count(counts, 'active.users_with_passkey');
  const passkey = count(counts, 'signin.success', 'passkey');
  const emailCode = count(counts, 'signin.success', 'email_code');
  const password = count(counts, 'signin.success', 'password');
  const total = passkey + emailCode + password;
  const signInFailures = count(counts, 'signin.failure');
  return {
    adoption: { offered, created, rate: rate(created, offered), offeredToIncapable: count(counts, 'adoption.offered_incapable') },
    login: {
      prompts,
      succeeded,
      aborted,
      failed,
      rate: rate(succeeded, prompts),
      medianMs: quantileOfHistogram(histogram, 0.5),
      p90Ms: quantileOfHistogram(histogram, 0.9),
    },
    activeUsers,
    activeUsersWithPasskey,
    passkeyUserShare: rate(activeUsersWithPasskey, activeUsers),
    signIns: { total, passkey, emailCode, password, failed: signInFailures, passkeyShare: rate(passkey, total), successRate: rate(total, total + signInFailures) },
    fallback: { signIns: emailCode + password, share: rate(emailCode + password, total), emailCodesSent: count(counts, 'email_code.sent', 'sign_in') },
    recovery: { started: count(counts, 'recovery.started'), completed: count(counts, 'recovery.completed') },
    passkeysCreated: count(counts, 'passkey.created'),
  };
}

export const FUNNEL_CEREMONIES = ['registration', 'append', 'authentication'] as const;
export type FunnelCeremony = (typeof FUNNEL_CEREMONIES)[number];

export interface Funnel {
  ceremony: FunnelCeremony;
  offered: number;
  started: number;
  completed: number;
  cancelled: number;
  timedOut: number;
  failed: number;
  /** completed ÷ started. */
  completionRate: number | null;
  /** Where the ceremonies that did not complete went: outcome and error name, most first. */
  dropOff: { outcome: 'cancelled' | 'timed_out' | 'error'; errorName: string | null; count: number }[];
}

export function funnelOf(counts: Counts, ceremony: FunnelCeremony): Funnel {
  const step = (outcome: string) => count(counts, `funnel.${ceremony}.${outcome}`);
  const dropOff: Funnel['dropOff'] = [];
  for (const outcome of ['cancelled', 'timed_out', 'error'] as const) {
    for (const [detail, n] of counts.get(`funnel.${ceremony}.${outcome}`) ?? []) {
      if (n > 0) dropOff.push({ outcome, errorName: detail === '' ? null : detail, count: n });
    }
  }
  dropOff.sort((a, b) => b.count - a.count || a.outcome.localeCompare(b.outcome) || String(a.errorName).localeCompare(String(b.errorName)));
  const started = step('started');
  const completed = step('completed');
  return {
    ceremony,
    offered: step('offered'),
    started,
    completed,
    cancelled: step('cancelled'),
    timedOut: step('timed_out'),
    failed: step('error'),
    completionRate: rate(completed, started),
    dropOff,
  };
}
