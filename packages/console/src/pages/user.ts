import { css, html, nothing } from 'lit';
import type { LkActionDialog } from '../action-dialog.ts';
import type { ActionRequest } from '../action-dialog.ts';
import type { ConsolePasskey, ManagedSession, TimelineItem, UserOverview } from '../api.ts';
import { ConsolePage } from '../context.ts';
import type { StringKey } from '../i18n/index.ts';
import { base } from '../theme.ts';
import { timelineStyles, renderTimelineItem } from './timeline.ts';

/**
 * One user, for the agent on the phone: status and profile, passkeys, sessions, the timeline
 * (failures explained), and the actions the role allows, each confirmed with a reason (and a
 * passkey step-up when the server asks for one).
 */
export class UserPage extends ConsolePage {
  static override properties = {
    ...ConsolePage.properties,
    userId: { attribute: false },
    data: { state: true },
    timeline: { state: true },
    nextCursor: { state: true },
    error: { state: true },
    notice: { state: true },
    code: { state: true },
  };

  static override styles = [
    base,
    timelineStyles,
    css`
      .head {
        display: flex;
        flex-wrap: wrap;
        align-items: baseline;
        gap: 0.5rem 1rem;
        margin-bottom: 1rem;
      }
      .head h1 {
        margin: 0;
      }
      .grid {
        display: grid;
        grid-template-columns: minmax(0, 1fr) minmax(0, 1fr);
        gap: 0 1rem;
      }
      @media (max-width: 900px) {
        .grid {
          grid-template-columns: minmax(0, 1fr);
        }
      }
      .list {
        list-style: none;
        margin: 0;
        padding: 0;
        display: grid;
        gap: 0.75rem;
      }
      .item {
        border: 1px solid var(--lk-border);
        border-radius: 8px;
        padding: 0.65rem 0.8rem;
        display: flex;
        gap: 0.75rem;
        align-items: flex-start;
      }
      .item .body {
        flex: 1;
        min-width: 0;
      }
      .item dl.facts {
        font-size: 0.875rem;
        margin-top: 0.35rem;
      }
      .icon {
        flex: none;
        width: 32px;
        height: 32px;
        border-radius: 6px;
        display: grid;
        place-items: center;
        background: var(--lk-info-bg);
        color: var(--lk-accent);
        font-weight: 700;
      }
      .icon img {
        width: 32px;
        height: 32px;
      }
      .title {
        font-weight: 600;
        display: flex;
        flex-wrap: wrap;
        gap: 0.4rem;
        align-items: center;
      }
      .actions {
        display: flex;
        flex-wrap: wrap;
        gap: 0.5rem;
      }
      .card-head {
        display: flex;
        flex-wrap: wrap;
        justify-content: space-between;
        align-items: baseline;
        gap: 0.5rem;
      }
      dialog.code {
        border: 1px solid var(--lk-border);
        border-radius: var(--lk-radius);
        background: var(--lk-surface);
        color: var(--lk-fg);
        padding: 1.5rem;
        width: min(36rem, calc(100vw - 2rem));
        box-sizing: border-box;
        text-align: center;
      }
      dialog.code::backdrop {
        background: rgb(0 0 0 / 0.45);
      }
      .big-code {
        font-family: var(--lk-mono);
        font-size: clamp(1.8rem, 6vw, 2.8rem);
        font-weight: 700;
        letter-spacing: 0.12em;
        margin: 1rem 0;
        padding: 0.75rem;
        border: 2px dashed var(--lk-accent);
        border-radius: 8px;
        overflow-wrap: anywhere;
        user-select: all;
      }
    `,
  ];

  declare userId: string;
  declare data: UserOverview | null;
  declare timeline: TimelineItem[] | null;
  declare nextCursor: string | null;
  declare error: string;
  declare notice: string;
  declare code: { code: string; expiresAt: string } | null;

  constructor() {
    super();
    this.data = null;
    this.timeline = null;
    this.nextCursor = null;
    this.error = '';
    this.notice = '';
    this.code = null;
  }

