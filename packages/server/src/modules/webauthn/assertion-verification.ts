import type { AuthenticationResponseJSON, VerifiedAuthenticationResponse } from '@simplewebauthn/server';
import type { Verifier } from './verifier.ts';

/** What an assertion must have been made for, and the stored passkey it must verify against. */
export interface AssertionExpectation {
  challenge: string;
  origins: readonly string[];
  rpId: string;
  requireUserVerification: boolean;
  credential: { id: string; publicKey: Uint8Array<ArrayBuffer>; counter: number; transports: string[]; deviceType: string };
}

export type AssertionResult = { ok: true; info: VerifiedAuthenticationResponse['authenticationInfo'] } | { ok: false; reason: string; cause?: unknown };

/**
 * Latchkey's assertion verification, WebAuthn L3 §7.2 from the signature on: @simplewebauthn/server
 * on `verifier`, then what we require of its result. The sign-in service calls it after the
 * ceremony checks (challenge, credential owner); recorded real-authenticator assertions are run
 * through it unchanged. A refusal carries the reason for the audit log only (SEC-20).
 */
export async function verifyAssertionResponse(verifier: Verifier, response: AuthenticationResponseJSON, expected: AssertionExpectation): Promise<AssertionResult> {
  let verification: VerifiedAuthenticationResponse;
  try {
    verification = await verifier.verifyAuthentication({
      response,
      expectedChallenge: expected.challenge,
      expectedOrigin: [...expected.origins],
      expectedRPID: expected.rpId,
      expectedType: 'webauthn.get',
      requireUserVerification: expected.requireUserVerification,
      credential: {
        id: expected.credential.id,
        publicKey: expected.credential.publicKey,
        counter: expected.credential.counter,
        transports: expected.credential.transports as never,
      },
    });
  } catch (error) {
    const message = (error as Error).message;
    return { ok: false, reason: /counter value/i.test(message) ? `counter did not increase: ${message}` : message, cause: error };
  }
  // SEC-07: only verified === true counts.
  if (verification.verified !== true) return { ok: false, reason: 'library did not verify the response' };
  const info = verification.authenticationInfo;
  // SEC-11: BE is fixed at registration; a change means another authenticator or a forgery.
  if ((info.credentialDeviceType === 'multiDevice') !== (expected.credential.deviceType === 'multiDevice')) {
    return { ok: false, reason: 'backup eligibility differs from registration' };
  }
  return { ok: true, info };
}
