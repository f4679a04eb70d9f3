import { css, html, LitElement, nothing } from 'lit';
import { LatchkeyError } from './api.ts';
import type { ConsoleContext } from './context.ts';
import { base } from './theme.ts';

/** One staff action to confirm: what it does, and the call that does it with the reason. */
export interface ActionRequest<T> {
  title: string;
  text?: string;
  confirmLabel?: string;
  danger?: boolean;
  run(reason: string): Promise<T>;
}

/**
 * The confirmation every staff action goes through: a modal <dialog> asking for a written reason
 * (3..500 characters, recorded in the audit event). Confirm runs the call; when the server
 * answers 403 `step_up_required` it asks for the staff member's passkey (step-up) and runs the
 * call once more. Focus goes to the reason field on open and back to the button that opened it
 * on close; Escape cancels.
 */
export class LkActionDialog extends LitElement {
  static override properties = {
    ctx: { attribute: false },
    request: { state: true },
    busy: { state: true },
    error: { state: true },
  };

  static override styles = [
    base,
    css`
      dialog {
        border: 1px solid var(--lk-border);
        border-radius: var(--lk-radius);
        background: var(--lk-surface);
        color: var(--lk-fg);
        padding: 1.25rem 1.5rem;
        width: min(32rem, calc(100vw - 2rem));
        box-sizing: border-box;
      }
      dialog::backdrop {
        background: rgb(0 0 0 / 0.45);
      }
      .buttons {
        display: flex;
        justify-content: flex-end;
        gap: 0.5rem;
        margin-top: 1rem;
      }
      p {
        margin: 0 0 0.75rem;
      }
    `,
  ];

  declare ctx: ConsoleContext;
  declare request: ActionRequest<unknown> | null;
  declare busy: boolean;
  declare error: string;

  #resolve: ((value: unknown) => void) | undefined;
  #opener: HTMLElement | null = null;

  constructor() {
    super();
    this.request = null;
    this.busy = false;
    this.error = '';
  }

  /** Opens the dialog; resolves with the call's result, or `undefined` when cancelled. */
  async open<T>(request: ActionRequest<T>): Promise<T | undefined> {
    this.#opener = deepActiveElement();
    this.request = request as ActionRequest<unknown>;
    this.error = '';
    this.busy = false;
    await this.updateComplete;
    const dialog = this.renderRoot.querySelector('dialog')!;
    const field = this.renderRoot.querySelector<HTMLTextAreaElement>('textarea')!;
    field.value = '';
    dialog.showModal();
    field.focus();
    return new Promise<T | undefined>((resolve) => {
      this.#resolve = resolve as (value: unknown) => void;
    });
  }

  #close(result: unknown): void {
    this.renderRoot.querySelector('dialog')?.close();
    this.request = null;
    this.#resolve?.(result);
    this.#resolve = undefined;
    const opener = this.#opener;
    this.#opener = null;
    if (opener?.isConnected) opener.focus();
  }

  async #submit(event: SubmitEvent): Promise<void> {
    event.preventDefault();
    const request = this.request;
    if (!request || this.busy) return;
    const field = this.renderRoot.querySelector<HTMLTextAreaElement>('textarea')!;
    const reason = field.value.trim();
    if (reason.length < 3) {
      this.error = this.ctx.tr.t.reasonTooShort;
      field.setAttribute('aria-invalid', 'true');
      field.focus();
      return;
    }
    field.removeAttribute('aria-invalid');
    this.busy = true;
    this.error = '';
    try {
      const result = await this.ctx.api.withStepUp(() => request.run(reason));
      this.#close(result ?? true);
    } catch (error) {
      this.error = this.#describe(error);
      this.busy = false;
    }
  }

  #describe(error: unknown): string {
    const { t } = this.ctx.tr;
    if (error instanceof LatchkeyError) {
      if (error.status === 401) return t.sessionExpired;
      if (error.status === 403 && error.code !== 'step_up_required') return this.ctx.tr.f('forbidden', { code: error.code });
      return this.ctx.tr.f('genericError', { detail: error.message || error.code });
    }
    if (error instanceof DOMException) return t.stepUpFailed;
    if (error instanceof TypeError) return t.networkError;
    return this.ctx.tr.f('genericError', { detail: String(error) });
  }

  override render() {
    const request = this.request;
    const t = this.ctx?.tr.t;
    if (!t) return nothing;
    return html`<dialog aria-labelledby="dialog-title" aria-describedby="dialog-text" @cancel=${(e: Event) => {
      e.preventDefault();
      if (!this.busy) this.#close(undefined);
    }}>
      <form @submit=${this.#submit} novalidate>
        <h2 id="dialog-title">${request?.title ?? ''}</h2>
        <p id="dialog-text">${request?.text ?? ''}</p>
        <div class="field">
          <label for="reason">${t.reasonLabel}</label>
          <textarea id="reason" name="reason" maxlength="500" required aria-describedby="reason-hint step-up-note dialog-error"></textarea>
          <p class="hint" id="reason-hint">${t.reasonHint}</p>
        </div>
        <p class="hint" id="step-up-note">${t.stepUpNote}</p>
        <p id="dialog-error" class="error" role="alert">${this.error}</p>
        <p class="muted" role="status">${this.busy ? t.working : ''}</p>
        <div class="buttons">
          <button type="button" ?disabled=${this.busy} @click=${() => this.#close(undefined)}>${t.cancel}</button>
          <button type="submit" class=${request?.danger ? 'primary danger-fill' : 'primary'} ?disabled=${this.busy}>${request?.confirmLabel ?? t.confirm}</button>
        </div>
      </form>
    </dialog>`;
  }
}

/** The focused element, looking into shadow roots. */
export function deepActiveElement(): HTMLElement | null {
  let active = document.activeElement;
  while (active?.shadowRoot?.activeElement) active = active.shadowRoot.activeElement;
  return active instanceof HTMLElement ? active : null;
}

