import { css, html, nothing, type PropertyValues } from 'lit';
import { live } from 'lit/directives/live.js';
import { LatchkeyError } from '../../sdk/src/index.ts';
import { LatchkeyElement } from './base.ts';
import { followSession } from './session-events.ts';
import { theme } from './theme.ts';

/** `detail` of `latchkey-email-changed`. */
export interface EmailChangedDetail {
  /** The account's verified address now. */
  email: string;
}

type Step = 'view' | 'address' | 'code';

/**
 * The signed-in user's e-mail address: shows it (verified) or that there is none, and adds or
 * changes it. The new address gets a six-digit code; it becomes the account's address once the
 * code is entered here (until then the old one stays). Setting an address is a sensitive change:
 * the element asks for the user's passkey first when the server wants a step-up. The address is
 * what e-mail sign-in codes, account recovery and security notifications use.
 *
 * Like `<latchkey-passkeys>` it may be on the page before anyone signs in: it follows
 * `latchkey-signed-in`, `latchkey-signed-up` and `latchkey-signed-out` on the page.
 *
 * @element latchkey-email
 *
 * @attr api-base - Base URL of the Latchkey API; same origin when absent.
 * @attr lang - `en` or `de`.
 *
 * @prop {Partial<Strings>} strings - Overrides of the built-in strings.
 *
 * @fires {CustomEvent<EmailChangedDetail>} latchkey-email-changed - The new address was confirmed; it is the account's address now.
 * @fires {CustomEvent<{reason: string, message: string}>} latchkey-error - A request failed; the element shows why.
 * @fires {CustomEvent<{}>} latchkey-signed-out - There is no session (anymore): found on load, or the API answered 401.
 *
 * @csspart box - The card.
 * @csspart address - The current address.
 * @csspart badge - "Verified" / "Not confirmed yet".
 * @csspart label - The field labels.
 * @csspart input - The address and code fields.
 * @csspart button - Every button; the main one also has `primary-button`.
 * @csspart status - The live status line.
 *
 * @cssprop --latchkey-background - Card background.
 * @cssprop --latchkey-accent - Primary button.
 * @cssprop --latchkey-success - The "Verified" badge.
 */
export class LatchkeyEmail extends LatchkeyElement {
  static override properties = {
    ...LatchkeyElement.properties,
    email: { state: true },
    pending: { state: true },
    step: { state: true },
    loaded: { state: true },
    signedOut: { state: true },
    busy: { state: true },
    message: { state: true },
    kind: { state: true },
  };

  static override styles = [
    theme,
    css`
      form {
        display: grid;
        gap: 0.5rem;
      }
      .current {
        margin: 0 0 1rem;
        display: flex;
        flex-wrap: wrap;
        gap: 0.5rem;
        align-items: center;
      }
      .address {
        font-weight: 600;
        overflow-wrap: anywhere;
      }
      .badge {
        font-size: 0.75rem;
        font-weight: 600;
        border-radius: 999px;
        padding: 0.05rem 0.5rem;
        border: 1px solid var(--_border);
        color: var(--_muted);
      }
      .badge.verified {
        border-color: var(--_success);
        color: var(--_success);
      }
      p.text {
        margin: 0 0 1rem;
      }
      #code {
        letter-spacing: 0.3em;
        font-variant-numeric: tabular-nums;
      }
    `,
  ];

  /** The account's verified address, or null (none yet). */
  declare email: string | null;
  /** The address a code was sent to, not confirmed yet. */
  declare pending: string | null;
  declare step: Step;
  declare loaded: boolean;
  declare signedOut: boolean;
  declare busy: boolean;
  declare message: string;
  declare kind: '' | 'info' | 'error' | 'success';

  #address = '';
  #code = '';
  #focus: string | undefined;
  #unfollow: (() => void) | undefined;

  constructor() {
    super();
    this.email = null;
    this.pending = null;
    this.step = 'view';
    this.loaded = false;
    this.signedOut = false;
    this.busy = false;
    this.message = '';
    this.kind = '';
  }

