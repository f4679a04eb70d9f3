export {
  createVerifier,
  LOGIN_RESULT_TYPE,
  ACCESS_TOKEN_TYPE,
  LOGIN_RESULT_LIFETIME_SECONDS,
  type Verifier,
  type VerifierOptions,
  type LatchkeyIdentity,
} from './verifier.ts';
export { LatchkeyTokenError, type LatchkeyTokenErrorCode } from './errors.ts';
export { createMemoryReplayStore, type ReplayStore } from './replay-store.ts';
export {
  createManagementClient,
  LatchkeyApiError,
  MANAGEMENT_OPERATIONS,
  type ManagementClient,
  type ManagementClientOptions,
  type ManagementOperation,
  type ManagedUser,
  type ManagedPasskey,
  type ManagedSession,
  type AuditEvent,
  type AppendToken,
  type AppendTokenRequest,
  type Page,
  type Problem,
} from './management.ts';
