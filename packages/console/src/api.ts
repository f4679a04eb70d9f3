import { LatchkeyClient, LatchkeyError, type Passkey, type Problem } from '@latchkey/sdk';

/** Management API prefix (packages/server/src/modules/management/management.routes.ts). */
export const ADMIN_PREFIX = '/api/admin/v1';

export type Role = 'admin' | 'support' | 'auditor';

/** `GET /me` (CONSOLE-CONTRACT.md, staff). */
export interface Me {
  userId: string;
  username: string;
  displayName: string;
  role: Role;
  scopes: string[];
  stepUpValidUntil: string | null;
}

export interface SearchHit {
  id: string;
  username: string;
  displayName: string;
  email: string | null;
  externalId: string | null;
  status: 'active' | 'disabled';
  passkeyCount: number;
  match: 'id' | 'credential' | 'email' | 'external_id' | 'prefix' | 'fuzzy';
}

export interface ManagedUser {
  id: string;
  username: string;
  displayName: string;
  email: string | null;
  externalId: string | null;
  status: 'active' | 'disabled';
  createdAt: string;
}

export interface ConsolePasskey extends Passkey {
  /** BE flag. */
  backupEligible?: boolean;
  /** BS flag at its last use. */
  synced?: boolean;
}

export interface ManagedSession {
  id: string;
  amr: string[];
  createdAt: string;
  lastSeenAt: string;
  expiresAt: string;
  ip: string | null;
  os: string | null;
  browser: string | null;
}

export interface Lockout {
  factor: 'password' | 'totp' | 'recovery_code' | 'email_code';
  failures: number;
  locked: boolean;
  lastFailureAt: string;
  delayedUntil: string | null;
}

/** The user page's data: the overview endpoint, or the same put together from the older routes. */
export interface UserOverview {
  user: ManagedUser;
  emailVerified: boolean | null;
  recoveryCodesRemaining: number | null;
  fallbacks: string[] | null;
  lockouts: Lockout[] | null;
  passkeys: ConsolePasskey[];
  sessions: ManagedSession[];
}

export interface Explanation {
  meaning: string;
  tellUser: string;
  severity: 'info' | 'warning' | 'danger';
}

export interface TimelineItem {
  id: string;
  at: string;
  type: string;
  outcome: 'success' | 'failure' | 'info';
  title: string;
  device: { browser: string | null; os: string | null; platform?: string | null } | null;
  ip: string | null;
  code?: string | null;
  reason?: string | null;
  explanation?: Explanation | null;
}

export interface AuditEvent {
  id: string;
  at: string;
  type: string;
  outcome: string;
  actor?: { kind: string | null; id: string | null };
  actorKind?: string | null;
  actorId?: string | null;
  userId?: string | null;
  subjectUserId?: string | null;
  errorCode?: string | null;
  reason?: string | null;
  ip?: string | null;
  data?: Record<string, unknown> | null;
}

export interface ChainVerdict {
  ok: boolean;
  checkedEvents: number;
  firstBad?: { seq: number | null; eventId: string | null; tampering: string; detail: string } | null;
  lastCheckpoint?: unknown;
}

export interface StaffMember {
  userId: string;
  username: string;
  displayName: string;
  role: Role;
  createdAt: string;
  createdBy: { kind: string; id: string | null };
}

export interface ApiKey {
  id: string;
  name: string;
  prefix: string;
  scopes: string[];
  createdAt: string;
  expiresAt: string | null;
  lastUsedAt: string | null;
  revokedAt: string | null;
}

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

interface RequestOptions {
  query?: Record<string, string | number | undefined>;
  body?: unknown;
  /** The written reason of a staff action: in the body, or for a DELETE in `Latchkey-Reason`. */
  reason?: string;
  signal?: AbortSignal;
  /** Leave the body unread (downloads). */
  raw?: boolean;
}

/**
 * The console's client of the management API under `/api/admin/v1`, signed in by the session
 * cookie (same origin). The public API (session, sign-in, step-up, enrolment) goes through the
 * SDK's `LatchkeyClient`, which `session` holds.
 */
export class AdminApi {
  readonly session: LatchkeyClient;
  readonly #fetch: typeof fetch;
  /** Sent as Accept-Language, so explanations come in the console's language. */
  lang = 'en';

  constructor(options: { fetch?: typeof fetch; session?: LatchkeyClient } = {}) {
    this.#fetch = options.fetch ?? ((input, init) => fetch(input, init));
    this.session = options.session ?? new LatchkeyClient();
  }

