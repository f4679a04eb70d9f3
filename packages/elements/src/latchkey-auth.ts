import { css, html, nothing, type PropertyValues } from 'lit';
import { live } from 'lit/directives/live.js';
import { LatchkeyError, type Passkey, type PasskeyDecisions, type Session, type SignedIn, type User } from '../../sdk/src/index.ts';
import { errorName, LatchkeyElement } from './base.ts';
import { theme } from './theme.ts';

/** A user cancel: the browser's (NotAllowedError, also timeouts) or the page's Cancel button (AbortError). */
const CANCELLED = new Set(['NotAllowedError', 'AbortError']);

/** Where the last account's username is remembered (never a token: the session stays in the cookie). */
export const LAST_USERNAME_KEY = 'latchkey:last-username';

/** `detail` of `latchkey-signed-in` and `latchkey-signed-up`. */
export interface SignedInDetail {
  user: User;
  passkey: Passkey;
  /** The session, never its token (a cookie client is not sent one; a bearer client keeps it in its SDK client). */
  session: Omit<Session, 'token'> | undefined;
  /** `conditional`: picked from autofill; `returning`: "Continue as …"; `modal`: the sign-in button. */
  via: 'modal' | 'conditional' | 'returning' | 'signup';
}

/** `detail` of `latchkey-error`. */
export interface ErrorDetail {
  /** DOMException name (`NotAllowedError`, …) or the server's problem `code`. */
  reason: string;
  message: string;
  ceremony: 'registration' | 'authentication';
}

interface Action {
  label: string;
  run: () => void;
  link?: boolean;
}

type View = 'loading' | 'start' | 'returning' | 'done' | 'unsupported';

/** The decisions asked for one typed username: the answer while it comes, then the decisions. */
interface Typed {
  identifier: string;
  answer: Promise<PasskeyDecisions | undefined>;
  decisions?: PasskeyDecisions | undefined;
}

/** Quiet time after the last keystroke before the server is asked about the typed username. */
const IDENTIFIER_DEBOUNCE_MS = 350;

/**
 * Sign-in and sign-up with passkeys in one box: identifier-first with a username, discoverable
 * without one, passkey autofill (conditional UI) where the browser offers it, and a one-tap
 * "Continue as …" on a device that signed in before.
 *
 * Before it shows the passkey button, autofill or "Create account", it asks the server what to
 * offer on this device (`POST /api/v1/passkey-decisions`: rollout rules, kill switch, the
 * device's failures); `data-passkey-button` says why. Unreachable in time: it shows them all.
 * Once a username is typed it asks again for that account (debounced; a submit waits for the
 * answer, at most 1.5 s): no passkey button for a username whose passkeys this device cannot reach
 * or whom the rollout leaves out (`no_passkeys` keeps the button, for "Create account as …").
 *
 * @element latchkey-auth
 *
 * @attr api-base - Base URL of the Latchkey API; same origin when absent.
 * @attr lang - `en` or `de` (falls back to the nearest `lang` attribute, then the browser's language).
 * @attr no-remember - Do not remember the last username on this device (and forget a remembered one).
 * @attr no-conditional - Do not offer passkeys in the username field's autofill.
 * @attr no-signup - Hide "Create account".
 * @attr fallback - Offer "Try another way" after a failure (fires `latchkey-fallback`).
 * @attr no-telemetry - Do not report ceremony outcomes to the server.
 *
 * @prop {Partial<Strings>} strings - Overrides of the built-in strings.
 * @prop {LatchkeyClient} client - The SDK client to use (e.g. one in bearer mode).
 *
 * @fires {CustomEvent<{decisions: PasskeyDecisions}>} latchkey-decisions - The server's decisions for this device arrived.
 * @fires {CustomEvent<SignedInDetail>} latchkey-signed-in - A passkey sign-in succeeded; the session cookie is set.
 * @fires {CustomEvent<SignedInDetail>} latchkey-signed-up - An account was created with a passkey; the session cookie is set.
 * @fires {CustomEvent<ErrorDetail>} latchkey-error - A ceremony failed; the box shows the message and a retry.
 * @fires {CustomEvent<{reason: string}>} latchkey-fallback - The user asked for another way to sign in.
 *
 * @slot title - Replaces the heading text.
 * @slot fallback - Other sign-in methods, shown under the box (also when passkeys are unsupported).
 *
 * @csspart box - The outer card.
 * @csspart title - The heading.
 * @csspart label - The username label.
 * @csspart input - The username field.
 * @csspart button - Every button; the main one also has `primary-button`.
 * @csspart status - The live status line (messages and errors).
 *
 * @cssprop --latchkey-background - Card background.
 * @cssprop --latchkey-foreground - Text colour.
 * @cssprop --latchkey-muted - Secondary text colour.
 * @cssprop --latchkey-border - Borders.
 * @cssprop --latchkey-accent - Primary button and links.
 * @cssprop --latchkey-accent-foreground - Text on the primary button.
 * @cssprop --latchkey-danger - Error text.
 * @cssprop --latchkey-success - Success text.
 * @cssprop --latchkey-radius - Corner radius.
 * @cssprop --latchkey-font - Font family.
 * @cssprop --latchkey-focus-ring - Focus outline colour.
 */
