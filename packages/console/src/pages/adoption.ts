import { css, html, nothing } from 'lit';
import { pct, type ChartRow } from '../charts.ts';
import { ConsolePage } from '../context.ts';
import type { StringKey } from '../i18n/index.ts';
import { base } from '../theme.ts';

/** The KPIs of a range or day (GET /analytics/kpis, README "Adoption analytics"). */
interface Kpis {
  adoption: { offered: number; created: number; rate: number | null };
  login: { prompts: number; succeeded: number; rate: number | null; medianMs: number | null; p90Ms: number | null };
  activeUsers: number;
  passkeyUserShare: number | null;
  signIns: { total: number; passkeyShare: number | null; successRate: number | null };
  fallback: { signIns: number; share: number | null; emailCodesSent: number };
  recovery: { started: number; completed: number };
}
interface DayKpis {
  day: string;
  kpis: Kpis;
}
interface KpiAnswer {
  total: Kpis;
  days: DayKpis[];
  groups: { value: string; total: Kpis; days: DayKpis[] }[];
}
interface Funnel {
  ceremony: string;
  offered: number;
  started: number;
  completed: number;
  cancelled: number;
  timedOut: number;
  failed: number;
  completionRate: number | null;
  dropOff: { outcome: string; errorName: string | null; count: number }[];
}
interface Savings {
  assumptions: { currency: string };
  horizons: { months: number; passkeySignIns: number; smsAvoided: number; emailsAvoided: number; passwordResetsAvoided: number; cost: { total: number; currency: string } }[];
}

type Metric = 'adoption' | 'login' | 'passkeyUserShare' | 'passkeyShare' | 'successRate' | 'medianMs' | 'fallbackShare' | 'recovery';
/** Each KPI: how to read it from the KPIs, and whether it is a share (else a count or milliseconds). */
const METRICS: Record<Metric, [(k: Kpis) => number | null, 'share' | 'ms' | 'count']> = {
  adoption: [(k) => k.adoption.rate, 'share'],
  login: [(k) => k.login.rate, 'share'],
  passkeyUserShare: [(k) => k.passkeyUserShare, 'share'],
  passkeyShare: [(k) => k.signIns.passkeyShare, 'share'],
  successRate: [(k) => k.signIns.successRate, 'share'],
  medianMs: [(k) => k.login.medianMs, 'ms'],
  fallbackShare: [(k) => k.fallback.share, 'share'],
  recovery: [(k) => k.recovery.started, 'count'],
};
const BY = ['', 'device', 'os', 'browser', 'provider'] as const;

/**
 * Adoption dashboard (`analytics:read`): the two headline KPIs with their daily trend, any KPI by
 * day and by device type, OS, browser or passkey provider, the funnel of each ceremony with its
 * drop-off by error, and the savings projection. Charts: charts.ts (each with its data table).
 */
export class AdoptionPage extends ConsolePage {
  static override properties = {
    ...ConsolePage.properties,
    kpis: { state: true },
    funnels: { state: true },
    savings: { state: true },
    by: { state: true },
    metric: { state: true },
    error: { state: true },
  };

  static override styles = [
    base,
    css`
      .grid {
        display: grid;
        grid-template-columns: repeat(auto-fit, minmax(18rem, 1fr));
        gap: 1rem;
      }
      .big {
        font-size: 2.2rem;
        font-weight: 700;
        margin: 0;
      }
      .controls {
        display: flex;
        flex-wrap: wrap;
        gap: 1rem;
        align-items: end;
      }
      .card {
        margin-top: 1rem;
      }
    `,
  ];

  declare kpis: KpiAnswer | null;
  declare funnels: Funnel[] | null;
  declare savings: Savings | null;
  declare by: (typeof BY)[number];
  declare metric: Metric;
  declare error: string;

  constructor() {
    super();
    this.kpis = null;
    this.funnels = null;
    this.savings = null;
    this.by = '';
    this.metric = 'passkeyShare';
    this.error = '';
  }

  override pageTitle(): string {
    return this.t.adoptionTitle;
  }

  override connectedCallback(): void {
    super.connectedCallback();
    void this.load();
  }

