import type { AuditRecord } from '../audit/audit.query.ts';

/**
 * The webhook event catalogue (SEC-60): which audit events leave as which webhook type. Types are
 * `noun.past_tense` and hierarchical, so an endpoint can subscribe to `passkey.*`. Audit events not
 * listed here (reads, refused API keys, telemetry, junk tallies) never leave as webhooks.
 */
export const WEBHOOK_EVENT_TYPES = {
  'user.created': 'A user was created (sign-up, management API)',
  'user.imported': 'A user was created or updated by an import',
  'user.updated': 'Display name or e-mail address changed (the names of the fields, never their values)',
  'user.disabled': 'A user was disabled (every session ended)',
  'user.enabled': 'A disabled user was enabled again',
  'user.deleted': 'A user was erased',
  'passkey.created': 'A passkey was registered (or imported: `source`)',
  'passkey.renamed': 'A passkey got a new name (the name is not sent)',
  'passkey.deleted': 'A passkey was deleted',
  'passkey.clone_suspected': 'A sign-in was refused because the signature counter did not grow (SEC-10)',
  'signin.succeeded': 'A session was opened (`method`: passkey, email_code, password or recovery): each one, a sample or a summary, as the endpoint chooses (signinSucceeded)',
  'signin.succeeded.summary': 'Instead of signin.succeeded, for an endpoint with signinSucceeded {"mode": "summary"}: the counts of one minute by method',
  'signin.failed': 'A sign-in attempt failed, with its error code: each one, a sample or a summary, as the endpoint chooses (signinFailed)',
  'signin.failed.summary': 'Instead of signin.failed, for an endpoint with signinFailed {"mode": "summary"}: the counts of one minute by method and error code',
  'session.revoked': 'A session was ended (sign-out, revocation, another sign-in replaced it)',
  'stepup.succeeded': 'A session re-authenticated for a sensitive operation',
  'recovery.started': 'Account recovery was started',
  'recovery.completed': 'Account recovery finished: the user enrolled a new passkey',
  'recovery.support_started': 'A support agent (or the management API) gave the user a one-time recovery code or link (`method`: code or link)',
  'recovery_code.used': 'One of the user’s recovery codes was spent (a recovery began with it)',
  'lockout.lifted': 'Staff lifted the sign-in lockouts of a user',
  'password.changed': 'A password was set or changed',
  'totp.enrolled': 'A TOTP second factor was added',
  'totp.removed': 'A TOTP second factor was removed',
  'recovery_codes.generated': 'New recovery codes were made (the codes are not sent)',
  'api_key.created': 'A management API key was created',
  'api_key.revoked': 'A management API key was revoked',
  'staff.added': 'A user became staff of the console (`role`)',
  'staff.role_changed': 'A staff member’s role changed (`from`, `to`)',
  'staff.removed': 'A staff member lost console access (`role` they had)',
  'webhook_endpoint.created': 'A webhook endpoint was added (its host is not sent: check that you added it)',
  'webhook_endpoint.updated': 'A webhook endpoint was changed (`fields`: the names of what changed)',
  'webhook_endpoint.deleted': 'A webhook endpoint was deleted',
  'webhook_endpoint.secret_rotated': 'A webhook endpoint got a new signing secret',
  'webhook_endpoint.disabled': 'A webhook endpoint was disabled (410 Gone or failing too long): the owner notice',
  'rollout_rule.changed': 'A rollout rule or the kill switch of a feature changed (`feature`)',
  'experiment.created': 'An A/B test was defined (`key`, `feature`)',
  'experiment.started': 'An A/B test started (`key`, `feature`)',
  'experiment.stopped': 'An A/B test stopped (`key`, `feature`, `winner` or null)',
  'webhook.test': 'Sent by POST /webhook-endpoints/{id}/test to that endpoint only',
} as const;

export type WebhookEventType = keyof typeof WEBHOOK_EVENT_TYPES;
export const ALL_WEBHOOK_EVENT_TYPES = Object.keys(WEBHOOK_EVENT_TYPES) as WebhookEventType[];

/**
 * Types no pattern (`*`, `prefix.*`) matches: the test event goes only where it is sent, and a
 * summary only where the endpoint's `signinFailed` or `signinSucceeded` mode asks for it
 * (webhooks.signin-delivery.ts).
 */
const NOT_BY_PATTERN: ReadonlySet<string> = new Set<WebhookEventType>(['webhook.test', 'signin.failed.summary', 'signin.succeeded.summary']);

