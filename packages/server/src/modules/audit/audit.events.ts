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
  'ceremony.reported',
] as const;

export type AuditEventType = (typeof AuditEventTypes)[number];
