import { credentialToJSON, parseCreationOptions, parseRequestOptions } from './webauthn-json.ts';

/** A Latchkey account (api-contract.md `User`). */
export interface User {
  id: string;
  username: string;
  displayName: string;
}

/** A registered passkey (api-contract.md `Passkey`). */
export interface Passkey {
  id: string;
  name: string;
  aaguid: string;
  provider: string;
  providerIcon?: { light: string | null; dark: string | null };
  deviceType: 'singleDevice' | 'multiDevice';
  backedUp: boolean;
  transports: string[];
  createdAt: string;
  lastUsedAt: string | null;
}

export interface PasskeyList {
  passkeys: Passkey[];
  rpId: string;
  /** The WebAuthn `user.id` (base64url), not the account id. */
  userHandle: string;
}

export interface Session {
  /**
   * Bearer token: only in the answer that issued the session or gave it a new one (a step-up), and
   * only to a bearer client (`auth: 'bearer'`, which binds its ceremonies by the `Latchkey-Ceremony`
   * header without cookies). A cookie client never sees it: the session stays in the HttpOnly cookie, out of every script's reach.
   */
  token?: string;
  expiresAt: string;
  amr: string[];
  [key: string]: unknown;
}

export interface SignedIn {
  user: User;
  passkey: Passkey;
  session?: Session;
}

/** An RFC 9457 problem document as Latchkey sends it. */
export interface Problem {
  type?: string;
  title?: string;
  status?: number;
  detail?: string;
  code?: string;
  [key: string]: unknown;
}

/** A non-2xx answer from the server, carrying its stable `code` (e.g. `username_taken`). */
export class LatchkeyError extends Error {
  readonly status: number;
  readonly code: string;
  readonly problem: Problem;
  /** Seconds to wait before trying again (the Retry-After header of a 429), when the server said. */
  readonly retryAfter: number | undefined;
  constructor(status: number, problem: Problem, retryAfter?: number) {
    super(problem.detail || problem.title || `The server answered ${status}`);
    this.name = 'LatchkeyError';
    this.status = status;
    this.code = problem.code ?? `http_${status}`;
    this.problem = problem;
    this.retryAfter = retryAfter;
  }
}

/** Options JSON plus the ceremony binding the server returned with it (`Latchkey-Ceremony`). */
export interface Ceremony<T> {
  options: T;
  binding: string | null;
}

/** The arm of one feature under test (`GET /api/v1/experiments/assignments`). */
export interface ExperimentAssignment {
  experiment: string;
  variant: string;
  /** The experiment stopped and rolled this variant out to everybody: show it, report nothing. */
  concluded: boolean;
}

/** One client-side ceremony outcome for `POST /api/v1/telemetry/ceremonies`. */
export interface CeremonyReport {
  /** `append`: a prompt to create a passkey offered to a signed-in user (the adoption-rate funnel). */
  ceremony: 'registration' | 'authentication' | 'append';
  mode: 'modal' | 'conditional';
  outcome: 'offered' | 'started' | 'completed' | 'cancelled' | 'timed_out' | 'error';
  errorName?: string;
  /** Id of this report, so a retried one is counted once; made by `reportCeremony` when absent. */
  reportId?: string;
  /** When it happened (ISO 8601); set by `reportCeremony` when absent. */
  occurredAt?: string;
  /** From `started` to this outcome. */
  durationMs?: number;
  conditionalGet?: boolean;
  conditionalCreate?: boolean;
  platformAuthenticator?: boolean;
  hybrid?: boolean;
  /** The random device id the elements keep (passkey intelligence); see `deviceId()` in the elements. */
  deviceId?: string;
  /** On `completed`: the passkey used or made (kept only if it is the signed-in user's). */
  credentialId?: string;
}

/** Why a part is or is not offered (README, "Passkey intelligence"). */
export type DecisionReason =
  | 'eligible'
  | 'kill_switch'
  | 'rollout_excluded'
  | 'no_webauthn'
  | 'no_platform_authenticator'
  | 'no_conditional_mediation'
  | 'no_passkeys'
  | 'passkeys_on_other_ecosystem_no_hybrid'
  | 'recent_failures_auto_heal'
  | 'declined_recently'
  | 'has_usable_passkey'
  | 'not_signed_in'
  | 'signed_in'
  | 'passkey_offered';

export interface Decision {
  offer: boolean;
  reason: DecisionReason;
}

