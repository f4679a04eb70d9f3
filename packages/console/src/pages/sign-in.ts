import { css, html, nothing } from 'lit';
import { LatchkeyError } from '../api.ts';
import { ConsolePage } from '../context.ts';
import type { StringKey } from '../i18n/index.ts';
import { base } from '../theme.ts';

const narrow = css`
  .card {
    max-width: 30rem;
    margin: 2rem auto;
  }
  button.primary {
    font-size: 1.05rem;
    padding: 0.65rem 1.2rem;
  }
`;

/**
 * Staff sign-in: a passkey, nothing else (discoverable, so no username to type). The server
 * accepts the session for the console only if the passkey verified the user (UV) and the account
 * is staff; `/me` says which, and this page says it in words.
 */
export class SignInPage extends ConsolePage {
  static override properties = {
    ...ConsolePage.properties,
    notice: { attribute: false },
    busy: { state: true },
    message: { state: true },
  };
  static override styles = [base, narrow];

  declare notice: StringKey | '';
  declare busy: boolean;
  declare message: string;

  constructor() {
    super();
    this.notice = '';
    this.busy = false;
    this.message = '';
  }

  override pageTitle(): string {
    return this.t.signInTitle;
  }

  async #signIn(): Promise<void> {
    this.busy = true;
    this.message = this.t.signingIn;
    try {
      await this.ctx.api.session.signIn();
      this.message = '';
      await this.ctx.refreshMe();
    } catch (error) {
      if (error instanceof DOMException) this.message = this.t.signInCancelled;
      else if (error instanceof LatchkeyError && error.status < 500 && error.status !== 429) this.message = this.t.signInRejected;
      else this.message = this.describe(error);
    } finally {
      this.busy = false;
    }
  }

  override render() {
    const t = this.t;
    return html`<section class="card" aria-labelledby="title">
      <h1 id="title" tabindex="-1">${t.signInTitle}</h1>
      ${this.notice ? html`<p class="notice error" role="alert">${t[this.notice]}</p>` : nothing}
      <p>${t.signInIntro}</p>
      <button type="button" class="primary" data-autofocus ?disabled=${this.busy} @click=${this.#signIn}>${t.signInButton}</button>
      <p role="status" aria-live="polite" class=${this.message && !this.busy ? 'error' : 'muted'}>${this.message}</p>
    </section>`;
  }
}

/** `/admin/enroll#token=…`: a new staff member creates the passkey they will sign in with (append token). */
export class EnrollPage extends ConsolePage {
  static override properties = {
    ...ConsolePage.properties,
    busy: { state: true },
    message: { state: true },
    done: { state: true },
  };
  static override styles = [base, narrow];

  declare busy: boolean;
  declare message: string;
  declare done: string;
  #token = '';

  constructor() {
    super();
    this.busy = false;
    this.message = '';
    this.done = '';
  }

  override connectedCallback(): void {
    super.connectedCallback();
    // The token is in the fragment (never sent to a server, never in a log); take it out of the
    // address bar at once so it does not stay in the history.
    const token = new URLSearchParams(location.hash.slice(1)).get('token');
    if (token) {
      this.#token = token;
      history.replaceState(null, '', location.pathname);
    }
  }

  override pageTitle(): string {
    return this.t.enrollTitle;
  }

  async #enroll(): Promise<void> {
    this.busy = true;
    this.message = this.t.enrollWorking;
    try {
      const { user } = await this.ctx.api.session.addPasskey({ appendToken: this.#token });
      this.#token = '';
      this.done = this.f('enrollDone', { name: user.username });
      this.message = '';
      await this.updateComplete;
      this.renderRoot.querySelector<HTMLElement>('#done')?.focus();
    } catch (error) {
      if (error instanceof DOMException) this.message = this.t.enrollCancelled;
      else if (error instanceof LatchkeyError && error.status >= 400 && error.status < 500 && error.status !== 429) this.message = this.t.enrollExpired;
      else this.message = this.describe(error);
    } finally {
      this.busy = false;
    }
  }

  override render() {
    const t = this.t;
    return html`<section class="card" aria-labelledby="title">
      <h1 id="title" tabindex="-1">${t.enrollTitle}</h1>
      ${this.done
        ? html`<p class="notice success" id="done" tabindex="-1">${this.done}</p>
            <a class="button primary" href="/admin">${t.goToSignIn}</a>`
        : this.#token || this.busy
          ? html`<p>${t.enrollIntro}</p>
              <button type="button" class="primary" data-autofocus ?disabled=${this.busy} @click=${this.#enroll}>${t.enrollButton}</button>`
          : html`<p class="notice error">${t.enrollMissing}</p>`}
      <p role="status" aria-live="polite" class=${this.message && !this.busy ? 'error' : 'muted'}>${this.message}</p>
    </section>`;
  }
}

export class NotFoundPage extends ConsolePage {
  static override styles = [base];
  override pageTitle(): string {
    return this.t.notFound;
  }
  override render() {
    return html`<h1 tabindex="-1">${this.t.notFound}</h1><p><a href="/admin">${this.t.navFind}</a></p>`;
  }
}