  override connectedCallback(): void {
    super.connectedCallback();
    this.#unfollow = followSession(this, (signedIn) => (signedIn ? void this.refresh() : this.#signedOutNow(false)));
    void this.refresh();
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.#unfollow?.();
    this.#unfollow = undefined;
  }

  protected override updated(changed: PropertyValues): void {
    super.updated(changed);
    this.setAttribute('aria-busy', String(this.busy || !this.loaded));
    if (this.#focus) {
      (this.renderRoot.querySelector(this.#focus) as HTMLElement | null)?.focus();
      this.#focus = undefined;
    }
  }

  /** Reads the address again. Sign-in and sign-out on the page are followed without it. */
  async refresh(): Promise<void> {
    try {
      if (!(await this.fullSession())) {
        this.#signedOutNow(true);
        return;
      }
      this.email = (await this.client.getAccount()).email;
      if (this.signedOut || this.kind === 'error') this.#say('', '');
      this.signedOut = false;
    } catch (error) {
      this.#fail(error);
    } finally {
      this.loaded = true;
    }
  }

  #signedOutNow(found: boolean, kind: LatchkeyEmail['kind'] = 'info'): void {
    this.signedOut = true;
    this.email = null;
    this.pending = null;
    this.step = 'view';
    this.loaded = true;
    this.#say(this.t.emailSignedOut, kind);
    if (found) this.emit('latchkey-signed-out', {});
  }

  #say(message: string, kind: LatchkeyEmail['kind']): void {
    this.message = message;
    this.kind = kind;
  }

