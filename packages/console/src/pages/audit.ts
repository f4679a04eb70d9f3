import { css, html, nothing } from 'lit';
import type { AuditEvent, ChainVerdict } from '../api.ts';
import { ConsolePage } from '../context.ts';
import type { StringKey } from '../i18n/index.ts';
import { userPath } from '../router.ts';
import { base } from '../theme.ts';

const FILTERS = ['type', 'actorKind', 'actorId', 'userId', 'from', 'to', 'outcome'] as const;
type Filter = (typeof FILTERS)[number];

/**
 * Audit search: filters, a page of events at a time, export as CSV or NDJSON (a download, for
 * roles with `audit:export`), and the tamper-evidence verdict of the hash chain as a badge.
 */
export class AuditPage extends ConsolePage {
  static override properties = {
    ...ConsolePage.properties,
    events: { state: true },
    nextCursor: { state: true },
    verdict: { state: true },
    error: { state: true },
    notice: { state: true },
    busy: { state: true },
  };

  static override styles = [
    base,
    css`
      form.filters {
        display: grid;
        grid-template-columns: repeat(auto-fill, minmax(12rem, 1fr));
        gap: 0 0.75rem;
        align-items: start;
      }
      .top {
        display: flex;
        flex-wrap: wrap;
        justify-content: space-between;
        align-items: center;
        gap: 0.5rem;
        margin-bottom: 1rem;
      }
      .top h1 {
        margin: 0;
      }
      .table-wrap {
        overflow-x: auto;
      }
      .buttons-cell {
        align-self: end;
      }
      td.nowrap {
        white-space: nowrap;
      }
      td .mono {
        overflow-wrap: normal;
      }
      .buttons {
        display: flex;
        flex-wrap: wrap;
        gap: 0.5rem;
        margin-bottom: 0.75rem;
      }
    `,
  ];

  declare events: AuditEvent[] | null;
  declare nextCursor: string | null;
  declare verdict: ChainVerdict | null | 'unknown';
  declare error: string;
  declare notice: string;
  declare busy: boolean;
  #filters: Record<string, string> = {};

  constructor() {
    super();
    this.events = null;
    this.nextCursor = null;
    this.verdict = null;
    this.error = '';
    this.notice = '';
    this.busy = false;
  }

  override pageTitle(): string {
    return this.t.auditTitle;
  }

  override connectedCallback(): void {
    super.connectedCallback();
    void this.#search();
    void this.ctx.api
      .auditVerification()
      .then((v) => {
        this.verdict = v;
      })
      .catch(() => {
        this.verdict = 'unknown';
      });
  }