  override pageTitle(): string {
    const user = this.data?.user;
    return user ? user.displayName || user.username : this.t.profile;
  }

  override connectedCallback(): void {
    super.connectedCallback();
    void this.load();
  }

  #loadedLang = '';

  protected override willUpdate(changed: Map<PropertyKey, unknown>): void {
    super.willUpdate(changed);
    // Titles and explanations come from the server in the console's language: ask again on a switch.
    if (changed.has('ctx') && this.#loadedLang && this.ctx.tr.lang !== this.#loadedLang) void this.load();
  }

  async load(): Promise<void> {
    this.#loadedLang = this.ctx.tr.lang;
    try {
      const [data, timeline] = await Promise.all([
        this.ctx.api.overview(this.userId),
        this.ctx.can('audit:read') ? this.ctx.api.timeline(this.userId).catch(() => null) : Promise.resolve(null),
      ]);
      this.data = data;
      this.timeline = timeline?.items ?? null;
      this.nextCursor = timeline?.nextCursor ?? null;
      this.error = '';
    } catch (error) {
      this.error = this.describe(error);
    }
  }

  async #more(): Promise<void> {
    if (!this.nextCursor) return;
    try {
      const page = await this.ctx.api.timeline(this.userId, this.nextCursor);
      this.timeline = [...(this.timeline ?? []), ...page.items];
      this.nextCursor = page.nextCursor;
    } catch (error) {
      this.error = this.describe(error);
    }
  }