  #fail(error: unknown): void {
    if (error instanceof LatchkeyError && error.status === 401 && error.code === 'unauthorized') {
      this.#signedOutNow(true, 'error');
      return;
    }
    let message: string;
    let reason: string;
    if (error instanceof LatchkeyError) {
      reason = error.code;
      if (error.code === 'code_invalid') message = this.t.codeInvalid;
      else if (error.code === 'email_invalid' || error.code === 'invalid_request') message = this.t.emailInvalidAddress;
      else if (error.code === 'email_taken') message = this.t.emailTaken;
      else if (error.code === 'too_many_attempts' || error.code === 'rate_limited') message = this.text('emailWait', { seconds: String(error.retryAfter ?? 60) });
      else message = this.explain(error, { registering: false }).message;
    } else {
      const explained = this.explain(error, { registering: false });
      message = explained.message;
      reason = explained.reason;
    }
    this.#say(message, 'error');
    this.emit('latchkey-error', { reason, message });
  }

  #open(): void {
    this.step = 'address';
    this.#address = '';
    this.#say('', '');
    this.#focus = '#address';
  }

  #cancel(): void {
    this.step = 'view';
    this.pending = null;
    this.#say('', '');
    this.#focus = '#change';
  }

  async #send(event?: SubmitEvent): Promise<void> {
    event?.preventDefault();
    const address = this.#address.trim();
    if (!/^[^\s@]+@[^\s@]+$/.test(address)) {
      this.#say(this.t.emailInvalidAddress, 'error');
      this.#focus = '#address';
      return;
    }
    this.busy = true;
    this.#say(this.t.codeSending, 'info');
    try {
      // A sensitive change (SEC-31): after a few minutes the server asks for the passkey first.
      await this.client.withStepUp(() => this.client.setEmail(address));
      this.pending = address;
      this.step = 'code';
      this.#code = '';
      this.#say(this.text('emailCodeSent', { email: address }), 'info');
      this.#focus = '#code';
    } catch (error) {
      this.#fail(error);
      this.#focus = '#address';
    } finally {
      this.busy = false;
    }
  }

  async #confirm(event: SubmitEvent): Promise<void> {
    event.preventDefault();
    const code = this.#code.replace(/[\s-]/g, '');
    if (!/^\d{6}$/.test(code)) {
      this.#say(this.t.codeInvalid, 'error');
      this.#focus = '#code';
      return;
    }
    this.busy = true;
    this.#say(this.t.codeChecking, 'info');
    try {
      const { email } = await this.client.confirmEmail(code);
      this.email = email;
      this.pending = null;
      this.step = 'view';
      this.#say(this.t.emailConfirmed, 'success');
      this.#focus = '#change';
      this.emit<EmailChangedDetail>('latchkey-email-changed', { email });
    } catch (error) {
      this.#fail(error);
      this.#focus = '#code';
    } finally {
      this.busy = false;
    }
  }

  #current() {
    const t = this.t;
    if (!this.loaded) return html`<p class="text muted">${t.loading}</p>`;
    if (this.signedOut) return nothing;
    const rows = [];
    if (this.email) {
      rows.push(html`<p class="current"><span class="address" part="address">${this.email}</span>
        <span class="badge verified" part="badge">${t.emailVerified}</span></p>`);
    } else if (!this.pending) {
      rows.push(html`<p class="text muted">${t.emailNone}</p>`);
    }
    if (this.pending) {
      rows.push(html`<p class="current"><span class="address" part="address">${this.pending}</span>
        <span class="badge" part="badge">${t.emailUnconfirmed}</span></p>`);
    }
    return rows;
  }

  #form() {
    const t = this.t;
    if (this.signedOut || !this.loaded) return nothing;
    if (this.step === 'address') {
      return html`<form @submit=${this.#send} novalidate>
        <label for="address" part="label">${this.email ? t.emailNew : t.email}</label>
        <input id="address" name="email" type="email" part="input" autocomplete="email" autocapitalize="none" spellcheck="false"
          aria-describedby=${this.email ? 'keep' : nothing} aria-invalid=${this.kind === 'error' ? 'true' : 'false'}
          .value=${live(this.#address)} @input=${(e: InputEvent) => {
            this.#address = (e.target as HTMLInputElement).value;
          }} />
        ${this.email ? html`<p id="keep" class="hint">${t.emailKeep}</p>` : nothing}
        <div class="actions">
          <button type="submit" class="primary" part="button primary-button" ?disabled=${this.busy}>${t.emailSend}</button>
          <button type="button" part="button" ?disabled=${this.busy} @click=${this.#cancel}>${t.cancel}</button>
        </div>
      </form>`;
    }
    if (this.step === 'code') {
      return html`<form @submit=${this.#confirm} novalidate>
        <label for="code" part="label">${t.code}</label>
        <input id="code" name="code" part="input" autocomplete="one-time-code" inputmode="numeric" maxlength="7"
          aria-invalid=${this.kind === 'error' ? 'true' : 'false'}
          .value=${live(this.#code)} @input=${(e: InputEvent) => {
            this.#code = (e.target as HTMLInputElement).value;
          }} />
        <div class="actions">
          <button type="submit" class="primary" part="button primary-button" ?disabled=${this.busy}>${t.emailConfirm}</button>
          <button type="button" class="link" part="button" ?disabled=${this.busy} @click=${this.#open}>${t.emailOther}</button>
          <button type="button" part="button" ?disabled=${this.busy} @click=${this.#cancel}>${t.cancel}</button>
        </div>
      </form>`;
    }
    return html`<div class="actions">
      <button id="change" type="button" part="button" ?disabled=${this.busy} @click=${this.#open}>${this.email ? t.emailChange : t.emailAdd}</button>
    </div>`;
  }

  override render() {
    return html`<section class="box" part="box" aria-labelledby="email-title">
      <h2 id="email-title">${this.t.emailTitle}</h2>
      ${this.#current()} ${this.#form()}
      <p class="status" role="status" aria-live="polite" part="status" data-kind=${this.kind || nothing}>${this.message}</p>
    </section>`;
  }
}

if (!customElements.get('latchkey-email')) customElements.define('latchkey-email', LatchkeyEmail);

declare global {
  interface HTMLElementTagNameMap {
    'latchkey-email': LatchkeyEmail;
  }
}
