import { css, html, nothing, type PropertyValues } from 'lit';
import { LatchkeyError, type Passkey } from '../../sdk/src/index.ts';
import { LatchkeyElement } from './base.ts';
import { followSession } from './session-events.ts';
import { signalAllAcceptedCredentials, signalCurrentUserDetails, signalUnknownCredential } from './signals.ts';
import { theme } from './theme.ts';

/** `detail` of `latchkey-passkey-added`, `-renamed` and `-deleted`. */
export interface PasskeyDetail {
  passkey: Passkey;
}

/**
 * The signed-in user's passkeys: provider and icon, synced or this-device-only, created and last
 * used; rename, delete (with a confirmation) and add another. Tells the passkey provider which
 * credentials are still accepted through the WebAuthn Signal API where the browser has it.
 *
 * It may be on the page before anyone signs in: it asks `GET /api/v1/session/status` first (no
 * failed request when signed out), and loads the list by itself after a `latchkey-signed-in` or
 * `latchkey-signed-up` from any element on the page, and clears it after a `latchkey-signed-out`
 * (from another element, or the SDK's `signOut()`).
 *
 * @element latchkey-passkeys
 *
 * @attr api-base - Base URL of the Latchkey API; same origin when absent.
 * @attr lang - `en` or `de`.
 * @attr no-telemetry - Do not report ceremony outcomes to the server.
 *
 * @prop {Partial<Strings>} strings - Overrides of the built-in strings.
 *
 * @fires {CustomEvent<PasskeyDetail>} latchkey-passkey-added - A passkey was added to the account.
 * @fires {CustomEvent<PasskeyDetail>} latchkey-passkey-renamed - A passkey got a new name.
 * @fires {CustomEvent<PasskeyDetail>} latchkey-passkey-deleted - A passkey was deleted; it can no longer sign in.
 * @fires {CustomEvent<ErrorDetail>} latchkey-error - An action failed; the element shows why.
 * @fires {CustomEvent<{}>} latchkey-signed-out - There is no session (anymore): found on load, or the API answered 401.
 *
 * @csspart box - The outer card.
 * @csspart list - The list of passkeys.
 * @csspart item - One passkey.
 * @csspart icon - The provider's icon.
 * @csspart badge - "Synced" / "This device only".
 * @csspart button - Every button; "Add a passkey" also has `primary-button`.
 * @csspart status - The live status line.
 *
 * @cssprop --latchkey-background - Card background.
 * @cssprop --latchkey-foreground - Text colour.
 * @cssprop --latchkey-muted - Secondary text colour.
 * @cssprop --latchkey-border - Borders.
 * @cssprop --latchkey-accent - Primary button and links.
 * @cssprop --latchkey-danger - Delete buttons and errors.
 * @cssprop --latchkey-radius - Corner radius.
 */
export class LatchkeyPasskeys extends LatchkeyElement {
  static override properties = {
    ...LatchkeyElement.properties,
    passkeys: { state: true },
    editing: { state: true },
    confirming: { state: true },
    lastPasskey: { state: true },
    busy: { state: true },
    message: { state: true },
    kind: { state: true },
    signedOut: { state: true },
  };