  /** One call; a non-2xx answer becomes the SDK's `LatchkeyError` (status, stable code, problem). */
  async request<T>(method: string, path: string, options: RequestOptions = {}): Promise<{ body: T; response: Response }> {
    const headers: Record<string, string> = { accept: 'application/json, application/problem+json', 'accept-language': this.lang };
    let body = options.body;
    if (options.reason !== undefined) {
      if (method === 'DELETE') headers['latchkey-reason'] = encodeURIComponent(options.reason);
      else body = { ...(body as Record<string, unknown> | undefined), reason: options.reason };
    }
    // Cookie requests that change state say application/json (the server's CSRF rule).
    if (method !== 'GET') headers['content-type'] = 'application/json';
    const url = new URL(`${ADMIN_PREFIX}${path}`, location.origin);
    for (const [key, value] of Object.entries(options.query ?? {})) if (value !== undefined && value !== '') url.searchParams.set(key, String(value));
    const response = await this.#fetch(url, {
      method,
      headers,
      credentials: 'same-origin',
      ...(body !== undefined ? { body: JSON.stringify(body) } : method !== 'GET' ? { body: '{}' } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
    });
    if (!response.ok) {
      let problem: Problem = {};
      try {
        problem = (await response.json()) as Problem;
      } catch {
        // not JSON: the status says enough
      }
      throw new LatchkeyError(response.status, problem);
    }
    if (response.status === 204 || options.raw) return { body: undefined as T, response };
    const type = response.headers.get('content-type') ?? '';
    return { body: (type.includes('json') ? await response.json() : await response.text()) as T, response };
  }

  async get<T>(path: string, query?: RequestOptions['query'], signal?: AbortSignal): Promise<T> {
    return (await this.request<T>('GET', path, { ...(query ? { query } : {}), ...(signal ? { signal } : {}) })).body;
  }

  /**
   * A staff action: run it, and when the server answers 403 `step_up_required`, confirm with the
   * staff member's passkey (the public step-up ceremony) and run it once more.
   */
  async withStepUp<T>(operation: () => Promise<T>): Promise<T> {
    return this.session.withStepUp(operation);
  }

  me(): Promise<Me> {
    return this.get<Me>('/me');
  }

  search(q: string, signal: AbortSignal): Promise<{ items: SearchHit[] }> {
    return this.get('/users/search', { q, limit: 20 }, signal);
  }

  /** `GET /users/:id/overview` when the server has it, else the user, passkeys and sessions routes. */
  async overview(id: string): Promise<UserOverview> {
    const path = `/users/${encodeURIComponent(id)}`;
    try {
      const o = await this.get<Partial<UserOverview> & { user?: ManagedUser } & Record<string, unknown>>(`${path}/overview`);
      if (o.user) return normaliseOverview(o as Record<string, unknown> & { user: ManagedUser });
    } catch (error) {
      if (!(error instanceof LatchkeyError && error.status === 404 && error.code !== 'user_not_found')) throw error;
    }
    const [user, passkeys, sessions] = await Promise.all([
      this.get<ManagedUser>(path),
      this.get<{ passkeys: ConsolePasskey[] }>(`${path}/passkeys`),
      this.get<{ sessions: ManagedSession[] }>(`${path}/sessions`),
    ]);
    return { user, emailVerified: user.email ? true : null, recoveryCodesRemaining: null, fallbacks: null, lockouts: null, passkeys: passkeys.passkeys, sessions: sessions.sessions };
  }

  timeline(id: string, cursor?: string): Promise<Page<TimelineItem>> {
    return this.get(`/users/${encodeURIComponent(id)}/timeline`, { cursor, limit: 25, lang: this.lang });
  }

  auditEvents(filters: Record<string, string>, cursor?: string): Promise<Page<AuditEvent>> {
    return this.get('/audit/events', { ...filters, cursor, limit: 50 });
  }

  auditVerification(): Promise<ChainVerdict> {
    return this.get('/audit/verification');
  }

  /** The export as a file: the body, and the name the server suggests. */
  async auditExport(format: 'csv' | 'ndjson', filters: Record<string, string>): Promise<{ blob: Blob; name: string }> {
    const { response } = await this.request<unknown>('GET', '/audit/export', { query: { ...filters, format }, raw: true });
    const disposition = response.headers.get('content-disposition') ?? '';
    const name = /filename="?([^";]+)"?/.exec(disposition)?.[1] ?? `audit.${format}`;
    return { blob: await response.blob(), name };
  }

  // Staff actions (each with a reason; the caller wraps them in withStepUp).
  userAction(id: string, action: 'disable' | 'enable', reason: string): Promise<unknown> {
    return this.request('POST', `/users/${encodeURIComponent(id)}/${action}`, { reason }).then((r) => r.body);
  }
  revokeSession(id: string, sessionId: string, reason: string): Promise<unknown> {
    return this.request('DELETE', `/users/${encodeURIComponent(id)}/sessions/${encodeURIComponent(sessionId)}`, { reason });
  }
  async revokeAllSessions(id: string, reason: string): Promise<number> {
    return (await this.request<{ revoked: number }>('DELETE', `/users/${encodeURIComponent(id)}/sessions`, { reason })).body.revoked;
  }
  deletePasskey(id: string, credentialId: string, reason: string): Promise<unknown> {
    return this.request('DELETE', `/users/${encodeURIComponent(id)}/passkeys/${encodeURIComponent(credentialId)}`, { reason });
  }
  async liftLockout(id: string, reason: string): Promise<unknown> {
    return (await this.request('POST', `/users/${encodeURIComponent(id)}/lockouts/lift`, { reason })).body;
  }
  async startRecovery(id: string, method: 'email' | 'code', reason: string): Promise<{ method: string; expiresAt: string; code?: string }> {
    return (await this.request<{ method: string; expiresAt: string; code?: string }>('POST', `/users/${encodeURIComponent(id)}/recovery`, { body: { method }, reason })).body;
  }

  staff(): Promise<{ items: StaffMember[] }> {
    return this.get('/staff');
  }
  async addStaff(username: string, role: Role, reason: string): Promise<{ member: StaffMember; userCreated: boolean; enrollUrl?: string }> {
    return (await this.request<{ member: StaffMember; userCreated: boolean; enrollUrl?: string }>('POST', '/staff', { body: { username, role }, reason })).body;
  }
  async changeRole(userId: string, role: Role, reason: string): Promise<unknown> {
    return (await this.request('PATCH', `/staff/${encodeURIComponent(userId)}`, { body: { role }, reason })).body;
  }
  removeStaff(userId: string, reason: string): Promise<unknown> {
    return this.request('DELETE', `/staff/${encodeURIComponent(userId)}`, { reason });
  }

  apiKeys(): Promise<{ apiKeys: ApiKey[] }> {
    return this.get('/api-keys');
  }
  async createApiKey(name: string, scopes: string[], reason: string): Promise<{ apiKey: ApiKey; secret: string }> {
    return (await this.request<{ apiKey: ApiKey; secret: string }>('POST', '/api-keys', { body: { name, scopes }, reason })).body;
  }
  revokeApiKey(id: string, reason: string): Promise<unknown> {
    return this.request('DELETE', `/api-keys/${encodeURIComponent(id)}`, { reason });
  }

  webhookEndpoints(): Promise<{ endpoints: WebhookEndpoint[] }> {
    return this.get('/webhook-endpoints');
  }
  webhookDeliveries(id: string): Promise<{ deliveries: WebhookDelivery[] }> {
    return this.get(`/webhook-endpoints/${encodeURIComponent(id)}/deliveries`, { limit: 20 });
  }
  deleteWebhookEndpoint(id: string, reason: string): Promise<unknown> {
    return this.request('DELETE', `/webhook-endpoints/${encodeURIComponent(id)}`, { reason });
  }
  webhookEventTypes(): Promise<{ eventTypes: { type: string; description?: string }[] }> {
    return this.get('/webhook-event-types');
  }
  /** Create (no id) or change an endpoint; a new endpoint's answer carries its secret, once. */
  async saveWebhookEndpoint(id: string | null, body: Partial<Pick<WebhookEndpoint, 'url' | 'eventTypes' | 'description' | 'enabled' | 'signinFailed' | 'signinSucceeded'>>, reason: string): Promise<{ secret?: string } & Record<string, unknown>> {
    const path = id ? `/webhook-endpoints/${encodeURIComponent(id)}` : '/webhook-endpoints';
    return (await this.request<{ secret?: string } & Record<string, unknown>>(id ? 'PATCH' : 'POST', path, { body, reason })).body;
  }
  async rotateWebhookSecret(id: string, reason: string): Promise<{ secret: string }> {
    return (await this.request<{ secret: string }>('POST', `/webhook-endpoints/${encodeURIComponent(id)}/rotate-secret`, { reason })).body;
  }
  webhookDelivery(id: string, deliveryId: string): Promise<WebhookDelivery & { attemptLog: WebhookAttempt[] }> {
    return this.get(`/webhook-endpoints/${encodeURIComponent(id)}/deliveries/${encodeURIComponent(deliveryId)}`);
  }
  async webhookAction(path: string): Promise<unknown> {
    return (await this.request('POST', path)).body;
  }

  analytics<T>(what: 'kpis' | 'funnels' | 'savings', query: Record<string, string | undefined>): Promise<T> {
    return this.get(`/analytics/${what}`, query);
  }

  rolloutRules(): Promise<{ rules: RolloutRule[] }> {
    return this.get('/rollout-rules');
  }
  async previewRollout(feature: string, rule: Partial<RolloutRule>): Promise<RolloutPreview> {
    return (await this.request<RolloutPreview>('POST', `/rollout-rules/${feature}/preview`, { body: rule })).body;
  }
  async patchRollout(feature: string, rule: Partial<RolloutRule>, reason: string): Promise<RolloutRule> {
    return (await this.request<RolloutRule>('PATCH', `/rollout-rules/${feature}`, { body: rule, reason })).body;
  }

  experiments(): Promise<{ experiments: Experiment[] }> {
    return this.get('/experiments');
  }
  experiment(key: string): Promise<{ experiment: Experiment; result: ExperimentResult }> {
    return this.get(`/experiments/${encodeURIComponent(key)}`);
  }
  /** `create` (body: the experiment), `start`, or `stop` (body: `{ winner }`). */
  async experimentAction(action: 'create' | 'start' | 'stop', key: string, body?: unknown): Promise<unknown> {
    return (await this.request('POST', action === 'create' ? '/experiments' : `/experiments/${encodeURIComponent(key)}/${action}`, body === undefined ? {} : { body })).body;
  }

  settings(): Promise<Record<string, unknown>> {
    return this.get('/settings');
  }
}

