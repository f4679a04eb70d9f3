import { css, html, nothing } from 'lit';
import type { LkActionDialog } from '../action-dialog.ts';
import type { RolloutPreview, RolloutRule } from '../api.ts';
import { pct } from '../charts.ts';
import { ConsolePage } from '../context.ts';
import type { StringKey } from '../i18n/index.ts';
import { base } from '../theme.ts';

const LISTS = ['operatingSystems', 'browsers', 'platforms', 'segments', 'allow', 'deny'] as const;
const words = (text: string) => text.split(/[\s,]+/).filter(Boolean);

/**
 * Rollout rules (`rollout:read`; changes `rollout:write`, each with a reason and a passkey
 * step-up): one card per feature with its percentage, filters, segments, allow and deny lists,
 * and the kill switch. Saving first asks the server how many users and recent devices the
 * edited rule reaches (POST /rollout-rules/{feature}/preview) and shows that in the confirmation.
 */
export class RolloutPage extends ConsolePage {
  static override properties = {
    ...ConsolePage.properties,
    rules: { state: true },
    previews: { state: true },
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
      .kill {
        border: 2px solid var(--lk-danger);
        border-radius: var(--lk-radius);
        padding: 0.5rem 0.75rem;
        margin: 0.5rem 0;
        display: flex;
        flex-wrap: wrap;
        gap: 0.75rem;
        align-items: center;
        justify-content: space-between;
      }
      .kill.on {
        background: var(--lk-danger-bg);
        border-width: 3px;
      }
      .lists {
        display: grid;
        grid-template-columns: repeat(auto-fit, minmax(14rem, 1fr));
        gap: 0 1rem;
        align-items: end;
      }
      fieldset {
        border: 0;
        padding: 0;
        margin: 0;
      }
    `,
  ];

  declare rules: RolloutRule[] | null;
  declare previews: Record<string, RolloutPreview>;
  declare error: string;
  declare notice: StringKey | '';

  constructor() {
    super();
    this.rules = null;
    this.previews = {};
    this.error = '';
    this.notice = '';
  }

  override pageTitle(): string {
    return this.t.rolloutTitle;
  }

  override connectedCallback(): void {
    super.connectedCallback();
    void this.load();
  }

  async load(): Promise<void> {
    try {
      this.rules = (await this.ctx.api.rolloutRules()).rules;
    } catch (error) {
      this.error = this.describe(error);
    }
  }

  /** The rule as edited in the feature's form. */
  #edited(feature: string): Partial<RolloutRule> {
    const form = this.renderRoot.querySelector<HTMLFormElement>(`form[data-feature="${feature}"]`)!;
    const data = new FormData(form);
    const rule: Partial<RolloutRule> = { percentage: Number(data.get('percentage')) };
    for (const list of LISTS) (rule as Record<string, string[]>)[list] = words(String(data.get(list) ?? ''));
    return rule;
  }

  async #preview(feature: string, rule: Partial<RolloutRule>): Promise<RolloutPreview | null> {
    try {
      const preview = await this.ctx.api.previewRollout(feature, rule);
      this.previews = { ...this.previews, [feature]: preview };
      return preview;
    } catch (error) {
      this.error = this.describe(error);
      return null;
    }
  }

  #reach(p: RolloutPreview): string {
    return this.f('reach', { users: p.users.reached, total: p.users.total, share: pct(p.users.share, 1), devices: p.devices.reached, deviceTotal: p.devices.total, days: p.devices.windowDays });
  }

  async #change(feature: string, rule: Partial<RolloutRule>, title: string, text: string, danger: boolean, done: StringKey): Promise<void> {
    const dialog = this.renderRoot.querySelector('lk-action-dialog') as LkActionDialog;
    const result = await dialog.open({ title, text, confirmLabel: title, danger, run: (reason) => this.ctx.api.patchRollout(feature, rule, reason) });
    if (!result) return;
    // The reach shown was the rule's before this change.
    this.previews = {};
    this.notice = done;
    this.ctx.announce(this.t[done]);
    await this.load();
  }

  async #save(event: SubmitEvent, feature: string, name: string): Promise<void> {
    event.preventDefault();
    const rule = this.#edited(feature);
    const preview = await this.#preview(feature, rule);
    if (preview) await this.#change(feature, rule, this.f('saveRule', { feature: name }), this.#reach(preview), false, 'ruleSaved');
  }

  #killSwitch(rule: RolloutRule, name: string) {
    const t = this.t;
    const on = rule.killSwitch;
    const label = on ? this.f('killOff', { feature: name }) : this.f('killOn', { feature: name });
    return html`<div class=${on ? 'kill on' : 'kill'}>
      <span><strong>${t.killSwitch}</strong>: <span class=${on ? 'badge bad' : 'badge ok'} data-kill=${on ? 'on' : 'off'}>${on ? t.killOnState : t.killOffState}</span></span>
      ${this.ctx.can('rollout:write')
        ? html`<button type="button" class=${on ? 'small' : 'small danger-fill'} @click=${() =>
            this.#change(rule.feature, { killSwitch: !on }, label, on ? t.killOffText : t.killOnText, !on, on ? 'killOffDone' : 'killOnDone')}>${label}</button>`
        : nothing}
    </div>`;
  }

  #card(rule: RolloutRule) {
    const t = this.t;
    const name = t[`feature_${rule.feature}` as StringKey] ?? rule.feature;
    const id = (field: string) => `${rule.feature}-${field}`;
    const preview = this.previews[rule.feature];
    const write = this.ctx.can('rollout:write');
    return html`<section class="card" aria-labelledby=${id('h')}>
      <div class="head">
        <h2 id=${id('h')}>${name}</h2>
        <span class="muted">${rule.updatedAt ? this.f('changedAt', { time: this.ctx.tr.dateTime(rule.updatedAt) }) : t.noRule}</span>
      </div>
      ${this.#killSwitch(rule, name)}
      <form data-feature=${rule.feature} @submit=${(e: SubmitEvent) => this.#save(e, rule.feature, name)}>
        <fieldset ?disabled=${!write}>
          <legend class="visually-hidden">${name}</legend>
          <div class="field">
            <label for=${id('percentage')}>${t.percentage}</label>
            <input id=${id('percentage')} name="percentage" type="number" min="0" max="100" step="0.01" required .value=${String(rule.percentage)} />
          </div>
          <div class="lists">
            ${LISTS.map(
              (list) => html`<div class="field">
                <label for=${id(list)}>${t[`rule_${list}` as StringKey]}</label>
                <input id=${id(list)} name=${list} .value=${rule[list].join(', ')} aria-describedby=${id('hint')} />
              </div>`,
            )}
          </div>
          <p class="hint" id=${id('hint')}>${t.listHint}</p>
        </fieldset>
        <p role="status" data-preview=${rule.feature}>${preview ? this.#reach(preview) : ''}</p>
        <div class="row">
          <button type="button" class="small" @click=${() => this.#preview(rule.feature, this.#edited(rule.feature))}>${t.previewReach}</button>
          ${write ? html`<button type="submit" class="small primary">${t.saveRuleButton}</button>` : nothing}
        </div>
      </form>
    </section>`;
  }

  override render() {
    const t = this.t;
    return html`<h1 tabindex="-1">${t.rolloutTitle}</h1>
      <p>${t.rolloutIntro}</p>
      ${this.error ? html`<p class="notice error" role="alert">${this.error}</p>` : nothing}
      ${this.notice ? html`<p class="notice success">${this.t[this.notice]}</p>` : nothing}
      ${this.rules ? this.rules.map((rule) => this.#card(rule)) : this.error ? nothing : html`<p class="muted">${t.loading}</p>`}
      <lk-action-dialog .ctx=${this.ctx}></lk-action-dialog>`;
  }
}
