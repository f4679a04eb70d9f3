import { LitElement } from 'lit';
import { clientCapabilities, LatchkeyClient, LatchkeyError, type CeremonyReport, type ClientCapabilities, type PasskeyDecisions } from '../../sdk/src/index.ts';
import { format, stringsFor, type Strings } from './strings.ts';

/** What a failed ceremony means to the user, and whether the element should offer a retry. */
export interface Explained {
  message: string;
  /** The DOMException name or the server's problem code, for events and telemetry. */
  reason: string;
}

/** Time after which a NotAllowedError is taken as a timeout rather than a cancel (options say 300 s). */
const TIMEOUT_MS = 290_000;
/** Where the random device id lives (passkey intelligence: this device's failures and passkeys). Not personal data. */
export const DEVICE_ID_KEY = 'latchkey:device-id';
/** A decision that takes longer than this is not waited for: the element shows what it would without one. */
const DECISION_TIMEOUT_MS = 1500;
/** Server codes meaning the passkey's answer was refused (webauthn.errors.ts). */
const REJECTED = new Set(['verification_failed', 'invalid_response', 'registration_failed', 'challenge_invalid', 'credential_exists']);

/**
 * Shared plumbing of the Latchkey elements: the API client, strings, events and telemetry.
 * Not an element itself.
 */
export class LatchkeyElement extends LitElement {
  static override properties = {
    apiBase: { type: String, attribute: 'api-base' },
    lang: { type: String, reflect: true },
    strings: { type: Object, attribute: false },
    noTelemetry: { type: Boolean, attribute: 'no-telemetry' },
  };

  /** Base URL of the Latchkey API (`api-base` attribute); same origin when empty. */
  declare apiBase: string;
  /** Partial overrides of the built-in strings. */
  declare strings: Partial<Strings> | undefined;
  /** Do not report ceremony outcomes to `/api/v1/telemetry/ceremonies` (`no-telemetry`). */
  declare noTelemetry: boolean;

  #client: LatchkeyClient | undefined;
  protected capabilities: ClientCapabilities | undefined;

  constructor() {
    super();
    this.apiBase = '';
    this.strings = undefined;
    this.noTelemetry = false;
  }

