import { defineErrors } from '../../errors/app-error.ts';

export const PasswordErrors = defineErrors({
  invalid_credentials: {
    status: 401,
    title: 'Username or password is wrong',
    description: 'One answer for an unknown user, a user without a password and a wrong password (no enumeration).',
  },
  password_rejected: {
    status: 400,
    title: 'Choose another password',
    description: 'Too short, or too common or too close to the username (NIST SP 800-63B-4 §3.1.1). The detail says which; there are no composition rules.',
  },
});
