export { createAccountsService, type AccountsService, type NewAccount } from './accounts.service.ts';
export type { User } from './accounts.repository.ts';
export { AccountErrors } from './accounts.errors.ts';
export { normalizeUsername, normalizeDisplayName, normalizeEmail, caseFold } from './usernames.ts';
export { createUserDirectory, type UserDirectory, type ImportableUser } from './directory.service.ts';
export type { DirectoryUser, DirectoryPosition } from './directory.repository.ts';
