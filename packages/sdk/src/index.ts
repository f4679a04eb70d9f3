/**
 * @latchkey/sdk: a typed fetch-based client of the Latchkey HTTP API (browser and Node) and the
 * WebAuthn JSON conversions it needs. See the README's "Integrating" section.
 */
export {
  LatchkeyClient,
  LatchkeyError,
  type CeremonyReport,
  type Decision,
  type DecisionReason,
  type PasskeyDecisions,
  type PasskeyDecisionsRequest,
  type ExperimentAssignment,
  type Ceremony,
  type LatchkeyClientOptions,
  type Passkey,
  type PasskeyList,
  type Problem,
  type Session,
  type SignedIn,
  type User,
} from './client.ts';
export {
  base64UrlToBytes,
  bytesToBase64Url,
  clientCapabilities,
  credentialToJSON,
  parseCreationOptions,
  parseRequestOptions,
  type ClientCapabilities,
} from './webauthn-json.ts';
