import { API_KEY_SCOPES } from '../api-keys/api-keys.module.ts';
import { ROLE_DEFINITIONS, STAFF_ROLES } from './staff.roles.ts';

/**
 * The README's roles table, written from staff.roles.ts (staff.roles.test.ts checks that the
 * README has exactly this). Run `node packages/server/src/modules/staff/staff.docs.ts` to print it.
 */
export function rolesTable(): string {
  const scopes = Object.keys(API_KEY_SCOPES) as (keyof typeof API_KEY_SCOPES)[];
  const header = `| scope | ${STAFF_ROLES.join(' | ')} |\n| --- |${STAFF_ROLES.map(() => ' :-: |').join('')}`;
  const rows = scopes.map((scope) => `| \`${scope}\` | ${STAFF_ROLES.map((role) => (ROLE_DEFINITIONS[role].scopes.includes(scope) ? '✓' : '')).join(' | ')} |`);
  const summaries = STAFF_ROLES.map((role) => `- **${role}**: ${ROLE_DEFINITIONS[role].summary}.`);
  return [...summaries, '', header, ...rows].join('\n');
}

if (import.meta.url === `file://${process.argv[1]}`) process.stdout.write(`${rolesTable()}\n`);
