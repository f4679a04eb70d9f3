/** An RFC 9457 problem document as Latchkey sends it. */
export interface Problem {
  type?: string;
  title?: string;
  status?: number;
  detail?: string;
  code?: string;
  [key: string]: unknown;
}

/**
 * A non-2xx answer of the management API, with its stable `code` (`insufficient_scope`,
 * `username_taken`, `not_found`, …) and the whole problem document.
 */
export class LatchkeyApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly problem: Problem;
  constructor(status: number, problem: Problem) {
    super(problem.detail || problem.title || `The server answered ${status}`);
    this.name = 'LatchkeyApiError';
    this.status = status;
    this.code = problem.code ?? `http_${status}`;
    this.problem = problem;
  }
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

export interface ManagedPasskey {
  id: string;
  name: string;
  aaguid: string;
  provider: string;
  deviceType: 'singleDevice' | 'multiDevice';
  backedUp: boolean;
  transports: string[];
  createdAt: string;
  lastUsedAt: string | null;
  [key: string]: unknown;
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

export interface AuditEvent {
  id: string;
  at: string;
  type: string;
  outcome: 'success' | 'failure';
  actor: { kind: string | null; id: string | null };
  credentialId: string | null;
  sessionId: string | null;
  errorCode: string | null;
  requestId: string | null;
  ip: string | null;
  os: string | null;
  browser: string | null;
  data: Record<string, unknown> | null;
}

export interface Page<T> {
  items: T[];
  /** Pass back as `cursor` for the next page; null on the last one. */
  nextCursor: string | null;
}

export interface AppendToken {
  /** `lk_append_…`: hand it to `<latchkey-passkey-append append-token>` or the SDK's `addPasskey({ appendToken })`. */
  token: string;
  expiresAt: string;
  user: ManagedUser;
  /** Whether this call created the user (by `externalId`). */
  userCreated: boolean;
}

export type AppendTokenRequest = { userId: string } | { externalId: string; username?: string; displayName?: string };

export interface ManagementClientOptions {
  /** The Latchkey server, e.g. `https://auth.example.com` (the client adds `/api/admin/v1`). */
  baseUrl: string;
  /** An API key (`lk_live_…`) with the scopes of the calls you make. Keep it on the server. */
  apiKey: string;
  fetch?: typeof fetch;
}

/**
 * Every management operation the client calls, as the server's OpenAPI document names it
 * (method, path template, operationId): a test checks each against `/openapi.json`.
 */
export const MANAGEMENT_OPERATIONS = {
  createUser: ['POST', '/api/admin/v1/users'],
  listUsers: ['GET', '/api/admin/v1/users'],
  getUser: ['GET', '/api/admin/v1/users/{id}'],
  lookUpUser: ['POST', '/api/admin/v1/users/lookup'],
  updateUser: ['PATCH', '/api/admin/v1/users/{id}'],
  disableUser: ['POST', '/api/admin/v1/users/{id}/disable'],
  enableUser: ['POST', '/api/admin/v1/users/{id}/enable'],
  deleteUser: ['DELETE', '/api/admin/v1/users/{id}'],
  listUserPasskeys: ['GET', '/api/admin/v1/users/{id}/passkeys'],
  deleteUserPasskey: ['DELETE', '/api/admin/v1/users/{id}/passkeys/{credentialId}'],
  listUserSessions: ['GET', '/api/admin/v1/users/{id}/sessions'],
  revokeUserSession: ['DELETE', '/api/admin/v1/users/{id}/sessions/{sessionId}'],
  revokeUserSessions: ['DELETE', '/api/admin/v1/users/{id}/sessions'],
  listUserAuditEvents: ['GET', '/api/admin/v1/users/{id}/audit-events'],
  createAppendToken: ['POST', '/api/admin/v1/append-tokens'],
} as const satisfies Record<string, readonly ['GET' | 'POST' | 'PATCH' | 'DELETE', string]>;

export type ManagementOperation = keyof typeof MANAGEMENT_OPERATIONS;

type Params = Record<string, string>;
type Query = Record<string, string | number | undefined>;

/**
 * A typed client of Latchkey's management API (`/api/admin/v1`), for your backend. Every failure
 * is a `LatchkeyApiError`.
 *
 * @example
 * import { createManagementClient } from '@latchkey/node';
 * const latchkey = createManagementClient({ baseUrl: 'https://auth.example.com', apiKey: process.env.LATCHKEY_API_KEY! });
 * const { token } = await latchkey.appendTokens.create({ externalId: String(shopUser.id) });
 */
export function createManagementClient(options: ManagementClientOptions) {
  const base = options.baseUrl.replace(/\/+$/, '');
  const doFetch = options.fetch ?? globalThis.fetch;
  if (!options.apiKey) throw new TypeError('apiKey is required');
  const authorization = `Bearer ${options.apiKey}`;

  async function call<T>(operation: ManagementOperation, input: { params?: Params; query?: Query; body?: unknown } = {}): Promise<T> {
    const [method, template] = MANAGEMENT_OPERATIONS[operation];
    const path = template.replace(/\{(\w+)\}/g, (_, name: string) => {
      const value = input.params?.[name];
      if (value === undefined) throw new TypeError(`${operation}: ${name} is required`);
      return encodeURIComponent(value);
    });
    const search = new URLSearchParams();
    for (const [key, value] of Object.entries(input.query ?? {})) if (value !== undefined) search.set(key, String(value));
    const url = `${base}${path}${search.size > 0 ? `?${search}` : ''}`;
    const headers: Record<string, string> = { authorization, accept: 'application/json' };
    if (input.body !== undefined) headers['content-type'] = 'application/json';
    const response = await doFetch(url, { method, headers, ...(input.body !== undefined ? { body: JSON.stringify(input.body) } : {}) });
    const text = await response.text();
    let parsed: unknown;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      parsed = undefined;
    }
    if (!response.ok) throw new LatchkeyApiError(response.status, (parsed && typeof parsed === 'object' ? parsed : { title: text.slice(0, 200) }) as Problem);
    return parsed as T;
  }

