import { css, html, nothing, type PropertyValues } from 'lit';
import { errorName, LatchkeyElement } from './base.ts';
import type { PasskeyDetail } from './latchkey-passkeys.ts';
import type { Strings } from './strings.ts';
import { theme } from './theme.ts';

/** Where "Not now" is remembered, per user: a timestamp (epoch ms), nothing else. */
export const APPEND_DISMISSED_KEY = 'latchkey:append-dismissed:';

type State = 'checking' | 'hidden' | 'offer' | 'done';

/** What one arm of an `append_prompt` A/B test shows (`variants` property, keyed by the variant's key). */
export interface AppendVariant {
  /** Overrides of the strings for this arm, e.g. `appendTitle`, `appendText`, `appendCreate`, `appendLater`. */
  strings?: Partial<Strings>;
  /** Wait this long (ms, at most 60 000) after the decision before showing the prompt. */
  delay?: number;
}

/** Arms that show the built-in copy unless `variants` names them. */
const BUILT_IN = new Set(['default', 'control']);

/**
 * Offers to create a passkey after a sign-in that did not use one (the session's `amr` has no
 * `passkey`). Where the browser supports conditional create (`getClientCapabilities()` says
 * `conditionalCreate`), it also asks for a passkey silently (`mediation: 'conditional'`) while
 * the offer is shown, which the password manager may grant without a prompt. "Not now" is remembered on this device for
 * `snooze-days`. It asks the server first (`POST /api/v1/passkey-decisions`): no offer on a device
 * that cannot make a passkey, outside the rollout, or after a recent "not now".
 *
 * With `append-token` (an `lk_append_…` token your backend got from `POST /api/admin/v1/append-tokens`
 * after its own sign-in), it needs no Latchkey session: the offer is always shown, and the
 * passkey goes to the token's user (no session is opened; the token is used up). Set the
 * attribute only when you want the offer shown; "Not now" then hides it without remembering.
 *
 * A/B tests: the decision names the user's arm of a running `append_prompt` experiment
 * (`data-variant`); the `variants` property gives each arm its copy and timing. `default` and
 * `control` show the built-in copy. When the prompt is on screen (at least half of it in the
 * viewport), the exposure is reported once (`POST /api/v1/experiments/{key}/exposures`); not for
 * a concluded experiment, nor for an arm this page has no entry for (that arm shows the built-in
 * copy, `data-variant-copy="missing"`), nor on `force` or `append-token` pages (no decision).
 *
 * @element latchkey-passkey-append
 *
 * @attr api-base - Base URL of the Latchkey API; same origin when absent.
 * @attr lang - `en` or `de`.
 * @attr snooze-days - How long "Not now" hides the offer (default 30).
 * @attr force - Offer even if the session was made with a passkey (e.g. on a settings page).
 * @attr no-conditional-create - Skip the silent conditional create attempt.
 * @attr no-telemetry - Do not report ceremony outcomes to the server.
 * @attr append-token - A one-time append token from your backend: add the passkey to that user, without a Latchkey session.
 *
 * @prop {Record<string, AppendVariant>} variants - Copy and timing per A/B variant: `{ 'faster': { strings: { appendTitle: '…' }, delay: 2000 } }`.
 *
 * @fires {CustomEvent<PasskeyDetail>} latchkey-passkey-added - A passkey was created (by the button or silently).
 * @fires {CustomEvent<{until: number}>} latchkey-append-dismissed - The user chose "Not now" (also recorded by the server).
 * @fires {CustomEvent<{decisions: PasskeyDecisions}>} latchkey-decisions - The server's decisions arrived (`data-reason` says why the offer is or is not shown).
 * @fires {CustomEvent<ErrorDetail>} latchkey-error - Creating the passkey failed.
 *
 * @csspart box - The card.
 * @csspart button - Both buttons; "Create a passkey" also has `primary-button`.
 * @csspart status - The live status line.
 *
 * @cssprop --latchkey-background - Card background.
 * @cssprop --latchkey-accent - Primary button.
 */
export class LatchkeyPasskeyAppend extends LatchkeyElement {
  static override properties = {
    ...LatchkeyElement.properties,
    snoozeDays: { type: Number, attribute: 'snooze-days' },
    force: { type: Boolean },
    noConditionalCreate: { type: Boolean, attribute: 'no-conditional-create' },
    appendToken: { type: String, attribute: 'append-token' },
    variants: { type: Object, attribute: false },
    variant: { state: true },
    state: { state: true },
    busy: { state: true },
    message: { state: true },
    kind: { state: true },
  };

  static override styles = [
    theme,
    css`
      :host([data-state='hidden']),
      :host([data-state='checking']) {
        display: none;
      }
      p.text {
        margin: 0 0 1rem;
      }
    `,
  ];

