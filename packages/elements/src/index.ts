/**
 * @latchkey/elements: drop-in passkey web components. Importing this module defines
 * `<latchkey-auth>`, `<latchkey-passkeys>`, `<latchkey-passkey-append>`, `<latchkey-email-code>`, `<latchkey-email>` and `<latchkey-recovery-codes>` and re-exports the SDK, so one script is enough.
 */
export * from '../../sdk/src/index.ts';
export { LatchkeyAuth, LAST_USERNAME_KEY, type ErrorDetail, type SignedInDetail } from './latchkey-auth.ts';
export { LatchkeyPasskeys, type PasskeyDetail } from './latchkey-passkeys.ts';
export { APPEND_DISMISSED_KEY, LatchkeyPasskeyAppend } from './latchkey-passkey-append.ts';
export { LatchkeyEmailCode, type EmailCodeSignedInDetail, type RecoveryDetail } from './latchkey-email-code.ts';
export { LatchkeyRecoveryCodes } from './latchkey-recovery-codes.ts';
export { LatchkeyEmail, type EmailChangedDetail } from './latchkey-email.ts';
export { de, en, type Strings } from './strings.ts';
