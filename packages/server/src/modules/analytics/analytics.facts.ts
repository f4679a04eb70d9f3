/**
 * What one audit event contributes to the daily rollups: pure functions, no database. The worker
 * (analytics.worker.ts) adds the parts that need state (dedup of reports, distinct active users).
 *
 * Metrics (the `metric` column of analytics_daily):
 * - `funnel.<ceremony>.<outcome>`: client reports (`ceremony.reported`); ceremony registration |
 *   append | authentication, outcome offered | started | completed | cancelled | timed_out | error;
 *   detail: the error name (DOMException name or problem code), '' when none.
 * - `adoption.offered` / `adoption.created`: append prompts offered / completed on a capable
 *   device (detail '' ) — and `adoption.offered_incapable` for offers to a device that said it has
 *   no platform authenticator (should be 0 once passkey intelligence is in).
 * - `login.prompt`: passkey sign-in prompts shown (a modal `started`, or an autofill pick that
 *   ended completed or error).
 * - `login.duration` (detail: histogram bucket index, see DURATION_BUCKETS_MS): durations of
 *   completed passkey sign-in ceremonies.
 * - `signin.success` / `signin.failure` (detail: passkey | email_code | password): server-side.
 * - `passkey.created` (provider): passkeys registered, any way.
 * - `email_code.sent` (detail: purpose), `recovery.started`, `recovery.completed`.
 * - `active.users`, `active.users_with_passkey`: distinct users per day (the worker counts these).
 */

/** The parts of a sealed audit event the analytics read. */
export interface AnalyticsEvent {
  seq: number;
  at: number;
  type: string;
  outcome: 'success' | 'failure';
  subjectUserId: string | null;
  credentialId: string | null;
  os: string | null;
  browser: string | null;
  device: string | null;
  data: Record<string, unknown> | null;
}

export interface Dimensions {
  device: string;
  os: string;
  browser: string;
  provider: string;
}

export interface Fact {
  day: string;
  metric: string;
  detail: string;
  dims: Dimensions;
  count: number;
}

/** Upper bounds (ms) of the duration histogram's buckets; the last bucket is open-ended. */
export const DURATION_BUCKETS_MS = [250, 500, 750, 1000, 1500, 2000, 3000, 4000, 6000, 8000, 12_000, 20_000, 30_000, 60_000, 120_000] as const;

const DAY_MS = 86_400_000;

