import { css, html, LitElement, nothing, type PropertyValues, type TemplateResult } from 'lit';
import { AdminApi, LatchkeyError, type Me } from './api.ts';
import type { ConsoleContext, ConsolePage } from './context.ts';
import { initialLang, LANG_KEY, translator, type Lang, type StringKey, type Translator } from './i18n/index.ts';
import { BASE, parseRoute, type Route } from './router.ts';
import { base } from './theme.ts';

/** Where an explicit theme choice is remembered (absent: follow the system). */
export const THEME_KEY = 'latchkey-console-theme';

/** Navigation entries and the scopes that show them (any one of them). */
const NAV: { route: Route['name']; path: string; label: StringKey; scopes: string[] }[] = [
  { route: 'find', path: BASE, label: 'navFind', scopes: ['users:read'] },
  { route: 'audit', path: `${BASE}/audit`, label: 'navAudit', scopes: ['audit:read'] },
  { route: 'staff', path: `${BASE}/staff`, label: 'navStaff', scopes: ['staff:manage', 'staff:read'] },
  { route: 'api-keys', path: `${BASE}/api-keys`, label: 'navApiKeys', scopes: ['api_keys:manage'] },
  { route: 'adoption', path: `${BASE}/adoption`, label: 'navAdoption', scopes: ['analytics:read'] },
  { route: 'rollout', path: `${BASE}/rollout`, label: 'navRollout', scopes: ['rollout:read', 'rollout:write'] },
  { route: 'experiments', path: `${BASE}/experiments`, label: 'navExperiments', scopes: ['experiments:read', 'experiments:write'] },
  { route: 'webhooks', path: `${BASE}/webhooks`, label: 'navWebhooks', scopes: ['webhooks:read', 'webhooks:manage'] },
  { route: 'settings', path: `${BASE}/settings`, label: 'navSettings', scopes: ['settings:read'] },
];

function storage(): Storage | null {
  try {
    return window.localStorage;
  } catch {
    return null;
  }
}

/**
 * The support console: header (sections the role may see, who is signed in, language and
 * theme), the current page in <main>, and a polite live region. Routes are client-side under
 * `/admin`; on every route change focus moves to the new page (its search box or heading) and
 * the page title is announced.
 */
export class LatchkeyConsole extends LitElement {
  static override properties = {
    route: { state: true },
    me: { state: true },
    ready: { state: true },
    lang: { state: true },
    dark: { state: true },
    announcement: { state: true },
    signInNotice: { state: true },
  };

  static override styles = [
    base,
    css`
      :host {
        min-height: 100vh;
      }
      .skip {
        position: absolute;
        left: 0.5rem;
        top: -3rem;
        background: var(--lk-surface);
        padding: 0.5rem 0.75rem;
        border-radius: 6px;
        z-index: 10;
      }
      .skip:focus {
        top: 0.5rem;
      }
      header {
        background: var(--lk-surface);
        border-bottom: 1px solid var(--lk-border);
      }
      .bar {
        max-width: 72rem;
        margin: 0 auto;
        padding: 0.6rem 1rem;
        display: flex;
        flex-wrap: wrap;
        align-items: center;
        gap: 0.5rem 1.25rem;
      }
      .brand {
        font-weight: 700;
        font-size: 1.05rem;
        margin: 0;
        display: flex;
        align-items: center;
        gap: 0.5rem;
      }
      .brand svg {
        width: 22px;
        height: 22px;
        color: var(--lk-accent);
      }
      nav ul {
        display: flex;
        flex-wrap: wrap;
        gap: 0.25rem;
        list-style: none;
        margin: 0;
        padding: 0;
      }
      nav a {
        display: block;
        padding: 0.35rem 0.65rem;
        border-radius: 6px;
        color: var(--lk-fg);
        text-decoration: none;
      }
      nav a:hover {
        background: var(--lk-bg);
      }
      nav a[aria-current='page'] {
        background: var(--lk-info-bg);
        color: var(--lk-accent);
        font-weight: 600;
      }
      .tools {
        margin-left: auto;
        display: flex;
        flex-wrap: wrap;
        align-items: center;
        gap: 0.5rem;
      }
      .who {
        color: var(--lk-muted);
        font-size: 0.9rem;
      }
      select {
        padding: 0.3rem 0.4rem;
      }
      main {
        max-width: 72rem;
        margin: 0 auto;
        padding: 1.25rem 1rem 3rem;
      }
      main:focus {
        outline: none;
      }
    `,
  ];

