import type { RegistrationResponseJSON, VerifiedRegistrationResponse } from '@simplewebauthn/server';
import { fromBase64Url } from '../../platform/encoding.ts';
import { attestationStatementProblem } from './attestation-statement.ts';
import { CborError, decodeCbor, decodeCborPrefix, type CborValue } from './cbor.ts';
import { crossOriginProblem, parseClientData, withoutPadding } from './client-data.ts';
import { checkCoseKey } from './cose-key.ts';
import type { Verifier } from './verifier.ts';
import { WebauthnErrors } from './webauthn.errors.ts';

/** What a registration response must have been made for (from config and the stored challenge). */
export interface RegistrationExpectation {
  challenge: string;
  origins: readonly string[];
  rpId: string;
  /** Allowed `topOrigin`s for cross-origin iframes; empty refuses cross-origin ceremonies. */
  topOrigins: readonly string[];
  requireUserVerification: boolean;
  /** The COSE algorithms offered in pubKeyCredParams. */
  algorithms: readonly number[];
}

export type RegistrationInfo = VerifiedRegistrationResponse['registrationInfo'] & object;

/** Credential IDs are at most 1023 bytes (WebAuthn L3 §7.1 step 18; SEC-12). */
const MAX_CREDENTIAL_ID_BYTES = 1023;
/** authData: rpIdHash (32), flags (1), signCount (4), then attested credential data (§6.1). */
const AUTH_DATA_HEADER = 37;
const FLAG_AT = 0x40;
const FLAG_ED = 0x80;

/** base64url as browsers send it; correct "=" padding (older client libraries) is tolerated. */
function binary(value: unknown): Uint8Array | undefined {
  return typeof value === 'string' ? fromBase64Url(withoutPadding(value)) : undefined;
}

/**
 * Reads what the library does not check from the attestation object: the credential public
 * key's shape (cose-key.ts) and the statement's structure for its format
 * (attestation-statement.ts). Throws invalid_response, invalid_public_key or invalid_attestation.
 */
export function checkAttestationObject(attestationObject: Uint8Array, algorithms: readonly number[]): void {
  let decoded: CborValue;
  let coseKey: CborValue;
  try {
    decoded = decodeCbor(attestationObject);
    if (!(decoded instanceof Map)) throw new CborError('attestation object is not a CBOR map');
    const authData = decoded.get('authData');
    if (!(authData instanceof Uint8Array)) throw new CborError('attestation object has no authData byte string');
    if (authData.length < AUTH_DATA_HEADER + 18 || ((authData[32] as number) & FLAG_AT) === 0) {
      throw new CborError('authenticator data has no attested credential data');
    }
    const idLength = ((authData[53] as number) << 8) | (authData[54] as number);
    const keyAt = AUTH_DATA_HEADER + 18 + idLength;
    if (keyAt >= authData.length) throw new CborError('authenticator data ends before the credential public key');
    const key = decodeCborPrefix(authData.subarray(keyAt));
    coseKey = key.value;
    // FIDO Resp-3 F-12: after the key come only the extensions (ED flag), and nothing after them.
    let rest = authData.subarray(keyAt + key.length);
    if (((authData[32] as number) & FLAG_ED) !== 0) {
      const extensions = decodeCborPrefix(rest);
      if (!(extensions.value instanceof Map)) throw new CborError('authenticator extensions are not a map');
      rest = rest.subarray(extensions.length);
    }
    if (rest.length > 0) throw new CborError(`${rest.length} bytes left over in authenticator data`);
  } catch (error) {
    if (error instanceof CborError || error instanceof RangeError) throw WebauthnErrors.invalid_response({ detail: `attestationObject: ${error.message}` });
    throw error;
  }
  const key = checkCoseKey(coseKey, algorithms);
  if (!key.ok) throw WebauthnErrors.invalid_public_key({ detail: key.problem });
  const statement = attestationStatementProblem(decoded.get('fmt'), decoded.get('attStmt'), key.alg);
  if (statement) throw WebauthnErrors.invalid_attestation({ detail: statement });
}

/**
 * Latchkey's registration verification, WebAuthn L3 §7.1 from step 5 on, for a response whose
 * challenge is already known to be ours: client data, our own checks of the attestation object,
 * then @simplewebauthn/server (on `verifier`: in process or on worker threads), then what we
 * require of its result. The registration service calls this with its config and stored
 * challenge; the recorded real-authenticator responses are run through it unchanged.
 *
 * Throws an AppError: invalid_response, invalid_public_key, invalid_attestation or registration_failed.
 */
export async function verifyRegistrationResponse(verifier: Verifier, response: RegistrationResponseJSON, expected: RegistrationExpectation): Promise<RegistrationInfo> {
  const parsed = parseClientData(response.response?.clientDataJSON);
  if (!parsed.ok) throw WebauthnErrors.invalid_response({ detail: parsed.problem });
  const crossOrigin = crossOriginProblem(parsed.clientData, expected.topOrigins);
  if (crossOrigin) throw WebauthnErrors.registration_failed({ internal: crossOrigin });

  const rawId = binary(response.rawId);
  if (!rawId || rawId.length === 0 || response.id !== response.rawId) {
    throw WebauthnErrors.invalid_response({ detail: 'id and rawId must be the same base64url credential ID' });
  }
  if (rawId.length > MAX_CREDENTIAL_ID_BYTES) throw WebauthnErrors.invalid_response({ detail: 'credential ID is longer than 1023 bytes' });
  const attestationObject = binary(response.response.attestationObject);
  if (!attestationObject) throw WebauthnErrors.invalid_response({ detail: 'attestationObject must be a base64url string' });
  checkAttestationObject(attestationObject, expected.algorithms);

  let verification: VerifiedRegistrationResponse;
  try {
    verification = await verifier.verifyRegistration({
      response,
      expectedChallenge: expected.challenge,
      expectedOrigin: [...expected.origins],
      expectedRPID: expected.rpId,
      expectedType: 'webauthn.create',
      requireUserPresence: true,
      requireUserVerification: expected.requireUserVerification,
      supportedAlgorithmIDs: [...expected.algorithms],
    });
  } catch (error) {
    throw WebauthnErrors.registration_failed({ internal: (error as Error).message, cause: error });
  }
  // A library result counts only when it says verified === true (SEC-07).
  const info = verification.registrationInfo;
  if (verification.verified !== true || !info) throw WebauthnErrors.registration_failed({ internal: 'library did not verify the response' });
  if (info.credential.id !== response.id) {
    throw WebauthnErrors.registration_failed({ internal: 'credential ID in authenticator data differs from response.id' });
  }
  // WebAuthn L3 §6.1.3: BS=1 with BE=0 is invalid (SEC-11).
  if (info.credentialBackedUp && info.credentialDeviceType !== 'multiDevice') {
    throw WebauthnErrors.registration_failed({ internal: 'backup state set without backup eligibility' });
  }
  return info;
}
