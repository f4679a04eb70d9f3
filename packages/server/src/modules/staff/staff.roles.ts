import { ALL_SCOPES, type ApiKeyScope } from '../api-keys/api-keys.module.ts';

export const STAFF_ROLES = ['admin', 'support', 'auditor'] as const;
export type StaffRole = (typeof STAFF_ROLES)[number];

export function isStaffRole(value: string): value is StaffRole {
  return (STAFF_ROLES as readonly string[]).includes(value);
}

/**
 * The one map from staff roles to the management API's scopes (api-keys.scopes.ts): a staff
 * session is authorised by the same `authorize(request, scope)` as an API key. The README's
 * roles table is written from this map (staff.docs.ts; staff.roles.test.ts checks it).
 */
export const ROLE_DEFINITIONS: Record<StaffRole, { summary: string; scopes: readonly ApiKeyScope[] }> = {
  admin: {
    summary: 'Everything: users, staff, API keys, settings',
    scopes: ALL_SCOPES,
  },
  support: {
    summary: "Find users, see their passkeys, sessions and timeline; disable or enable an account, delete a passkey, end sessions, start a recovery, lift a lockout. No deletion, no exports, no staff accounts",
    scopes: ['console:access', 'users:read', 'users:write', 'sessions:write', 'recovery:start', 'lockouts:lift', 'audit:read'],
  },
  auditor: {
    summary: 'Read everything and export the audit log; change nothing',
    scopes: ['console:access', ...ALL_SCOPES.filter((s) => s.endsWith(':read')), 'audit:export'],
  },
};

/** Higher ranks may do more; a staff member can never raise their own rank. */
export const ROLE_RANK: Record<StaffRole, number> = { auditor: 1, support: 2, admin: 3 };

export function scopesOf(role: StaffRole): readonly ApiKeyScope[] {
  return ROLE_DEFINITIONS[role].scopes;
}
