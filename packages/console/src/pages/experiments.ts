import { css, html, nothing } from 'lit';
import type { Experiment, ExperimentResult } from '../api.ts';
import { pct } from '../charts.ts';
import { ConsolePage } from '../context.ts';
import type { StringKey } from '../i18n/index.ts';
import { base } from '../theme.ts';

/**
 * A/B tests of passkey UX (`experiments:read`; `experiments:write` creates, starts and stops):
 * each experiment with its variants and, once there are exposures, every arm's rate with its
 * 95 % interval drawn as an interval bar and its verdict, or "not enough data yet" until every
 * arm has its planned sample.
 */
export class ExperimentsPage extends ConsolePage {
  static override properties = {
    ...ConsolePage.properties,
    items: { state: true },
    error: { state: true },
    notice: { state: true },
  };

  static override styles = [
    base,
    css`
      .head {
        display: flex;
        flex-wrap: wrap;
        gap: 0.5rem;
        align-items: center;
        justify-content: space-between;
      }
      .grid {
        display: grid;
        grid-template-columns: repeat(auto-fit, minmax(13rem, 1fr));
        gap: 0 1rem;
      }
    `,
  ];

  declare items: { experiment: Experiment; result: ExperimentResult }[] | null;
  declare error: string;
  declare notice: StringKey | '';

  constructor() {
    super();
    this.items = null;
    this.error = '';
    this.notice = '';
  }

  override pageTitle(): string {
    return this.t.experimentsTitle;
  }

  override connectedCallback(): void {
    super.connectedCallback();
    void this.load();
  }

  async load(): Promise<void> {
    try {
      const { experiments } = await this.ctx.api.experiments();
      this.items = await Promise.all(experiments.map((e) => this.ctx.api.experiment(e.key)));
    } catch (error) {
      this.error = this.describe(error);
    }
  }

