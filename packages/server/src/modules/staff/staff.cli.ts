import { parseArgs } from 'node:util';
import type { RequestContext } from '../../platform/request-context.ts';
import type { StaffMember } from './staff.repository.ts';
import { ROLE_DEFINITIONS, STAFF_ROLES, isStaffRole } from './staff.roles.ts';
import type { StaffService } from './staff.service.ts';

export const STAFF_USAGE = `  staff add --username <name> --role <${STAFF_ROLES.join('|')}>
                   make a user (created if absent) a staff member; prints the URL where they
                   enrol their passkey (the first admin of a fresh install is made this way)
  staff list       list staff members and their roles
  staff remove --username <name>
                   remove a staff member (the user account stays)

Roles:
${STAFF_ROLES.map((r) => `  ${r.padEnd(20)} ${ROLE_DEFINITIONS[r].summary}`).join('\n')}`;

/** A usage mistake: the CLI prints it with the usage and exits 64. */
export class StaffUsageError extends Error {}

function describe(m: StaffMember): string {
  return `${m.username.padEnd(24)} ${m.role.padEnd(8)} ${m.userId}  since ${new Date(m.createdAt).toISOString()} (by ${m.createdBy.kind}${m.createdBy.id ? ` ${m.createdBy.id}` : ''})`;
}

function options(rest: string[]): { username?: string | undefined; role?: string | undefined } {
  try {
    return parseArgs({ args: rest, options: { username: { type: 'string' }, role: { type: 'string' } }, strict: true }).values;
  } catch (error) {
    throw new StaffUsageError((error as Error).message);
  }
}

/**
 * `latchkey staff …`: returns the text to print; throws StaffUsageError or the service's AppError.
 * `progress` reports each step as it happens (the operator sees what was done if a later step fails).
 */
export async function runStaffCommand(
  args: string[],
  deps: { staff: StaffService; context: RequestContext; enrollUrl(token: string): string; findUserId(username: string): Promise<string | undefined>; progress(line: string): void },
): Promise<string> {
  const [sub, ...rest] = args;
  if (sub === 'add') {
    const values = options(rest);
    if (!values.username) throw new StaffUsageError('--username is required');
    if (!values.role || !isStaffRole(values.role)) throw new StaffUsageError(`--role must be one of ${STAFF_ROLES.join(', ')}`);
    deps.progress(`Making ${values.username} a staff member (${values.role})…`);
    const added = await deps.staff.add({ target: { username: values.username }, role: values.role, context: deps.context });
    const lines = [
      `${added.userCreated ? 'Created the user and made them' : 'Made the existing user'} ${added.member.username} ${added.member.role === 'admin' ? 'an' : 'a'} ${added.member.role} (user id ${added.member.userId}).`,
    ];
    if (added.enrollment) {
      const minutes = Math.round((added.enrollment.expiresAt - Date.now()) / 60_000);
      lines.push(
        '',
        `They have no passkey yet. Send them this link to enrol one (valid for about ${minutes} minute(s), once):`,
        '',
        `    ${deps.enrollUrl(added.enrollment.token)}`,
        '',
        'The link is shown ONCE. If it expires, run `staff remove` and `staff add` again.',
        'Staff sign in to /admin with that passkey only (with user verification: fingerprint, face or PIN).',
      );
    } else {
      lines.push('They have a passkey already: they can sign in to /admin with it now.');
    }
    return lines.join('\n');
  }
  if (sub === 'list') {
    if (rest.length > 0) throw new StaffUsageError('staff list takes no arguments');
    const members = await deps.staff.list();
    return members.length === 0 ? 'No staff members. Make the first admin with: staff add --username <name> --role admin' : members.map(describe).join('\n');
  }
  if (sub === 'remove') {
    const values = options(rest);
    if (!values.username || values.role !== undefined) throw new StaffUsageError('usage: staff remove --username <name>');
    const userId = await deps.findUserId(values.username);
    if (!userId) throw new StaffUsageError(`no user named ${values.username}`);
    const removed = await deps.staff.remove({ userId, context: deps.context });
    return `Removed ${removed.username} (${removed.role}) from the staff. Their console access ended now; the user account stays.`;
  }
  throw new StaffUsageError(sub ? `unknown staff command "${sub}"` : 'staff needs a command (add, list, remove)');
}
