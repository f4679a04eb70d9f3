import { css, html, nothing, type PropertyValues } from 'lit';
import { live } from 'lit/directives/live.js';
import { LatchkeyError } from '../../sdk/src/index.ts';
import { LatchkeyElement } from './base.ts';
import type { Session, User } from '../../sdk/src/index.ts';
import { theme } from './theme.ts';

type Step = 'email' | 'code';

/** Recovery opened: a restricted session that can only register a new passkey. */
export interface RecoveryDetail {
  user: User;
  session: Omit<Session, 'token'>;
  recoveryCodesRemaining: number;
}

/** Signed in with an e-mailed code: a low-assurance session (amr `otp`, AAL1). */
export interface EmailCodeSignedInDetail {
  user: User;
  /** The session, never its token (a cookie client is not sent one; a bearer client keeps it in its SDK client). */
  session: Omit<Session, 'token'>;
  via: 'email_code';
}

/**
 * Sign-in with a one-time code sent by e-mail: the fallback for a user without their passkey at
 * hand. The server answers the same whether or not an account has the address, so this element
 * says "if an account has it". A session from a code is low assurance (amr `otp`, AAL1): the host
 * should offer `<latchkey-passkey-append>` next, and sensitive operations ask for a passkey.
 * Put it in `<latchkey-auth>`'s `fallback` slot or anywhere on the page.
 *
 * @element latchkey-email-code
 *
 * @attr api-base - Base URL of the Latchkey API; same origin when absent.
 * @attr lang - `en` or `de`.
 * @attr mode - `sign-in` (default) or `recovery` (asks for a recovery code too).
 *
 * @fires {CustomEvent<EmailCodeSignedInDetail>} latchkey-signed-in - Signed in with a code (`via: 'email_code'`).
 * @fires {CustomEvent<RecoveryDetail>} latchkey-recovery-started - `mode="recovery"`: the restricted session is open; register a passkey next.
 * @fires {CustomEvent<{reason: string, message: string}>} latchkey-error - A request failed; the element shows why.
 *
 * @csspart box - The card.
 * @csspart input - The e-mail and code fields.
 * @csspart button - Every button; the main one also has `primary-button`.
 * @csspart status - The live status line.
 *
 * @cssprop --latchkey-background - Card background.
 * @cssprop --latchkey-accent - Primary button.
 */
