export { createStaffService, type StaffService, type StaffTarget, type AddedStaffMember } from './staff.service.ts';
export type { StaffMember } from './staff.repository.ts';
export { STAFF_ROLES, ROLE_DEFINITIONS, ROLE_RANK, isStaffRole, scopesOf, type StaffRole } from './staff.roles.ts';
export { StaffErrors } from './staff.errors.ts';
export { createSupportRecoveryService, normalizeSupportCode, SUPPORT_RECOVERY_TTL_MS, type SupportRecoveryService } from './support-recovery.service.ts';
export { createLockoutLifter, type LockoutLifter } from './lockout-lift.service.ts';
