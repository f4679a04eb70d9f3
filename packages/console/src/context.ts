import { LitElement, type PropertyValues } from 'lit';
import { LatchkeyError, type AdminApi, type Me } from './api.ts';
import type { StringKey, Translator } from './i18n/index.ts';

/** What the shell hands every page: the API, the language, who is signed in, and a few services. */
export interface ConsoleContext {
  api: AdminApi;
  tr: Translator;
  me: Me | null;
  /** Whether the signed-in staff member's role holds `scope` (the server decides all the same). */
  can(scope: string): boolean;
  navigate(path: string): void;
  /** Says `message` in the page's polite live region (screen readers). */
  announce(message: string): void;
  /** The API answered 401: back to the sign-in page. */
  signedOut(): void;
  /** Ask `/me` again (after sign-in). */
  refreshMe(): Promise<void>;
}

/**
 * Base of every console page: the context, strings, a busy flag, focus on the page heading after
 * it rendered (route change), and one way to turn a failure into words.
 */
export class ConsolePage extends LitElement {
  static override properties = {
    ctx: { attribute: false },
  };

  declare ctx: ConsoleContext;
  /** Title for the document and the route-change announcement. */
  pageTitle(): string {
    return this.ctx.tr.t.appName;
  }

  get t() {
    return this.ctx.tr.t;
  }

  f(key: StringKey, values?: Record<string, string | number>): string {
    return this.ctx.tr.f(key, values);
  }

  /** Where focus goes when the page opens: the `autofocus` element if any, else the heading. */
  focusStart(): void {
    const target = this.renderRoot.querySelector<HTMLElement>('[data-autofocus]') ?? this.renderRoot.querySelector<HTMLElement>('h1');
    target?.focus();
  }

  protected override firstUpdated(changed: PropertyValues): void {
    super.firstUpdated(changed);
    this.dispatchEvent(new CustomEvent('lk-page-ready', { bubbles: true, composed: true }));
  }

  /** A failure in words for the user of the console; a 401 also signs out. */
  describe(error: unknown): string {
    if (error instanceof LatchkeyError) {
      if (error.status === 401) {
        this.ctx.signedOut();
        return this.t.sessionExpired;
      }
      if (error.status === 403 && error.code !== 'step_up_required') return this.f('forbidden', { code: error.code });
      return this.f('genericError', { detail: error.message || error.code });
    }
    if (error instanceof DOMException && (error.name === 'NotAllowedError' || error.name === 'AbortError')) return this.t.stepUpFailed;
    if (error instanceof TypeError) return this.t.networkError;
    return this.f('genericError', { detail: error instanceof Error ? error.message : String(error) });
  }
}
