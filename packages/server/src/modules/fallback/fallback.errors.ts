import { defineErrors } from '../../errors/app-error.ts';

export const FallbackErrors = defineErrors({
  code_invalid: {
    status: 401,
    title: 'The code is wrong, expired or already used',
    description: 'Codes are single-use, expire after 10 minutes, allow 5 tries and belong to the client that asked for them: ask for a new one.',
  },
  too_many_attempts: {
    status: 429,
    title: 'Too many failed attempts',
    description: 'Consecutive failures on this account slow further tries down (SEC-34); wait for Retry-After, or sign in with a passkey.',
  },
  method_disabled: { status: 403, title: 'This method is disabled on this server' },
  recovery_failed: {
    status: 401,
    title: 'Account recovery failed',
    description: 'The recovery code is wrong or already used. Recovery needs both the e-mailed code and one of the recovery codes (SEC-39).',
  },
});