/** Audit type → webhook type (and the sign-in method a few of them imply). */
const FROM_AUDIT: Readonly<Record<string, { type: WebhookEventType; method?: string }>> = {
  'account.created': { type: 'user.created' },
  'account.imported': { type: 'user.imported' },
  'account.updated': { type: 'user.updated' },
  'email.changed': { type: 'user.updated' },
  'email.verified': { type: 'user.updated' },
  'account.disabled': { type: 'user.disabled' },
  'account.enabled': { type: 'user.enabled' },
  'account.deleted': { type: 'user.deleted' },
  'passkey.registered': { type: 'passkey.created' },
  'passkey.imported': { type: 'passkey.created' },
  'passkey.renamed': { type: 'passkey.renamed' },
  'passkey.deleted': { type: 'passkey.deleted' },
  'passkey.clone_suspected': { type: 'passkey.clone_suspected' },
  'session.created': { type: 'signin.succeeded' },
  'passkey.authentication_failed': { type: 'signin.failed', method: 'passkey' },
  'password.failed': { type: 'signin.failed', method: 'password' },
  'email_code.failed': { type: 'signin.failed', method: 'email_code' },
  'session.revoked': { type: 'session.revoked' },
  'session.stepped_up': { type: 'stepup.succeeded' },
  'recovery.started': { type: 'recovery.started' },
  'account.recovered': { type: 'recovery.completed' },
  'recovery.support_started': { type: 'recovery.support_started' },
  'recovery_code.used': { type: 'recovery_code.used' },
  'lockout.lifted': { type: 'lockout.lifted' },
  'password.changed': { type: 'password.changed' },
  'totp.enrolled': { type: 'totp.enrolled' },
  'totp.removed': { type: 'totp.removed' },
  'recovery_codes.generated': { type: 'recovery_codes.generated' },
  'api_key.created': { type: 'api_key.created' },
  'api_key.revoked': { type: 'api_key.revoked' },
  'webhook_endpoint.disabled': { type: 'webhook_endpoint.disabled' },
  'staff.added': { type: 'staff.added' },
  'staff.role_changed': { type: 'staff.role_changed' },
  'staff.removed': { type: 'staff.removed' },
  'webhook_endpoint.created': { type: 'webhook_endpoint.created' },
  'webhook_endpoint.updated': { type: 'webhook_endpoint.updated' },
  'webhook_endpoint.deleted': { type: 'webhook_endpoint.deleted' },
  'webhook_endpoint.secret_rotated': { type: 'webhook_endpoint.secret_rotated' },
  'rollout_rule.changed': { type: 'rollout_rule.changed' },
  'experiment.created': { type: 'experiment.created' },
  'experiment.started': { type: 'experiment.started' },
  'experiment.stopped': { type: 'experiment.stopped' },
};

/** The webhook type an audit type leaves as, if any. */
export function webhookTypeOf(auditType: string): WebhookEventType | undefined {
  return Object.hasOwn(FROM_AUDIT, auditType) ? FROM_AUDIT[auditType]?.type : undefined;
}

/** The sign-in method of an audit type that leaves as `signin.failed` (`passkey`, `password`, `email_code`). */
export function failureMethodOf(auditType: string): string {
  return (Object.hasOwn(FROM_AUDIT, auditType) ? FROM_AUDIT[auditType]?.method : undefined) ?? 'unknown';
}

/**
 * The sign-in method of a `session.created` audit row: `data.method` when it names one, `recovery`
 * for a recovery session, `passkey` when a credential is named. The `signin.succeeded` payload and
 * its per-minute summary both ask here, so they never disagree.
 */
export function successMethodOf(data: Readonly<Record<string, unknown>> | null | undefined, hasCredential: boolean): string {
  if (typeof data?.method === 'string') return data.method;
  if (data?.scope === 'recovery') return 'recovery';
  return hasCredential ? 'passkey' : 'unknown';
}

/** Audit types that become `type` (the sign-in summaries count these in the audit log). */
export function auditTypesOf(types: Iterable<WebhookEventType>): Set<string> {
  const wanted = new Set(types);
  return new Set(Object.entries(FROM_AUDIT).filter(([, to]) => wanted.has(to.type)).map(([from]) => from));
}

/**
 * An endpoint's filter as written: event types, `prefix.*` (`passkey.*`) or `*`. Returns the
 * problem with the first entry that names nothing in the catalogue.
 */
export function parseEventFilter(input: readonly string[]): { ok: true; filter: string[] } | { ok: false; problem: string } {
  const filter: string[] = [];
  for (const raw of input) {
    const entry = raw.trim();
    if (entry === '') continue;
    if (entry === 'signin.failed.summary') return { ok: false, problem: 'subscribe to "signin.failed" and choose signinFailed {"mode": "summary"} for the summaries' };
    if (entry === 'signin.succeeded.summary') return { ok: false, problem: 'subscribe to "signin.succeeded" and choose signinSucceeded {"mode": "summary"} for the summaries' };
    if (expandPattern(entry).length === 0) return { ok: false, problem: `"${entry.slice(0, 64)}" matches no event type (GET /webhook-event-types lists them)` };
    if (!filter.includes(entry)) filter.push(entry);
  }
  if (filter.length === 0) return { ok: false, problem: 'at least one event type is needed' };
  return { ok: true, filter };
}