/** Tolerates the overview's optional parts being absent or shaped a little differently. */
function normaliseOverview(o: Record<string, unknown> & { user: ManagedUser }): UserOverview {
  const pick = <T>(...keys: string[]): T | null => {
    for (const key of keys) if (o[key] !== undefined) return o[key] as T;
    return null;
  };
  const fallbacks = pick<string[] | Record<string, boolean>>('fallbacks');
  return {
    user: o.user,
    emailVerified: pick<boolean>('emailVerified'),
    recoveryCodesRemaining: pick<number>('recoveryCodesRemaining', 'recoveryCodesLeft'),
    fallbacks: fallbacks === null ? null : Array.isArray(fallbacks) ? fallbacks : Object.keys(fallbacks).filter((k) => fallbacks[k]),
    lockouts: pick<Lockout[]>('lockouts'),
    passkeys: pick<ConsolePasskey[]>('passkeys') ?? [],
    sessions: pick<ManagedSession[]>('sessions') ?? [],
  };
}

export { LatchkeyError };

/** How an endpoint receives one outcome of sign-ins (the server's `signinFailed` / `signinSucceeded`). */
export type SigninDelivery = { mode: 'each' } | { mode: 'sampled'; rate: number } | { mode: 'summary' };

export interface WebhookEndpoint {
  id: string;
  url: string;
  description: string;
  eventTypes: string[];
  signinFailed: SigninDelivery;
  signinSucceeded: SigninDelivery;
  enabled: boolean;
  disabledReason: string | null;
  failingSince: string | null;
  createdAt: string;
}

