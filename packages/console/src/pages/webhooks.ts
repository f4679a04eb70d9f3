import { css, html, nothing } from 'lit';
import type { LkActionDialog } from '../action-dialog.ts';
import type { SigninDelivery, WebhookAttempt, WebhookDelivery, WebhookEndpoint } from '../api.ts';
import { ConsolePage } from '../context.ts';
import type { StringKey } from '../i18n/index.ts';
import { base } from '../theme.ts';
import { adminStyles, copy } from './admin.ts';

/** An event type that may wrap after its dots only (`webhook_endpoint.<wbr>secret_rotated`), never inside a word. */
const breakable = (type: string) => type.split('.').map((part, i) => (i === 0 ? part : html`.<wbr />${part}`));

type Outcome = 'failed' | 'succeeded';
const OUTCOMES: readonly Outcome[] = ['failed', 'succeeded'];
const FIELD = { failed: 'signinFailed', succeeded: 'signinSucceeded' } as const;
const EACH: SigninDelivery = { mode: 'each' };

/**
 * Webhook endpoints (`webhooks:read`: the list, each endpoint's delivery log and every attempt of
 * a delivery). `webhooks:manage`: add an endpoint, change its events, enable or disable it,
 * rotate its secret and delete it (each with a reason and a passkey step-up, the server's
 * `x-latchkey-step-up` routes; the new secret shown once), send a test event, redeliver. Sign-ins,
 * failed and succeeded, come each, as a sample or as one count a minute, as the endpoint chooses;
 * the summaries are chosen there, not ticked as event types.
 */
export class WebhooksPage extends ConsolePage {
  static override properties = {
    ...ConsolePage.properties,
    endpoints: { state: true },
    types: { state: true },
    open: { state: true },
    editing: { state: true },
    deliveries: { state: true },
    attempts: { state: true },
    secret: { state: true },
    error: { state: true },
    notice: { state: true },
    modes: { state: true },
  };

  static override styles = [
    base,
    adminStyles,
    css`
      .head {
        display: flex;
        flex-wrap: wrap;
        gap: 0.5rem;
        align-items: center;
        justify-content: space-between;
      }
      .url {
        font-family: var(--lk-mono);
        font-weight: 600;
        overflow-wrap: anywhere;
      }
      .table-wrap {
        margin-top: 0.75rem;
      }
      .row {
        margin-top: 0.75rem;
      }
      .modes {
        display: flex;
        flex-wrap: wrap;
        gap: 0.5rem 1.5rem;
      }
      .modes input[type='number'] {
        width: 7rem;
      }
    `,
  ];

  declare endpoints: WebhookEndpoint[] | null;
  declare types: string[];
  declare open: string | null;
  declare editing: string | null;
  declare deliveries: WebhookDelivery[] | null;
  declare attempts: { id: string; log: WebhookAttempt[] } | null;
  declare secret: string;
  declare error: string;
  declare notice: StringKey | '';
  /** The sign-in mode picked in each form's select (`<form prefix>-<outcome>`), so the share field shows for "sampled" only. */
  declare modes: Record<string, SigninDelivery['mode']>;

  constructor() {
    super();
    this.endpoints = null;
    this.types = [];
    this.open = null;
    this.editing = null;
    this.deliveries = null;
    this.attempts = null;
    this.secret = '';
    this.error = '';
    this.notice = '';
    this.modes = {};
  }

  override pageTitle(): string {
    return this.t.webhooksTitle;
  }

  override connectedCallback(): void {
    super.connectedCallback();
    void this.load();
  }

  async load(): Promise<void> {
    try {
      const [endpoints, types] = await Promise.all([this.ctx.api.webhookEndpoints(), this.types.length ? null : this.ctx.api.webhookEventTypes()]);
      this.endpoints = endpoints.endpoints;
      // A summary comes with its sign-in mode; the server refuses it as an event type of its own.
      if (types) this.types = ['*', ...types.eventTypes.map((e) => e.type).filter((type) => !type.endsWith('.summary'))];
    } catch (error) {
      this.error = this.describe(error);
    }
  }

