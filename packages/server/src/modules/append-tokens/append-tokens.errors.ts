import { defineErrors } from '../../errors/app-error.ts';

export const AppendTokenErrors = defineErrors({
  append_token_invalid: {
    status: 401,
    title: 'Append token is not valid',
    description:
      'Unknown, expired or already used, or this ceremony is not the one the token last started (the cases are not told apart). Ask your backend for a new token (POST /api/admin/v1/append-tokens).',
  },
  user_disabled: { status: 409, title: 'The user is disabled', description: 'Re-enable the user (POST /api/admin/v1/users/{id}/enable) first.' },
});
