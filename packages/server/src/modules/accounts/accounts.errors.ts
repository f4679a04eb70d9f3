import { defineErrors } from '../../errors/app-error.ts';

export const AccountErrors = defineErrors({
  username_taken: {
    status: 409,
    title: 'Username is taken',
    description: 'Choose another username, or sign in if it is yours. (A documented, rate-limited enumeration point: SEC-21.)',
  },
  username_confusable: {
    status: 409,
    title: 'Username looks like one that is taken',
    description:
      'Its Unicode confusable skeleton (UTS #39) equals an existing username\'s, e.g. Cyrillic "рау" beside "pay", or "user1" beside "userl". Choose another. The same documented, rate-limited enumeration point as username_taken (SEC-21).',
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
  signed_in: {
    status: 409,
    title: 'Sign out before signing up a new account',
    description: 'Sign-up (registration options with a username) is refused while the request carries a live session of any scope; a signed-in user adds a passkey with {}.',
  },
  external_id_taken: { status: 409, title: 'Another user has this external id', description: 'externalId is unique: look the user up with GET /api/admin/v1/users/by-external-id/{externalId}.' },
});
