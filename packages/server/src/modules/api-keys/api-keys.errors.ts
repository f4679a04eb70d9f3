import { defineErrors } from '../../errors/app-error.ts';

export const ApiKeyErrors = defineErrors({
  api_key_invalid: {
    status: 401,
    title: 'API key is not valid',
    description: 'No such key, or the secret is wrong (the two are not told apart). Send `Authorization: Bearer lk_live_…`.',
  },
  api_key_expired: { status: 401, title: 'API key has expired', description: 'Make a new key (CLI `api-keys create` or POST /api/admin/v1/api-keys).' },
  api_key_revoked: { status: 401, title: 'API key was revoked', description: 'Make a new key; a revoked key never works again.' },
  insufficient_scope: {
    status: 403,
    title: 'The credentials lack the scope this needs',
    description: 'The `scope` member names the scope the route needs; make a key that holds it.',
  },
  api_key_not_found: { status: 404, title: 'No such API key' },
});
