/**
 * The DOMException names a browser's `navigator.credentials` calls reject with, as far as the
 * soft authenticator imitates them.
 */
export type WebAuthnErrorName = 'InvalidStateError' | 'NotAllowedError' | 'NotSupportedError' | 'SecurityError';

/**
 * An `Error` whose `name` is the DOMException name a browser would use, so tests can check
 * `err.name === 'InvalidStateError'` exactly as they would in a browser.
 */
export class WebAuthnError extends Error {
  /** Narrowed copy of `name`. */
  readonly code: WebAuthnErrorName;

  constructor(name: WebAuthnErrorName, message: string) {
    super(message);
    this.name = name;
    this.code = name;
  }
}