export class LatchkeyEmailCode extends LatchkeyElement {
  static override properties = {
    ...LatchkeyElement.properties,
    mode: { type: String, reflect: true },
    step: { state: true },
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
      #code {
        letter-spacing: 0.3em;
        font-variant-numeric: tabular-nums;
      }
    `,
  ];

  /** `sign-in` (default) or `recovery`: the e-mailed code plus a recovery code, for an account whose passkeys are all lost. */
  declare mode: 'sign-in' | 'recovery';
  declare step: Step;
  declare busy: boolean;
  declare message: string;
  declare kind: '' | 'info' | 'error' | 'success';

  #email = '';
  #code = '';
  #recoveryCode = '';
  #focus: string | undefined;

  constructor() {
    super();
    this.mode = 'sign-in';
    this.step = 'email';
    this.busy = false;
    this.message = '';
    this.kind = '';
  }

  protected override updated(changed: PropertyValues): void {
    super.updated(changed);
    this.setAttribute('aria-busy', String(this.busy));
    if (this.#focus) {
      (this.renderRoot.querySelector(this.#focus) as HTMLElement | null)?.focus();
      this.#focus = undefined;
    }
  }

  #say(message: string, kind: LatchkeyEmailCode['kind']): void {
    this.message = message;
    this.kind = kind;
  }

  #fail(error: unknown): void {
    let message: string;
    let reason: string;
    if (error instanceof LatchkeyError) {
      reason = error.code;
      const wait = error.retryAfter;
      if (error.code === 'code_invalid') message = this.t.codeInvalid;
      else if (error.code === 'recovery_failed') message = this.t.recoveryCodeInvalid;
      else if (error.code === 'too_many_attempts' || error.code === 'rate_limited') message = this.text('codeWait', { seconds: String(wait ?? 60) });
      else if (error.code === 'method_disabled') message = this.t.codeDisabled;
      else if (error.code === 'invalid_request') message = this.t.emailInvalid;
      else message = this.explain(error, { registering: false }).message;
    } else {
      const explained = this.explain(error, { registering: false });
      message = explained.message;
      reason = explained.reason;
    }
    this.#say(message, 'error');
    this.emit('latchkey-error', { reason, message });
  }

  async #send(event?: SubmitEvent): Promise<void> {
    event?.preventDefault();
    const email = this.#email.trim();
    if (!email.includes('@')) {
      this.#say(this.t.emailInvalid, 'error');
      this.#focus = '#email';
      return;
    }
    this.busy = true;
    this.#say(this.t.codeSending, 'info');
    try {
      if (this.mode === 'recovery') await this.client.startRecovery(email);
      else await this.client.requestEmailCode(email);
      this.step = 'code';
      this.#code = '';
      this.#say(this.text('codeSent', { email }), 'info');
      this.#focus = '#code';
    } catch (error) {
      this.#fail(error);
    } finally {
      this.busy = false;
    }
  }

  async #verify(event: SubmitEvent): Promise<void> {
    event.preventDefault();
    const code = this.#code.replace(/\s/g, '');
    if (!/^\d{6}$/.test(code)) {
      this.#say(this.t.codeInvalid, 'error');
      this.#focus = '#code';
      return;
    }
    this.busy = true;
    this.#say(this.t.codeChecking, 'info');
    try {
      if (this.mode === 'recovery') {
        const { user, session, recoveryCodesRemaining } = await this.client.recover(code, this.#recoveryCode.trim());
        const { token: _token, ...withoutToken } = session;
        this.#say(this.t.recoveryStarted, 'success');
        this.emit<RecoveryDetail>('latchkey-recovery-started', { user, session: withoutToken, recoveryCodesRemaining });
        return;
      }
      const { user, session } = await this.client.signInWithEmailCode(code);
      this.#say(this.text('signedIn', { name: user.username }), 'success');
      const { token: _token, ...withoutToken } = session;
      this.emit<EmailCodeSignedInDetail>('latchkey-signed-in', { user, session: withoutToken, via: 'email_code' });
    } catch (error) {
      this.#fail(error);
      this.#focus = '#code';
    } finally {
      this.busy = false;
    }
  }

  #restart(): void {
    this.step = 'email';
    this.#say('', '');
    this.#focus = '#email';
  }

  override render() {
    const t = this.t;
    const recovery = this.mode === 'recovery';
    const form =
      this.step === 'email'
        ? html`<form @submit=${this.#send} novalidate>
            <h2 part="title">${recovery ? t.recoveryTitle : t.codeTitle}</h2>
            ${recovery ? html`<p class="hint">${t.recoveryIntro}</p>` : nothing}
            <label for="email" part="label">${t.email}</label>
            <input id="email" name="email" type="email" part="input" autocomplete="email" autocapitalize="none" spellcheck="false"
              .value=${live(this.#email)} @input=${(e: InputEvent) => {
                this.#email = (e.target as HTMLInputElement).value;
              }} />
            <div class="actions">
              <button type="submit" class="primary" part="button primary-button" ?disabled=${this.busy}>${t.codeSend}</button>
            </div>
          </form>`
        : html`<form @submit=${this.#verify} novalidate>
            <h2 part="title">${recovery ? t.recoveryTitle : t.codeTitle}</h2>
            <label for="code" part="label">${t.code}</label>
            <input id="code" name="code" part="input" autocomplete="one-time-code" inputmode="numeric" maxlength="7"
              .value=${live(this.#code)} @input=${(e: InputEvent) => {
                this.#code = (e.target as HTMLInputElement).value;
              }} />
            ${recovery
              ? html`<label for="recovery-code" part="label">${t.recoveryCode}</label>
                  <input id="recovery-code" name="recovery-code" part="input" autocomplete="off" autocapitalize="characters" spellcheck="false"
                    .value=${live(this.#recoveryCode)} @input=${(e: InputEvent) => {
                      this.#recoveryCode = (e.target as HTMLInputElement).value;
                    }} />`
              : nothing}
            <div class="actions">
              <button type="submit" class="primary" part="button primary-button" ?disabled=${this.busy}>${recovery ? t.recoveryContinue : t.codeSignIn}</button>
              <button type="button" class="link" part="button" ?disabled=${this.busy} @click=${this.#restart}>${t.codeAgain}</button>
            </div>
          </form>`;
    return html`<div class="box" part="box">
      ${form}
      <p class="status" role="status" aria-live="polite" part="status" data-kind=${this.kind || nothing}>${this.message}</p>
    </div>`;
  }
}

if (!customElements.get('latchkey-email-code')) customElements.define('latchkey-email-code', LatchkeyEmailCode);

declare global {
  interface HTMLElementTagNameMap {
    'latchkey-email-code': LatchkeyEmailCode;
  }
}
