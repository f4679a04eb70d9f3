import { defineErrors } from '../../errors/app-error.ts';

export const TotpErrors = defineErrors({
  totp_invalid: {
    status: 401,
    title: 'The authenticator code is wrong or already used',
    description: 'Codes change every 30 seconds and each works once; wait for the next one.',
  },
  totp_not_enrolled: { status: 409, title: 'No authenticator app is set up for this account' },
});