function expandPattern(pattern: string): WebhookEventType[] {
  if (pattern === '*') return ALL_WEBHOOK_EVENT_TYPES.filter((t) => !NOT_BY_PATTERN.has(t));
  if (pattern.endsWith('.*')) {
    const prefix = pattern.slice(0, -1);
    return ALL_WEBHOOK_EVENT_TYPES.filter((t) => t.startsWith(prefix) && !NOT_BY_PATTERN.has(t));
  }
  return Object.hasOwn(WEBHOOK_EVENT_TYPES, pattern) ? [pattern as WebhookEventType] : [];
}

/** Whether a filter lets `type` through. */
export function filterMatches(filter: readonly string[], type: string): boolean {
  return filter.some((pattern) => pattern === type || (!NOT_BY_PATTERN.has(type) && (pattern === '*' || (pattern.endsWith('.*') && type.startsWith(pattern.slice(0, -1))))));
}

/** Field names (never values): strings only, at most ten. */
function namesIn(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((f): f is string => typeof f === 'string').slice(0, 10) : [];
}

/** A role, feature or experiment key: a short identifier the server wrote; anything else is null. */
function wordOf(value: unknown): string | null {
  return typeof value === 'string' && /^[\w.:-]{1,64}$/.test(value) ? value : null;
}

/** The Standard Webhooks message id of an event: stable across attempts, redeliveries and nodes. */
export function messageIdOf(eventId: string): string {
  return `msg_${eventId}`;
}

/**
 * The body every endpoint receives for an audit row (Standard Webhooks: `type`, `timestamp`,
 * `data`). Minimal by design (SEC-60): ids, types, times, outcome and error code; never an IP
 * address, a user agent, a username, an e-mail address, a passkey name or any secret.
 */
export function payloadOf(event: Readonly<AuditRecord>, type: WebhookEventType): string {
  const mapped = FROM_AUDIT[event.type];
  const extra = event.data ?? {};
  const data: Record<string, unknown> = { eventId: event.id };
  if (event.subjectUserId) data.userId = event.subjectUserId;
  if (event.actor.kind) data.actor = { kind: event.actor.kind, id: event.actor.id };
  if (event.credentialId) data.passkeyId = event.credentialId;
  if (event.sessionId) data.sessionId = event.sessionId;
  if (event.outcome === 'failure' || event.errorCode) data.errorCode = event.errorCode;
  switch (type) {
    case 'signin.succeeded':
      data.method = successMethodOf(extra, Boolean(event.credentialId));
      break;
    case 'signin.failed':
      data.method = mapped?.method ?? 'unknown';
      break;
    case 'passkey.created':
      data.source = event.type === 'passkey.imported' ? 'import' : 'registration';
      break;
    case 'user.updated':
      // Which fields changed, never their values.
      data.fields = event.type === 'email.changed' || event.type === 'email.verified' ? ['email'] : namesIn(extra.fields);
      break;
    case 'webhook_endpoint.disabled':
      data.endpointId = extra.endpointId;
      data.reason = extra.reason;
      break;
    case 'webhook_endpoint.created':
    case 'webhook_endpoint.deleted':
    case 'webhook_endpoint.secret_rotated':
      data.endpointId = extra.endpointId;
      break;
    case 'webhook_endpoint.updated':
      data.endpointId = extra.endpointId;
      data.fields = namesIn(extra.fields);
      break;
    case 'recovery.support_started':
      data.method = extra.method === 'link' ? 'link' : 'code';
      break;
    case 'staff.added':
    case 'staff.removed':
      data.role = wordOf(extra.role);
      break;
    case 'staff.role_changed':
      data.from = wordOf(extra.from);
      data.to = wordOf(extra.to);
      break;
    case 'rollout_rule.changed':
      data.feature = wordOf(extra.feature);
      break;
    case 'experiment.created':
    case 'experiment.started':
    case 'experiment.stopped':
      data.key = wordOf(extra.key);
      data.feature = wordOf(extra.feature);
      if (event.type === 'experiment.stopped') data.winner = typeof extra.winner === 'string' ? wordOf(extra.winner) : null;
      break;
    case 'api_key.created':
    case 'api_key.revoked':
      if (typeof extra.keyId === 'string') data.apiKeyId = extra.keyId;
      break;
    default:
      break;
  }
  return JSON.stringify({ type, timestamp: new Date(event.at).toISOString(), data });
}
