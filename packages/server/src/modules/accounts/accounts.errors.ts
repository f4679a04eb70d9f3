import { defineErrors } from '../../errors/app-error.ts';

export const AccountErrors = defineErrors({
  username_taken: {
    status: 409,
    title: 'Username is taken',
    description: 'Choose another username, or sign in if it is yours. (A documented, rate-limited enumeration point: SEC-21.)',
  },
  username_invalid: { status: 400, title: 'Username is not valid', description: 'The detail says which rule it broke.' },
  display_name_invalid: { status: 400, title: 'Display name is not valid' },
  email_taken: {
    status: 409,
    title: 'This e-mail address belongs to another account',
    description: 'Only answered after the address was proven with a code, and only to a signed-in, stepped-up user.',
  },
  email_invalid: { status: 400, title: 'E-mail address is not valid' },
  signup_disabled: { status: 403, title: 'Sign-up is disabled on this server' },
  external_id_taken: { status: 409, title: 'Another user has this external id', description: 'externalId is unique: look the user up with GET /api/admin/v1/users/by-external-id/{externalId}.' },
});