  async #act(run: () => Promise<unknown>, done: StringKey): Promise<boolean> {
    this.error = '';
    try {
      await run();
      this.notice = done;
      this.ctx.announce(this.t[done]);
      await this.load();
      return true;
    } catch (error) {
      this.error = this.describe(error);
      return false;
    }
  }

  async #create(event: SubmitEvent): Promise<void> {
    event.preventDefault();
    const form = event.target as HTMLFormElement;
    const data = new FormData(form);
    const value = (name: string) => String(data.get(name) ?? '').trim();
    const variants = value('variants')
      .split(/[\s,]+/)
      .filter(Boolean)
      .map((v) => {
        const [key = '', weight] = v.split(':');
        return weight ? { key, weight: Number(weight) } : { key };
      });
    const body = {
      key: value('key'),
      feature: value('feature'),
      metric: value('metric'),
      variants,
      baselineRate: Number(value('baseline')) / 100,
      minimumDetectableEffect: Number(value('mde')) / 100,
      ...(value('description') ? { description: value('description') } : {}),
    };
    if (await this.#act(() => this.ctx.api.experimentAction('create', body.key, body), 'experimentCreated')) form.reset();
  }

  #result(e: Experiment, r: ExperimentResult) {
    const t = this.t;
    const exposures = r.arms.reduce((sum, a) => sum + a.exposures, 0);
    const needed = r.requiredPerArm * r.arms.length;
    const rows = r.arms.map((a) => ({ label: a.variant, value: a.rate, low: a.interval.low, high: a.interval.high, text: pct(a.rate, 1) }));
    return html`${r.enoughData
        ? html`<p data-enough="yes">${r.recommendation ? this.f(`recommend_${r.recommendation.why}` as StringKey, { variant: r.recommendation.variant }) : t.noRecommendation}</p>`
        : html`<p class="notice" data-enough="no">${this.f('notEnoughData', { n: exposures, m: needed })}</p>`}
      <lk-chart .tr=${this.ctx.tr} kind="interval" heading=${this.f('ratesOf', { metric: t[`metric_${e.metric}` as StringKey] ?? e.metric })}
        description=${rows.map((row) => `${row.label}: ${row.text} (${this.f('intervalText', { low: pct(row.low), high: pct(row.high) })})`).join('; ')} .rows=${rows}></lk-chart>
      <table>
        <caption class="visually-hidden">${this.f('resultsOf', { key: e.key })}</caption>
        <thead><tr><th scope="col">${t.variant}</th><th scope="col">${t.exposures}</th><th scope="col">${t.conversions}</th><th scope="col">${t.rate}</th><th scope="col">${t.difference}</th><th scope="col">${t.verdict}</th></tr></thead>
        <tbody>${r.arms.map(
          (a) => html`<tr>
            <th scope="row" class="mono">${a.variant}</th><td>${a.exposures}</td><td>${a.conversions}</td><td>${pct(a.rate, 1)}</td>
            <td>${a.difference ? `${a.difference.value >= 0 ? '+' : ''}${pct(a.difference.value, 1)} (p = ${a.difference.pValue.toFixed(3)})` : '—'}</td>
            <td><span class=${a.verdict === 'better' ? 'badge ok' : a.verdict === 'worse' ? 'badge bad' : 'badge'}>${t[`verdict_${a.verdict}` as StringKey] ?? a.verdict}</span></td>
          </tr>`,
        )}</tbody>
      </table>`;
  }

  #card(e: Experiment, r: ExperimentResult) {
    const t = this.t;
    const write = this.ctx.can('experiments:write');
    const winner = `winner-${e.key}`;
    return html`<section class="card" aria-labelledby=${`x-${e.key}`} data-experiment=${e.key}>
      <div class="head">
        <h2 id=${`x-${e.key}`} class="mono">${e.key}</h2>
        <span class=${e.status === 'running' ? 'badge ok' : 'badge'} data-status=${e.status}>${t[`status_${e.status}` as StringKey]}</span>
      </div>
      ${e.description ? html`<p>${e.description}</p>` : nothing}
      <dl class="facts">
        <dt>${t.featureLabel}</dt><dd>${t[`feature_${e.feature}` as StringKey] ?? e.feature}</dd>
        <dt>${t.metricLabel}</dt><dd>${t[`metric_${e.metric}` as StringKey] ?? e.metric}</dd>
        <dt>${t.variants}</dt><dd class="mono">${e.variants.map((v) => `${v.key} (${v.weight})`).join(', ')}</dd>
        <dt>${t.plan}</dt><dd>${this.f('planText', { base: pct(e.baselineRate), mde: pct(e.minimumDetectableEffect), n: r.requiredPerArm })}</dd>
        ${e.winner ? html`<dt>${t.winner}</dt><dd class="mono">${e.winner}</dd>` : nothing}
      </dl>
      ${e.status === 'draft' ? nothing : this.#result(e, r)}
      ${write && e.status === 'draft'
        ? html`<div class="row"><button type="button" class="small primary" @click=${() => this.#act(() => this.ctx.api.experimentAction('start', e.key), 'experimentStarted')}>${this.f('startExperiment', { key: e.key })}</button></div>`
        : nothing}
      ${write && e.status === 'running'
        ? html`<div class="row">
            <label for=${winner}>${t.winner}</label>
            <select id=${winner}>
              <option value="">${t.noWinner}</option>
              ${e.variants.map((v) => html`<option value=${v.key} ?selected=${r.recommendation?.variant === v.key}>${v.key}</option>`)}
            </select>
            <button type="button" class="small danger" @click=${() => {
              const chosen = this.renderRoot.querySelector<HTMLSelectElement>(`#${winner}`)!.value;
              return this.#act(() => this.ctx.api.experimentAction('stop', e.key, { winner: chosen || null }), 'experimentStopped');
            }}>${this.f('stopExperiment', { key: e.key })}</button>
          </div>`
        : nothing}
    </section>`;
  }

  #form() {
    const t = this.t;
    return html`<section class="card" aria-labelledby="new-x">
      <h2 id="new-x">${t.newExperiment}</h2>
      <form @submit=${this.#create}>
        <div class="grid">
          <div class="field"><label for="x-key">${t.experimentKey}</label><input id="x-key" name="key" required pattern="[a-z0-9][a-z0-9_\\-]{0,63}" /></div>
          <div class="field"><label for="x-feature">${t.featureLabel}</label>
            <select id="x-feature" name="feature">${['append_prompt', 'passkey_button'].map((f) => html`<option value=${f}>${t[`feature_${f}` as StringKey]}</option>`)}</select></div>
          <div class="field"><label for="x-metric">${t.metricLabel}</label>
            <select id="x-metric" name="metric">${['passkey_created', 'passkey_sign_in'].map((m) => html`<option value=${m}>${t[`metric_${m}` as StringKey]}</option>`)}</select></div>
          <div class="field"><label for="x-variants">${t.variants}</label><input id="x-variants" name="variants" required value="control:50, treatment:50" aria-describedby="x-variants-hint" />
            <p class="hint" id="x-variants-hint">${t.variantsHint}</p></div>
          <div class="field"><label for="x-base">${t.baselineRate}</label><input id="x-base" name="baseline" type="number" min="0.1" max="99" step="0.1" value="10" /></div>
          <div class="field"><label for="x-mde">${t.mde}</label><input id="x-mde" name="mde" type="number" min="0.1" max="99" step="0.1" value="5" /></div>
        </div>
        <div class="field"><label for="x-description">${t.description}</label><input id="x-description" name="description" maxlength="500" /></div>
        <button type="submit" class="primary">${t.createExperiment}</button>
      </form>
    </section>`;
  }

  override render() {
    const t = this.t;
    return html`<h1 tabindex="-1">${t.experimentsTitle}</h1>
      <p>${t.experimentsIntro}</p>
      ${this.error ? html`<p class="notice error" role="alert">${this.error}</p>` : nothing}
      ${this.notice ? html`<p class="notice success" role="status">${this.t[this.notice]}</p>` : nothing}
      ${this.ctx.can('experiments:write') ? this.#form() : nothing}
      ${this.items?.length === 0 ? html`<p class="muted">${t.noExperiments}</p>` : nothing}
      ${(this.items ?? []).map(({ experiment, result }) => this.#card(experiment, result))}`;
  }
}