  async load(): Promise<void> {
    const by = this.by || undefined;
    try {
      const api = this.ctx.api;
      [this.kpis, { funnels: this.funnels }, this.savings] = await Promise.all([
        api.analytics<KpiAnswer>('kpis', { by }),
        api.analytics<{ funnels: Funnel[] }>('funnels', {}),
        api.analytics<Savings>('savings', {}),
      ]);
      this.error = '';
    } catch (error) {
      this.error = this.describe(error);
    }
  }

  #say(value: number | null, kind: 'share' | 'ms' | 'count', digits = 1): string {
    if (value === null) return '—';
    if (kind === 'share') return pct(value, digits);
    return kind === 'ms' ? this.f('millis', { ms: Math.round(value) }) : String(value);
  }

  #headline(metric: 'adoption' | 'login', k: KpiAnswer) {
    const [read] = METRICS[metric];
    const name = this.t[`kpi_${metric}` as StringKey];
    const values = k.days.map((d) => read(d.kpis));
    const known = values.filter((v): v is number => v !== null);
    const trend = known.length > 1 ? known[known.length - 1]! - known[0]! : null;
    const value = this.#say(read(k.total), 'share');
    return html`<section class="card" aria-labelledby=${`hl-${metric}`}>
      <h2 id=${`hl-${metric}`}>${name}</h2>
      <p class="big" data-kpi=${metric}>${value}</p>
      <p class="muted">${trend === null ? this.t.trendNone : this.f('trend', { change: `${trend >= 0 ? '+' : '−'}${pct(Math.abs(trend), 1)}` })}</p>
      <lk-chart .tr=${this.ctx.tr} kind="line" heading=${this.f('byDay', { kpi: name })} description=${this.f('lineDescription', { kpi: name, value })}
        .labels=${k.days.map((d) => d.day)} .series=${[{ name, values, texts: values.map((v) => this.#say(v, 'share')) }]}></lk-chart>
    </section>`;
  }

  #explore(k: KpiAnswer) {
    const t = this.t;
    const [read, kind] = METRICS[this.metric];
    const name = t[`kpi_${this.metric}` as StringKey];
    const value = this.#say(read(k.total), kind);
    const series = [{ name: t.allUsers, values: k.days.map((d) => read(d.kpis)) }, ...k.groups.slice(0, 2).map((g) => ({ name: g.value || t.unknownValue, values: g.days.map((d) => read(d.kpis)) }))];
    const rows: ChartRow[] = k.groups.map((g) => ({ label: g.value || t.unknownValue, value: read(g.total), text: this.#say(read(g.total), kind) }));
    return html`<section class="card" aria-labelledby="explore">
      <h2 id="explore">${t.kpisTitle}</h2>
      <div class="controls">
        <div class="field">
          <label for="metric">${t.kpiLabel}</label>
          <select id="metric" @change=${(e: Event) => (this.metric = (e.target as HTMLSelectElement).value as Metric)}>
            ${Object.keys(METRICS).map((m) => html`<option value=${m} ?selected=${m === this.metric}>${t[`kpi_${m}` as StringKey]}</option>`)}
          </select>
        </div>
        <div class="field">
          <label for="by">${t.breakdown}</label>
          <select id="by" @change=${(e: Event) => {
            this.by = (e.target as HTMLSelectElement).value as (typeof BY)[number];
            void this.load();
          }}>
            ${BY.map((b) => html`<option value=${b} ?selected=${b === this.by}>${t[`by_${b || 'none'}` as StringKey]}</option>`)}
          </select>
        </div>
      </div>
      <p>${name}: <strong data-kpi=${this.metric}>${value}</strong></p>
      <lk-chart .tr=${this.ctx.tr} kind="line" heading=${this.f('byDay', { kpi: name })} description=${this.f('lineDescription', { kpi: name, value })}
        .labels=${k.days.map((d) => d.day)} .series=${series}></lk-chart>
      ${this.by
        ? rows.length === 0
          ? html`<p class="muted">${t.noData}</p>`
          : html`<lk-chart .tr=${this.ctx.tr} kind="bar" heading=${this.f('byGroup', { kpi: name, by: t[`by_${this.by}` as StringKey] })}
              description=${rows.map((r) => `${r.label}: ${r.text}`).join('; ')} .rows=${rows}></lk-chart>`
        : nothing}
    </section>`;
  }

  #funnel(f: Funnel) {
    const t = this.t;
    const name = t[`ceremony_${f.ceremony}` as StringKey] ?? f.ceremony;
    const stages: [StringKey, number][] = [['stage_offered', f.offered], ['stage_started', f.started], ['stage_completed', f.completed], ['stage_cancelled', f.cancelled], ['stage_timed_out', f.timedOut], ['stage_failed', f.failed]];
    const rows = stages.map(([key, value]) => ({ label: t[key], value, text: String(value) }));
    const drops = f.dropOff.map((d) => ({ label: d.errorName ?? t[`stage_${d.outcome}` as StringKey] ?? d.outcome, value: d.count, text: String(d.count) }));
    return html`<section class="card" aria-labelledby=${`f-${f.ceremony}`} data-funnel=${f.ceremony}>
      <h3 id=${`f-${f.ceremony}`}>${name}</h3>
      <lk-chart .tr=${this.ctx.tr} kind="funnel" heading=${this.f('funnelOf', { ceremony: name })}
        description=${this.f('funnelDescription', { offered: f.offered, started: f.started, completed: f.completed, rate: pct(f.completionRate, 1) })} .rows=${rows}></lk-chart>
      ${drops.length
        ? html`<lk-chart .tr=${this.ctx.tr} kind="bar" heading=${t.dropOff} description=${drops.map((d) => `${d.label}: ${d.value}`).join('; ')} .rows=${drops}></lk-chart>`
        : nothing}
    </section>`;
  }

  #savings(s: Savings) {
    const t = this.t;
    const money = new Intl.NumberFormat(this.ctx.tr.lang, { style: 'currency', currency: s.assumptions.currency, maximumFractionDigits: 0 });
    const rows = s.horizons.map((h) => ({ label: this.f('months', { n: h.months }), value: h.cost.total, text: money.format(h.cost.total) }));
    return html`<section class="card" aria-labelledby="savings">
      <h2 id="savings">${t.savingsTitle}</h2>
      <p class="muted">${t.savingsIntro}</p>
      <lk-chart .tr=${this.ctx.tr} kind="bar" heading=${t.savingsTitle} description=${rows.map((r) => `${r.label}: ${r.text}`).join('; ')} .rows=${rows}></lk-chart>
      <table>
        <caption class="visually-hidden">${t.savingsTitle}</caption>
        <thead><tr><th scope="col">${t.horizon}</th><th scope="col">${t.passkeySignIns}</th><th scope="col">${t.smsAvoided}</th><th scope="col">${t.emailsAvoided}</th><th scope="col">${t.resetsAvoided}</th><th scope="col">${t.saved}</th></tr></thead>
        <tbody>${s.horizons.map((h, i) => html`<tr><th scope="row">${rows[i]!.label}</th><td>${h.passkeySignIns}</td><td>${h.smsAvoided}</td><td>${h.emailsAvoided}</td><td>${h.passwordResetsAvoided}</td><td>${rows[i]!.text}</td></tr>`)}</tbody>
      </table>
    </section>`;
  }

  override render() {
    const t = this.t;
    const k = this.kpis;
    return html`<h1 tabindex="-1">${t.adoptionTitle}</h1>
      <p>${t.adoptionIntro}</p>
      ${this.error ? html`<p class="notice error" role="alert">${this.error}</p>` : nothing}
      ${k
        ? html`<div class="grid">${this.#headline('adoption', k)}${this.#headline('login', k)}</div>
            ${this.#explore(k)}
            <h2>${t.funnelsTitle}</h2>
            ${this.funnels?.length ? html`<div class="grid">${this.funnels.map((f) => this.#funnel(f))}</div>` : html`<p class="muted">${t.noData}</p>`}
            ${this.savings ? this.#savings(this.savings) : nothing}`
        : this.error
          ? nothing
          : html`<p class="muted">${t.loading}</p>`}`;
  }
}