export interface WebhookDelivery {
  id: string;
  eventType: string;
  status: 'pending' | 'delivered' | 'failed';
  attempts: number;
  lastAttemptAt: string | null;
  lastStatusCode: number | null;
  lastError: string | null;
  createdAt: string;
}

export interface WebhookAttempt {
  at: string;
  outcome: 'success' | 'failure';
  statusCode: number | null;
  latencyMs: number;
  error: string | null;
  responseExcerpt: string | null;
}

export interface RolloutRule {
  feature: string;
  percentage: number;
  bucketBy: 'user' | 'device';
  operatingSystems: string[];
  browsers: string[];
  platforms: string[];
  segments: string[];
  allow: string[];
  deny: string[];
  killSwitch: boolean;
  updatedAt: string | null;
  updatedBy: string | null;
}

export interface RolloutPreview {
  users: { total: number; reached: number; share: number; truncated: boolean };
  devices: { windowDays: number; total: number; reached: number; share: number };
}

export interface Experiment {
  key: string;
  feature: string;
  description: string;
  variants: { key: string; weight: number; description: string }[];
  metric: string;
  status: 'draft' | 'running' | 'stopped';
  winner: string | null;
  createdAt: string;
  baselineRate: number;
  minimumDetectableEffect: number;
}

export interface Interval {
  low: number;
  high: number;
}

export interface ExperimentResult {
  requiredPerArm: number;
  enoughData: boolean;
  arms: { variant: string; exposures: number; conversions: number; rate: number; interval: Interval; difference?: { value: number; interval: Interval; pValue: number }; verdict: string }[];
  recommendation: { variant: string; why: string } | null;
}
