import { defineErrors } from '../../errors/app-error.ts';

export const WebauthnErrors = defineErrors({
  invalid_response: {
    status: 400,
    title: 'The WebAuthn response is malformed',
    description: 'Send exactly what PublicKeyCredential.toJSON() returns; the detail names the part that could not be read.',
  },
  challenge_invalid: {
    status: 400,
    title: 'The ceremony is unknown, expired or already used',
    description: 'Challenges are single-use, expire after 5 minutes and belong to the client that asked for them: start again with a new options call.',
  },
  registration_failed: {
    status: 400,
    title: 'The passkey could not be registered',
    description: 'The response did not pass verification (origin, RP ID, flags, algorithm or attestation). Start again.',
  },
  invalid_public_key: {
    status: 400,
    title: 'The passkey\'s public key is not acceptable',
    description:
      'The credential public key is malformed for its type, not on its curve, too weak (RSA under 2048 bits), disagrees with its alg, or uses an algorithm that was not offered (README "Conformance").',
  },
  invalid_attestation: {
    status: 400,
    title: 'The attestation statement is malformed',
    description: 'The attestation statement lacks what its format requires, or the format is not supported (README "Conformance").',
  },
  credential_exists: { status: 409, title: 'This passkey is already registered' },
  verification_failed: {
    status: 401,
    title: 'Passkey could not be verified',
    description: 'Unknown passkey, a passkey of another account, a bad signature or a suspected clone all give this one code.',
  },
  passkey_not_found: { status: 404, title: 'No such passkey on this account' },
  last_passkey: {
    status: 409,
    title: 'This is the last way to sign in to this account',
    description: 'Add another passkey or a verified e-mail first, or repeat the DELETE with ?confirm=last to remove it anyway (SEC-32).',
  },
});