  /** The SDK client this element talks through; set it to share one (e.g. bearer mode). */
  get client(): LatchkeyClient {
    if (!this.#client || this.#client.baseUrl !== this.apiBase.replace(/\/+$/, '')) this.#client = new LatchkeyClient({ baseUrl: this.apiBase });
    return this.#client;
  }
  set client(client: LatchkeyClient) {
    this.#client = client;
  }

  /**
   * The session if it is a full one; null when signed out or when the session is restricted
   * (recovery, a second factor still due), which cannot manage the account either.
   */
  protected async fullSession(): ReturnType<LatchkeyClient['getSession']> {
    const current = await this.client.getSession();
    return current && (current.session.scope === undefined || current.session.scope === 'full') ? current : null;
  }

  protected get t(): Strings {
    // The element's own lang, else the page's (an ancestor's), else the browser's.
    const lang = this.lang || this.parentElement?.closest('[lang]')?.getAttribute('lang') || (typeof navigator === 'undefined' ? 'en' : navigator.language);
    return stringsFor(lang, this.strings);
  }

  protected text(key: keyof Strings, values: Record<string, string> = {}): string {
    return format(this.t[key], values);
  }

  /** Dispatches a bubbling, composed event that crosses shadow roots. */
  protected emit<T>(name: string, detail: T): void {
    this.dispatchEvent(new CustomEvent<T>(name, { detail, bubbles: true, composed: true }));
  }

  protected async caps(): Promise<ClientCapabilities> {
    this.capabilities ??= await clientCapabilities();
    return this.capabilities;
  }

  /** A random id kept in localStorage (created on first use); undefined where storage is off. */
  protected deviceId(): string | undefined {
    try {
      let id = localStorage.getItem(DEVICE_ID_KEY);
      if (!id || !/^[A-Za-z0-9_-]{16,64}$/.test(id)) {
        const bytes = crypto.getRandomValues(new Uint8Array(16));
        id = btoa(String.fromCharCode(...bytes)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
        localStorage.setItem(DEVICE_ID_KEY, id);
      }
      return id;
    } catch {
      return undefined;
    }
  }

  /**
   * Asks the server what to offer on this device (POST /api/v1/passkey-decisions) and tells the
   * page (`latchkey-decisions`). Undefined when it cannot be reached in time: the caller then
   * shows what it showed before decisions existed. With `identifier` (identifier-first, the
   * username typed), the passkey button is decided for that account.
   */
  protected async decide(identifier?: string): Promise<PasskeyDecisions | undefined> {
    const caps = await this.caps();
    const deviceId = this.deviceId();
    let timer: number | undefined;
    try {
      const decisions = await Promise.race([
        this.client.passkeyDecisions({
          client: { webauthn: caps.webauthn, platformAuthenticator: caps.platformAuthenticator, conditionalMediation: caps.conditionalGet, hybridTransport: caps.hybrid },
          ...(deviceId ? { deviceId } : {}),
          ...(identifier ? { identifier } : {}),
        }),
        new Promise<undefined>((resolve) => {
          timer = globalThis.setTimeout(resolve, DECISION_TIMEOUT_MS) as unknown as number;
        }),
      ]);
      if (decisions) this.emit('latchkey-decisions', { decisions });
      return decisions;
    } catch {
      return undefined;
    } finally {
      clearTimeout(timer);
    }
  }

  protected report(report: Omit<CeremonyReport, 'conditionalGet' | 'conditionalCreate' | 'platformAuthenticator' | 'hybrid' | 'deviceId'>): void {
    if (this.noTelemetry) return;
    const caps = this.capabilities;
    const deviceId = this.deviceId();
    void this.client.reportCeremony({
      ...report,
      ...(deviceId ? { deviceId } : {}),
      ...(caps
        ? { conditionalGet: caps.conditionalGet, conditionalCreate: caps.conditionalCreate, platformAuthenticator: caps.platformAuthenticator, hybrid: caps.hybrid }
        : {}),
    });
  }

  /**
   * Runs one WebAuthn ceremony and reports its outcome (started, then completed, cancelled,
   * timed_out or error). Rethrows the failure for the caller to explain.
   */
  protected async ceremony<T>(kind: CeremonyReport['ceremony'], mode: CeremonyReport['mode'], run: () => Promise<T>): Promise<T> {
    const started = Date.now();
    this.report({ ceremony: kind, mode, outcome: 'started' });
    try {
      const result = await run();
      const credentialId = (result as { passkey?: { id?: unknown } } | undefined)?.passkey?.id;
      this.report({ ceremony: kind, mode, outcome: 'completed', durationMs: Date.now() - started, ...(typeof credentialId === 'string' ? { credentialId } : {}) });
      return result;
    } catch (error) {
      const name = errorName(error);
      // AbortError: the page's own Cancel button; NotAllowedError: the browser's cancel or timeout.
      const outcome =
        name === 'AbortError' ? 'cancelled' : name === 'NotAllowedError' ? (Date.now() - started >= TIMEOUT_MS ? 'timed_out' : 'cancelled') : 'error';
      this.report({ ceremony: kind, mode, outcome, durationMs: Date.now() - started, ...(outcome === 'error' ? { errorName: name } : {}) });
      throw error;
    }
  }

  /** A specific message for each way a ceremony fails (WebAuthn L3 §5.1.3 / §5.1.4 error names). */
  protected explain(error: unknown, context: { registering: boolean; username?: string }): Explained {
    const name = errorName(error);
    const username = context.username ?? '';
    switch (name) {
      case 'NotAllowedError':
      case 'AbortError':
        if (context.registering) return { message: this.text('createCancelled'), reason: name };
        return { message: username ? this.text('cancelledFor', { name: username }) : this.text('cancelled'), reason: name };
      case 'InvalidStateError':
        return { message: this.text('alreadyRegistered'), reason: name };
      case 'SecurityError':
        return { message: this.text('securityError'), reason: name };
      case 'NotSupportedError':
        return { message: this.text('notSupported'), reason: name };
      case 'TypeError':
        return { message: this.text('network'), reason: 'network' };
    }
    if (error instanceof LatchkeyError) {
      if (error.code === 'username_taken') return { message: this.text('usernameTaken', { name: username }), reason: error.code };
      // Sign-up is refused while a session is carried (a recovery one included).
      if (error.code === 'signed_in') return { message: this.text('alreadySignedIn'), reason: error.code };
      if (error.code === 'username_confusable') return { message: this.text('usernameConfusable', { name: username }), reason: error.code };
      if (REJECTED.has(error.code)) return { message: this.text('rejected'), reason: error.code };
      // The page's origin is not in LATCHKEY_ORIGINS: the operator's to fix (the server logs which
      // variable); the user gets the same plain words as for the browser's SecurityError.
      if (error.code === 'origin_not_allowed') return { message: this.text('securityError'), reason: error.code };
      const detail = error.message.charAt(0).toUpperCase() + error.message.slice(1);
      return { message: this.text('serverError', { detail }), reason: error.code };
    }
    return { message: this.text('serverError', { detail: error instanceof Error ? error.message : String(error) }), reason: name };
  }
}

export function errorName(error: unknown): string {
  if (error instanceof LatchkeyError) return error.code;
  if (error && typeof error === 'object' && 'name' in error && typeof error.name === 'string') return error.name;
  return 'Error';
}