  static override styles = [
    theme,
    css`
      ul {
        list-style: none;
        margin: 0 0 1rem;
        padding: 0;
        display: grid;
        gap: 0.75rem;
      }
      li {
        display: flex;
        gap: 0.75rem;
        align-items: flex-start;
        border: 1px solid var(--_border);
        border-radius: calc(var(--_radius) * 0.8);
        padding: 0.75rem 1rem;
      }
      .icon {
        flex: none;
        width: 32px;
        height: 32px;
        border-radius: 6px;
        display: grid;
        place-items: center;
        background: color-mix(in srgb, var(--_accent) 15%, transparent);
        color: var(--_accent);
        font-weight: 700;
      }
      .icon img {
        width: 32px;
        height: 32px;
      }
      .body {
        flex: 1;
        min-width: 0;
      }
      .name {
        margin: 0;
        font-weight: 600;
        display: flex;
        flex-wrap: wrap;
        gap: 0.5rem;
        align-items: center;
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
      .badge.synced {
        border-color: var(--_success);
        color: var(--_success);
      }
      .provider {
        margin: 0;
        font-size: 0.875rem;
      }
      dl {
        display: grid;
        grid-template-columns: auto 1fr;
        gap: 0 0.75rem;
        margin: 0.25rem 0 0.5rem;
        font-size: 0.875rem;
        color: var(--_muted);
      }
      dd {
        margin: 0;
      }
      .item-actions button {
        padding: 0.3rem 0.75rem;
        font-size: 0.875rem;
      }
      form.rename {
        display: grid;
        gap: 0.5rem;
      }
      .confirm p {
        margin: 0 0 0.5rem;
      }
    `,
  ];

  declare passkeys: Passkey[] | null;
  declare editing: string | null;
  declare confirming: string | null;
  /** The passkey whose delete the server refused as the account's last (SEC-32), asked again. */
  declare lastPasskey: string | null;
  declare busy: boolean;
  declare message: string;
  declare kind: '' | 'info' | 'error' | 'success';
  declare signedOut: boolean;

  #rpId = '';
  #userHandle = '';
  #focus: string | undefined;
  #unfollow: (() => void) | undefined;

  constructor() {
    super();
    this.passkeys = null;
    this.editing = null;
    this.confirming = null;
    this.lastPasskey = null;
    this.busy = false;
    this.message = '';
    this.kind = '';
    this.signedOut = false;
  }

  override connectedCallback(): void {
    super.connectedCallback();
    void this.caps();
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
    this.setAttribute('aria-busy', String(this.busy || this.passkeys === null));
    if (this.#focus) {
      const target = this.renderRoot.querySelector<HTMLElement>(this.#focus);
      this.#focus = undefined;
      target?.focus();
    }
  }

  /**
   * Loads the list again (e.g. after the host changed something). Sign-in and sign-out on the
   * page are followed without it.
   */
  async refresh(): Promise<void> {
    try {
      const current = await this.fullSession();
      if (!current) {
        this.#signedOutNow(true);
        return;
      }
      const list = await this.client.getPasskeys();
      this.passkeys = list.passkeys;
      this.#rpId = list.rpId;
      this.#userHandle = list.userHandle;
      if (this.signedOut || this.kind === 'error') this.#say('', '');
      this.signedOut = false;
      signalAllAcceptedCredentials(list.rpId, list.userHandle, list.passkeys.map((p) => p.id));
      signalCurrentUserDetails(list.rpId, list.userHandle, current.user.username, current.user.displayName);
    } catch (error) {
      this.#handle(error, false);
    }
  }

  /** Nobody (or nobody with a full session) is signed in; `found`: this element found out, so it tells the page. */
  #signedOutNow(found: boolean, kind: LatchkeyPasskeys['kind'] = 'info'): void {
    this.signedOut = true;
    this.passkeys = [];
    this.editing = null;
    this.confirming = null;
    this.lastPasskey = null;
    this.#say(this.t.signedOut, kind);
    if (found) this.emit('latchkey-signed-out', {});
  }