export class LatchkeyAuth extends LatchkeyElement {
  static override properties = {
    ...LatchkeyElement.properties,
    noRemember: { type: Boolean, attribute: 'no-remember' },
    noConditional: { type: Boolean, attribute: 'no-conditional' },
    noSignup: { type: Boolean, attribute: 'no-signup' },
    fallback: { type: Boolean },
    view: { state: true },
    busy: { state: true },
    message: { state: true },
    kind: { state: true },
    actions: { state: true },
    invalid: { state: true },
    remembered: { state: true },
    decisions: { state: true },
  };

  static override styles = [
    theme,
    css`
      .returning {
        display: grid;
        gap: 0.75rem;
        justify-items: start;
      }
      .fallback {
        margin-top: 0.75rem;
      }
      .status-actions {
        margin-top: 0.5rem;
        align-items: center;
      }
    `,
  ];

  declare noRemember: boolean;
  declare noConditional: boolean;
  declare noSignup: boolean;
  declare fallback: boolean;
  declare view: View;
  declare busy: boolean;
  declare message: string;
  declare kind: '' | 'info' | 'error' | 'success';
  declare actions: Action[];
  declare invalid: boolean;
  declare remembered: string | null;
  /** The server's decisions for this device; undefined until known or when unreachable (then everything is offered). */
  declare decisions: PasskeyDecisions | undefined;

  #username = '';
  /** The modal ceremony in progress, which the page's Cancel button aborts. */
  #modal: AbortController | undefined;
  #conditional: { controller: AbortController; done: Promise<void> } | undefined;
  #focus: string | undefined;
  /** Set when autofill ended on its own (for tests and debugging: `data-conditional`). */
  #conditionalFailed: string | undefined;
  /** The decisions for the typed username (identifier-first); `decisions` stays the page's. */
  #typed: Typed | undefined;
  #typing: ReturnType<typeof setTimeout> | undefined;

  constructor() {
    super();
    this.noRemember = false;
    this.noConditional = false;
    this.noSignup = false;
    this.fallback = false;
    this.view = 'loading';
    this.busy = false;
    this.message = '';
    this.kind = '';
    this.actions = [];
    this.invalid = false;
    this.remembered = null;
  }

  override connectedCallback(): void {
    super.connectedCallback();
    void this.#start();
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.#conditional?.controller.abort();
    this.#conditional = undefined;
    clearTimeout(this.#typing);
  }

  protected override updated(changed: PropertyValues): void {
    super.updated(changed);
    // Hosts and tests can tell when an action has finished.
    this.setAttribute('aria-busy', String(this.busy || this.view === 'loading'));
    this.dataset.view = this.view;
    this.dataset.passkeyButton = this.#decided('passkeyButton')?.passkeyButton.reason ?? 'unknown';
    this.dataset.conditional = this.#conditional ? 'pending' : (this.#conditionalFailed ?? 'off');
    if (this.#focus) {
      const target = this.renderRoot.querySelector<HTMLElement>(this.#focus);
      this.#focus = undefined;
      target?.focus();
    }
  }

  async #start(): Promise<void> {
    const caps = await this.caps();
    if (!caps.webauthn) {
      this.view = 'unsupported';
      const other = { label: this.t.otherWays, run: () => this.emit('latchkey-fallback', { reason: 'unsupported' }), link: true };
      this.#say(this.t.unsupported, 'error', this.fallback ? [other] : []);
      return;
    }
    this.decisions = await this.decide();
    this.remembered = this.#offers('passkeyButton') ? this.#readRemembered() : null;
    // The funnel starts here: a passkey sign-in was offered (with the browser's capabilities).
    this.report({ ceremony: 'authentication', mode: 'modal', outcome: 'offered' });
    this.#show(this.remembered ? 'returning' : 'start');
  }

  /** Whether the server's decisions allow a part (no decisions: yes, as before they existed). */
  #offers(part: 'passkeyButton' | 'autofill' | 'passkeyFirstSignUp'): boolean {
    return this.#decided(part)?.[part].offer !== false;
  }