  declare route: Route;
  declare me: Me | null;
  declare ready: boolean;
  declare lang: Lang;
  declare dark: boolean;
  declare announcement: string;
  declare signInNotice: StringKey | '';

  readonly #api = new AdminApi();
  #ctx: ConsoleContext | undefined;
  #ctxKey = '';
  #routeChanged = true;
  #media = window.matchMedia('(prefers-color-scheme: dark)');

  constructor() {
    super();
    this.route = parseRoute(location.pathname);
    this.me = null;
    this.ready = false;
    this.lang = initialLang(storage()?.getItem(LANG_KEY) ?? null, navigator.language);
    const stored = storage()?.getItem(THEME_KEY);
    this.dark = stored === 'dark' || (stored !== 'light' && this.#media.matches);
    this.announcement = '';
    this.signInNotice = '';
  }

  override connectedCallback(): void {
    super.connectedCallback();
    window.addEventListener('popstate', this.#onPopState);
    this.#media.addEventListener('change', this.#onSystemTheme);
    document.documentElement.lang = this.lang;
    void this.#loadMe();
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    window.removeEventListener('popstate', this.#onPopState);
    this.#media.removeEventListener('change', this.#onSystemTheme);
  }

  #onPopState = () => this.#go(parseRoute(location.pathname));
  #onSystemTheme = () => {
    if (!storage()?.getItem(THEME_KEY)) this.dark = this.#media.matches;
  };

  async #loadMe(): Promise<void> {
    try {
      this.me = await this.#api.me();
      this.signInNotice = '';
    } catch (error) {
      this.me = null;
      if (error instanceof LatchkeyError && error.status === 403) this.signInNotice = error.code === 'staff_passkey_required' ? 'staffPasskeyRequired' : 'notStaff';
      else if (!(error instanceof LatchkeyError && error.status === 401)) this.signInNotice = '';
    } finally {
      this.ready = true;
      this.#routeChanged = true;
    }
  }

  get #tr(): Translator {
    return translator(this.lang);
  }

