export { createPasswordsService, type PasswordsService } from './passwords.service.ts';
export { createPasswordHasher, type PasswordHasher } from './password-hasher.ts';
export { passwordProblem, normalizePassword, commonPasswords, PASSWORD_MAX_BYTES } from './password-policy.ts';
export { passwordRoutes } from './passwords.routes.ts';
export { PasswordErrors } from './passwords.errors.ts';