  declare snoozeDays: number;
  declare force: boolean;
  declare noConditionalCreate: boolean;
  declare appendToken: string | undefined;
  /** Copy and timing per A/B variant key (see `AppendVariant`). */
  declare variants: Record<string, AppendVariant> | undefined;
  /** The arm the decision named ("default" when there is none). */
  declare variant: string;
  declare state: State;
  declare busy: boolean;
  declare message: string;
  declare kind: '' | 'info' | 'error' | 'success';

  #userId = '';
  #pending: AbortController | undefined;
  #delay: ReturnType<typeof setTimeout> | undefined;
  #seen: IntersectionObserver | undefined;
  #exposed = false;

  constructor() {
    super();
    this.snoozeDays = 30;
    this.force = false;
    this.noConditionalCreate = false;
    this.variants = undefined;
    this.variant = 'default';
    this.state = 'checking';
    this.busy = false;
    this.message = '';
    this.kind = '';
  }

  override connectedCallback(): void {
    super.connectedCallback();
    void this.#check();
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.#abortPending();
    clearTimeout(this.#delay);
    this.#seen?.disconnect();
    this.#seen = undefined;
  }

  protected override updated(changed: PropertyValues): void {
    super.updated(changed);
    this.setAttribute('aria-busy', String(this.busy || this.state === 'checking'));
    this.dataset.state = this.state;
    this.dataset.conditional = this.#pending ? 'pending' : 'off';
    if (this.state === 'offer' && !this.#exposed && !this.#seen) this.#watchExposure();
  }

  /** This arm's entry in `variants`, if the page gave one. */
  #arm(): AppendVariant | undefined {
    return Object.hasOwn(this.variants ?? {}, this.variant) ? this.variants?.[this.variant] : undefined;
  }

  protected override get t(): Strings {
    const arm = this.#arm()?.strings;
    return arm ? { ...super.t, ...arm } : super.t;
  }

  /** Reports the exposure once, when the offer is on screen (IntersectionObserver; at once without one). */
  #watchExposure(): void {
    this.dataset.variantCopy = this.#arm() ? 'page' : BUILT_IN.has(this.variant) ? 'built-in' : 'missing';
    // No experiment, or an arm this page has no copy for: reporting the built-in copy as that arm would skew it.
    if (this.variant === 'default' || this.dataset.variantCopy === 'missing') {
      this.#exposed = true;
      return;
    }
    const box = this.renderRoot.querySelector('section');
    if (!box || typeof IntersectionObserver === 'undefined') {
      void this.#expose();
      return;
    }
    this.#seen = new IntersectionObserver(
      (entries) => {
        if (!entries.some((entry) => entry.isIntersecting)) return;
        this.#seen?.disconnect();
        void this.#expose();
      },
      { threshold: 0.5 },
    );
    this.#seen.observe(box);
  }

  async #expose(): Promise<void> {
    if (this.#exposed) return;
    this.#exposed = true;
    // The decision names the arm; the experiment's key and whether it concluded come from the
    // assignment (reportExposure sends nothing for a concluded one). A different arm there means the
    // experiment changed in between: nothing is reported.
    const assignments = await this.client.getExperimentAssignments().catch(() => undefined);
    const assignment = assignments?.append_prompt;
    if (assignment?.variant === this.variant) await this.client.reportExposure(assignment);
  }

  #dismissedUntil(): number {
    try {
      return Number(localStorage.getItem(APPEND_DISMISSED_KEY + this.#userId) ?? 0) + this.snoozeDays * 86_400_000;
    } catch {
      return 0;
    }
  }

  async #check(): Promise<void> {
    if (this.appendToken) {
      // The app signed the user in itself and vouches with the token: no session to look at.
      this.state = (await this.caps()).webauthn ? 'offer' : 'hidden';
      if (this.state === 'offer') this.report({ ceremony: 'append', mode: 'modal', outcome: 'offered' });
      return;
    }
    const [caps, current] = await Promise.all([this.caps(), this.client.getSession().catch(() => null)]);
    if (!caps.webauthn || !current || (!this.force && current.session.amr.includes('passkey'))) {
      this.state = 'hidden';
      return;
    }
    this.#userId = current.user.id;
    if (Date.now() < this.#dismissedUntil()) {
      this.state = 'hidden';
      return;
    }
    // The server's word (rollout, kill switch, a device that cannot make a passkey, "not now" on
    // another device...); unreachable: offer as before. `force` pages (settings) do not ask.
    if (!this.force) {
      const decisions = await this.decide();
      this.dataset.reason = decisions?.appendPrompt.reason ?? 'unknown';
      this.variant = decisions?.appendPrompt.variant ?? 'default';
      this.dataset.variant = this.variant;
      if (decisions && !decisions.appendPrompt.offer) {
        this.state = 'hidden';
        return;
      }
    }
    // A timing arm shows the prompt later (the element stays hidden until then).
    const delay = Math.min(Math.max(Number(this.#arm()?.delay) || 0, 0), 60_000);
    if (delay > 0) {
      this.#delay = setTimeout(() => this.#offer(caps.conditionalCreate), delay);
      return;
    }
    this.#offer(caps.conditionalCreate);
  }

  #offer(conditionalCreate: boolean): void {
    if (!this.isConnected) return;
    this.state = 'offer';
    // The adoption funnel starts here: a passkey was offered to this signed-in user.
    this.report({ ceremony: 'append', mode: 'modal', outcome: 'offered' });
    if (conditionalCreate && !this.noConditionalCreate) void this.#conditionalCreate();
  }

  /** Runs alongside the offer: the password manager may create a passkey without a prompt. */
  async #conditionalCreate(): Promise<void> {
    const controller = new AbortController();
    this.#pending = controller;
    this.report({ ceremony: 'append', mode: 'conditional', outcome: 'offered' });
    try {
      const { passkey } = await this.client.addPasskey({ mediation: 'conditional', signal: controller.signal });
      this.report({ ceremony: 'append', mode: 'conditional', outcome: 'completed' });
      this.#added(passkey);
    } catch (error) {
      // Not eligible, declined or aborted: the offer's button is still there.
      if (!controller.signal.aborted) this.report({ ceremony: 'append', mode: 'conditional', outcome: 'error', errorName: errorName(error) });
    } finally {
      if (this.#pending === controller) this.#pending = undefined;
      this.requestUpdate();
    }
  }

  /** Ends a pending conditional create before a modal one or a dismissal. */
  #abortPending(): void {
    this.#pending?.abort();
    this.#pending = undefined;
  }

  #added(passkey: PasskeyDetail['passkey']): void {
    this.state = 'done';
    this.message = this.t.added;
    this.kind = 'success';
    this.emit<PasskeyDetail>('latchkey-passkey-added', { passkey });
  }

  async #create(): Promise<void> {
    this.#abortPending();
    this.busy = true;
    this.message = this.t.creating;
    this.kind = 'info';
    try {
      // An account that already has passkeys proves it is the owner's first (403 step_up_required).
      const appendToken = this.appendToken;
      const { passkey } = await this.ceremony('append', 'modal', () =>
        appendToken ? this.client.addPasskey({ appendToken }) : this.client.withStepUp(() => this.client.addPasskey()),
      );
      this.#added(passkey);
    } catch (error) {
      const explained = this.explain(error, { registering: true });
      this.message = explained.message;
      this.kind = 'error';
      this.emit('latchkey-error', { reason: explained.reason, message: explained.message, ceremony: 'registration' });
    } finally {
      this.busy = false;
    }
  }

  #later(): void {
    this.#abortPending();
    const now = Date.now();
    try {
      if (!this.appendToken) localStorage.setItem(APPEND_DISMISSED_KEY + this.#userId, String(now));
    } catch {
      // storage disabled: the offer comes back next time, which is harmless
    }
    this.state = 'hidden';
    // The server remembers it too (every device of the user; audited). Best effort.
    if (!this.appendToken) this.client.declinePasskeyAppend(this.deviceId()).catch(() => {});
    this.emit('latchkey-append-dismissed', { until: now + this.snoozeDays * 86_400_000 });
  }

  override render() {
    if (this.state === 'checking' || this.state === 'hidden') return nothing;
    const t = this.t;
    return html`<section class="box" part="box" aria-labelledby="append-title">
      <h2 id="append-title">${t.appendTitle}</h2>
      ${this.state === 'offer'
        ? html`<p class="text">${t.appendText}</p>
            <div class="actions">
              <button type="button" class="primary" part="button primary-button" ?disabled=${this.busy} @click=${this.#create}>${t.appendCreate}</button>
              <button type="button" part="button" ?disabled=${this.busy} @click=${this.#later}>${t.appendLater}</button>
            </div>`
        : nothing}
      <p class="status" role="status" aria-live="polite" part="status" data-kind=${this.kind || nothing}>${this.message}</p>
    </section>`;
  }
}

if (!customElements.get('latchkey-passkey-append')) customElements.define('latchkey-passkey-append', LatchkeyPasskeyAppend);

declare global {
  interface HTMLElementTagNameMap {
    'latchkey-passkey-append': LatchkeyPasskeyAppend;
  }
}
