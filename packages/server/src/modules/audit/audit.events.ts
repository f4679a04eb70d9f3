/** Audit event types (noun.past_tense). Stable: analytics, webhooks and SIEM exports key on them. */
export const AuditEventTypes = [
  'account.created',
  'passkey.registered',
  'passkey.registration_failed',
  /** One row a minute at most: registration verifies refused before any ceremony was found (counts, busiest IPs). */
  'passkey.registration_failures_summarized',
  'passkey.authenticated',
  'passkey.authentication_failed',
  'passkey.clone_suspected',
  'passkey.renamed',
  'passkey.deleted',
  'session.created',
  'session.revoked',
  'signup.rate_limited',
  'session.stepped_up',
  'email_code.sent',
  'email_code.failed',
  'email.verified',
  'email.changed',
  'recovery_codes.generated',
  'recovery_code.used',
  'recovery.started',
  'recovery.failed',
  'account.recovered',
  'password.changed',
  'password.failed',
  'totp.enrolment_started',
  'totp.enrolled',
  'totp.removed',
  'ceremony.reported',
] as const;

export type AuditEventType = (typeof AuditEventTypes)[number];
