export { createFallbackRepository, type FallbackRepository } from './fallback.repository.ts';
export { createLockout, type Lockout, type LiftedLock, type LockoutState } from './lockout.service.ts';
export { createEmailCodesService, type EmailCodesService, newNumericCode } from './email-codes.service.ts';
export { createRecoveryService, type RecoveryService, normalizeRecoveryCode } from './recovery.service.ts';
export { createFallbackService, type FallbackService } from './fallback.service.ts';
export { fallbackRoutes } from './fallback.routes.ts';
export { FallbackErrors } from './fallback.errors.ts';