/** `POST /api/v1/passkey-decisions`: what to offer on this device. */
export interface PasskeyDecisions {
  passkeyButton: Decision;
  autofill: Decision;
  appendPrompt: Decision & { variant: string };
  passkeyFirstSignUp: Decision;
  fallbackOnly: Decision;
}

export interface PasskeyDecisionsRequest {
  client: { webauthn: boolean; platformAuthenticator?: boolean; conditionalMediation?: boolean; hybridTransport?: boolean; capabilities?: Record<string, boolean> };
  deviceId?: string;
  /** Identifier-first: the username typed (ignored when signed in). */
  identifier?: string;
}

export interface LatchkeyClientOptions {
  /** Where the API lives, e.g. `https://auth.example.com`; same origin when empty. */
  baseUrl?: string;
  /**
   * `cookie` (default): the HttpOnly session cookie, sent with `credentials: 'include'`; the
   * server never puts the token in an answer.
   * `bearer`: keep the session token in memory only and send it as `Authorization: Bearer`
   * (for APIs on another site, where cookies are not sent). Never persisted. Signing in again
   * ends the session the client held; sign-up needs a signed-out client (409 `signed_in`).
   */
  auth?: 'cookie' | 'bearer';
  fetch?: typeof fetch;
}

type Json = Record<string, unknown>;

/**
 * Typed client of the Latchkey v1 HTTP API, for browsers and Node.
 *
 * @example
 * const latchkey = new LatchkeyClient({ baseUrl: 'https://auth.example.com' });
 * const { user } = await latchkey.signIn({ username: 'alice' });
 */
export class LatchkeyClient {
  readonly baseUrl: string;
  readonly auth: 'cookie' | 'bearer';
  #fetch: typeof fetch;
  #token: string | undefined;

  constructor(options: LatchkeyClientOptions = {}) {
    this.baseUrl = (options.baseUrl ?? '').replace(/\/+$/, '');
    this.auth = options.auth ?? 'cookie';
    this.#fetch = options.fetch ?? ((input, init) => fetch(input, init));
  }

  /** Whether a bearer token is held in memory (bearer mode only). */
  get hasToken(): boolean {
    return this.#token !== undefined;
  }

