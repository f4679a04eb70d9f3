import { css, html, nothing, type TemplateResult } from 'lit';
import type { LkActionDialog } from '../action-dialog.ts';
import type { ApiKey, Role, StaffMember } from '../api.ts';
import { ConsolePage } from '../context.ts';
import type { StringKey } from '../i18n/index.ts';
import { base } from '../theme.ts';

const ROLES: Role[] = ['admin', 'support', 'auditor'];

export const adminStyles = css`
  .table-wrap {
    overflow-x: auto;
  }
  form.inline {
    display: grid;
    grid-template-columns: repeat(auto-fill, minmax(14rem, 1fr));
    gap: 0 0.75rem;
    align-items: end;
  }
  fieldset {
    border: 1px solid var(--lk-border);
    border-radius: 8px;
    margin: 0 0 0.75rem;
    padding: 0.5rem 0.75rem;
  }
  legend {
    font-weight: 600;
    padding: 0 0.25rem;
  }
  .scopes {
    display: grid;
    grid-template-columns: repeat(auto-fill, minmax(13rem, 1fr));
    gap: 0.25rem 1rem;
  }
  .scopes label {
    font-weight: 400;
    display: flex;
    gap: 0.4rem;
    align-items: center;
    margin: 0;
  }
  .secret {
    display: flex;
    flex-wrap: wrap;
    gap: 0.5rem;
    align-items: center;
  }
  .secret code {
    font-family: var(--lk-mono);
    font-size: 1.05rem;
    padding: 0.4rem 0.6rem;
    border: 1px dashed var(--lk-accent);
    border-radius: 6px;
    overflow-wrap: anywhere;
    user-select: all;
  }
  .settings {
    display: grid;
    grid-template-columns: repeat(auto-fill, minmax(22rem, 1fr));
    gap: 0 1rem;
    align-items: start;
  }
  pre {
    font-family: var(--lk-mono);
    font-size: 0.875rem;
    overflow-x: auto;
    margin: 0;
  }
`;

/** Copies `text`; answers whether it worked (the page says so). */
export async function copy(text: string): Promise<boolean> {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    return false;
  }
}

/** Shared by the admin pages: the dialog, the notice and the error line. */
class AdminPage extends ConsolePage {
  static override properties = {
    ...ConsolePage.properties,
    error: { state: true },
    notice: { state: true },
  };
  static override styles = [base, adminStyles];
  declare error: string;
  declare notice: string;

  constructor() {
    super();
    this.error = '';
    this.notice = '';
  }

  get dialog(): LkActionDialog {
    return this.renderRoot.querySelector('lk-action-dialog') as LkActionDialog;
  }

  say(message: string): void {
    this.notice = message;
    this.error = '';
    this.ctx.announce(message);
  }

  frame(title: StringKey, body: TemplateResult): TemplateResult {
    return html`<h1 tabindex="-1">${this.t[title]}</h1>
      ${this.error ? html`<p class="notice error" role="alert">${this.error}</p>` : nothing}
      ${this.notice ? html`<p class="notice success">${this.notice}</p>` : nothing}
      ${body}
      <lk-action-dialog .ctx=${this.ctx}></lk-action-dialog>`;
  }
}

/** Staff and their roles: list; for admins also add (with the enrolment link), change role, remove. */
export class StaffPage extends AdminPage {
  static override properties = {
    ...AdminPage.properties,
    staff: { state: true },
    enrollUrl: { state: true },
  };
  declare staff: StaffMember[] | null;
  declare enrollUrl: string;

  constructor() {
    super();
    this.staff = null;
    this.enrollUrl = '';
  }

  override pageTitle(): string {
    return this.t.staffTitle;
  }

  override connectedCallback(): void {
    super.connectedCallback();
    void this.load();
  }

  async load(): Promise<void> {
    try {
      this.staff = (await this.ctx.api.staff()).items;
    } catch (error) {
      this.error = this.describe(error);
    }
  }