  #say(message: string, kind: LatchkeyPasskeys['kind']): void {
    this.message = message;
    this.kind = kind;
  }

  #handle(error: unknown, registering: boolean): void {
    if (error instanceof LatchkeyError && error.status === 401 && error.code === 'unauthorized') {
      this.#signedOutNow(true, 'error');
      return;
    }
    const explained = this.explain(error, { registering });
    this.#say(explained.message, 'error');
    this.emit('latchkey-error', { reason: explained.reason, message: explained.message, ceremony: 'registration' });
  }

  async #run(pending: string, action: () => Promise<void>): Promise<void> {
    this.busy = true;
    this.#say(pending, 'info');
    try {
      await action();
    } catch (error) {
      this.#handle(error, pending === this.t.creating);
      this.#focus = '#add';
    } finally {
      this.busy = false;
    }
  }

  #add(): void {
    void this.#run(this.t.creating, async () => {
      // Adding a passkey is a sensitive operation: after a few minutes the server asks for the
      // user's existing passkey first (403 step_up_required), then the new one is created.
      const { passkey } = await this.ceremony('registration', 'modal', () => this.client.withStepUp(() => this.client.addPasskey()));
      await this.refresh();
      this.#say(this.t.added, 'success');
      this.emit<PasskeyDetail>('latchkey-passkey-added', { passkey });
      this.#focus = '#add';
    });
  }

  #rename(event: SubmitEvent, passkey: Passkey): void {
    event.preventDefault();
    const input = (event.target as HTMLFormElement).elements.namedItem('name') as HTMLInputElement;
    const name = input.value.trim();
    if (!name || name === passkey.name) {
      this.#closeEditor(passkey.id);
      return;
    }
    void this.#run(this.t.loading, async () => {
      const renamed = await this.client.renamePasskey(passkey.id, name);
      this.passkeys = (this.passkeys ?? []).map((p) => (p.id === renamed.id ? renamed : p));
      this.editing = null;
      this.#say(this.t.renamed, 'success');
      this.#focus = `[data-rename="${CSS.escape(passkey.id)}"]`;
      this.emit<PasskeyDetail>('latchkey-passkey-renamed', { passkey: renamed });
    });
  }

  #closeEditor(id: string): void {
    this.editing = null;
    this.confirming = null;
    this.lastPasskey = null;
    this.#focus = `[data-rename="${CSS.escape(id)}"]`;
  }

  #delete(passkey: Passkey, confirmLast = false): void {
    void this.#run(this.t.loading, async () => {
      try {
        await this.client.withStepUp(() => this.client.deletePasskey(passkey.id, { confirmLast }));
      } catch (error) {
        // The account's only way to sign in: say so and let the user decide (SEC-32).
        if (error instanceof LatchkeyError && error.code === 'last_passkey') {
          this.lastPasskey = passkey.id;
          this.#say(this.t.lastPasskey, 'error');
          this.#focus = '#confirm-cancel';
          return;
        }
        throw error;
      }
      this.confirming = null;
      this.lastPasskey = null;
      this.passkeys = (this.passkeys ?? []).filter((p) => p.id !== passkey.id);
      // The provider may still offer it in autofill: tell it the server no longer knows it.
      if (this.#rpId) signalUnknownCredential(this.#rpId, passkey.id);
      this.#say(this.t.deleted, 'success');
      this.#focus = '#add';
      this.emit<PasskeyDetail>('latchkey-passkey-deleted', { passkey });
    });
  }

  #icon(passkey: Passkey) {
    const icon = passkey.providerIcon;
    if (icon && (icon.light || icon.dark)) {
      return html`<picture class="icon" part="icon">
        ${icon.dark ? html`<source media="(prefers-color-scheme: dark)" srcset=${icon.dark} />` : nothing}
        <img src=${icon.light ?? icon.dark ?? ''} alt="" width="32" height="32" />
      </picture>`;
    }
    return html`<span class="icon" part="icon" aria-hidden="true">${(passkey.provider || passkey.name).charAt(0).toUpperCase()}</span>`;
  }

  #date(iso: string | null) {
    if (!iso) return this.t.never;
    const format = new Intl.DateTimeFormat(this.lang || undefined, { dateStyle: 'medium', timeStyle: 'short' });
    return html`<time datetime=${iso}>${format.format(new Date(iso))}</time>`;
  }

  #controls(passkey: Passkey) {
    const t = this.t;
    if (this.editing === passkey.id) {
      return html`<form class="rename" @submit=${(e: SubmitEvent) => this.#rename(e, passkey)}
        @keydown=${(e: KeyboardEvent) => e.key === 'Escape' && this.#closeEditor(passkey.id)}>
        <label for="rename-input">${this.text('renameLabel', { name: passkey.name })}</label>
        <input id="rename-input" name="name" .value=${passkey.name} maxlength="64" autocomplete="off" required />
        <div class="actions item-actions">
          <button type="submit" class="primary" part="button" ?disabled=${this.busy}>${t.save}</button>
          <button type="button" part="button" @click=${() => this.#closeEditor(passkey.id)}>${t.cancel}</button>
        </div>
      </form>`;
    }
    if (this.confirming === passkey.id) {
      return html`<div class="confirm" role="group" aria-labelledby="confirm-text">
        <p id="confirm-text">${this.text(this.lastPasskey === passkey.id ? 'lastPasskeyConfirm' : 'deleteConfirm', { name: passkey.name })}</p>
        <div class="actions item-actions">
          <button type="button" class="danger" part="button" ?disabled=${this.busy} @click=${() => this.#delete(passkey, this.lastPasskey === passkey.id)}>${t.confirmDelete}</button>
          <button type="button" id="confirm-cancel" part="button" @click=${() => this.#closeEditor(passkey.id)}>${t.cancel}</button>
        </div>
      </div>`;
    }
    return html`<div class="actions item-actions">
      <button type="button" part="button" data-rename=${passkey.id} aria-label=${`${t.rename} ${passkey.name}`} ?disabled=${this.busy}
        @click=${() => {
          this.editing = passkey.id;
          this.confirming = null;
          this.#focus = '#rename-input';
        }}>${t.rename}</button>
      <button type="button" class="danger" part="button" aria-label=${`${t.delete} ${passkey.name}`} ?disabled=${this.busy}
        @click=${() => {
          this.confirming = passkey.id;
          this.editing = null;
          this.#focus = '#confirm-cancel';
        }}>${t.delete}</button>
    </div>`;
  }

  #item(passkey: Passkey) {
    const t = this.t;
    const synced = passkey.deviceType === 'multiDevice' && passkey.backedUp;
    return html`<li part="item">
      ${this.#icon(passkey)}
      <div class="body">
        <p class="name">
          <span>${passkey.name}</span>
          <span class=${synced ? 'badge synced' : 'badge'} part="badge">${synced ? t.synced : t.thisDevice}</span>
        </p>
        ${passkey.provider && passkey.provider !== passkey.name ? html`<p class="provider muted">${passkey.provider}</p>` : nothing}
        <dl>
          <dt>${t.created}</dt>
          <dd>${this.#date(passkey.createdAt)}</dd>
          <dt>${t.lastUsed}</dt>
          <dd>${this.#date(passkey.lastUsedAt)}</dd>
        </dl>
        ${this.#controls(passkey)}
      </div>
    </li>`;
  }

  override render() {
    const t = this.t;
    const list = this.passkeys;
    return html`<section class="box" part="box" aria-labelledby="title">
      <h2 id="title">${t.passkeysLabel}</h2>
      ${list === null
        ? html`<p class="muted">${t.loading}</p>`
        : list.length === 0
          ? html`<p class="muted" ?hidden=${this.signedOut}>${t.noPasskeys}</p>`
          : html`<ul part="list" aria-labelledby="title">${list.map((p) => this.#item(p))}</ul>`}
      ${this.signedOut
        ? nothing
        : html`<button id="add" type="button" class="primary" part="button primary-button" ?disabled=${this.busy || list === null} @click=${this.#add}>
            ${t.add}
          </button>`}
      <p class="status" role="status" aria-live="polite" part="status" data-kind=${this.kind || nothing}>${this.message}</p>
    </section>`;
  }
}

if (!customElements.get('latchkey-passkeys')) customElements.define('latchkey-passkeys', LatchkeyPasskeys);

declare global {
  interface HTMLElementTagNameMap {
    'latchkey-passkeys': LatchkeyPasskeys;
  }
}
