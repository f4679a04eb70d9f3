import { defineErrors } from '../../errors/app-error.ts';

export const StaffErrors = defineErrors({
  staff_session_expired: {
    status: 401,
    title: 'Sign in to the console again with your passkey',
    description: 'Admin access is short-lived (SEC-49): it ends a set time after the last user-verified passkey sign-in or step-up, or after a while unused. A step-up or a new sign-in with the passkey restores it.',
  },
  staff_passkey_required: {
    status: 403,
    title: 'Staff sign in with a user-verified passkey',
    description: 'A staff member reaches the admin API only with a session from a passkey with user verification (fingerprint, face, PIN); sign in again with one.',
  },
  reason_required: {
    status: 400,
    title: 'Say why',
    description: 'This action needs a written reason (3 to 500 characters): the JSON body field `reason`, or for DELETE the header `Latchkey-Reason` (percent-encoded UTF-8). It goes into the audit log.',
  },
  staff_target_forbidden: {
    status: 403,
    title: "Only an admin may act on a staff member's account",
    description: 'The account belongs to a staff member: changing it needs the scope staff:manage (the admin role).',
  },
  last_admin: {
    status: 409,
    title: 'The last admin cannot be removed or demoted',
    description: 'Make another admin first.',
  },
  own_role_raise: {
    status: 403,
    title: 'Nobody can raise their own role',
    description: 'Another admin must do it.',
  },
  staff_not_found: { status: 404, title: 'No such staff member' },
  already_staff: { status: 409, title: 'This user is a staff member already', description: 'Change the role with PATCH /staff/{userId}.' },
  recovery_email_missing: {
    status: 409,
    title: 'The user has no verified e-mail address',
    description: 'Send no link: start the recovery with method "code" and read the code out to the user.',
  },
  support_code_invalid: {
    status: 401,
    title: 'This recovery code or link is not valid',
    description: 'Unknown, used or expired (codes from support last 15 minutes and work once): ask support for a new one.',
  },
});