  #shown(n: number): string {
    return n === 1 ? this.t.eventsShownOne : this.f('eventsShown', { n });
  }

  #read(form: HTMLFormElement): Record<string, string> {
    const data = new FormData(form);
    const filters: Record<string, string> = {};
    for (const name of FILTERS) {
      const value = String(data.get(name) ?? '').trim();
      if (!value) continue;
      // datetime-local has no zone: the console's own clock says which.
      filters[name] = name === 'from' || name === 'to' ? new Date(value).toISOString() : value;
    }
    return filters;
  }

  async #search(cursor?: string): Promise<void> {
    this.busy = true;
    try {
      const page = await this.ctx.api.auditEvents(this.#filters, cursor);
      this.events = cursor ? [...(this.events ?? []), ...page.items] : page.items;
      this.nextCursor = page.nextCursor;
      this.error = '';
      this.ctx.announce(this.#shown(this.events.length));
    } catch (error) {
      this.error = this.describe(error);
    } finally {
      this.busy = false;
    }
  }

  #submit(event: SubmitEvent): void {
    event.preventDefault();
    this.#filters = this.#read(event.target as HTMLFormElement);
    void this.#search();
  }

  #reset(event: Event): void {
    const form = (event.target as HTMLElement).closest('form')!;
    form.reset();
    this.#filters = {};
    void this.#search();
  }

  async #export(format: 'csv' | 'ndjson'): Promise<void> {
    try {
      const { blob, name } = await this.ctx.api.auditExport(format, this.#filters);
      const url = URL.createObjectURL(blob);
      const link = document.createElement('a');
      link.href = url;
      link.download = name;
      link.click();
      setTimeout(() => URL.revokeObjectURL(url), 10_000);
      this.notice = this.f('exported', { name });
      this.ctx.announce(this.notice);
    } catch (error) {
      this.error = this.describe(error);
    }
  }

  #badge() {
    const v = this.verdict;
    if (v === null) return nothing;
    if (v === 'unknown') return html`<span class="badge" data-verdict="unknown">${this.t.chainUnknown}</span>`;
    if (v.ok) return html`<span class="badge ok" data-verdict="ok">✓ ${this.f('chainOk', { n: v.checkedEvents })}</span>`;
    return html`<span class="badge bad" data-verdict="bad">✗ ${this.f('chainBad', { id: String(v.firstBad?.eventId ?? v.firstBad?.seq ?? '?') })}</span>`;
  }

  #field(name: Filter, label: StringKey, input: unknown) {
    return html`<div class="field"><label for=${`f-${name}`}>${this.t[label]}</label>${input}</div>`;
  }

  override render() {
    const t = this.t;
    const canExport = this.ctx.can('audit:export');
    return html`<div class="top"><h1 tabindex="-1">${t.auditTitle}</h1>${this.#badge()}</div>
      <section class="card" aria-labelledby="filters-title">
        <h2 id="filters-title">${t.filters}</h2>
        <form class="filters" @submit=${this.#submit}>
          ${this.#field('type', 'filterType', html`<input id="f-type" name="type" placeholder="passkey.authentication_failed" />`)}
          ${this.#field('actorKind', 'filterActorKind', html`<select id="f-actorKind" name="actorKind">
            <option value="">${t.any}</option>
            ${['user', 'staff', 'api_key', 'cli'].map((k) => html`<option value=${k}>${t[`actor_${k}` as StringKey]}</option>`)}
          </select>`)}
          ${this.#field('actorId', 'filterActorId', html`<input id="f-actorId" name="actorId" />`)}
          ${this.#field('userId', 'filterUser', html`<input id="f-userId" name="userId" />`)}
          ${this.#field('from', 'filterFrom', html`<input id="f-from" name="from" type="datetime-local" />`)}
          ${this.#field('to', 'filterTo', html`<input id="f-to" name="to" type="datetime-local" />`)}
          ${this.#field('outcome', 'filterOutcome', html`<select id="f-outcome" name="outcome">
            <option value="">${t.any}</option>
            <option value="success">${t.outcome_success}</option>
            <option value="failure">${t.outcome_failure}</option>
          </select>`)}
          <div class="field row buttons-cell">
            <button type="submit" class="primary" ?disabled=${this.busy}>${t.search}</button>
            <button type="button" @click=${this.#reset}>${t.reset}</button>
          </div>
        </form>
      </section>
      ${canExport
        ? html`<div class="buttons">
            <button type="button" @click=${() => this.#export('csv')}>${t.exportCsv}</button>
            <button type="button" @click=${() => this.#export('ndjson')}>${t.exportNdjson}</button>
          </div>`
        : nothing}
      ${this.error ? html`<p class="notice error" role="alert">${this.error}</p>` : nothing}
      ${this.notice ? html`<p class="notice success">${this.notice}</p>` : nothing}
      <section class="card" aria-labelledby="events-title">
        <h2 id="events-title">${this.events ? this.#shown(this.events.length) : t.loading}</h2>
        <div class="table-wrap">
          <table>
            <thead><tr><th scope="col">${t.time}</th><th scope="col">${t.event}</th><th scope="col">${t.filterOutcome}</th><th scope="col">${t.actor}</th><th scope="col">${t.subject}</th><th scope="col">${t.reason}</th></tr></thead>
            <tbody>
              ${(this.events ?? []).map((e) => {
                const actorKind = e.actor?.kind ?? e.actorKind ?? null;
                const actorId = e.actor?.id ?? e.actorId ?? null;
                const subject = e.userId ?? e.subjectUserId ?? null;
                const reason = e.reason ?? (typeof e.data?.reason === 'string' ? e.data.reason : null);
                return html`<tr>
                  <td class="nowrap"><time datetime=${e.at}>${this.ctx.tr.dateTime(e.at)}</time></td>
                  <td class="nowrap"><span class="mono">${e.type}</span>${e.errorCode ? html`<br /><span class="mono muted">${e.errorCode}</span>` : nothing}</td>
                  <td><span class=${e.outcome === 'failure' ? 'badge bad' : e.outcome === 'success' ? 'badge ok' : 'badge'}>${t[`outcome_${e.outcome}` as StringKey] ?? e.outcome}</span></td>
                  <td>${actorKind ? (t[`actor_${actorKind}` as StringKey] ?? actorKind) : '—'}${actorId ? html` <span class="mono muted" title=${actorId}>${actorId.slice(0, 8)}</span>` : nothing}</td>
                  <td>${subject ? html`<a class="mono" href=${userPath(subject)}>${subject.slice(0, 8)}</a>` : '—'}</td>
                  <td>${reason ?? ''}</td>
                </tr>`;
              })}
            </tbody>
          </table>
        </div>
        ${this.nextCursor ? html`<p><button type="button" ?disabled=${this.busy} @click=${() => this.#search(this.nextCursor ?? undefined)}>${t.loadMore}</button></p>` : nothing}
      </section>`;
  }
}