  get #dialog(): LkActionDialog {
    return this.renderRoot.querySelector('lk-action-dialog') as LkActionDialog;
  }

  /** Confirm with a reason, run, say what happened, load the user again. */
  async #act<T>(request: ActionRequest<T>, done: (result: T) => string): Promise<void> {
    const result = await this.#dialog.open(request);
    if (result === undefined) return;
    this.notice = done(result);
    this.ctx.announce(this.notice);
    await this.load();
  }

  #name(): string {
    const user = this.data?.user;
    return user ? user.displayName || user.username : '';
  }

  #disable(enable: boolean): void {
    const name = this.#name();
    const api = this.ctx.api;
    void this.#act(
      {
        title: this.f(enable ? 'confirm_enable' : 'confirm_disable', { name }),
        text: this.t[enable ? 'confirm_enable_text' : 'confirm_disable_text'],
        confirmLabel: this.t[enable ? 'enable' : 'disable'],
        danger: !enable,
        run: (reason) => api.userAction(this.userId, enable ? 'enable' : 'disable', reason),
      },
      () => this.t[enable ? 'done_enable' : 'done_disable'],
    );
  }

  #revokeSession(session: ManagedSession): void {
    const device = deviceName(session.browser, session.os) || this.t.unknownDevice;
    void this.#act(
      {
        title: this.t.confirm_revoke_session,
        text: this.f('confirm_revoke_session_text', { device }),
        confirmLabel: this.t.revoke,
        danger: true,
        run: (reason) => this.ctx.api.revokeSession(this.userId, session.id, reason),
      },
      () => this.t.done_revoke_session,
    );
  }

  #revokeAll(): void {
    void this.#act(
      {
        title: this.f('confirm_revoke_all', { name: this.#name() }),
        text: this.t.confirm_revoke_all_text,
        confirmLabel: this.t.revokeAll,
        danger: true,
        run: (reason) => this.ctx.api.revokeAllSessions(this.userId, reason),
      },
      (n) => this.f('done_revoke_all', { n }),
    );
  }

  #deletePasskey(passkey: ConsolePasskey): void {
    void this.#act(
      {
        title: this.f('confirm_delete_passkey', { passkey: passkey.name }),
        text: this.t.confirm_delete_passkey_text,
        confirmLabel: this.t.deletePasskey,
        danger: true,
        run: (reason) => this.ctx.api.deletePasskey(this.userId, passkey.id, reason),
      },
      () => this.t.done_delete_passkey,
    );
  }

  #lift(): void {
    void this.#act(
      {
        title: this.f('confirm_lift', { name: this.#name() }),
        text: this.t.confirm_lift_text,
        confirmLabel: this.t.liftLockout,
        run: (reason) => this.ctx.api.liftLockout(this.userId, reason),
      },
      () => this.t.done_lift,
    );
  }

  async #recovery(method: 'email' | 'code'): Promise<void> {
    const result = await this.#dialog.open({
      title: this.f(method === 'email' ? 'confirm_recovery_email' : 'confirm_recovery_code', { name: this.#name() }),
      text: this.t[method === 'email' ? 'confirm_recovery_email_text' : 'confirm_recovery_code_text'],
      confirmLabel: this.t[method === 'email' ? 'recoveryLink' : 'recoveryCode'],
      run: (reason) => this.ctx.api.startRecovery(this.userId, method, reason),
    });
    if (!result) return;
    if (method === 'code' && result.code) {
      this.code = { code: result.code, expiresAt: result.expiresAt };
      this.notice = this.t.done_recovery_code;
      await this.updateComplete;
      const dialog = this.renderRoot.querySelector<HTMLDialogElement>('dialog.code')!;
      dialog.showModal();
      dialog.querySelector<HTMLElement>('.big-code')?.focus();
    } else {
      this.notice = this.f('done_recovery_email', { time: this.ctx.tr.dateTime(result.expiresAt) });
      this.ctx.announce(this.notice);
    }
    void this.load();
  }

  #closeCode(): void {
    this.renderRoot.querySelector<HTMLDialogElement>('dialog.code')?.close();
    // Shown once: forget it the moment the agent is done.
    this.code = null;
    this.renderRoot.querySelector<HTMLElement>('#recovery-code')?.focus();
  }

  #actions() {
    const t = this.t;
    const can = (scope: string) => this.ctx.can(scope);
    const user = this.data!.user;
    const buttons = [
      can('users:write') && user.status === 'active' ? html`<button type="button" class="danger" @click=${() => this.#disable(false)}>${t.disable}</button>` : nothing,
      can('users:write') && user.status === 'disabled' ? html`<button type="button" @click=${() => this.#disable(true)}>${t.enable}</button>` : nothing,
      can('sessions:write') && this.data!.sessions.length > 0 ? html`<button type="button" @click=${this.#revokeAll}>${t.revokeAll}</button>` : nothing,
      can('lockouts:lift') && (this.data!.lockouts === null || this.data!.lockouts.length > 0) ? html`<button type="button" @click=${this.#lift}>${t.liftLockout}</button>` : nothing,
      can('recovery:start') && user.email ? html`<button type="button" @click=${() => this.#recovery('email')}>${t.recoveryLink}</button>` : nothing,
      can('recovery:start') ? html`<button type="button" id="recovery-code" @click=${() => this.#recovery('code')}>${t.recoveryCode}</button>` : nothing,
    ].filter((b) => b !== nothing);
    if (buttons.length === 0) return nothing;
    return html`<section class="card" aria-labelledby="actions-title">
      <h2 id="actions-title">${t.actions}</h2>
      <div class="actions">${buttons}</div>
    </section>`;
  }

  #profile() {
    const t = this.t;
    const d = this.data!;
    const u = d.user;
    const lockouts = d.lockouts;
    return html`<section class="card" aria-labelledby="profile-title">
      <h2 id="profile-title">${t.profile}</h2>
      <dl class="facts">
        <dt>${t.username}</dt><dd>${u.username}</dd>
        <dt>${t.displayName}</dt><dd>${u.displayName}</dd>
        <dt>${t.email}</dt>
        <dd>${u.email ? html`${u.email} <span class=${d.emailVerified === false ? 'badge warn' : 'badge ok'}>${d.emailVerified === false ? t.emailUnverified : t.emailVerified}</span>` : t.none}</dd>
        <dt>${t.externalId}</dt><dd class="mono">${u.externalId ?? t.none}</dd>
        <dt>${t.userId}</dt><dd class="mono">${u.id}</dd>
        <dt>${t.created}</dt><dd>${this.ctx.tr.dateTime(u.createdAt)}</dd>
        ${d.recoveryCodesRemaining !== null ? html`<dt>${t.recoveryCodesLeft}</dt><dd>${d.recoveryCodesRemaining}</dd>` : nothing}
        ${d.fallbacks !== null
          ? html`<dt>${t.fallbacks}</dt><dd>${d.fallbacks.length ? d.fallbacks.map((f) => t[`fallback_${f}` as StringKey] ?? f).join(', ') : t.none}</dd>`
          : nothing}
        ${lockouts !== null
          ? html`<dt>${t.lockout}</dt>
              <dd>${lockouts.length
                ? lockouts.map((l) => {
                    const key = FACTOR[l.factor];
                    const factor = key ? t[key] : l.factor;
                    const text = l.locked
                      ? this.f('lockoutLocked', { factor, n: l.failures })
                      : l.delayedUntil
                        ? this.f('lockoutDelayed', { factor, n: l.failures, time: this.ctx.tr.dateTime(l.delayedUntil) })
                        : this.f('lockoutCounting', { factor, n: l.failures });
                    return html`<span class=${l.locked ? 'badge bad' : 'badge warn'}>${text}</span> `;
                  })
                : t.notLocked}</dd>`
          : nothing}
      </dl>
    </section>`;
  }

  #passkeyIcon(p: ConsolePasskey) {
    const icon = p.providerIcon;
    const dark = document.documentElement.dataset.theme === 'dark';
    const src = icon ? (dark ? (icon.dark ?? icon.light) : (icon.light ?? icon.dark)) : null;
    if (src) return html`<span class="icon"><img src=${src} alt="" width="32" height="32" /></span>`;
    return html`<span class="icon" aria-hidden="true">${(p.provider || p.name || '?').charAt(0).toUpperCase()}</span>`;
  }

  #passkeys() {
    const t = this.t;
    const list = this.data!.passkeys;
    const canDelete = this.ctx.can('users:write');
    return html`<section class="card" aria-labelledby="passkeys-title">
      <h2 id="passkeys-title">${t.passkeys} (${list.length})</h2>
      ${list.length === 0
        ? html`<p class="muted">${t.noPasskeys}</p>`
        : html`<ul class="list">
            ${list.map((p) => {
              const synced = p.deviceType === 'multiDevice' || p.backedUp;
              const be = p.backupEligible ?? p.deviceType === 'multiDevice';
              const bs = p.synced ?? p.backedUp;
              return html`<li class="item">
                ${this.#passkeyIcon(p)}
                <div class="body">
                  <div class="title">
                    <span>${p.name}</span>
                    <span class=${synced ? 'badge ok' : 'badge'}>${synced ? t.synced : t.deviceBound}</span>
                  </div>
                  ${p.provider && p.provider !== p.name ? html`<div class="muted">${p.provider}</div>` : nothing}
                  <dl class="facts">
                    <dt>${t.created}</dt><dd>${this.ctx.tr.dateTime(p.createdAt)}</dd>
                    <dt>${t.lastUsed}</dt><dd>${this.ctx.tr.dateTime(p.lastUsedAt)}</dd>
                    <dt>${t.backupFlags}</dt><dd>BE=${be ? 1 : 0} (${be ? t.eligible : t.notEligible}), BS=${bs ? 1 : 0} (${bs ? t.backedUp : t.notBackedUp})</dd>
                    <dt>${t.aaguid}</dt><dd class="mono">${p.aaguid}</dd>
                  </dl>
                </div>
                ${canDelete
                  ? html`<button type="button" class="danger small" aria-label=${this.f('deletePasskeyLabel', { name: p.name })} @click=${() => this.#deletePasskey(p)}>${t.deletePasskey}</button>`
                  : nothing}
              </li>`;
            })}
          </ul>`}
    </section>`;
  }

  #sessions() {
    const t = this.t;
    const list = this.data!.sessions;
    const canRevoke = this.ctx.can('sessions:write');
    return html`<section class="card" aria-labelledby="sessions-title">
      <h2 id="sessions-title">${t.sessions} (${list.length})</h2>
      ${list.length === 0
        ? html`<p class="muted">${t.noSessions}</p>`
        : html`<ul class="list">
            ${list.map((s) => {
              const device = deviceName(s.browser, s.os) || t.unknownDevice;
              return html`<li class="item" data-session=${s.id}>
                <div class="body">
                  <div class="title">${device}</div>
                  <dl class="facts">
                    <dt>${t.browser}</dt><dd>${s.browser ?? '—'}</dd>
                    <dt>${t.os}</dt><dd>${s.os ?? '—'}</dd>
                    <dt>${t.ip}</dt><dd class="mono">${s.ip ?? '—'}</dd>
                    <dt>${t.lastSeen}</dt><dd>${this.ctx.tr.dateTime(s.lastSeenAt)}</dd>
                    <dt>${t.method}</dt><dd>${s.amr.join(', ')}</dd>
                  </dl>
                </div>
                ${canRevoke
                  ? html`<button type="button" class="small" aria-label=${this.f('revokeSessionLabel', { device })} @click=${() => this.#revokeSession(s)}>${t.revoke}</button>`
                  : nothing}
              </li>`;
            })}
          </ul>`}
    </section>`;
  }

  #timeline() {
    const t = this.t;
    if (this.timeline === null) return nothing;
    return html`<section class="card" aria-labelledby="timeline-title">
      <h2 id="timeline-title">${t.timeline}</h2>
      <p class="hint">${t.timelineIntro}</p>
      ${this.timeline.length === 0
        ? html`<p class="muted">${t.noEvents}</p>`
        : html`<ol class="timeline">${this.timeline.map((item) => renderTimelineItem(item, this.ctx.tr))}</ol>`}
      ${this.nextCursor ? html`<button type="button" @click=${this.#more}>${t.loadMore}</button>` : nothing}
    </section>`;
  }

  override render() {
    const t = this.t;
    const d = this.data;
    const code = this.code;
    return html`<p><a href="/admin">← ${t.backToSearch}</a></p>
      <div class="head">
        <h1 tabindex="-1">${d ? d.user.displayName || d.user.username : this.error ? t.profile : t.loading}</h1>
        ${d
          ? html`${d.user.displayName && d.user.displayName !== d.user.username ? html`<span class="muted">${d.user.username}</span>` : nothing}
              <span class=${d.user.status === 'active' ? 'badge ok' : 'badge bad'}>${t[`status_${d.user.status}` as StringKey]}</span>`
          : nothing}
      </div>
      ${this.error ? html`<p class="notice error" role="alert">${this.error}</p>` : nothing}
      ${d
        ? html`${this.notice ? html`<p class="notice success">${this.notice}</p>` : nothing}
            ${this.#actions()}
            <div class="grid">
              <div>${this.#profile()}${this.#sessions()}</div>
              <div>${this.#passkeys()}</div>
            </div>
            ${this.#timeline()}`
        : nothing}
      <lk-action-dialog .ctx=${this.ctx}></lk-action-dialog>
      <dialog class="code" aria-labelledby="code-title" aria-describedby="code-intro" @cancel=${(e: Event) => {
        e.preventDefault();
        this.#closeCode();
      }}>
        <h2 id="code-title">${t.codeTitle}</h2>
        <p id="code-intro">${code ? this.f('codeIntro', { time: this.ctx.tr.dateTime(code.expiresAt) }) : ''}</p>
        <p class="big-code" tabindex="-1" data-testid="recovery-code">${code?.code ?? ''}</p>
        <button type="button" class="primary" @click=${this.#closeCode}>${t.codeDone}</button>
      </dialog>`;
  }
}

/** Lockout factors and fallbacks under one set of names. */
const FACTOR: Record<string, StringKey> = {
  password: 'fallback_password',
  totp: 'fallback_totp',
  recovery_code: 'fallback_recoveryCodes',
  email_code: 'fallback_emailCode',
};

export function deviceName(browser: string | null | undefined, os: string | null | undefined): string {
  return [browser, os].filter(Boolean).join(' · ');
}
