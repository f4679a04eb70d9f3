import { css, html, LitElement, nothing, svg, type SVGTemplateResult } from 'lit';
import type { Translator } from './i18n/index.ts';
import { base } from './theme.ts';

/** One bar, funnel stage or interval: a label, its value (what the shapes draw) and how to say it. */
export interface ChartRow {
  label: string;
  value: number | null;
  /** The value in words (e.g. "42 %"); the number otherwise. */
  text?: string;
  /** An interval around the value (interval chart). */
  low?: number;
  high?: number;
}

/** A line of a line chart: one value (or null: no data) per label of the chart. */
export interface ChartSeries {
  name: string;
  values: (number | null)[];
  texts?: string[];
}

const GAP = 4;
const ROW = 24;

/**
 * The console's charts: SVG drawn by Lit, colours from the theme's custom properties (light and
 * dark), nothing but attributes and adopted stylesheets (the strict CSP has no
 * 'unsafe-inline'). Each is a <figure> named by its title, described by `description`
 * (what it shows and the headline in words) and followed by its data as a table behind a
 * <details> toggle, so every number is there for a screen reader and a keyboard.
 * `kind`: `line` (time series: `labels` and `series`), `bar` (`rows`), `funnel` (`rows`, each
 * stage also as a share of the first) and `interval` (`rows` with `low`/`high`, all 0..1).
 */
export class LkChart extends LitElement {
  static override properties = {
    tr: { attribute: false },
    kind: {},
    heading: {},
    description: {},
    labels: { attribute: false },
    series: { attribute: false },
    rows: { attribute: false },
    width: { state: true },
  };

  static override styles = [
    base,
    css`
      figure {
        margin: 0;
      }
      figcaption {
        font-weight: 600;
      }
      svg {
        display: block;
        width: 100%;
        height: auto;
        margin: 0.25rem 0;
        font-size: 12px;
      }
      text {
        fill: var(--lk-fg);
      }
      .axis {
        stroke: var(--lk-border);
      }
      .s0 {
        stroke: var(--lk-accent);
        fill: var(--lk-accent);
      }
      .s1 {
        stroke: var(--lk-success);
        fill: var(--lk-success);
      }
      .s2 {
        stroke: var(--lk-warning);
        fill: var(--lk-warning);
      }
      polyline {
        fill: none;
        stroke-width: 2.5;
      }
      .track {
        fill: var(--lk-bg);
      }
      .whisker {
        stroke: var(--lk-fg);
        stroke-width: 2;
      }
      .legend {
        display: flex;
        flex-wrap: wrap;
        gap: 0.25rem 1rem;
        list-style: none;
        padding: 0;
        margin: 0;
        font-size: 0.9rem;
      }
      .legend svg {
        display: inline;
        width: 14px;
        margin: 0 0.3rem 0 0;
      }
      summary {
        cursor: pointer;
        color: var(--lk-accent);
        font-size: 0.9rem;
      }
    `,
  ];

  declare tr: Translator;
  declare kind: 'line' | 'bar' | 'funnel' | 'interval';
  declare heading: string;
  declare description: string;
  declare labels: string[];
  declare series: ChartSeries[];
  declare rows: ChartRow[];
  /** The drawing's width in CSS pixels (its viewBox follows the element, so text stays 12 px). */
  declare width: number;