  #say(key: StringKey): void {
    this.notice = key;
    this.ctx.announce(this.t[key]);
  }

  /** A change that needs a reason (and step-up): through the dialog; a secret in the answer is shown once. */
  async #confirm(title: string, text: string, run: (reason: string) => Promise<unknown>, done: StringKey, danger = false): Promise<boolean> {
    const dialog = this.renderRoot.querySelector('lk-action-dialog') as LkActionDialog;
    const result = (await dialog.open({ title, text, confirmLabel: title, danger, run })) as { secret?: string } | undefined;
    if (!result) return false;
    this.#say(done);
    if (result.secret) {
      this.secret = result.secret;
      await this.updateComplete;
      this.renderRoot.querySelector<HTMLElement>('#secret-title')?.focus();
    }
    await this.load();
    return true;
  }

  async #act(run: () => Promise<unknown>, done: StringKey): Promise<void> {
    try {
      await run();
      this.#say(done);
      if (this.open) await this.#loadDeliveries(this.open);
    } catch (error) {
      this.error = this.describe(error);
    }
  }

  async #loadDeliveries(id: string): Promise<void> {
    try {
      this.deliveries = (await this.ctx.api.webhookDeliveries(id)).deliveries;
    } catch (error) {
      this.error = this.describe(error);
    }
  }

  async #toggle(endpoint: WebhookEndpoint): Promise<void> {
    this.attempts = null;
    if (this.open === endpoint.id) {
      this.open = null;
      return;
    }
    this.open = endpoint.id;
    this.deliveries = null;
    await this.#loadDeliveries(endpoint.id);
  }

  /** Opens (or closes) the attempt log of a delivery. */
  async #showAttempts(endpoint: string, delivery: string): Promise<void> {
    if (this.attempts?.id === delivery) {
      this.attempts = null;
      return;
    }
    try {
      this.attempts = { id: delivery, log: (await this.ctx.api.webhookDelivery(endpoint, delivery)).attemptLog };
    } catch (error) {
      this.error = this.describe(error);
    }
  }

  /** The event types ticked in a form. */
  #ticked(form: HTMLFormElement): string[] {
    return new FormData(form).getAll('eventTypes').map(String);
  }

  async #create(event: SubmitEvent): Promise<void> {
    event.preventDefault();
    const form = event.target as HTMLFormElement;
    const data = new FormData(form);
    const url = String(data.get('url')).trim();
    const description = String(data.get('description') ?? '').trim();
    const body = { url, eventTypes: this.#ticked(form), ...this.#signin(form), ...(description ? { description } : {}) };
    if (await this.#confirm(this.f('confirm_endpoint_create', { url }), '', (reason) => this.ctx.api.saveWebhookEndpoint(null, body, reason), 'done_endpoint_create')) {
      form.reset();
      this.modes = {};
    }
  }

  async #saveEvents(event: SubmitEvent, e: WebhookEndpoint): Promise<void> {
    event.preventDefault();
    const form = event.target as HTMLFormElement;
    const change = { eventTypes: this.#ticked(form), ...this.#signin(form) };
    const summary = [change.eventTypes.join(', '), ...OUTCOMES.map((o) => `${this.t[o === 'failed' ? 'signinFailedMode' : 'signinSucceededMode']}: ${this.#modeText(change[FIELD[o]])}`)].join(' · ');
    if (await this.#confirm(this.f('confirm_endpoint_events', { url: e.url }), summary, (reason) => this.ctx.api.saveWebhookEndpoint(e.id, change, reason), 'done_endpoint_change')) this.#stopEditing();
  }

  #stopEditing(): void {
    this.editing = null;
    this.modes = {};
  }

  /** Both sign-in settings as a form has them (the share is a percentage there, a fraction in the API). */
  #signin(form: HTMLFormElement): { signinFailed: SigninDelivery; signinSucceeded: SigninDelivery } {
    const data = new FormData(form);
    const of = (outcome: Outcome): SigninDelivery => {
      const mode = String(data.get(`signin-${outcome}-mode`) ?? 'each');
      if (mode === 'sampled') return { mode, rate: Number(data.get(`signin-${outcome}-rate`)) / 100 };
      return mode === 'summary' ? { mode } : EACH;
    };
    return { signinFailed: of('failed'), signinSucceeded: of('succeeded') };
  }

  #modeText(setting: SigninDelivery): string {
    if (setting.mode === 'sampled') return this.f('signinSampledShown', { percent: Math.round(setting.rate * 1000) / 10 });
    return this.t[`signinMode_${setting.mode}`];
  }

  /** The two sign-in selects of a form (`prefix`: "new" or an endpoint id), preset to `current`. */
  #signinFields(prefix: string, current: Pick<WebhookEndpoint, 'signinFailed' | 'signinSucceeded'>) {
    const t = this.t;
    return html`<fieldset>
      <legend>${t.signinModes}</legend>
      <p class="muted" id=${`${prefix}-signin-hint`}>${t.signinModesHint}</p>
      <div class="modes">
        ${OUTCOMES.map((outcome) => {
          const setting = current[FIELD[outcome]];
          const key = `${prefix}-${outcome}`;
          const mode = this.modes[key] ?? setting.mode;
          const id = `${key}-mode`;
          return html`<div class="field">
              <label for=${id}>${t[outcome === 'failed' ? 'signinFailedMode' : 'signinSucceededMode']}</label>
              <select id=${id} name=${`signin-${outcome}-mode`} aria-describedby=${`${prefix}-signin-hint`} @change=${(ev: Event) => (this.modes = { ...this.modes, [key]: (ev.target as HTMLSelectElement).value as SigninDelivery['mode'] })}>
                ${(['each', 'sampled', 'summary'] as const).map((m) => html`<option value=${m} ?selected=${m === mode}>${t[`signinMode_${m}`]}</option>`)}
              </select>
            </div>
            ${mode === 'sampled'
              ? html`<div class="field">
                  <label for=${`${key}-rate`}>${t.signinRate}</label>
                  <input id=${`${key}-rate`} name=${`signin-${outcome}-rate`} type="number" required min="0.1" max="100" step="0.1" .value=${String(setting.mode === 'sampled' ? Math.round(setting.rate * 1000) / 10 : 10)} />
                </div>`
              : nothing}`;
        })}
      </div>
    </fieldset>`;
  }

  #eventBoxes(prefix: string, chosen: string[]) {
    return html`<fieldset>
      <legend>${this.t.eventTypes}</legend>
      <div class="scopes">
        ${this.types.map((type) => html`<label><input type="checkbox" name="eventTypes" value=${type} ?checked=${chosen.includes(type)} id=${`${prefix}-${type}`} /><span class="mono">${breakable(type)}</span></label>`)}
      </div>
    </fieldset>`;
  }

  #attempts() {
    const t = this.t;
    const log = this.attempts?.log ?? [];
    return html`<tr><td colspan="6">
      <table data-attempts>
        <caption>${t.attemptsTitle}</caption>
        <thead><tr><th scope="col">${t.time}</th><th scope="col">${t.lastStatus}</th><th scope="col">${t.latency}</th><th scope="col">${t.responseExcerpt}</th></tr></thead>
        <tbody>${log.map(
          (a) => html`<tr><td>${this.ctx.tr.dateTime(a.at)}</td><td class="mono">${a.statusCode ?? a.error ?? '—'}</td><td>${this.f('millis', { ms: a.latencyMs })}</td><td class="mono">${(a.responseExcerpt ?? '').slice(0, 200) || '—'}</td></tr>`,
        )}</tbody>
      </table>
    </td></tr>`;
  }

  #deliveries(e: WebhookEndpoint) {
    const t = this.t;
    const list = this.deliveries;
    const manage = this.ctx.can('webhooks:manage');
    if (list === null) return html`<p class="muted">${t.loading}</p>`;
    if (list.length === 0) return html`<p class="muted">${t.noDeliveries}</p>`;
    return html`<div class="table-wrap"><table>
      <caption class="visually-hidden">${t.deliveries}</caption>
      <thead><tr><th scope="col">${t.time}</th><th scope="col">${t.event}</th><th scope="col">${t.status}</th><th scope="col">${t.attempts}</th><th scope="col">${t.lastStatus}</th><th scope="col"><span class="visually-hidden">${t.actions}</span></th></tr></thead>
      <tbody>
        ${list.map(
          (d) => html`<tr data-delivery=${d.status}>
              <td>${this.ctx.tr.dateTime(d.createdAt)}</td>
              <td class="mono">${d.eventType}</td>
              <td><span class=${d.status === 'delivered' ? 'badge ok' : d.status === 'failed' ? 'badge bad' : 'badge warn'}>${t[`delivery_${d.status}` as StringKey] ?? d.status}</span></td>
              <td>${d.attempts}</td>
              <td class="mono">${d.lastStatusCode ?? d.lastError ?? '—'}</td>
              <td>
                <button type="button" class="small" aria-expanded=${this.attempts?.id === d.id ? 'true' : 'false'} @click=${() => this.#showAttempts(e.id, d.id)}>${t.attemptsTitle}</button>
                ${manage ? html`<button type="button" class="small" @click=${() => this.#act(() => this.ctx.api.webhookAction(`/webhook-endpoints/${e.id}/deliveries/${d.id}/redeliver`), 'done_redeliver')}>${t.redeliver}</button>` : nothing}
              </td>
            </tr>
            ${this.attempts?.id === d.id ? this.#attempts() : nothing}`,
        )}
      </tbody>
    </table></div>`;
  }

  #endpoint(e: WebhookEndpoint) {
    const t = this.t;
    const manage = this.ctx.can('webhooks:manage');
    const api = this.ctx.api;
    return html`<section class="card" aria-label=${e.url}>
      <div class="head">
        <span class="url">${e.url}</span>
        <span class=${e.enabled ? 'badge ok' : 'badge bad'}>${e.enabled ? t.enabledState : this.f('disabledState', { why: e.disabledReason ?? '—' })}</span>
      </div>
      ${e.description ? html`<p>${e.description}</p>` : nothing}
      <dl class="facts">
        <dt>${t.eventTypes}</dt><dd class="mono">${e.eventTypes.join(', ')}</dd>
        <dt>${t.signinFailedMode}</dt><dd data-signin="failed">${this.#modeText(e.signinFailed ?? EACH)}</dd>
        <dt>${t.signinSucceededMode}</dt><dd data-signin="succeeded">${this.#modeText(e.signinSucceeded ?? EACH)}</dd>
        <dt>${t.created}</dt><dd>${this.ctx.tr.dateTime(e.createdAt)}</dd>
        ${e.failingSince ? html`<dt>${t.status}</dt><dd class="error">${this.f('failingSince', { time: this.ctx.tr.dateTime(e.failingSince) })}</dd>` : nothing}
      </dl>
      ${this.editing === e.id
        ? html`<form @submit=${(ev: SubmitEvent) => this.#saveEvents(ev, e)}>${this.#eventBoxes(e.id, e.eventTypes)}${this.#signinFields(e.id, e)}
            <div class="row"><button type="submit" class="small primary">${t.saveEvents}</button><button type="button" class="small" @click=${() => this.#stopEditing()}>${t.cancel}</button></div></form>`
        : nothing}
      <div class="row">
        <button type="button" class="small" aria-expanded=${this.open === e.id ? 'true' : 'false'} aria-label=${`${t.deliveries}: ${e.url}`} @click=${() => this.#toggle(e)}>${t.deliveries}</button>
        ${manage
          ? html`<button type="button" class="small" @click=${() => this.#act(() => api.webhookAction(`/webhook-endpoints/${e.id}/test`), 'done_test')}>${t.sendTest}</button>
              <button type="button" class="small" @click=${() => (this.editing = e.id)}>${t.editEvents}</button>
              <button type="button" class="small" @click=${() =>
                this.#confirm(this.f(e.enabled ? 'confirm_endpoint_disable' : 'confirm_endpoint_enable', { url: e.url }), '', (reason) => api.saveWebhookEndpoint(e.id, { enabled: !e.enabled }, reason), 'done_endpoint_change')}>${e.enabled ? t.disableEndpoint : t.enableEndpoint}</button>
              <button type="button" class="small" @click=${() =>
                this.#confirm(this.f('confirm_endpoint_rotate', { url: e.url }), t.confirm_endpoint_rotate_text, (reason) => api.rotateWebhookSecret(e.id, reason), 'done_endpoint_rotate')}>${t.rotateSecret}</button>
              <button type="button" class="small danger" aria-label=${this.f('deleteEndpointLabel', { url: e.url })} @click=${() =>
                this.#confirm(this.f('confirm_endpoint_delete', { url: e.url }), t.confirm_endpoint_delete_text, (reason) => api.deleteWebhookEndpoint(e.id, reason), 'done_endpoint_delete', true)}>${t.deletePasskey}</button>`
          : nothing}
      </div>
      ${this.open === e.id ? this.#deliveries(e) : nothing}
    </section>`;
  }

  override render() {
    const t = this.t;
    const manage = this.ctx.can('webhooks:manage');
    return html`<h1 tabindex="-1">${t.webhooksTitle}</h1>
      <p>${t.webhooksIntro}</p>
      ${this.error ? html`<p class="notice error" role="alert">${this.error}</p>` : nothing}
      ${this.notice ? html`<p class="notice success">${this.t[this.notice]}</p>` : nothing}
      ${this.secret
        ? html`<section class="card" aria-labelledby="secret-title">
            <h2 id="secret-title" tabindex="-1">${t.webhookSecretTitle}</h2>
            <p>${t.webhookSecretIntro}</p>
            <div class="secret"><code data-testid="webhook-secret">${this.secret}</code>
              <button type="button" class="small" @click=${async () => (await copy(this.secret)) && this.ctx.announce(t.copied)}>${t.copy}</button>
              <button type="button" class="small" @click=${() => (this.secret = '')}>${t.close}</button>
            </div>
          </section>`
        : nothing}
      ${manage
        ? html`<section class="card" aria-labelledby="new-endpoint">
            <h2 id="new-endpoint">${t.newEndpoint}</h2>
            <form @submit=${this.#create}>
              <div class="field"><label for="hook-url">${t.endpointUrl}</label><input id="hook-url" name="url" type="url" required maxlength="2048" autocomplete="off" /></div>
              <div class="field"><label for="hook-description">${t.description}</label><input id="hook-description" name="description" maxlength="500" /></div>
              ${this.#eventBoxes('new', [])}
              ${this.#signinFields('new', { signinFailed: EACH, signinSucceeded: EACH })}
              <button type="submit" class="primary">${t.addEndpoint}</button>
            </form>
          </section>`
        : nothing}
      ${this.endpoints && this.endpoints.length === 0 ? html`<p class="muted">${t.noEndpoints}</p>` : nothing}
      ${(this.endpoints ?? []).map((e) => this.#endpoint(e))}
      <lk-action-dialog .ctx=${this.ctx}></lk-action-dialog>`;
  }
}
