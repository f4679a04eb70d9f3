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
  // Management API (issue 11): the actor is an API key or the CLI, never the subject.
  'account.updated',
  'account.disabled',
  'account.enabled',
  'account.deleted',
  'api_key.created',
  'api_key.revoked',
  'api_key.rejected',
  'authorization.denied',
  // Append tokens (issue 11 item 3): issued by an API key; the passkey they add names the token as actor.
  'append_token.issued',
  'management.read',
  'account.imported',
  'passkey.imported',
  // Signed tokens (issue 11 item 4): kind, audience, jti and kid in data; never the token.
  'token.issued',
  'login_result.redeemed',
  // Adoption analytics (issue 14): a BI export (kind, from, to, format in data), the API key as actor.
  'analytics.exported',
  // Staff and the support console (issue 13): the actor is the staff member (actor_kind 'staff'), the reason on the row.
  'staff.added',
  'staff.role_changed',
  'staff.removed',
  'recovery.support_started',
  'lockout.lifted',
  // Rollout and passkey intelligence (issue 14): a rule changed (before/after in data, actor the key); a "not now" to the append prompt.
  'rollout_rule.changed',
  'passkey.append_declined',
  // A/B tests (issue 14 item 3): key, feature and (on stop) the winner in data.
  'experiment.created',
  'experiment.started',
  'experiment.stopped',
  // Webhooks (issue 12): endpoint changes with the key as actor; `disabled` by the dispatcher (actor_kind 'system') on 410 or long failure.
  'webhook_endpoint.created',
  'webhook_endpoint.updated',
  'webhook_endpoint.deleted',
  'webhook_endpoint.secret_rotated',
  'webhook_endpoint.disabled',
  'webhook_endpoint.tested',
  'webhook_delivery.redelivered',
] as const;

export type AuditEventType = (typeof AuditEventTypes)[number];