  const byId = (id: string): Params => ({ id });

  return {
    users: {
      create: (input: { username: string; displayName?: string; email?: string; externalId?: string }) => call<ManagedUser>('createUser', { body: input }),
      get: (id: string) => call<ManagedUser>('getUser', { params: byId(id) }),
      // One lookup route, by POST: the person looked up never appears in a URL.
      getByExternalId: (externalId: string) => call<ManagedUser>('lookUpUser', { body: { externalId } }),
      getByUsername: (username: string) => call<ManagedUser>('lookUpUser', { body: { username } }),
      getByEmail: (email: string) => call<ManagedUser>('lookUpUser', { body: { email } }),
      /** One page, oldest first; `query` matches the start of the username or e-mail address. */
      async search(input: { query?: string; status?: 'active' | 'disabled'; cursor?: string; limit?: number } = {}): Promise<Page<ManagedUser>> {
        const answer = await call<{ users: ManagedUser[]; nextCursor: string | null }>('listUsers', { query: input });
        return { items: answer.users, nextCursor: answer.nextCursor };
      },
      update: (id: string, input: { displayName?: string; email?: string | null }) => call<ManagedUser>('updateUser', { params: byId(id), body: input }),
      disable: (id: string) => call<ManagedUser>('disableUser', { params: byId(id), body: {} }),
      enable: (id: string) => call<ManagedUser>('enableUser', { params: byId(id), body: {} }),
      delete: async (id: string): Promise<void> => {
        await call('deleteUser', { params: byId(id) });
      },
    },
    passkeys: {
      list: async (userId: string): Promise<ManagedPasskey[]> => (await call<{ passkeys: ManagedPasskey[] }>('listUserPasskeys', { params: byId(userId) })).passkeys,
      delete: async (userId: string, credentialId: string): Promise<void> => {
        await call('deleteUserPasskey', { params: { id: userId, credentialId } });
      },
    },
    sessions: {
      list: async (userId: string): Promise<ManagedSession[]> => (await call<{ sessions: ManagedSession[] }>('listUserSessions', { params: byId(userId) })).sessions,
      revoke: async (userId: string, sessionId: string): Promise<void> => {
        await call('revokeUserSession', { params: { id: userId, sessionId } });
      },
      /** Ends every session of the user; returns how many. */
      revokeAll: async (userId: string): Promise<number> => (await call<{ revoked: number }>('revokeUserSessions', { params: byId(userId) })).revoked,
    },
    auditEvents: {
      /** Newest first, a page at a time; `types` like `['passkey.authenticated']`, `from`/`to` ISO dates. */
      async list(
        userId: string,
        input: { types?: string[]; outcome?: 'success' | 'failure'; from?: string; to?: string; cursor?: string; limit?: number } = {},
      ): Promise<Page<AuditEvent>> {
        const { types, ...rest } = input;
        const answer = await call<{ events: AuditEvent[]; nextCursor: string | null }>('listUserAuditEvents', {
          params: byId(userId),
          query: { ...rest, ...(types && types.length > 0 ? { type: types.join(',') } : {}) },
        });
        return { items: answer.events, nextCursor: answer.nextCursor };
      },
    },
    appendTokens: {
      /**
       * A one-time token that lets the user add a passkey without a Latchkey sign-in (scope
       * `append_tokens:issue`). By `externalId`, a user Latchkey does not know yet is created.
       */
      create: (input: AppendTokenRequest) => call<AppendToken>('createAppendToken', { body: input }),
    },
  };
}

export type ManagementClient = ReturnType<typeof createManagementClient>;