  async request<T>(method: string, path: string, body?: unknown, headers: Record<string, string> = {}, keepalive = false): Promise<{ body: T; headers: Headers }> {
    const all: Record<string, string> = { accept: 'application/json, application/problem+json', ...headers };
    // The contract asks cookie clients to say application/json on every state change (login CSRF).
    if (body !== undefined || method !== 'GET') all['content-type'] = 'application/json';
    if (this.#token) all.authorization = `Bearer ${this.#token}`;
    const response = await this.#fetch(`${this.baseUrl}/api/v1${path}`, {
      method,
      headers: all,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: this.auth === 'cookie' ? 'include' : 'omit',
      keepalive,
    });
    const text = response.status === 204 ? '' : await response.text();
    let parsed: unknown;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      parsed = undefined;
    }
    if (!response.ok) {
      const retryAfter = Number(response.headers.get('retry-after') ?? Number.NaN);
      throw new LatchkeyError(response.status, (parsed as Problem | undefined) ?? {}, Number.isFinite(retryAfter) ? retryAfter : undefined);
    }
    return { body: parsed as T, headers: response.headers };
  }

  #emailCodeBinding: string | null = null;

  /**
   * Bearer mode: the new session's token replaces the held one (whose session the server just
   * ended). Cookie mode: a token is never handed on, should a server send one.
   */
  #remember(answer: { session?: Session }): void {
    if (this.auth === 'bearer') {
      if (answer.session?.token) this.#token = answer.session.token;
    } else if (answer.session && 'token' in answer.session) {
      delete answer.session.token;
    }
  }

  /**
   * The current session, or `null` when signed out. Asks `GET /session/status`, which answers 200
   * either way, so a signed-out visit shows no failed request in the browser's console.
   */
  async getSession(): Promise<{ user: User; session: Session } | null> {
    const status = (await this.request<{ signedIn: boolean; user?: User; session?: Session }>('GET', '/session/status')).body;
    return status.signedIn && status.user && status.session ? { user: status.user, session: status.session } : null;
  }

  /**
   * Ends the session; already signed out counts as done. In a browser it then dispatches
   * `latchkey-signed-out` on `window`, which the elements on the page follow.
   */
  async signOut(): Promise<void> {
    try {
      await this.request('DELETE', '/session');
    } catch (error) {
      if (!(error instanceof LatchkeyError && error.status === 401)) throw error;
    } finally {
      this.#token = undefined;
    }
    if (typeof window !== 'undefined' && typeof CustomEvent === 'function') window.dispatchEvent(new CustomEvent('latchkey-signed-out', { detail: {} }));
  }

  async listPasskeys(): Promise<Passkey[]> {
    return (await this.getPasskeys()).passkeys;
  }

  /** The passkey list with the RP ID and user handle the WebAuthn Signal API needs. */
  async getPasskeys(): Promise<PasskeyList> {
    return (await this.request<PasskeyList>('GET', '/passkeys')).body;
  }

  async renamePasskey(id: string, name: string): Promise<Passkey> {
    return (await this.request<Passkey>('PATCH', `/passkeys/${encodeURIComponent(id)}`, { name })).body;
  }

  /**
   * Deletes a passkey. The server refuses the account's last one with 409 `last_passkey` unless
   * the account can sign in another way; `confirmLast` deletes it anyway.
   */
  async deletePasskey(id: string, options: { confirmLast?: boolean } = {}): Promise<void> {
    await this.request('DELETE', `/passkeys/${encodeURIComponent(id)}${options.confirmLast ? '?confirm=last' : ''}`);
  }

  /**
   * Re-authenticates the signed-in user with a user-verified passkey (SEC-31 step-up); the
   * session stays the same (with a new token, which bearer mode picks up) and counts as fresh for
   * sensitive operations for a few minutes. Also finishes a password sign-in waiting for its passkey.
   */
  async stepUp(input: { signal?: AbortSignal } = {}): Promise<void> {
    const answer = await this.request<Json>('POST', '/session/step-up/options', {});
    const binding = answer.headers.get('latchkey-ceremony');
    const credential = (await navigator.credentials.get({
      publicKey: parseRequestOptions(answer.body),
      ...(input.signal ? { signal: input.signal } : {}),
    })) as PublicKeyCredential | null;
    if (!credential) throw new DOMException('No passkey was chosen', 'NotAllowedError');
    const verified = await this.request<{ session?: Session }>('POST', '/session/step-up/verify', credentialToJSON(credential), binding ? { 'latchkey-ceremony': binding } : {});
    // A step-up is a re-authentication: the server issued the session a new token (SEC-24).
    this.#remember(verified.body);
  }

  /**
   * Runs a sensitive operation; when the server answers 403 `step_up_required`, asks for the
   * user's passkey once (`stepUp`) and runs the operation again.
   */
  async withStepUp<T>(operation: () => Promise<T>, input: { signal?: AbortSignal } = {}): Promise<T> {
    try {
      return await operation();
    } catch (error) {
      if (!(error instanceof LatchkeyError) || error.code !== 'step_up_required') throw error;
      await this.stepUp(input);
      return operation();
    }
  }

  async startRegistration(body: { username?: string; displayName?: string; appendToken?: string } = {}): Promise<Ceremony<Json>> {
    const answer = await this.request<Json>('POST', '/passkeys/registration/options', body);
    return { options: answer.body, binding: answer.headers.get('latchkey-ceremony') };
  }

  async finishRegistration(response: Json, binding: string | null): Promise<SignedIn> {
    const answer = (await this.request<SignedIn>('POST', '/passkeys/registration/verify', response, binding ? { 'latchkey-ceremony': binding } : {})).body;
    this.#remember(answer);
    return answer;
  }

  async startAuthentication(body: { username?: string } = {}): Promise<Ceremony<Json>> {
    const answer = await this.request<Json>('POST', '/passkeys/authentication/options', body);
    return { options: answer.body, binding: answer.headers.get('latchkey-ceremony') };
  }

  async finishAuthentication(response: Json, binding: string | null): Promise<SignedIn> {
    const answer = (await this.request<SignedIn>('POST', '/passkeys/authentication/verify', response, binding ? { 'latchkey-ceremony': binding } : {})).body;
    this.#remember(answer);
    return answer;
  }

  /** Sign-up of a new account with a passkey (browser). 409 `username_taken` for an existing name. */
  async signUp(input: { username: string; displayName?: string; signal?: AbortSignal }): Promise<SignedIn> {
    const { options, binding } = await this.startRegistration({ username: input.username, ...(input.displayName ? { displayName: input.displayName } : {}) });
    return this.finishRegistration(await create(options, input.signal), binding);
  }

  /**
   * Adds a passkey to the signed-in user (browser); `mediation: 'conditional'` for conditional create.
   *
   * With `appendToken` (an `lk_append_…` token your backend got from `POST /api/admin/v1/append-tokens`
   * after its own sign-in), adds the passkey to the token's user instead, without a Latchkey
   * session: the answer has `user` and `passkey` but no `session`. The token is single use.
   *
   * @example
   * const { user, passkey } = await latchkey.addPasskey({ appendToken: tokenFromYourBackend });
   */
  async addPasskey(input: { signal?: AbortSignal; mediation?: 'conditional'; appendToken?: string } = {}): Promise<SignedIn> {
    const { options, binding } = await this.startRegistration(input.appendToken ? { appendToken: input.appendToken } : {});
    return this.finishRegistration(await create(options, input.signal, input.mediation), binding);
  }

  /**
   * Sign-in with a passkey (browser): identifier-first with `username`, discoverable without;
   * `mediation: 'conditional'` waits for the user to pick a passkey from autofill.
   */
  async signIn(input: { username?: string; signal?: AbortSignal; mediation?: 'conditional' } = {}): Promise<SignedIn> {
    const { options, binding } = await this.startAuthentication(input.username ? { username: input.username } : {});
    const publicKey = parseRequestOptions(options);
    const credential = (await navigator.credentials.get({
      publicKey,
      ...(input.signal ? { signal: input.signal } : {}),
      ...(input.mediation ? { mediation: input.mediation } : {}),
    })) as PublicKeyCredential | null;
    if (!credential) throw new DOMException('No passkey was chosen', 'NotAllowedError');
    return this.finishAuthentication(credentialToJSON(credential), binding);
  }

  /**
   * Asks for a one-time sign-in code by e-mail. The answer is the same whether or not an account
   * has the address (no enumeration); the code is bound to this client, so `signInWithEmailCode`
   * must come from the same browser (cookie) or the same client object (header).
   */
  async requestEmailCode(email: string): Promise<{ expiresAt: string }> {
    const answer = await this.request<{ expiresAt: string }>('POST', '/email-code/sign-in', { email });
    this.#emailCodeBinding = answer.headers.get('latchkey-ceremony');
    return answer.body;
  }

  /** Signs in with the e-mailed code: a low-assurance session (amr ["otp"], AAL1). */
  async signInWithEmailCode(code: string): Promise<{ user: User; session: Session }> {
    const binding = this.#emailCodeBinding;
    const answer = (await this.request<{ user: User; session: Session }>('POST', '/email-code/sign-in/verify', { code }, binding ? { 'latchkey-ceremony': binding } : {})).body;
    this.#remember(answer);
    return answer;
  }

  /**
   * Makes 10 new recovery codes (the old ones stop working) and returns them: show them once.
   * Needs a recent step-up; wrap in `withStepUp`.
   */
  async generateRecoveryCodes(): Promise<string[]> {
    return (await this.request<{ codes: string[] }>('POST', '/account/recovery-codes', {})).body.codes;
  }

  /** The account: verified e-mail, number of passkeys and of unused recovery codes. */
  async getAccount(): Promise<{ user: User; email: string | null; passkeys: number; recoveryCodesRemaining: number }> {
    return (await this.request<{ user: User; email: string | null; passkeys: number; recoveryCodesRemaining: number }>('GET', '/account')).body;
  }

  /**
   * Sets or changes the account's address: mails a code to it (the address changes once
   * `confirmEmail` gets the code). Needs a recent step-up; wrap in `withStepUp`.
   */
  async setEmail(email: string): Promise<{ expiresAt: string }> {
    const answer = await this.request<{ expiresAt: string }>('PUT', '/account/email', { email });
    this.#emailCodeBinding = answer.headers.get('latchkey-ceremony');
    return answer.body;
  }

  /** Confirms the address `setEmail` sent a code to; it is then the account's verified address. */
  async confirmEmail(code: string): Promise<{ email: string }> {
    const binding = this.#emailCodeBinding;
    return (await this.request<{ email: string }>('POST', '/account/email/verify', { code }, binding ? { 'latchkey-ceremony': binding } : {})).body;
  }

  /** Lost every passkey: mails a code to the account's address (same answer for unknown addresses). */
  async startRecovery(email: string): Promise<{ expiresAt: string }> {
    const answer = await this.request<{ expiresAt: string }>('POST', '/recovery/start', { email });
    this.#emailCodeBinding = answer.headers.get('latchkey-ceremony');
    return answer.body;
  }

  /**
   * The e-mailed code plus one recovery code: a restricted session (`scope: 'recovery'`) that can
   * only register a new passkey (`addPasskey`); doing so ends the recovery and signs out every other session.
   */
  async recover(code: string, recoveryCode: string): Promise<{ user: User; session: Session; recoveryCodesRemaining: number }> {
    const binding = this.#emailCodeBinding;
    const answer = (
      await this.request<{ user: User; session: Session; recoveryCodesRemaining: number }>('POST', '/recovery/verify', { code, recoveryCode }, binding ? { 'latchkey-ceremony': binding } : {})
    ).body;
    this.#remember(answer);
    return answer;
  }

  /**
   * Redeems a recovery that support started: the code an agent read out (XXXX-XXXX-XXXX) or the
   * `support-code` of the mailed link (`#support-code=…` in the page's URL). Opens the same restricted
   * session as `recover` (`scope: 'recovery'`): register a passkey next with `addPasskey`.
   */
  async recoverWithSupportCode(code: string): Promise<{ user: User; session: Session }> {
    const answer = (await this.request<{ user: User; session: Session }>('POST', '/recovery/support', { code })).body;
    this.#remember(answer);
    return answer;
  }

  /**
   * What to offer on this device (passkey button, autofill, append prompt, passkey-first
   * sign-up, fallback only), each with a reason. Call it before showing passkey UI; if it fails,
   * keep to what you would show without it.
   *
   * @example
   * const caps = await clientCapabilities();
   * const d = await latchkey.passkeyDecisions({ client: { webauthn: caps.webauthn, platformAuthenticator: caps.platformAuthenticator } });
   * if (d.appendPrompt.offer) showAppendPrompt(d.appendPrompt.variant);
   */
  async passkeyDecisions(input: PasskeyDecisionsRequest): Promise<PasskeyDecisions> {
    return (await this.request<PasskeyDecisions>('POST', '/passkey-decisions', input)).body;
  }

  /** Records a "not now" to the append prompt (signed in); the prompt is not offered again for a while. */
  async declinePasskeyAppend(deviceId?: string): Promise<void> {
    await this.request('POST', '/passkey-decisions/declines', deviceId ? { deviceId } : {});
  }

  /**
   * The signed-in user's arm of each passkey UX feature under test (`append_prompt`,
   * `passkey_button`); a feature missing from the answer shows its default. Empty when signed out.
   */
  async getExperimentAssignments(): Promise<Record<string, ExperimentAssignment>> {
    try {
      return (await this.request<{ assignments: Record<string, ExperimentAssignment> }>('GET', '/experiments/assignments')).body.assignments;
    } catch (error) {
      if (error instanceof LatchkeyError && error.status === 401) return {};
      throw error;
    }
  }

  /**
   * Call when a variant is actually on screen: only shown variants are counted. Nothing is sent for
   * a concluded experiment (its winner is everybody's now); never throws (like telemetry).
   */
  async reportExposure(assignment: ExperimentAssignment): Promise<void> {
    if (assignment.concluded) return;
    try {
      await this.request('POST', `/experiments/${encodeURIComponent(assignment.experiment)}/exposures`, { variant: assignment.variant }, {}, true);
    } catch {
      // Ignored on purpose: a lost exposure makes the experiment slower to conclude, never wrong.
    }
  }

  /** Records a ceremony's client-side outcome; never throws (telemetry must not break sign-in). */
  async reportCeremony(report: CeremonyReport): Promise<void> {
    try {
      const body = { reportId: crypto.randomUUID(), occurredAt: new Date().toISOString(), ...report };
      await this.request('POST', '/telemetry/ceremonies', body, {}, true);
    } catch {
      // Ignored on purpose: a lost report only makes the funnel less precise.
    }
  }
}

async function create(options: Json, signal?: AbortSignal, mediation?: 'conditional'): Promise<Json> {
  const credential = (await navigator.credentials.create({
    publicKey: parseCreationOptions(options),
    ...(signal ? { signal } : {}),
    ...(mediation ? { mediation } : {}),
  } as CredentialCreationOptions)) as PublicKeyCredential | null;
  if (!credential) throw new DOMException('No passkey was created', 'NotAllowedError');
  return credentialToJSON(credential);
}
