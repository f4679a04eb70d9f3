/**
 * @latchkey/testkit — a software WebAuthn authenticator and client for tests and benchmarks.
 *
 * {@link SoftAuthenticator} turns a server's creation/request options JSON into the
 * registration/authentication response JSON a browser would send, with tamper hooks to break
 * any field on purpose. The building blocks (CBOR, COSE keys, authenticator data,
 * clientDataJSON) are exported too for hand-made malformed inputs.
 *
 * @packageDocumentation
 */

export { SoftAuthenticator } from './soft-authenticator.ts';
export { WebAuthnError, type WebAuthnErrorName } from './errors.ts';
export type {
  AssertionResponseJSON,
  AssertionTamper,
  AttestationResponseJSON,
  AuthDataTamper,
  AuthenticationResponseJSON,
  ClientDataTamper,
  ClientExtensionResultsJSON,
  CreationOptionsJSON,
  CredentialDescriptorJSON,
  RegistrationResponseJSON,
  RegistrationTamper,
  RequestOptionsJSON,
  SoftAuthenticatorOptions,
  StoredCredential,
} from './types.ts';
export {
  SUPPORTED_ALGS,
  encodeCosePublicKey,
  generateCredentialKeyPair,
  isSupportedAlg,
  signData,
  spkiDer,
  type CoseAlg,
  type CredentialKeyPair,
} from './keys.ts';
export { CborRaw, cborRaw, decodeCbor, decodeCborPrefix, encodeCbor, type CborValue, type EncodeCborOptions } from './cbor.ts';
export { base64url, base64urlDecode, base64urlEncode, base64urlNormalize } from './base64url.ts';
export { concatBytes, sha256, utf8, uuidToBytes } from './bytes.ts';
export {
  AuthDataFlag,
  encodeAttestedCredentialData,
  encodeAuthenticatorData,
  flagsByte,
  type AuthDataFlags,
  type AuthenticatorDataInit,
} from './authenticator-data.ts';
export { buildClientDataJSON, type ClientDataInit } from './client-data.ts';