  /** A new context object whenever what pages read from it changes (so they render again). */
  #context(): ConsoleContext {
    const key = `${this.lang}|${this.me?.userId ?? ''}|${this.me?.role ?? ''}|${this.me?.scopes.join(',') ?? ''}`;
    if (this.#ctx && key === this.#ctxKey) return this.#ctx;
    const me = this.me;
    this.#ctxKey = key;
    this.#api.lang = this.lang;
    this.#ctx = {
      api: this.#api,
      tr: this.#tr,
      me,
      can: (scope) => me?.scopes.includes(scope) ?? false,
      navigate: (path) => this.navigate(path),
      announce: (message) => this.#announce(message),
      signedOut: () => {
        this.me = null;
        this.signInNotice = 'sessionExpired';
      },
      refreshMe: () => this.#loadMe(),
    };
    return this.#ctx;
  }

  #announce(message: string): void {
    // Cleared first so that the same words twice are announced twice.
    this.announcement = '';
    requestAnimationFrame(() => {
      this.announcement = message;
    });
  }

  navigate(path: string): void {
    if (path !== location.pathname + location.search) history.pushState(null, '', path);
    this.#go(parseRoute(new URL(path, location.origin).pathname));
  }

  #go(route: Route): void {
    this.route = route;
    this.#routeChanged = true;
  }

  /** Same-origin links to console routes are followed without a page load. */
  #onClick = (event: MouseEvent) => {
    if (event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
    const anchor = event.composedPath().find((node): node is HTMLAnchorElement => node instanceof HTMLAnchorElement);
    if (!anchor || anchor.target || anchor.hasAttribute('download')) return;
    const url = new URL(anchor.href, location.href);
    if (url.origin !== location.origin || !(url.pathname === BASE || url.pathname.startsWith(`${BASE}/`))) return;
    event.preventDefault();
    this.navigate(url.pathname + url.search);
  };

  #setLang(lang: Lang): void {
    this.lang = lang;
    storage()?.setItem(LANG_KEY, lang);
    document.documentElement.lang = lang;
  }

  #toggleTheme(): void {
    this.dark = !this.dark;
    storage()?.setItem(THEME_KEY, this.dark ? 'dark' : 'light');
  }

  async #signOut(): Promise<void> {
    try {
      await this.#api.session.signOut();
    } finally {
      this.me = null;
      this.signInNotice = '';
      this.navigate(BASE);
    }
  }

  protected override updated(changed: PropertyValues): void {
    super.updated(changed);
    document.documentElement.dataset.theme = this.dark ? 'dark' : 'light';
    if (this.#routeChanged && this.ready) {
      this.#routeChanged = false;
      const page = this.renderRoot.querySelector('main > :not(.visually-hidden)') as ConsolePage | null;
      if (page) {
        void page.updateComplete.then(() => {
          const title = typeof page.pageTitle === 'function' ? page.pageTitle() : this.#tr.t.appName;
          document.title = `${title} · ${this.#tr.t.appName}`;
          page.focusStart?.();
          this.#announce(this.#tr.f('pageLoaded', { page: title }));
        });
      }
    }
  }

  #page(ctx: ConsoleContext): TemplateResult {
    const route = this.route;
    if (route.name === 'enroll') return html`<lk-enroll-page .ctx=${ctx}></lk-enroll-page>`;
    if (!this.me) return html`<lk-sign-in-page .ctx=${ctx} .notice=${this.signInNotice}></lk-sign-in-page>`;
    switch (route.name) {
      case 'find':
        return html`<lk-find-page .ctx=${ctx}></lk-find-page>`;
      case 'user':
        return html`<lk-user-page .ctx=${ctx} .userId=${route.id}></lk-user-page>`;
      case 'audit':
        return html`<lk-audit-page .ctx=${ctx}></lk-audit-page>`;
      case 'staff':
        return html`<lk-staff-page .ctx=${ctx}></lk-staff-page>`;
      case 'api-keys':
        return html`<lk-api-keys-page .ctx=${ctx}></lk-api-keys-page>`;
      case 'settings':
        return html`<lk-settings-page .ctx=${ctx}></lk-settings-page>`;
      case 'webhooks':
        return html`<lk-webhooks-page .ctx=${ctx}></lk-webhooks-page>`;
      case 'adoption':
        return html`<lk-adoption-page .ctx=${ctx}></lk-adoption-page>`;
      case 'rollout':
        return html`<lk-rollout-page .ctx=${ctx}></lk-rollout-page>`;
      case 'experiments':
        return html`<lk-experiments-page .ctx=${ctx}></lk-experiments-page>`;
      default:
        return html`<lk-not-found-page .ctx=${ctx}></lk-not-found-page>`;
    }
  }

  override render() {
    const ctx = this.#context();
    const { t } = ctx.tr;
    const me = this.me;
    const nav = me ? NAV.filter((item) => item.scopes.some((scope) => ctx.can(scope))) : [];
    const current = this.route.name === 'user' ? 'find' : this.route.name;
    return html`<div @click=${this.#onClick}>
      <header>
        <button type="button" class="skip" @click=${() => this.renderRoot.querySelector<HTMLElement>('main')?.focus()}>${t.skipToContent}</button>
        <div class="bar">
          <p class="brand">
            <svg viewBox="0 0 24 24" aria-hidden="true" focusable="false"><path fill="currentColor" d="M7 14a3 3 0 1 1 0-6 3 3 0 0 1 0 6Zm5.65-4A6 6 0 1 0 12.65 14H16v3h3v-3h2v-4Z"/></svg>
            <span>${t.appName}</span>
          </p>
          ${nav.length > 0
            ? html`<nav aria-label=${t.mainNav}>
                <ul>
                  ${nav.map((item) => html`<li><a href=${item.path} aria-current=${current === item.route ? 'page' : nothing}>${t[item.label]}</a></li>`)}
                </ul>
              </nav>`
            : nothing}
          <div class="tools">
            ${me ? html`<span class="who">${ctx.tr.f('signedInAs', { name: me.displayName || me.username, role: t[`role_${me.role}` as StringKey] ?? me.role })}</span>` : nothing}
            <select aria-label=${t.language} @change=${(e: Event) => this.#setLang((e.target as HTMLSelectElement).value as Lang)}>
              <option value="en" ?selected=${this.lang === 'en'} lang="en">English</option>
              <option value="de" ?selected=${this.lang === 'de'} lang="de">Deutsch</option>
            </select>
            <button type="button" class="small" aria-pressed=${this.dark ? 'true' : 'false'} @click=${this.#toggleTheme}>${t.themeToDark}</button>
            ${me ? html`<button type="button" class="small" @click=${this.#signOut}>${t.signOut}</button>` : nothing}
          </div>
        </div>
      </header>
      <main id="main" tabindex="-1">
        <div class="visually-hidden" role="status" aria-live="polite">${this.announcement}</div>
        ${this.ready ? this.#page(ctx) : html`<p class="muted">${t.loading}</p>`}
      </main>
    </div>`;
  }
}