/** UTC day of an epoch-ms instant, YYYY-MM-DD. */
export function dayOf(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

/** Epoch ms of the start of a UTC day. */
export function dayStart(day: string): number {
  return Date.parse(`${day}T00:00:00.000Z`);
}

/** The histogram bucket of a duration: the first bound it does not exceed, else the open last bucket. */
export function durationBucket(ms: number): number {
  const i = DURATION_BUCKETS_MS.findIndex((bound) => ms <= bound);
  return i === -1 ? DURATION_BUCKETS_MS.length : i;
}

/** "Mac OS 10.15" → "Mac OS", "Chrome 142" → "Chrome": families, so a release does not split a series. */
export function family(value: string | null): string {
  if (!value) return '';
  return value.replace(/\s+\d[\w.]*$/, '').slice(0, 40);
}

export function dimensionsOf(event: Pick<AnalyticsEvent, 'device' | 'os' | 'browser'>, provider = ''): Dimensions {
  return { device: event.device ?? '', os: family(event.os), browser: family(event.browser), provider };
}

const CEREMONIES = new Set(['registration', 'append', 'authentication']);
const OUTCOMES = new Set(['offered', 'started', 'completed', 'cancelled', 'timed_out', 'error']);

/**
 * The day a client report counts for: its `occurredAt` when that lies in the last `lateDays` days
 * (and not ahead of the server by more than a few minutes), else the time the server recorded it.
 */
export function reportDay(recordedAt: number, occurredAt: unknown, lateDays: number): string {
  if (typeof occurredAt === 'string') {
    const at = Date.parse(occurredAt);
    if (Number.isFinite(at) && at <= recordedAt + 300_000 && at >= recordedAt - lateDays * DAY_MS) return dayOf(Math.min(at, recordedAt));
  }
  return dayOf(recordedAt);
}

/** A device that reports no platform authenticator cannot make a passkey here; no report means unknown (counted as capable). */
export function isCapable(data: Record<string, unknown>): boolean {
  return data.platformAuthenticator !== false || data.hybrid === true;
}

/**
 * The counts one event adds (state-free). `provider` names the passkey provider of the event's
 * credential when there is one (the worker looks it up).
 */
export function factsOf(event: AnalyticsEvent, options: { lateDays: number; provider?: string }): Fact[] {
  const data = event.data ?? {};
  const dims = dimensionsOf(event, options.provider ?? '');
  const day = dayOf(event.at);
  const fact = (metric: string, detail = '', d: Dimensions = dims, on = day): Fact => ({ day: on, metric, detail, dims: d, count: 1 });
  switch (event.type) {
    case 'ceremony.reported': {
      const ceremony = String(data.ceremony);
      const outcome = String(data.outcome);
      if (!CEREMONIES.has(ceremony) || !OUTCOMES.has(outcome)) return [];
      const on = reportDay(event.at, data.occurredAt, options.lateDays);
      const clientDims = dimensionsOf(event);
      const detail = typeof data.errorName === 'string' ? data.errorName : '';
      // An append prompt's conditional create is armed beside its visible offer: one offer, not two.
      const sameOffer = ceremony === 'append' && outcome === 'offered' && data.mode === 'conditional';
      const facts = sameOffer ? [] : [fact(`funnel.${ceremony}.${outcome}`, detail, clientDims, on)];
      if (ceremony === 'append' && (outcome === 'offered' || outcome === 'completed')) {
        const capable = isCapable(data);
        // The visible prompt is the offer (mode modal); a conditional create armed beside it is the same offer.
        if (outcome === 'offered') {
          if (data.mode !== 'conditional') facts.push(fact(capable ? 'adoption.offered' : 'adoption.offered_incapable', '', clientDims, on));
        } else if (capable) facts.push(fact('adoption.created', '', clientDims, on));
      }
      // A passkey sign-in prompt was shown: a modal ceremony started, or the user picked a passkey
      // from autofill (conditional mediation reports no `started`, only how it ended).
      if (ceremony === 'authentication' && (outcome === 'started' || (data.mode === 'conditional' && (outcome === 'completed' || outcome === 'error')))) {
        facts.push(fact('login.prompt', '', clientDims, on));
      }
      if (ceremony === 'authentication' && outcome === 'completed' && typeof data.durationMs === 'number') {
        facts.push(fact('login.duration', String(durationBucket(data.durationMs)), clientDims, on));
      }
      return facts;
    }
    case 'passkey.authenticated':
      return [fact('signin.success', 'passkey')];
    case 'passkey.authentication_failed':
    case 'passkey.clone_suspected':
      return [fact('signin.failure', 'passkey')];
    case 'session.created': {
      // Passkey sign-ins and sign-ups are counted from their own events; a password that still
      // waits for its second factor is not a sign-in yet.
      const method = data.method;
      if ((method === 'email_code' || method === 'password') && data.scope !== 'second_factor') return [fact('signin.success', method)];
      return [];
    }
    case 'email_code.failed':
      return [fact('signin.failure', 'email_code')];
    case 'password.failed':
      return [fact('signin.failure', 'password')];
    case 'passkey.registered':
    case 'passkey.imported':
      return [fact('passkey.created')];
    case 'email_code.sent':
      return [fact('email_code.sent', typeof data.purpose === 'string' ? data.purpose : '')];
    case 'recovery.started':
      return [fact('recovery.started')];
    case 'account.recovered':
      return [fact('recovery.completed')];
    default:
      return [];
  }
}

/** Events that make their subject an active user of that day (a sign-in or a sign-up). */
export function activityOf(event: AnalyticsEvent): { day: string; userId: string } | undefined {
  if (!event.subjectUserId) return undefined;
  const active =
    event.type === 'passkey.authenticated' ||
    event.type === 'account.created' ||
    (event.type === 'session.created' && (event.data?.method === 'email_code' || event.data?.method === 'password') && event.data?.scope !== 'second_factor') ||
    event.type === 'recovery.started';
  return active ? { day: dayOf(event.at), userId: event.subjectUserId } : undefined;
}

/** Events that show their subject holds a passkey from that day on. */
export function passkeyHolderOf(event: AnalyticsEvent): { day: string; userId: string } | undefined {
  if (!event.subjectUserId) return undefined;
  return event.type === 'passkey.registered' || event.type === 'passkey.imported' || event.type === 'passkey.authenticated'
    ? { day: dayOf(event.at), userId: event.subjectUserId }
    : undefined;
}
