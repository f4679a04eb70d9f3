import { createHmac } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Database } from '../../db/database.ts';
import type { Clock } from '../../platform/clock.ts';
import type { AuditRecord, AuditService } from '../audit/audit.module.ts';
import type { RequestContext } from '../../platform/request-context.ts';
import { dayOf, dayStart, family, reportDay } from './analytics.facts.ts';
import { AnalyticsErrors } from './analytics.errors.ts';
import type { AnalyticsRepository, Dimension, RollupRow } from './analytics.repository.ts';
import { EVENT_COLUMNS, ROLLUP_COLUMNS, type EventExportRow, type RollupExportRow } from './analytics.export.ts';
import { countsOf, FUNNEL_CEREMONIES, funnelOf, kpisOf, type Funnel, type Kpis } from './kpis.ts';
import { projectSavings, type SavingsCosts, type SavingsHorizon, type Trend } from './savings.ts';

const DAY_MS = 86_400_000;
const PAGE = 1000;
const SAVINGS_WINDOW_DAYS = 30;

export interface Range {
  from: string;
  to: string;
}

export interface KpiReport extends Range {
  by: Dimension | null;
  total: Kpis;
  days: { day: string; kpis: Kpis }[];
  groups: { value: string; total: Kpis; days: { day: string; kpis: Kpis }[] }[];
}

export interface FunnelReport extends Range {
  by: Dimension | null;
  funnels: Funnel[];
  groups: { value: string; funnels: Funnel[] }[];
}

export interface SavingsReport extends Range {
  inputs: { signIns: number; passkeyUserShare: number; codeShare: number; adoption: Trend; login: Trend };
  assumptions: SavingsCosts;
  horizons: SavingsHorizon[];
}

export interface AnalyticsService {
  range(from: string | undefined, to: string | undefined): Range;
  kpis(range: Range, by?: Dimension): Promise<KpiReport>;
  funnels(range: Range, by?: Dimension): Promise<FunnelReport>;
  savings(to: string | undefined): Promise<SavingsReport>;
  exportRollups(range: Range): AsyncGenerator<RollupExportRow>;
  exportEvents(range: Range): AsyncGenerator<EventExportRow>;
  /** Audits a BI export (`analytics.exported`, the key as actor): bulk reads leave a trace. */
  recordExport(context: RequestContext, kind: 'rollups' | 'events', range: Range, format: string): Promise<void>;
}

export interface AnalyticsServiceDeps {
  db: Kysely<Database>;
  clock: Clock;
  repository: AnalyticsRepository;
  /** HKDF subkey `analyticsPseudonyms` (platform/keys.ts). */
  pseudonymKey: Uint8Array;
  audit: Pick<AuditService, 'record'>;
  listEventsBetween(range: { from: number; to: number; after?: { at: number; id: string }; limit: number }): Promise<AuditRecord[]>;
  providersOf(credentialIds: readonly string[]): Promise<Map<string, string>>;
  providerOfAaguid(aaguid: string): string;
  config: { maxRangeDays: number; lateReportDays: number } & SavingsCosts;
}

const DAY = /^\d{4}-\d{2}-\d{2}$/;

function daysBetween(range: Range): string[] {
  const days: string[] = [];
  for (let t = dayStart(range.from); t <= dayStart(range.to); t += DAY_MS) days.push(dayOf(t));
  return days;
}

/** Groups rows by a key and sums them into KPI inputs. */
function bucket<K>(rows: readonly RollupRow[], key: (r: RollupRow) => K): Map<K, RollupRow[]> {
  const out = new Map<K, RollupRow[]>();
  for (const r of rows) {
    const k = key(r);
    const list = out.get(k);
    if (list) list.push(r);
    else out.set(k, [r]);
  }
  return out;
}

/**
 * KPIs, funnels and the savings projection from the daily rollups only (a page view reads
 * `analytics_daily` for the range, never the event table), and the BI export.
 */
