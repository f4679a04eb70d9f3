/** Audit event types (noun.past_tense). Stable: analytics, webhooks and SIEM exports key on them. */
export const AuditEventTypes = [
  'account.created',
  'passkey.registered',
  'passkey.registration_failed',
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
  'auth.locked_out',
  'password.changed',
  'password.failed',
] as const;

export type AuditEventType = (typeof AuditEventTypes)[number];