  /**
   * The decisions a part follows: the button those for the username in the field, once known —
   * except `no_passkeys` (an unknown username, or one without passkeys): the button stays as the
   * page's answer has it, and a cancelled prompt then offers "Create account as …" as before.
   */
  #decided(part: 'passkeyButton' | 'autofill' | 'passkeyFirstSignUp'): PasskeyDecisions | undefined {
    const typed = this.#typed?.decisions;
    const forField = part === 'passkeyButton' && this.view === 'start' && this.#typed?.identifier === this.#username.trim();
    return forField && typed && typed.passkeyButton.reason !== 'no_passkeys' ? typed : this.decisions;
  }

  /** Asks about the username in the field, unless that is already asked; the answer re-renders. */
  #askTyped(): Promise<PasskeyDecisions | undefined> {
    clearTimeout(this.#typing);
    const identifier = this.#username.trim();
    if (this.#typed?.identifier === identifier) return this.#typed.answer;
    const typed: Typed = { identifier, answer: this.decide(identifier) };
    this.#typed = typed;
    void typed.answer.then((decisions) => {
      typed.decisions = decisions;
      if (this.#typed === typed) this.requestUpdate();
    });
    return typed.answer;
  }

  #readRemembered(): string | null {
    try {
      if (this.noRemember) {
        localStorage.removeItem(LAST_USERNAME_KEY);
        return null;
      }
      return localStorage.getItem(LAST_USERNAME_KEY);
    } catch {
      return null; // storage disabled: no one-tap, nothing else changes
    }
  }

  #remember(username: string): void {
    if (this.noRemember) return;
    try {
      localStorage.setItem(LAST_USERNAME_KEY, username);
    } catch {
      // storage disabled or full: the next visit just shows the username field
    }
  }

  #show(view: View): void {
    this.view = view;
    if (view === 'start') {
      this.#focus = '#username';
      void this.#startConditional();
    } else if (view === 'returning') {
      this.#focus = '#continue';
    }
  }

  #say(message: string, kind: LatchkeyAuth['kind'], actions: Action[] = []): void {
    this.message = message;
    this.kind = kind;
    this.actions = actions;
  }

  /** Passkey autofill (WebAuthn L3 §5.1.4, mediation "conditional"): waits until the user picks one. */
  async #startConditional(): Promise<void> {
    if (this.noConditional || this.#conditional || this.view !== 'start' || !this.#offers('autofill')) return;
    const caps = await this.caps();
    if (!caps.conditionalGet || this.#conditional) return;
    const controller = new AbortController();
    this.report({ ceremony: 'authentication', mode: 'conditional', outcome: 'offered' });
    const done = (async () => {
      try {
        const result = await this.client.signIn({ mediation: 'conditional', signal: controller.signal });
        this.report({ ceremony: 'authentication', mode: 'conditional', outcome: 'completed' });
        this.#conditional = undefined;
        this.#succeeded(result, 'latchkey-signed-in', 'conditional');
        this.requestUpdate();
      } catch (error) {
        if (controller.signal.aborted || errorName(error) === 'AbortError') return;
        this.report({ ceremony: 'authentication', mode: 'conditional', outcome: 'error', errorName: errorName(error) });
        this.#conditional = undefined;
        this.#conditionalFailed = errorName(error);
        this.requestUpdate();
        // A browser error here means the user asked for nothing yet: no message. A server answer
        // means they picked a passkey that was refused: say so. Either way no automatic restart
        // (it could loop); the next modal attempt offers autofill again.
        if (error instanceof LatchkeyError) this.#failed(error, 'authentication', '', [], false);
      }
    })();
    this.#conditional = { controller, done };
  }

  /** Ends a pending autofill request and waits until the browser has let go of it. */
  async #stopConditional(): Promise<void> {
    const pending = this.#conditional;
    if (!pending) return;
    this.#conditional = undefined;
    pending.controller.abort();
    await pending.done;
  }

  async #signIn(username: string, via: SignedInDetail['via']): Promise<void> {
    await this.#stopConditional();
    this.busy = true;
    this.invalid = false;
    this.#say(this.t.working, 'info');
    try {
      const signal = this.#startModal();
      const result = await this.ceremony('authentication', 'modal', () => this.client.signIn({ ...(username ? { username } : {}), signal }));
      this.#succeeded(result, 'latchkey-signed-in', via);
    } catch (error) {
      const offerSignUp = username && CANCELLED.has(errorName(error)) && !this.noSignup && via !== 'returning';
      // "Continue as …" is a known account: no "create an account with this name" wording there.
      this.#failed(error, 'authentication', via === 'returning' ? '' : username, [
        { label: this.t.retry, run: () => void this.#signIn(username, via) },
        ...(offerSignUp ? [{ label: this.text('createAs', { name: username }), run: () => void this.#signUp(username) }] : []),
      ]);
    } finally {
      this.#modal = undefined;
      this.busy = false;
    }
  }

  #startModal(): AbortSignal {
    this.#modal = new AbortController();
    // The clicked button is disabled while waiting: keyboard focus goes to Cancel instead of <body>.
    this.#focus = '.status-actions button';
    return this.#modal.signal;
  }

  /** The user gave up waiting for the passkey prompt (the browser's own dialog may be hidden or slow). */
  #cancel(): void {
    this.#modal?.abort();
  }

  async #signUp(username: string): Promise<void> {
    if (!username) {
      this.invalid = true;
      this.#say(this.t.usernameRequired, 'error');
      this.#focus = '#username';
      return;
    }
    await this.#stopConditional();
    this.busy = true;
    this.invalid = false;
    this.#say(this.t.creating, 'info');
    try {
      const signal = this.#startModal();
      const result = await this.ceremony('registration', 'modal', () => this.client.signUp({ username, signal }));
      this.#succeeded(result, 'latchkey-signed-up', 'signup');
    } catch (error) {
      const name = errorName(error);
      const signInInstead = name === 'username_taken' || name === 'InvalidStateError';
      this.#failed(
        error,
        'registration',
        username,
        signInInstead
          ? [{ label: this.text('signInAs', { name: username }), run: () => void this.#signIn(username, 'modal') }]
          : [{ label: this.t.retry, run: () => void this.#signUp(username) }],
      );
      if (name === 'username_taken' || name === 'username_confusable') this.invalid = true;
    } finally {
      this.#modal = undefined;
      this.busy = false;
    }
  }

  #succeeded(result: SignedIn, event: 'latchkey-signed-in' | 'latchkey-signed-up', via: SignedInDetail['via']): void {
    this.#remember(result.user.username);
    this.remembered = this.noRemember ? null : result.user.username;
    this.view = 'done';
    this.#say(this.text(event === 'latchkey-signed-up' ? 'signedUp' : 'signedIn', { name: result.user.username }), 'success');
    const { token: _token, ...session } = result.session ?? ({} as Session);
    this.emit<SignedInDetail>(event, { user: result.user, passkey: result.passkey, session: result.session ? session : undefined, via });
  }

  #failed(error: unknown, ceremony: ErrorDetail['ceremony'], username: string, actions: Action[], restartAutofill = true): void {
    const explained = this.explain(error, { registering: ceremony === 'registration', username });
    const all = this.fallback
      ? [...actions, { label: this.t.otherWays, run: () => this.emit('latchkey-fallback', { reason: explained.reason }), link: true }]
      : actions;
    this.#say(explained.message, 'error', all);
    this.#focus = '.status-actions button';
    this.emit<ErrorDetail>('latchkey-error', { reason: explained.reason, message: explained.message, ceremony });
    if (restartAutofill && this.view === 'start') void this.#startConditional();
  }

  async #onSubmit(event: SubmitEvent): Promise<void> {
    event.preventDefault();
    if (this.busy) return;
    const username = this.#username.trim();
    // Identifier-first: the button is for this account only if the server, asked about it, agrees
    // (an answer still on its way is waited for; none in time: as before).
    if (username && this.decisions) {
      this.busy = true;
      await this.#askTyped();
      this.busy = false;
    }
    if (!this.#offers('passkeyButton')) {
      this.emit('latchkey-fallback', { reason: this.#decided('passkeyButton')?.passkeyButton.reason ?? 'not_offered' });
      return;
    }
    void this.#signIn(username, 'modal');
  }

  #onCreate(): void {
    if (this.busy) return;
    void this.#signUp(this.#username.trim());
  }

  #onInput(event: InputEvent): void {
    this.#username = (event.target as HTMLInputElement).value;
    if (this.invalid) this.invalid = false;
    clearTimeout(this.#typing);
    // Only when the page's own answer came: an unreachable server is not asked once per keystroke.
    if (this.decisions && this.#username.trim()) this.#typing = setTimeout(() => void this.#askTyped(), IDENTIFIER_DEBOUNCE_MS);
    this.requestUpdate();
  }

  #useAnother(): void {
    this.remembered = null;
    this.#say('', '');
    this.#show('start');
  }

  /** Forgets the remembered account on this device (e.g. from a "not you?" link of the host). */
  forget(): void {
    try {
      localStorage.removeItem(LAST_USERNAME_KEY);
    } catch {
      // nothing remembered
    }
    if (this.view === 'returning') this.#useAnother();
  }

  #status() {
    return html`
      <p class="status" role="status" aria-live="polite" part="status" data-kind=${this.kind || nothing}>${this.message}</p>
      ${this.busy && this.#modal
        ? html`<div class="actions status-actions"><button type="button" class="link" part="button" @click=${this.#cancel}>${this.t.cancel}</button></div>`
        : nothing}
      <div class="actions status-actions" ?hidden=${this.actions.length === 0 || this.busy}>
        ${this.actions.map(
          (action) =>
            html`<button type="button" part="button" class=${action.link ? 'link' : ''} ?disabled=${this.busy} @click=${action.run}>
              ${action.label}
            </button>`,
        )}
      </div>
    `;
  }

  #body() {
    const t = this.t;
    switch (this.view) {
      case 'loading':
        return html`<p class="muted">${t.loading}</p>`;
      case 'unsupported':
        return html`<h2 part="title"><slot name="title">${t.title}</slot></h2>`;
      case 'done':
        return nothing;
      case 'returning':
        return html`
          <div class="returning">
            <h2 part="title">${t.welcomeBack}</h2>
            <button id="continue" type="button" class="primary" part="button primary-button" ?disabled=${this.busy}
              @click=${() => void this.#signIn(this.remembered ?? '', 'returning')}>
              ${this.text('continueAs', { name: this.remembered ?? '' })}
            </button>
            <button type="button" class="link" part="button" ?disabled=${this.busy} @click=${this.#useAnother}>${t.useAnother}</button>
          </div>
        `;
      case 'start':
        return html`
          <form @submit=${this.#onSubmit} novalidate>
            <h2 part="title"><slot name="title">${t.title}</slot></h2>
            <label for="username" part="label">${t.username}</label>
            <input id="username" name="username" part="input" autocomplete="username webauthn" autocapitalize="none" spellcheck="false"
              aria-describedby="hint" aria-invalid=${this.invalid ? 'true' : 'false'} .value=${live(this.#username)} @input=${this.#onInput} />
            <p id="hint" class="hint">${t.usernameHint}</p>
            <div class="actions">
              ${this.#offers('passkeyButton')
                ? html`<button type="submit" class="primary" part="button primary-button" ?disabled=${this.busy}>${t.signIn}</button>`
                : this.fallback
                  ? html`<button type="button" class="link" part="button" @click=${() => this.emit('latchkey-fallback', { reason: this.#decided('passkeyButton')?.passkeyButton.reason })}>${t.otherWays}</button>`
                  : nothing}
              ${this.noSignup || !this.#offers('passkeyFirstSignUp')
                ? nothing
                : html`<button type="button" part="button" ?disabled=${this.busy} @click=${this.#onCreate}>${t.createAccount}</button>`}
            </div>
          </form>
        `;
    }
  }

  override render() {
    return html`
      <div class="box" part="box">
        ${this.#body()} ${this.#status()}
      </div>
      <div class="fallback"><slot name="fallback"></slot></div>
    `;
  }
}

if (!customElements.get('latchkey-auth')) customElements.define('latchkey-auth', LatchkeyAuth);

declare global {
  interface HTMLElementTagNameMap {
    'latchkey-auth': LatchkeyAuth;
  }
  /** Typed `addEventListener` for the events of all Latchkey elements. */
  interface HTMLElementEventMap {
    'latchkey-signed-in': CustomEvent<SignedInDetail>;
    'latchkey-signed-up': CustomEvent<SignedInDetail>;
    'latchkey-error': CustomEvent<ErrorDetail>;
    'latchkey-fallback': CustomEvent<{ reason: string }>;
    'latchkey-decisions': CustomEvent<{ decisions: PasskeyDecisions }>;
    'latchkey-passkey-added': CustomEvent<{ passkey: Passkey }>;
    'latchkey-passkey-renamed': CustomEvent<{ passkey: Passkey }>;
    'latchkey-passkey-deleted': CustomEvent<{ passkey: Passkey }>;
    'latchkey-signed-out': CustomEvent<Record<string, never>>;
    'latchkey-append-dismissed': CustomEvent<{ until: number }>;
  }
}
