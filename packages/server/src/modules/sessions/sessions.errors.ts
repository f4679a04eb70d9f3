import { defineErrors } from '../../errors/app-error.ts';

export const SessionErrors = defineErrors({
  session_not_found: { status: 404, title: 'No such live session on this account' },
  step_up_required: {
    status: 403,
    title: 'Re-authenticate to do this',
    description:
      'Sensitive operations (add or delete a passkey, change the e-mail, regenerate recovery codes) need a user-verified passkey authentication within the last few minutes (SEC-31): run POST /api/v1/session/step-up/options and /verify, then retry.',
  },
  second_factor_required: {
    status: 403,
    title: 'Finish signing in with your passkey',
    description: 'The password was right; this account also needs its passkey: POST /api/v1/session/step-up/options and /verify.',
  },
  second_factor_mismatch: {
    status: 403,
    title: 'This sign-in is not finished with that factor',
    description:
      'A password sign-in answered secondFactor "passkey" or "totp" and only that factor finishes it (passkey: POST /api/v1/session/step-up/options and /verify; totp: POST /api/v1/session/totp). A session that is not waiting for a second factor has nothing to finish.',
  },
  recovery_session_restricted: {
    status: 403,
    title: 'A recovery session can only register a new passkey',
    description: 'Register a passkey with POST /api/v1/passkeys/registration/options and /verify; that ends the recovery (SEC-39).',
  },
});
