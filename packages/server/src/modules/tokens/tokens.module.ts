export { createSigningKeys, createTokenSigningKeys, SIGNING_ALG, type SigningKeys, type SigningKeyView } from './signing-keys.service.ts';
export { createTokensService, type TokensService, type TokensConfig, type TokenSubject } from './tokens.service.ts';
export { TokenErrors } from './tokens.errors.ts';
export { TOKEN_TYPES, type TokenKind, type TokenClaims } from './claims.ts';