  #role(role: string): string {
    return this.t[`role_${role}` as StringKey] ?? role;
  }

  /** Who added them: a staff member by name when known, else the kind (command line, API key). */
  #creator(m: StaffMember) {
    const by = m.createdBy;
    if (by.kind === 'staff' && by.id) {
      const who = this.staff?.find((s) => s.userId === by.id);
      return who ? who.username : html`<span class="mono">${by.id.slice(0, 8)}</span>`;
    }
    return this.t[`actor_${by.kind}` as StringKey] ?? by.kind;
  }

  async #add(event: SubmitEvent): Promise<void> {
    event.preventDefault();
    const form = event.target as HTMLFormElement;
    const data = new FormData(form);
    const username = String(data.get('username') ?? '').trim();
    const role = String(data.get('role') ?? 'support') as Role;
    if (!username) return;
    const added = await this.dialog.open({
      title: this.f('confirm_staff_add', { name: username, role: this.#role(role) }),
      confirmLabel: this.t.add,
      run: (reason) => this.ctx.api.addStaff(username, role, reason),
    });
    if (!added) return;
    form.reset();
    this.enrollUrl = added.enrollUrl ?? '';
    this.say(this.f('staffAdded', { name: added.member.username, role: this.#role(role) }));
    await this.load();
  }

  async #changeRole(member: StaffMember, select: HTMLSelectElement): Promise<void> {
    const role = select.value as Role;
    if (role === member.role) return;
    const done = await this.dialog.open({
      title: this.f('confirm_staff_role', { name: member.username, role: this.#role(role) }),
      confirmLabel: this.t.changeRole,
      run: (reason) => this.ctx.api.changeRole(member.userId, role, reason),
    });
    if (!done) {
      select.value = member.role;
      return;
    }
    this.say(this.t.done_staff_role);
    await this.load();
  }

  async #remove(member: StaffMember): Promise<void> {
    const done = await this.dialog.open({
      title: this.f('confirm_staff_remove', { name: member.username }),
      text: this.t.confirm_staff_remove_text,
      confirmLabel: this.t.remove,
      danger: true,
      run: (reason) => this.ctx.api.removeStaff(member.userId, reason),
    });
    if (!done) return;
    this.say(this.t.done_staff_remove);
    await this.load();
  }

  override render() {
    const t = this.t;
    const manage = this.ctx.can('staff:manage');
    const me = this.ctx.me?.userId;
    return this.frame(
      'staffTitle',
      html`${manage
          ? html`<section class="card" aria-labelledby="add-title">
              <h2 id="add-title">${t.addStaff}</h2>
              <p class="hint">${t.addStaffHint}</p>
              <form class="inline" @submit=${this.#add}>
                <div class="field"><label for="staff-username">${t.username}</label><input id="staff-username" name="username" required autocomplete="off" /></div>
                <div class="field"><label for="staff-role">${t.role}</label>
                  <select id="staff-role" name="role">${ROLES.map((r) => html`<option value=${r} ?selected=${r === 'support'}>${this.#role(r)}</option>`)}</select>
                </div>
                <div class="field"><button type="submit" class="primary">${t.add}</button></div>
              </form>
              ${this.enrollUrl
                ? html`<div class="notice" role="status">
                    <p>${t.enrollLink}</p>
                    <div class="secret"><code data-testid="enroll-url">${this.enrollUrl}</code>
                      <button type="button" class="small" @click=${async () => (await copy(this.enrollUrl)) && this.say(t.copied)}>${t.copy}</button>
                    </div>
                  </div>`
                : nothing}
            </section>`
          : nothing}
        <section class="card" aria-labelledby="list-title">
          <h2 id="list-title">${t.staffTitle} (${this.staff?.length ?? 0})</h2>
          <div class="table-wrap"><table>
            <thead><tr><th scope="col">${t.username}</th><th scope="col">${t.role}</th><th scope="col">${t.created}</th><th scope="col">${t.addedBy}</th>${manage ? html`<th scope="col"><span class="visually-hidden">${t.actions}</span></th>` : nothing}</tr></thead>
            <tbody>
              ${(this.staff ?? []).map(
                (m) => html`<tr>
                  <td>${m.displayName || m.username}${m.userId === me ? html` <span class="badge">${t.you}</span>` : nothing}<br /><span class="muted">${m.username}</span></td>
                  <td>${manage
                    ? html`<select aria-label=${this.f('changeRoleLabel', { name: m.username })} @change=${(e: Event) => this.#changeRole(m, e.target as HTMLSelectElement)}>
                        ${ROLES.map((r) => html`<option value=${r} ?selected=${r === m.role}>${this.#role(r)}</option>`)}
                      </select>`
                    : this.#role(m.role)}</td>
                  <td>${this.ctx.tr.dateTime(m.createdAt)}</td>
                  <td>${this.#creator(m)}</td>
                  ${manage
                    ? html`<td><button type="button" class="danger small" aria-label=${this.f('removeLabel', { name: m.username })} @click=${() => this.#remove(m)}>${t.remove}</button></td>`
                    : nothing}
                </tr>`,
              )}
            </tbody>
          </table></div>
        </section>`,
    );
  }
}

/** API keys: list, create with scope checkboxes (the secret shown once, with a copy button), revoke. */
export class ApiKeysPage extends AdminPage {
  static override properties = {
    ...AdminPage.properties,
    keys: { state: true },
    secret: { state: true },
  };
  declare keys: ApiKey[] | null;
  declare secret: string;

  constructor() {
    super();
    this.keys = null;
    this.secret = '';
  }

  override pageTitle(): string {
    return this.t.apiKeysTitle;
  }

  override connectedCallback(): void {
    super.connectedCallback();
    void this.load();
  }

  async load(): Promise<void> {
    try {
      this.keys = (await this.ctx.api.apiKeys()).apiKeys;
    } catch (error) {
      this.error = this.describe(error);
    }
  }

  async #create(event: SubmitEvent): Promise<void> {
    event.preventDefault();
    const form = event.target as HTMLFormElement;
    const data = new FormData(form);
    const name = String(data.get('name') ?? '').trim();
    const scopes = data.getAll('scope').map(String);
    if (!name) return;
    if (scopes.length === 0) {
      this.error = this.t.pickScope;
      return;
    }
    const created = await this.dialog.open({
      title: this.f('confirm_key_create', { name }),
      confirmLabel: this.t.createKey,
      run: (reason) => this.ctx.api.createApiKey(name, scopes, reason),
    });
    if (!created) return;
    form.reset();
    this.secret = created.secret;
    this.error = '';
    await this.load();
    await this.updateComplete;
    this.renderRoot.querySelector<HTMLElement>('#secret-title')?.focus();
  }

  async #revoke(key: ApiKey): Promise<void> {
    const done = await this.dialog.open({
      title: this.f('confirm_key_revoke', { name: key.name }),
      text: this.t.confirm_key_revoke_text,
      confirmLabel: this.t.revokeKey,
      danger: true,
      run: (reason) => this.ctx.api.revokeApiKey(key.id, reason),
    });
    if (!done) return;
    this.say(this.t.done_key_revoke);
    await this.load();
  }

  override render() {
    const t = this.t;
    // A key can grant only scopes its creator holds: the staff member's own.
    const scopes = (this.ctx.me?.scopes ?? []).filter((s) => s !== 'console:access');
    return this.frame(
      'apiKeysTitle',
      html`${this.secret
          ? html`<section class="card" aria-labelledby="secret-title">
              <h2 id="secret-title" tabindex="-1">${t.secretTitle}</h2>
              <p>${t.secretIntro}</p>
              <div class="secret"><code data-testid="api-key-secret">${this.secret}</code>
                <button type="button" class="small" @click=${async () => (await copy(this.secret)) && this.say(t.copied)}>${t.copy}</button>
                <button type="button" class="small" @click=${() => {
                  this.secret = '';
                }}>${t.close}</button>
              </div>
            </section>`
          : nothing}
        <section class="card" aria-labelledby="create-title">
          <h2 id="create-title">${t.createKey}</h2>
          <form @submit=${this.#create}>
            <div class="field"><label for="key-name">${t.keyName}</label><input id="key-name" name="name" required maxlength="200" autocomplete="off" /></div>
            <fieldset>
              <legend>${t.scopes}</legend>
              <div class="scopes">
                ${scopes.map((s) => html`<label><input type="checkbox" name="scope" value=${s} /> <span class="mono">${s}</span></label>`)}
              </div>
            </fieldset>
            <button type="submit" class="primary">${t.createKey}</button>
          </form>
        </section>
        <section class="card" aria-labelledby="keys-title">
          <h2 id="keys-title">${t.apiKeysTitle} (${this.keys?.length ?? 0})</h2>
          ${this.keys && this.keys.length === 0
            ? html`<p class="muted">${t.noKeys}</p>`
            : html`<div class="table-wrap"><table>
                <thead><tr><th scope="col">${t.keyName}</th><th scope="col">${t.prefix}</th><th scope="col">${t.scopes}</th><th scope="col">${t.created}</th><th scope="col">${t.lastUsed}</th><th scope="col">${t.status}</th><th scope="col"><span class="visually-hidden">${t.actions}</span></th></tr></thead>
                <tbody>
                  ${(this.keys ?? []).map(
                    (k) => html`<tr>
                      <td>${k.name}</td>
                      <td class="mono">${k.prefix}</td>
                      <td class="mono">${k.scopes.join(', ')}</td>
                      <td>${this.ctx.tr.dateTime(k.createdAt)}</td>
                      <td>${this.ctx.tr.dateTime(k.lastUsedAt)}</td>
                      <td><span class=${k.revokedAt ? 'badge bad' : 'badge ok'}>${k.revokedAt ? t.revoked : t.active}</span></td>
                      <td>${k.revokedAt
                        ? nothing
                        : html`<button type="button" class="danger small" aria-label=${this.f('revokeKeyLabel', { name: k.name })} @click=${() => this.#revoke(k)}>${t.revokeKey}</button>`}</td>
                    </tr>`,
                  )}
                </tbody>
              </table></div>`}
        </section>`,
    );
  }
}

/** The effective configuration (secrets masked by the server), as a nested list of sections. */
export class SettingsPage extends AdminPage {
  static override properties = {
    ...AdminPage.properties,
    settings: { state: true },
  };
  declare settings: Record<string, unknown> | null;

  constructor() {
    super();
    this.settings = null;
  }

  override pageTitle(): string {
    return this.t.settingsTitle;
  }

  override connectedCallback(): void {
    super.connectedCallback();
    void this.ctx.api
      .settings()
      .then((s) => {
        this.settings = s;
      })
      .catch((error: unknown) => {
        this.error = this.describe(error);
      });
  }

  #value(value: unknown): TemplateResult | string {
    if (value === null || value === undefined) return '—';
    if (Array.isArray(value)) return value.length === 0 ? '[]' : value.map((v) => (typeof v === 'object' ? JSON.stringify(v) : String(v))).join(', ');
    if (typeof value === 'object') return html`<pre>${JSON.stringify(value, null, 2)}</pre>`;
    return String(value);
  }

  override render() {
    const t = this.t;
    const settings = this.settings;
    const sections = settings ? Object.entries((settings.config as Record<string, unknown> | undefined) ?? settings) : [];
    return this.frame(
      'settingsTitle',
      html`<p>${t.settingsIntro}</p>
        ${settings === null && !this.error ? html`<p class="muted">${t.loading}</p>` : nothing}
        <div class="settings">
        ${sections.map(([name, section]) =>
          section && typeof section === 'object' && !Array.isArray(section)
            ? html`<section class="card" aria-labelledby=${`s-${name}`}>
                <h2 id=${`s-${name}`} class="mono">${name}</h2>
                ${Object.keys(section).length === 0
                  ? html`<p class="muted">—</p>`
                  : html`<dl class="facts">
                      ${Object.entries(section as Record<string, unknown>).map(([key, value]) => html`<dt class="mono">${key}</dt><dd class="mono">${this.#value(value)}</dd>`)}
                    </dl>`}
              </section>`
            : html`<section class="card" aria-labelledby=${`s-${name}`}><h2 id=${`s-${name}`} class="mono">${name}</h2><p class="mono">${this.#value(section)}</p></section>`,
        )}
        </div>`,
    );
  }
}
