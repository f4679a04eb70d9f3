import { defineErrors } from '../../errors/app-error.ts';

export const TokenErrors = defineErrors({
  audience_not_allowed: {
    status: 400,
    title: 'This audience is not configured',
    description: 'Signed tokens are issued only for the audiences in LATCHKEY_TOKEN_AUDIENCES (one per app backend); ask for one of those.',
  },
  login_result_invalid: {
    status: 400,
    title: 'The login result is not valid',
    description: 'Bad signature, unknown key, expired, wrong issuer, audience or type: verify nothing from it and sign the user in again.',
  },
  login_result_used: {
    status: 409,
    title: 'The login result was already redeemed',
    description: 'A login result is good for one sign-in at the app: a second redemption is a replay. Sign the user in again.',
  },
  signing_key_unavailable: {
    status: 503,
    title: 'No usable token signing key',
    description:
      'The server cannot open its signing key (LATCHKEY_ENCRYPTION_KEY changed): retry after Retry-After. The operator runs `latchkey keys rotate` with the new key set; the new key signs 7 minutes later. Verification with the JWKS is not affected.',
  },
});
