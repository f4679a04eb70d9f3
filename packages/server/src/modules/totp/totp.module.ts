export { createTotpService, type TotpService } from './totp.service.ts';
export { totpRoutes } from './totp.routes.ts';
export { totpStep, TOTP_PERIOD_SECONDS, TOTP_SECRET_BYTES } from './totp.ts';
export { TotpErrors } from './totp.errors.ts';
