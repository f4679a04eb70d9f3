export { createAppendTokensService, APPEND_TOKEN_PREFIX, type AppendTokensService, type IssuedAppendToken } from './append-tokens.service.ts';
export { AppendTokenErrors } from './append-tokens.errors.ts';
