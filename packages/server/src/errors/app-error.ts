/**
 * The one error type of the server. Every client-visible failure is an AppError with a
 * registered, stable `code`; the problem handler turns it into RFC 9457 problem+json.
 */
export class AppError extends Error {
  readonly code: string;
  readonly status: number;
  readonly title: string;
  readonly detail: string | undefined;
  /** Extra members for the problem body (e.g. `errors` for validation). */
  readonly extensions: Record<string, unknown> | undefined;
  /** Logged and audited, never sent: e.g. the library's reason a signature was refused. */
  readonly internal: string | undefined;
  /** Response headers such as Retry-After. */
  readonly headers: Record<string, string> | undefined;

  constructor(init: {
    code: string;
    status: number;
    title: string;
    detail?: string;
    extensions?: Record<string, unknown>;
    internal?: string;
    headers?: Record<string, string>;
    cause?: unknown;
  }) {
    super(init.detail ?? init.title, { cause: init.cause });
    this.name = 'AppError';
    this.code = init.code;
    this.status = init.status;
    this.title = init.title;
    this.detail = init.detail;
    this.extensions = init.extensions;
    this.internal = init.internal;
    this.headers = init.headers;
  }
}

export interface ErrorSpec {
  status: number;
  title: string;
  /** What a client developer should do about it; shown in the OpenAPI document. */
  description?: string;
}

export type ErrorFactory = (options?: {
  detail?: string;
  internal?: string;
  cause?: unknown;
  extensions?: Record<string, unknown>;
  headers?: Record<string, string>;
}) => AppError;

const registry = new Map<string, ErrorSpec>();

/**
 * Registers a module's error codes and returns a factory per code.
 * Codes are API: once released, a code never changes meaning. The registry snapshot test guards that.
 */
export function defineErrors<const T extends Record<string, ErrorSpec>>(specs: T): { [K in keyof T]: ErrorFactory } {
  const factories = {} as { [K in keyof T]: ErrorFactory };
  for (const [code, spec] of Object.entries(specs) as [keyof T & string, ErrorSpec][]) {
    const existing = registry.get(code);
    if (existing && (existing.status !== spec.status || existing.title !== spec.title)) {
      throw new TypeError(`error code ${code} registered twice with different meanings`);
    }
    registry.set(code, spec);
    factories[code] = (options = {}) => new AppError({ code, status: spec.status, title: spec.title, ...options });
  }
  return factories;
}

/** Every registered code, for the OpenAPI document and the registry snapshot test. */
export function registeredErrors(): ReadonlyMap<string, ErrorSpec> {
  return registry;
}