  #resize = new ResizeObserver(([entry]) => {
    const width = Math.round(entry?.contentRect.width ?? 0);
    if (width > 0 && Math.abs(width - this.width) > 2) this.width = width;
  });

  override connectedCallback(): void {
    super.connectedCallback();
    this.#resize.observe(this);
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.#resize.disconnect();
  }

  constructor() {
    super();
    this.width = 600;
    this.kind = 'bar';
    this.heading = '';
    this.description = '';
    this.labels = [];
    this.series = [];
    this.rows = [];
  }

  #line(): SVGTemplateResult {
    const h = 180;
    const top = 10;
    const bottom = h - 24;
    const W = this.width;
    const values = this.series.flatMap((s) => s.values.filter((v): v is number => v !== null));
    const top1 = Math.max(0, ...values);
    // Shares up to the next 10 %, counts up to the next whole number; never an empty scale.
    const max = values.every((v) => v <= 1) ? Math.min(1, Math.ceil(top1 * 10) / 10) || 1 : Math.ceil(top1) || 1;
    const n = Math.max(1, this.labels.length - 1);
    const x = (i: number) => 40 + (i * (W - 50)) / n;
    const y = (v: number) => bottom - (v / max) * (bottom - top);
    const ticks = [0, max / 2, max];
    const every = Math.ceil(this.labels.length / 6);
    return svg`<svg viewBox="0 0 ${W} ${h}" aria-hidden="true" focusable="false">
      ${ticks.map((v) => svg`<line class="axis" x1="40" x2=${W - 10} y1=${y(v)} y2=${y(v)}></line><text x="36" y=${y(v) + 4} text-anchor="end">${this.#tick(v, max)}</text>`)}
      ${this.labels.map((label, i) => (i % every === 0 || i === this.labels.length - 1 ? svg`<text x=${x(i)} y=${h - 6} text-anchor=${i === this.labels.length - 1 ? 'end' : 'middle'}>${label.slice(5)}</text>` : nothing))}
      ${this.series.map((s, k) => {
        const points = s.values.map((v, i) => (v === null ? null : `${x(i)},${y(v)}`)).filter(Boolean);
        return svg`<polyline class=${`s${k}`} points=${points.join(' ')}></polyline>${s.values.map((v, i) => (v === null ? nothing : svg`<circle class=${`s${k}`} cx=${x(i)} cy=${y(v)} r="3"></circle>`))}`;
      })}
    </svg>`;
  }

  /** Axis labels: shares (all values ≤ 1) as percentages, counts as they are. */
  #tick(v: number, max: number): string {
    return max <= 1 ? pct(v) : String(Math.round(v));
  }

  #bars(): SVGTemplateResult {
    const rows = this.rows;
    const interval = this.kind === 'interval';
    const W = this.width;
    const LEFT = Math.min(150, Math.round(W * 0.38));
    const max = interval ? 1 : Math.max(1e-9, ...rows.map((r) => r.value ?? 0));
    const span = W - LEFT - 64;
    const h = rows.length * (ROW + GAP) + GAP;
    const scale = (v: number) => LEFT + (Math.max(0, Math.min(v, max)) / max) * span;
    return svg`<svg viewBox="0 0 ${W} ${h}" aria-hidden="true" focusable="false">
      ${rows.map((r, i) => {
        const top = GAP + i * (ROW + GAP);
        const mid = top + ROW / 2;
        const label = svg`<text x=${LEFT - 8} y=${mid + 4} text-anchor="end">${r.label.length > LEFT / 8 ? `${r.label.slice(0, Math.floor(LEFT / 8) - 1)}…` : r.label}</text>`;
        const text = svg`<text x=${W - 58} y=${mid + 4}>${r.text ?? r.value ?? '—'}</text>`;
        if (interval) {
          const v = r.value ?? 0;
          return svg`${label}<rect class="track" x=${LEFT} y=${top} width=${span} height=${ROW}></rect>
            <rect class="s0" x=${scale(r.low ?? v)} y=${top + 6} width=${Math.max(2, scale(r.high ?? v) - scale(r.low ?? v))} height=${ROW - 12} opacity="0.45"></rect>
            <line class="whisker" x1=${scale(v)} x2=${scale(v)} y1=${top + 2} y2=${top + ROW - 2}></line>${text}`;
        }
        return svg`${label}<rect class="track" x=${LEFT} y=${top} width=${span} height=${ROW}></rect>
          <rect class="s0" x=${LEFT} y=${top} width=${scale(r.value ?? 0) - LEFT} height=${ROW}></rect>${text}`;
      })}
    </svg>`;
  }

  override render() {
    const t = this.tr.t;
    const line = this.kind === 'line';
    const first = this.rows[0]?.value ?? 0;
    return html`<figure aria-labelledby="h" aria-describedby="d">
      <figcaption id="h">${this.heading}</figcaption>
      <p class="visually-hidden" id="d">${this.description}</p>
      ${line ? this.#line() : this.#bars()}
      ${line && this.series.length > 1
        ? html`<ul class="legend">${this.series.map((s, k) => html`<li><svg viewBox="0 0 10 10" aria-hidden="true"><rect class=${`s${k}`} width="10" height="10"></rect></svg>${s.name}</li>`)}</ul>`
        : nothing}
      <details>
        <summary>${t.chartData}</summary>
        <table>
          <caption class="visually-hidden">${this.heading}</caption>
          ${line
            ? html`<thead><tr><th scope="col">${t.day}</th>${this.series.map((s) => html`<th scope="col">${s.name}</th>`)}</tr></thead>
                <tbody>${this.labels.map((label, i) => html`<tr><th scope="row">${label}</th>${this.series.map((s) => html`<td>${s.texts?.[i] ?? s.values[i] ?? '—'}</td>`)}</tr>`)}</tbody>`
            : html`<tbody>${this.rows.map(
                (r) => html`<tr><th scope="row">${r.label}</th><td>${r.text ?? r.value ?? '—'}</td>${this.kind === 'funnel'
                    ? html`<td>${first && r.value !== null ? pct(r.value / first) : '—'}</td>`
                    : this.kind === 'interval'
                      ? html`<td>${this.tr.f('intervalText', { low: pct(r.low), high: pct(r.high) })}</td>`
                      : nothing}</tr>`,
              )}</tbody>`}
        </table>
      </details>
    </figure>`;
  }
}

/** A share 0..1 as a percentage in the page's language ("25.0%", "25,0 %"; "—" for none). */
export function pct(value: number | null | undefined, digits = 0): string {
  if (value === null || value === undefined) return '—';
  return new Intl.NumberFormat(document.documentElement.lang || 'en', { style: 'percent', minimumFractionDigits: digits, maximumFractionDigits: digits }).format(value);
}