export function createAnalyticsService(deps: AnalyticsServiceDeps): AnalyticsService {
  const { repository, db } = deps;
  const pseudonym = (userId: string) => createHmac('sha256', deps.pseudonymKey).update(userId).digest('base64url').slice(0, 22);

  function series(range: Range, rows: readonly RollupRow[]): { day: string; kpis: Kpis }[] {
    const byDay = bucket(rows, (r) => r.day);
    return daysBetween(range).map((day) => ({ day, kpis: kpisOf(countsOf(byDay.get(day) ?? [])) }));
  }

  function range(from: string | undefined, to: string | undefined): Range {
    const checked = (name: 'from' | 'to', value: string): string => {
      const at = dayStart(value);
      if (!DAY.test(value) || !Number.isFinite(at) || dayOf(at) !== value) {
        throw AnalyticsErrors.analytics_range_invalid({ detail: `${name}: a UTC day as YYYY-MM-DD` });
      }
      return value;
    };
    // `to` first: the default `from` is counted back from it, which needs a real day.
    const end = checked('to', to ?? dayOf(deps.clock.now()));
    const start = checked('from', from ?? dayOf(dayStart(end) - (SAVINGS_WINDOW_DAYS - 1) * DAY_MS));
    if (start > end) throw AnalyticsErrors.analytics_range_invalid({ detail: 'from is after to' });
    if ((dayStart(end) - dayStart(start)) / DAY_MS + 1 > deps.config.maxRangeDays) {
      throw AnalyticsErrors.analytics_range_invalid({ detail: `at most ${deps.config.maxRangeDays} days` });
    }
    return { from: start, to: end };
  }

  return {
    range,

    async kpis(range, by) {
      const rows = await repository.sums(db, range.from, range.to, by);
      const groups = by
        ? [...bucket(rows, (r) => r.group ?? '')].sort(([a], [b]) => a.localeCompare(b)).map(([value, list]) => ({ value, total: kpisOf(countsOf(list)), days: series(range, list) }))
        : [];
      return { ...range, by: by ?? null, total: kpisOf(countsOf(rows)), days: series(range, rows), groups };
    },

    async funnels(range, by) {
      const metrics = FUNNEL_CEREMONIES.flatMap((c) => ['offered', 'started', 'completed', 'cancelled', 'timed_out', 'error'].map((o) => `funnel.${c}.${o}`));
      const rows = await repository.sums(db, range.from, range.to, by, metrics);
      const funnelsOf = (list: readonly RollupRow[]) => {
        const counts = countsOf(list);
        return FUNNEL_CEREMONIES.map((c) => funnelOf(counts, c));
      };
      const groups = by ? [...bucket(rows, (r) => r.group ?? '')].sort(([a], [b]) => a.localeCompare(b)).map(([value, list]) => ({ value, funnels: funnelsOf(list) })) : [];
      return { ...range, by: by ?? null, funnels: funnelsOf(rows), groups };
    },

    async savings(to) {
      const end = range(undefined, to);
      const rows = await repository.sums(db, end.from, end.to, undefined);
      const days = series(end, rows);
      const total = kpisOf(countsOf(rows));
      const fallback = total.signIns.emailCode + total.signIns.password;
      const costs: SavingsCosts = {
        currency: deps.config.currency,
        smsCost: deps.config.smsCost,
        emailCost: deps.config.emailCost,
        passwordResetCost: deps.config.passwordResetCost,
        smsShare: deps.config.smsShare,
        passwordResetRate: deps.config.passwordResetRate,
        offerReach: deps.config.offerReach,
      };
      const inputs = {
        signIns: total.signIns.total,
        passkeyUserShare: total.passkeyUserShare ?? 0,
        codeShare: fallback > 0 ? total.signIns.emailCode / fallback : 1,
      };
      const projection = projectSavings({
        adoptionDaily: days.map((d) => d.kpis.adoption.rate),
        loginDaily: days.map((d) => d.kpis.login.rate),
        ...inputs,
        costs,
      });
      return { ...end, inputs: { ...inputs, adoption: projection.adoptionTrend, login: projection.loginTrend }, assumptions: costs, horizons: projection.horizons };
    },

    async recordExport(context, kind, range, format) {
      await deps.audit.record(db, context, { type: 'analytics.exported', outcome: 'success', data: { kind, from: range.from, to: range.to, format } });
    },

    async *exportRollups(range) {
      let after: string[] | undefined;
      for (;;) {
        const page = await repository.rollupPage(db, range.from, range.to, after, PAGE);
        for (const r of page) yield Object.fromEntries(ROLLUP_COLUMNS.map((c) => [c, r[c]])) as RollupExportRow;
        const last = page.at(-1);
        if (!last || page.length < PAGE) return;
        after = [last.day, last.metric, last.detail, last.device, last.os, last.browser, last.provider];
      }
    },

    async *exportEvents(range) {
      let after: { at: number; id: string } | undefined;
      const bounds = { from: dayStart(range.from), to: dayStart(range.to) + DAY_MS };
      for (;;) {
        const page = await deps.listEventsBetween({ ...bounds, ...(after ? { after } : {}), limit: PAGE });
        const providers = await deps.providersOf([...new Set(page.flatMap((e) => (e.credentialId ? [e.credentialId] : [])))]);
        for (const e of page) yield toExportRow(e, providers);
        const last = page.at(-1);
        if (!last || page.length < PAGE) return;
        after = { at: last.at, id: last.id };
      }
    },
  };

  function toExportRow(e: AuditRecord, providers: Map<string, string>): EventExportRow {
    const data = e.data ?? {};
    const user = e.subjectUserId ?? (e.actor.kind === 'user' ? e.actor.id : null);
    const report = e.type === 'ceremony.reported';
    const provider =
      typeof data.aaguid === 'string' ? deps.providerOfAaguid(data.aaguid) : e.credentialId ? (providers.get(e.credentialId) ?? '') : '';
    const row: EventExportRow = {
      event_id: e.id,
      recorded_at: new Date(e.at).toISOString(),
      day: report ? reportDay(e.at, data.occurredAt, deps.config.lateReportDays) : dayOf(e.at),
      type: e.type,
      outcome: e.outcome,
      user_pseudonym: user ? pseudonym(user) : '',
      ceremony: report && typeof data.ceremony === 'string' ? data.ceremony : '',
      mode: report && typeof data.mode === 'string' ? data.mode : '',
      phase: report && typeof data.outcome === 'string' ? data.outcome : '',
      error: (report && typeof data.errorName === 'string' ? data.errorName : e.errorCode) ?? '',
      duration_ms: report && typeof data.durationMs === 'number' ? data.durationMs : null,
      method: typeof data.method === 'string' ? data.method : e.type.startsWith('passkey.') ? 'passkey' : '',
      device: e.device ?? '',
      os: family(e.os),
      browser: family(e.browser),
      provider,
    };
    // The column list is the contract: nothing else leaves (no IP, user agent, username or e-mail).
    return Object.fromEntries(EVENT_COLUMNS.map((c) => [c, row[c]])) as EventExportRow;
  }
}
