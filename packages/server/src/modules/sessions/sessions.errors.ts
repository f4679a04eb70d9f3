import { defineErrors } from '../../errors/app-error.ts';

export const SessionErrors = defineErrors({
  session_not_found: { status: 404, title: 'No such live session on this account' },
});
