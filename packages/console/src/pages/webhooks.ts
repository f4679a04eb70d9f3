import { css, html, nothing } from 'lit';
import type { LkActionDialog } from '../action-dialog.ts';
import type { WebhookDelivery, WebhookEndpoint } from '../api.ts';
import { ConsolePage } from '../context.ts';
import type { StringKey } from '../i18n/index.ts';
import { base } from '../theme.ts';

/**
 * Webhook endpoints (`webhooks:read`) with the state of each and, on request, its last
 * deliveries; `webhooks:manage` may delete one (reason + step-up). Adding and changing endpoints
 * stays with the management API, which shows the signing secret.
 */
export class WebhooksPage extends ConsolePage {
  static override properties = {
    ...ConsolePage.properties,
    endpoints: { state: true },
    open: { state: true },
    deliveries: { state: true },
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
      .url {
        font-family: var(--lk-mono);
        font-weight: 600;
        overflow-wrap: anywhere;
      }
      .table-wrap {
        overflow-x: auto;
        margin-top: 0.75rem;
      }
      .row {
        margin-top: 0.75rem;
      }
    `,
  ];

  declare endpoints: WebhookEndpoint[] | null;
  declare open: string | null;
  declare deliveries: WebhookDelivery[] | null;
  declare error: string;
  declare notice: string;

  constructor() {
    super();
    this.endpoints = null;
    this.open = null;
    this.deliveries = null;
    this.error = '';
    this.notice = '';
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
      this.endpoints = (await this.ctx.api.webhookEndpoints()).endpoints;
    } catch (error) {
      this.error = this.describe(error);
    }
  }

  async #toggle(endpoint: WebhookEndpoint): Promise<void> {
    if (this.open === endpoint.id) {
      this.open = null;
      return;
    }
    this.open = endpoint.id;
    this.deliveries = null;
    try {
      this.deliveries = (await this.ctx.api.webhookDeliveries(endpoint.id)).deliveries;
    } catch (error) {
      this.error = this.describe(error);
    }
  }

  async #delete(endpoint: WebhookEndpoint): Promise<void> {
    const dialog = this.renderRoot.querySelector('lk-action-dialog') as LkActionDialog;
    const done = await dialog.open({
      title: this.f('confirm_endpoint_delete', { url: endpoint.url }),
      text: this.t.confirm_endpoint_delete_text,
      confirmLabel: this.t.deletePasskey,
      danger: true,
      run: (reason) => this.ctx.api.deleteWebhookEndpoint(endpoint.id, reason),
    });
    if (!done) return;
    this.notice = this.t.done_endpoint_delete;
    this.ctx.announce(this.notice);
    await this.load();
  }

  #deliveries() {
    const t = this.t;
    const list = this.deliveries;
    if (list === null) return html`<p class="muted">${t.loading}</p>`;
    if (list.length === 0) return html`<p class="muted">${t.noDeliveries}</p>`;
    return html`<div class="table-wrap"><table>
      <caption class="visually-hidden">${t.deliveries}</caption>
      <thead><tr><th scope="col">${t.time}</th><th scope="col">${t.event}</th><th scope="col">${t.status}</th><th scope="col">${t.attempts}</th><th scope="col">${t.lastStatus}</th></tr></thead>
      <tbody>
        ${list.map(
          (d) => html`<tr>
            <td>${this.ctx.tr.dateTime(d.createdAt)}</td>
            <td class="mono">${d.eventType}</td>
            <td><span class=${d.status === 'delivered' ? 'badge ok' : d.status === 'failed' ? 'badge bad' : 'badge warn'}>${t[`delivery_${d.status}` as StringKey] ?? d.status}</span></td>
            <td>${d.attempts}</td>
            <td class="mono">${d.lastStatusCode ?? d.lastError ?? '—'}</td>
          </tr>`,
        )}
      </tbody>
    </table></div>`;
  }

  override render() {
    const t = this.t;
    const manage = this.ctx.can('webhooks:manage');
    return html`<h1 tabindex="-1">${t.webhooksTitle}</h1>
      <p>${t.webhooksIntro}</p>
      ${this.error ? html`<p class="notice error" role="alert">${this.error}</p>` : nothing}
      ${this.notice ? html`<p class="notice success">${this.notice}</p>` : nothing}
      ${this.endpoints && this.endpoints.length === 0 ? html`<p class="muted">${t.noEndpoints}</p>` : nothing}
      ${(this.endpoints ?? []).map(
        (e) => html`<section class="card" aria-label=${e.url}>
          <div class="head">
            <span class="url">${e.url}</span>
            <span class=${e.enabled ? 'badge ok' : 'badge bad'}>${e.enabled ? t.enabledState : this.f('disabledState', { why: e.disabledReason ?? '—' })}</span>
          </div>
          ${e.description ? html`<p>${e.description}</p>` : nothing}
          <dl class="facts">
            <dt>${t.eventTypes}</dt><dd class="mono">${e.eventTypes.join(', ')}</dd>
            <dt>${t.created}</dt><dd>${this.ctx.tr.dateTime(e.createdAt)}</dd>
            ${e.failingSince ? html`<dt>${t.status}</dt><dd class="error">${this.f('failingSince', { time: this.ctx.tr.dateTime(e.failingSince) })}</dd>` : nothing}
          </dl>
          <div class="row">
            <button type="button" class="small" aria-expanded=${this.open === e.id ? 'true' : 'false'} aria-label=${`${t.deliveries}: ${e.url}`} @click=${() => this.#toggle(e)}>${t.deliveries}</button>
            ${manage ? html`<button type="button" class="small danger" aria-label=${this.f('deleteEndpointLabel', { url: e.url })} @click=${() => this.#delete(e)}>${t.deletePasskey}</button>` : nothing}
          </div>
          ${this.open === e.id ? this.#deliveries() : nothing}
        </section>`,
      )}
      <lk-action-dialog .ctx=${this.ctx}></lk-action-dialog>`;
  }
}
