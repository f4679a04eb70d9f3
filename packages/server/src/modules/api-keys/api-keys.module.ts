export {
  createApiKeysService,
  looksLikeApiKey,
  API_KEY_PREFIX,
  type ApiKeysService,
  type ApiKeyPrincipal,
  type ApiKeyView,
} from './api-keys.service.ts';
export { API_KEY_SCOPES, ALL_SCOPES, STAFF_ONLY_SCOPES, isApiKeyScope, parseScopes, type ApiKeyScope } from './api-keys.scopes.ts';
export { ApiKeyErrors } from './api-keys.errors.ts';
