export { createRegistrationService, type RegistrationService, type CreationOptionsJSON } from './registration.service.ts';
export { createAuthenticationService, type AuthenticationService, type RequestOptionsJSON } from './authentication.service.ts';
export { createPasskeysService, type PasskeysService } from './passkeys.service.ts';
export { createWebauthnRepository } from './webauthn.repository.ts';
export { createChallengeCodec, type ChallengeCodec } from './challenge-token.ts';
export { createVerifier, type Verifier } from './verifier.ts';
export { webauthnRoutes, sessionJson, userJson, type WebauthnRouteDeps } from './webauthn.routes.ts';
export { WebauthnErrors } from './webauthn.errors.ts';
export { SUPPORTED_ALGORITHMS, type WebauthnDeps } from './webauthn.deps.ts';
