import { css, html, nothing } from 'lit';
import type { SearchHit } from '../api.ts';
import { ConsolePage } from '../context.ts';
import type { StringKey } from '../i18n/index.ts';
import { userPath } from '../router.ts';
import { base } from '../theme.ts';

/** Wait this long after the last keystroke before asking the server. */
const DEBOUNCE_MS = 150;

/**
 * Find a user as you type: one box for username, e-mail, external id, user id or credential id.
 * Each keystroke cancels the request still running (AbortController) so a slow old answer never
 * replaces a newer one. The box is an ARIA combobox over a listbox: arrow keys move, Enter opens.
 */
export class FindPage extends ConsolePage {
  static override properties = {
    ...ConsolePage.properties,
    query: { state: true },
    results: { state: true },
    active: { state: true },
    pending: { state: true },
    error: { state: true },
  };

  static override styles = [
    base,
    css`
      input[type='search'] {
        width: 100%;
        font-size: 1.25rem;
        padding: 0.7rem 0.9rem;
      }
      ul {
        list-style: none;
        margin: 0.75rem 0 0;
        padding: 0;
        border: 1px solid var(--lk-border);
        border-radius: var(--lk-radius);
        background: var(--lk-surface);
        overflow: hidden;
      }
      li {
        padding: 0.6rem 0.9rem;
        border-bottom: 1px solid var(--lk-border);
        cursor: pointer;
        display: grid;
        grid-template-columns: 1fr auto;
        gap: 0.1rem 1rem;
      }
      li:last-child {
        border-bottom: none;
      }
      li[aria-selected='true'] {
        background: var(--lk-info-bg);
        box-shadow: inset 4px 0 0 var(--lk-accent);
      }
      .name {
        font-weight: 600;
      }
      .sub {
        color: var(--lk-muted);
        font-size: 0.875rem;
        overflow-wrap: anywhere;
      }
      .meta {
        grid-row: 1 / span 2;
        grid-column: 2;
        display: flex;
        flex-direction: column;
        align-items: flex-end;
        gap: 0.25rem;
      }
    `,
  ];

  declare query: string;
  declare results: SearchHit[] | null;
  declare active: number;
  declare pending: boolean;
  declare error: string;

  #timer: ReturnType<typeof setTimeout> | undefined;
  #inflight: AbortController | undefined;

  constructor() {
    super();
    this.query = '';
    this.results = null;
    this.active = -1;
    this.pending = false;
    this.error = '';
  }

  override pageTitle(): string {
    return this.t.findTitle;
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    clearTimeout(this.#timer);
    this.#inflight?.abort();
  }

  #onInput(event: InputEvent): void {
    this.query = (event.target as HTMLInputElement).value;
    clearTimeout(this.#timer);
    this.#inflight?.abort();
    const q = this.query.trim();
    if (q.length < 2) {
      this.results = null;
      this.pending = false;
      this.active = -1;
      return;
    }
    this.pending = true;
    this.#timer = setTimeout(() => void this.#search(q), DEBOUNCE_MS);
  }

  async #search(q: string): Promise<void> {
    const controller = new AbortController();
    this.#inflight = controller;
    try {
      const { items } = await this.ctx.api.search(q, controller.signal);
      if (controller.signal.aborted) return;
      this.results = items;
      this.active = items.length > 0 ? 0 : -1;
      this.error = '';
      this.ctx.announce(items.length === 0 ? this.f('noResults', { q }) : items.length === 1 ? this.t.resultOne : this.f('resultCount', { n: items.length }));
    } catch (error) {
      if (controller.signal.aborted) return;
      this.error = this.describe(error);
      this.results = null;
    } finally {
      if (this.#inflight === controller) {
        this.#inflight = undefined;
        this.pending = false;
      }
    }
  }

  #onKeyDown(event: KeyboardEvent): void {
    const list = this.results ?? [];
    if (event.key === 'ArrowDown' && list.length > 0) {
      event.preventDefault();
      this.active = (this.active + 1) % list.length;
    } else if (event.key === 'ArrowUp' && list.length > 0) {
      event.preventDefault();
      this.active = (this.active - 1 + list.length) % list.length;
    } else if (event.key === 'Enter') {
      event.preventDefault();
      const hit = list[this.active] ?? list[0];
      if (hit) this.ctx.navigate(userPath(hit.id));
    } else if (event.key === 'Escape') {
      this.active = -1;
    }
  }

  protected override updated(): void {
    this.renderRoot.querySelector(`#hit-${this.active}`)?.scrollIntoView({ block: 'nearest' });
  }

  #hit(hit: SearchHit, index: number) {
    const t = this.t;
    const sub = [hit.username !== hit.displayName ? hit.username : '', hit.email ?? '', hit.externalId ?? ''].filter(Boolean).join(' · ');
    return html`<li id=${`hit-${index}`} role="option" aria-selected=${index === this.active ? 'true' : 'false'}
      @mousedown=${(e: Event) => e.preventDefault()}
      @click=${() => this.ctx.navigate(userPath(hit.id))}>
      <span class="name">${hit.displayName || hit.username}</span>
      <span class="meta">
        <span class=${hit.status === 'active' ? 'badge ok' : 'badge bad'}>${t[`status_${hit.status}` as StringKey] ?? hit.status}</span>
        <span class="badge">${this.f('matchedBy', { what: t[`match_${hit.match}` as StringKey] ?? hit.match })}</span>
      </span>
      <span class="sub">${sub || hit.id} · ${(hit.passkeyCount === 1 ? this.t.passkeyCountOne : this.f('passkeyCount', { n: hit.passkeyCount }))}</span>
    </li>`;
  }

  override render() {
    const t = this.t;
    const results = this.results;
    const open = results !== null && results.length > 0;
    return html`<h1 tabindex="-1">${t.findTitle}</h1>
      <div class="field" role="search">
        <label for="q">${t.searchLabel}</label>
        <input id="q" type="search" data-autofocus autocomplete="off" spellcheck="false"
          role="combobox" aria-autocomplete="list" aria-controls="results" aria-expanded=${open ? 'true' : 'false'}
          aria-activedescendant=${open && this.active >= 0 ? `hit-${this.active}` : nothing}
          aria-describedby="q-hint" .value=${this.query}
          @input=${this.#onInput} @keydown=${this.#onKeyDown} />
        <p class="hint" id="q-hint">${t.searchHint}</p>
      </div>
      <p class="muted" ?hidden=${!this.pending}>${t.searching}</p>
      ${this.error ? html`<p class="notice error" role="alert">${this.error}</p>` : nothing}
      ${results !== null && results.length === 0 && !this.pending ? html`<p>${this.f('noResults', { q: this.query.trim() })}</p>` : nothing}
      <ul id="results" role="listbox" aria-label=${t.searchResults} ?hidden=${!open}>
        ${(results ?? []).map((hit, i) => this.#hit(hit, i))}
      </ul>`;
  }
}
