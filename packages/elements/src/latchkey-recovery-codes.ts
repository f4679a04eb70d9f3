import { css, html, nothing, type PropertyValues } from 'lit';
import { LatchkeyError } from '../../sdk/src/index.ts';
import { LatchkeyElement } from './base.ts';
import { followSession } from './session-events.ts';
import { theme } from './theme.ts';

/**
 * The signed-in user's recovery codes: how many are left, and a button that makes 10 new ones
 * (after a passkey step-up when the last one is not recent) and shows them once, to copy or
 * write down. The server keeps only their hashes, so they cannot be shown again. Signed out it
 * shows nothing but its title (no failed request), and it follows sign-in and sign-out on the page.
 *
 * @element latchkey-recovery-codes
 *
 * @attr api-base - Base URL of the Latchkey API; same origin when absent.
 * @attr lang - `en` or `de`.
 *
 * @fires {CustomEvent<{count: number}>} latchkey-recovery-codes-created - New codes were made and shown.
 * @fires {CustomEvent<{reason: string, message: string}>} latchkey-error - Making codes failed.
 *
 * @csspart box - The card.
 * @csspart button - Every button; the main one also has `primary-button`.
 * @csspart codes - The list of new codes.
 * @csspart status - The live status line.
 */
export class LatchkeyRecoveryCodes extends LatchkeyElement {
  static override properties = {
    ...LatchkeyElement.properties,
    remaining: { state: true },
    codes: { state: true },
    busy: { state: true },
    message: { state: true },
    kind: { state: true },
    signedOut: { state: true },
  };

  static override styles = [
    theme,
    css`
      ol {
        display: grid;
        grid-template-columns: repeat(auto-fill, minmax(18rem, 1fr));
        gap: 0.25rem 1rem;
        margin: 0 0 1rem;
        padding-left: 1.5rem;
        font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace;
      }
      p.text {
        margin: 0 0 1rem;
      }
    `,
  ];

  declare remaining: number | null;
  declare codes: string[] | null;
  declare busy: boolean;
  declare message: string;
  declare kind: '' | 'info' | 'error' | 'success';
  declare signedOut: boolean;

  #focus: string | undefined;
  #unfollow: (() => void) | undefined;

  constructor() {
    super();
    this.remaining = null;
    this.codes = null;
    this.busy = false;
    this.message = '';
    this.kind = '';
    this.signedOut = false;
  }

  override connectedCallback(): void {
    super.connectedCallback();
    this.#unfollow = followSession(this, (signedIn) => {
      this.codes = null;
      this.message = '';
      this.kind = '';
      this.remaining = null;
      this.signedOut = !signedIn;
      if (signedIn) void this.refresh();
    });
    void this.refresh();
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.#unfollow?.();
    this.#unfollow = undefined;
  }

  protected override updated(changed: PropertyValues): void {
    super.updated(changed);
    this.setAttribute('aria-busy', String(this.busy || (this.remaining === null && !this.signedOut)));
    if (this.#focus) {
      (this.renderRoot.querySelector(this.#focus) as HTMLElement | null)?.focus();
      this.#focus = undefined;
    }
  }

  /** Reads the number of unused codes again. */
  async refresh(): Promise<void> {
    try {
      // Ask whether anyone is signed in first: GET /account would answer 401, a console error.
      this.signedOut = !(await this.fullSession());
      if (this.signedOut) return;
      this.remaining = (await this.client.getAccount()).recoveryCodesRemaining;
    } catch (error) {
      this.#fail(error);
    }
  }

  #fail(error: unknown): void {
    const explained =
      error instanceof LatchkeyError && error.code === 'method_disabled'
        ? { message: error.message, reason: error.code }
        : this.explain(error, { registering: false });
    this.message = explained.message;
    this.kind = 'error';
    this.emit('latchkey-error', { reason: explained.reason, message: explained.message });
  }

  async #make(): Promise<void> {
    this.busy = true;
    this.message = '';
    try {
      // New codes are a sensitive change (SEC-38): the server may ask for the passkey first.
      const codes = await this.client.withStepUp(() => this.client.generateRecoveryCodes());
      this.codes = codes;
      this.remaining = codes.length;
      this.message = this.t.recoveryCodesShown;
      this.kind = 'info';
      this.#focus = '#copy';
      this.emit('latchkey-recovery-codes-created', { count: codes.length });
    } catch (error) {
      this.#fail(error);
    } finally {
      this.busy = false;
    }
  }

  async #copy(): Promise<void> {
    try {
      await navigator.clipboard.writeText((this.codes ?? []).join('\n'));
      this.message = this.t.recoveryCodesCopied;
      this.kind = 'success';
    } catch {
      // No clipboard permission: the codes are on screen to write down.
    }
  }

  #done(): void {
    this.codes = null;
    this.message = '';
    this.kind = '';
    this.#focus = '#make';
  }

  override render() {
    const t = this.t;
    const summary = this.signedOut
      ? t.recoveryCodesSignedOut
      : this.remaining === null
        ? t.loading
        : this.remaining === 0
          ? t.recoveryCodesNone
          : this.text('recoveryCodesLeft', { count: String(this.remaining) });
    return html`<section class="box" part="box" aria-labelledby="codes-title">
      <h2 id="codes-title">${t.recoveryCodesTitle}</h2>
      <p class="text">${t.recoveryCodesIntro} ${this.codes ? nothing : summary}</p>
      ${this.codes
        ? html`<ol part="codes" aria-label=${t.recoveryCodesTitle}>${this.codes.map((code) => html`<li>${code}</li>`)}</ol>
            <div class="actions">
              <button id="copy" type="button" part="button" @click=${this.#copy}>${t.recoveryCodesCopy}</button>
              <button type="button" class="primary" part="button primary-button" @click=${this.#done}>${t.recoveryCodesDone}</button>
            </div>`
        : html`<div class="actions">
            <button id="make" type="button" part="button" ?hidden=${this.signedOut} ?disabled=${this.busy || this.remaining === null} @click=${this.#make}>${t.recoveryCodesMake}</button>
          </div>`}
      <p class="status" role="status" aria-live="polite" part="status" data-kind=${this.kind || nothing}>${this.message}</p>
    </section>`;
  }
}

if (!customElements.get('latchkey-recovery-codes')) customElements.define('latchkey-recovery-codes', LatchkeyRecoveryCodes);

declare global {
  interface HTMLElementTagNameMap {
    'latchkey-recovery-codes': LatchkeyRecoveryCodes;
  }
}
