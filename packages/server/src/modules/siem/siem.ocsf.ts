import type { AuditEventType } from '../audit/audit.module.ts';
import type { SealedEvent } from '../audit/audit.module.ts';

/**
 * OCSF mapping of the audit log (issue 12 item 4, SEC-53): pure functions from a sealed audit
 * event to one OCSF 1.8.0 event. The README table "OCSF mapping" is generated from `OCSF_MAPPING`
 * (`ocsfMappingTable`, checked by siem.docs.test.ts).
 */
export const OCSF_VERSION = '1.8.0';

/** OCSF categories and classes used (schema `categories.json`, `events/**`). */
const CLASSES = {
  base: { class_uid: 0, class_name: 'Base Event', category_uid: 0, category_name: 'Uncategorized' },
  accountChange: { class_uid: 3001, class_name: 'Account Change', category_uid: 3, category_name: 'Identity & Access Management' },
  authentication: { class_uid: 3002, class_name: 'Authentication', category_uid: 3, category_name: 'Identity & Access Management' },
  entityManagement: { class_uid: 3004, class_name: 'Entity Management', category_uid: 3, category_name: 'Identity & Access Management' },
  apiActivity: { class_uid: 6003, class_name: 'API Activity', category_uid: 6, category_name: 'Application Activity' },
} as const;
type ClassKey = keyof typeof CLASSES;

/** Activity captions per class (`activity_id` enums of OCSF 1.8.0); 99 is Other everywhere. */
const ACTIVITIES: Record<ClassKey, Record<number, string>> = {
  base: { 0: 'Unknown', 99: 'Other' },
  accountChange: { 1: 'Create', 2: 'Enable', 3: 'Password Change', 4: 'Password Reset', 5: 'Disable', 6: 'Delete', 9: 'Lock', 10: 'MFA Factor Enable', 11: 'MFA Factor Disable', 12: 'Unlock', 99: 'Other' },
  authentication: { 1: 'Logon', 2: 'Logoff', 6: 'Preauth', 99: 'Other' },
  entityManagement: { 1: 'Create', 2: 'Read', 3: 'Update', 4: 'Delete', 8: 'Enable', 9: 'Disable', 10: 'Activate', 11: 'Deactivate', 99: 'Other' },
  apiActivity: { 1: 'Create', 2: 'Read', 3: 'Update', 4: 'Delete', 99: 'Other' },
};

/** `auth_factor.factor_type_id` (OCSF dictionary): the factors Latchkey has. */
export const FACTORS = {
  passkey: { factor_type_id: 10, factor_type: 'WebAuthn' },
  password: { factor_type_id: 11, factor_type: 'Password' },
  totp: { factor_type_id: 7, factor_type: 'OTP', is_totp: true },
  email_code: { factor_type_id: 8, factor_type: 'Email' },
  recovery_code: { factor_type_id: 99, factor_type: 'Recovery Code' },
} as const;
export type Factor = keyof typeof FACTORS;

const SEVERITIES = { 1: 'Informational', 2: 'Low', 3: 'Medium', 4: 'High', 5: 'Critical' } as const;
type SeverityId = keyof typeof SEVERITIES;

interface Rule {
  class: ClassKey;
  activity: number;
  /** For activity 99 (Other): the activity_name. */
  name?: string;
  /** The factor(s) the event is about; a function when the event's data says which. */
  factors?: Factor | ((e: SealedEvent) => Factor | undefined);
  /** Severity of a success / of a failure (default 1 Informational / 2 Low). */
  severity?: SeverityId;
  failureSeverity?: SeverityId;
  /** Entity Management: the managed entity's type, and where its id is in `data`. */
  entity?: { type: string; idKey: string; nameKey?: string };
  /** Words for the README table. */
  note?: string;
}

/** A sign-in method as `session.created` and `session.stepped_up` record it. */
function methodFactor(e: SealedEvent): Factor | undefined {
  const data = e.event.data ?? {};
  const method = typeof data.method === 'string' ? data.method : undefined;
  if (method && method in FACTORS) return method as Factor;
  if (data.scope === 'recovery') return 'recovery_code';
  if (e.event.credentialId) return 'passkey';
  return undefined;
}

/**
 * Every audit event type and its OCSF class and activity. A `Record` over `AuditEventType`: a new
 * audit type does not compile until it is mapped here.
 */
export const OCSF_MAPPING: Record<AuditEventType, Rule> = {
  // Sign-in, sign-out, step-up, second factor: Authentication (3002).
  'session.created': { class: 'authentication', activity: 1, factors: methodFactor, note: 'the sign-in: one per new session, whatever the method (`data.method`; a passkey when a credential is named)' },
  'passkey.authenticated': { class: 'authentication', activity: 99, name: 'Passkey Verified', factors: 'passkey', note: 'the assertion check before the session (its Logon is the `session.created` of the same request)' },
  'passkey.authentication_failed': { class: 'authentication', activity: 1, factors: 'passkey' },
  'passkey.clone_suspected': { class: 'authentication', activity: 1, factors: 'passkey', failureSeverity: 4, note: 'signature counter did not grow (SEC-10)' },
  'password.failed': { class: 'authentication', activity: 1, factors: 'password' },
  'email_code.sent': { class: 'authentication', activity: 6, factors: 'email_code' },
  'email_code.failed': { class: 'authentication', activity: 1, factors: 'email_code' },
  'recovery_code.used': { class: 'authentication', activity: 99, name: 'Recovery Code Used', factors: 'recovery_code' },
  'recovery.failed': { class: 'authentication', activity: 1, factors: 'recovery_code', failureSeverity: 3 },
  'session.stepped_up': { class: 'authentication', activity: 99, name: 'Step-Up', factors: methodFactor, note: 'step-up or second factor' },
  'session.revoked': { class: 'authentication', activity: 2, note: 'sign-out, revoked by the user, support or a newer sign-in (`data.by`)' },
  'api_key.rejected': { class: 'authentication', activity: 1, failureSeverity: 3, note: 'a management API key refused (`user` is the key)' },
  'token.issued': { class: 'authentication', activity: 99, name: 'Token Issued' },
  'login_result.redeemed': { class: 'authentication', activity: 99, name: 'Login Result Redeemed', failureSeverity: 3 },
  // Factors and the account: Account Change (3001).
  'account.created': { class: 'accountChange', activity: 1 },
  'account.imported': { class: 'accountChange', activity: 1 },
  'signup.rate_limited': { class: 'accountChange', activity: 1 },
  'account.updated': { class: 'accountChange', activity: 99, name: 'Update' },
  'account.disabled': { class: 'accountChange', activity: 5, severity: 2 },
  'account.enabled': { class: 'accountChange', activity: 2 },
  'account.deleted': { class: 'accountChange', activity: 6, severity: 2 },
  'passkey.registered': { class: 'accountChange', activity: 10, factors: 'passkey' },
  'passkey.imported': { class: 'accountChange', activity: 10, factors: 'passkey' },
  'passkey.registration_failed': { class: 'accountChange', activity: 10, factors: 'passkey' },
  'passkey.registration_failures_summarized': { class: 'accountChange', activity: 10, factors: 'passkey', note: 'one a minute at most, with `count`' },
  'passkey.renamed': { class: 'accountChange', activity: 99, name: 'Rename Factor', factors: 'passkey' },
  'passkey.deleted': { class: 'accountChange', activity: 11, factors: 'passkey', severity: 2 },
  'password.changed': { class: 'accountChange', activity: 3, factors: 'password' },
  'totp.enrolment_started': { class: 'accountChange', activity: 99, name: 'MFA Factor Enrolment Started', factors: 'totp' },
  'totp.enrolled': { class: 'accountChange', activity: 10, factors: 'totp' },
  'totp.removed': { class: 'accountChange', activity: 11, factors: 'totp', severity: 2 },
  'recovery_codes.generated': { class: 'accountChange', activity: 10, factors: 'recovery_code' },
  'email.verified': { class: 'accountChange', activity: 10, factors: 'email_code' },
  'email.changed': { class: 'accountChange', activity: 99, name: 'Email Change', factors: 'email_code', severity: 2 },
  'recovery.started': { class: 'accountChange', activity: 99, name: 'Recovery Started', factors: 'recovery_code', severity: 2 },
  'account.recovered': { class: 'accountChange', activity: 99, name: 'Account Recovered', factors: 'passkey', severity: 3 },
  // Staff and the support console (issue 13): the actor is the staff member, the reason on the row.
  'staff.added': { class: 'accountChange', activity: 99, name: 'Staff Role Granted', severity: 3, note: 'the user became a staff member (`data.role`)' },
  'staff.role_changed': { class: 'accountChange', activity: 99, name: 'Staff Role Changed', severity: 3, note: '`data.from`, `data.to`' },
  'staff.removed': { class: 'accountChange', activity: 99, name: 'Staff Role Revoked', severity: 2 },
  'recovery.support_started': { class: 'accountChange', activity: 99, name: 'Recovery Started by Support', severity: 3, note: 'a one-time link or code (`data.method`)' },
  'lockout.lifted': { class: 'accountChange', activity: 12, severity: 2, note: 'support lifted the failure counters (`data.lifted`)' },
  // Management API objects that are not accounts (keys, tokens, A/B experiments): Entity Management (3004).
  'api_key.created': { class: 'entityManagement', activity: 1, severity: 2, entity: { type: 'API Key', idKey: 'keyId', nameKey: 'name' } },
  'api_key.revoked': { class: 'entityManagement', activity: 9, entity: { type: 'API Key', idKey: 'keyId' } },
  'append_token.issued': { class: 'entityManagement', activity: 1, entity: { type: 'Append Token', idKey: 'appendTokenId' } },
  'experiment.created': { class: 'entityManagement', activity: 1, entity: { type: 'Experiment', idKey: 'key' } },
  'experiment.started': { class: 'entityManagement', activity: 10, entity: { type: 'Experiment', idKey: 'key' } },
  'experiment.stopped': { class: 'entityManagement', activity: 11, entity: { type: 'Experiment', idKey: 'key' } },
  'rollout_rule.changed': { class: 'entityManagement', activity: 3, severity: 2, entity: { type: 'Rollout Rule', idKey: 'feature' }, note: 'rule before and after in `data` (a kill switch is `after.killSwitch`)' },
  'webhook_endpoint.created': { class: 'entityManagement', activity: 1, severity: 2, entity: { type: 'Webhook Endpoint', idKey: 'endpointId' } },
  'webhook_endpoint.updated': { class: 'entityManagement', activity: 3, entity: { type: 'Webhook Endpoint', idKey: 'endpointId' } },
  'webhook_endpoint.deleted': { class: 'entityManagement', activity: 4, entity: { type: 'Webhook Endpoint', idKey: 'endpointId' } },
  'webhook_endpoint.secret_rotated': { class: 'entityManagement', activity: 99, name: 'Secret Rotated', severity: 2, entity: { type: 'Webhook Endpoint', idKey: 'endpointId' } },
  'webhook_endpoint.disabled': { class: 'entityManagement', activity: 9, severity: 3, entity: { type: 'Webhook Endpoint', idKey: 'endpointId' }, note: 'by the server (actor system): 410 Gone or failing too long' },
  'webhook_endpoint.tested': { class: 'entityManagement', activity: 99, name: 'Test Sent', entity: { type: 'Webhook Endpoint', idKey: 'endpointId' } },
  'webhook_delivery.redelivered': { class: 'entityManagement', activity: 99, name: 'Redelivery Requested', entity: { type: 'Webhook Delivery', idKey: 'deliveryId' } },
  // Management API calls: API Activity (6003).
  'management.read': { class: 'apiActivity', activity: 2 },
  'analytics.exported': { class: 'apiActivity', activity: 2 },
  'authorization.denied': { class: 'apiActivity', activity: 99, name: 'Authorize', failureSeverity: 3 },
  // What the browser reported about a ceremony (telemetry): Base Event (0).
  'ceremony.reported': { class: 'base', activity: 99, name: 'Ceremony Reported' },
  'passkey.append_declined': { class: 'base', activity: 99, name: 'Passkey Prompt Declined', note: '"not now" to the append prompt (passkey intelligence)' },
};

/** Who acted, in OCSF `user.type_id` terms. */
const ACTOR_TYPES: Record<string, { type_id: number; type: string }> = {
  user: { type_id: 1, type: 'User' },
  staff: { type_id: 2, type: 'Admin' },
  api_key: { type_id: 4, type: 'Service' },
};

/** `os.type_id` from the parsed user agent's OS name. */
function osTypeId(name: string): number {
  const n = name.toLowerCase();
  if (n.startsWith('windows')) return 100;
  if (n.startsWith('android')) return 201;
  if (n.startsWith('ipados')) return 302;
  if (n.startsWith('ios')) return 301;
  if (n.startsWith('mac')) return 300;
  if (n.startsWith('linux') || n.startsWith('ubuntu') || n.startsWith('debian') || n.startsWith('fedora') || n.startsWith('chrom')) return 200;
  return 99;
}

export interface OcsfContext {
  /** Latchkey's version (metadata.product.version). */
  productVersion: string;
  /** The relying party: the service users authenticate to (Authentication `service`). */
  service: { name: string; uid: string };
  /** The subject's username, when the operator chose to export it (`LATCHKEY_SIEM_INCLUDE_USERNAME`). */
  userName?: string | undefined;
}

/** An OCSF event: a plain JSON object. */
export type OcsfEvent = Record<string, unknown> & {
  class_uid: number;
  activity_id: number;
  type_uid: number;
  severity_id: number;
  status_id: number;
  time: number;
  metadata: { uid: string; sequence: number } & Record<string, unknown>;
};

/**
 * A copy of `o` without its undefined members, in the same key order (a plain loop: the
 * `Object.fromEntries(Object.entries(o).filter(...))` it replaces cost ~9 µs per exported event).
 */
function withoutUndefined<T extends Record<string, unknown>>(o: T): T {
  const out: Record<string, unknown> = {};
  for (const key in o) {
    const value = o[key];
    if (value !== undefined) out[key] = value;
  }
  return out as T;
}

function strField(data: Record<string, unknown> | null, key: string | undefined): string | undefined {
  const v = key && data ? data[key] : undefined;
  return typeof v === 'string' ? v : undefined;
}

/** The rule of an audit type; an unknown type (a newer server's) maps to Base Event, activity Unknown. */
export function ruleOf(type: string): Rule {
  return (OCSF_MAPPING as Record<string, Rule>)[type] ?? { class: 'base', activity: 0 };
}

/** One sealed audit event as one OCSF event. */
export function toOcsf(sealed: SealedEvent, context: OcsfContext): OcsfEvent {
  return buildOcsf(sealed, context, withoutUndefined);
}

const asIs = <T>(o: T): T => o;

/**
 * The same event for `JSON.stringify` only: its objects may hold undefined members, which
 * JSON.stringify leaves out, so the JSON is byte for byte that of `toOcsf` without copying every
 * object of every exported event (the SIEM export; siem.ocsf.test.ts compares both).
 */
export function toOcsfForJson(sealed: SealedEvent, context: OcsfContext): OcsfEvent {
  return buildOcsf(sealed, context, asIs);
}

function buildOcsf(sealed: SealedEvent, context: OcsfContext, clean: <T extends Record<string, unknown>>(o: T) => T): OcsfEvent {
  const e = sealed.event;
  const rule = ruleOf(e.type);
  const cls = CLASSES[rule.class];
  const failed = e.outcome === 'failure';
  const severityId: SeverityId = failed ? (rule.failureSeverity ?? 2) : (rule.severity ?? 1);
  const factor = typeof rule.factors === 'function' ? rule.factors(sealed) : rule.factors;
  const data = e.data;
  const activityName = rule.name ?? ACTIVITIES[rule.class][rule.activity] ?? 'Unknown';

  const user = e.subjectUserId ? clean({ uid: e.subjectUserId, name: context.userName, type_id: 1, type: 'User' }) : undefined;
  const actorType = e.actor.kind ? (ACTOR_TYPES[e.actor.kind] ?? { type_id: 99, type: e.actor.kind }) : undefined;
  const actor =
    e.actor.kind === 'cli'
      ? { app_name: 'latchkey CLI' }
      : e.actor.kind === 'append_token'
        ? { app_name: 'Latchkey append token', app_uid: e.actor.id ?? undefined }
        : e.actor.kind && e.actor.id && actorType
          ? clean({
              user: clean({ uid: e.actor.id, type_id: actorType.type_id, type: actorType.type, name: e.actor.id === e.subjectUserId ? context.userName : undefined }),
              app_name: e.actor.kind === 'api_key' ? 'Latchkey management API' : undefined,
            })
          : undefined;

  const base: Record<string, unknown> = {
    ...cls,
    activity_id: rule.activity,
    activity_name: activityName,
    type_uid: cls.class_uid * 100 + rule.activity,
    type_name: `${cls.class_name}: ${activityName}`,
    severity_id: severityId,
    severity: SEVERITIES[severityId],
    status_id: failed ? 2 : 1,
    status: failed ? 'Failure' : 'Success',
    status_code: e.errorCode ?? undefined,
    status_detail: failed ? (sealed.reason ?? e.errorCode ?? undefined) : undefined,
    time: e.at,
    message: e.type,
    metadata: clean({
      version: OCSF_VERSION,
      product: { name: 'Latchkey', vendor_name: 'Latchkey', version: context.productVersion },
      log_name: 'audit',
      event_code: e.type,
      uid: e.id,
      sequence: sealed.seq,
      correlation_uid: e.requestId ?? undefined,
      logged_time: sealed.sealedAt,
    }),
    count: rule.class === 'accountChange' && typeof data?.count === 'number' ? data.count : undefined,
    actor,
    src_endpoint: e.ip || e.os ? clean({ ip: e.ip ?? undefined, os: e.os ? { name: e.os, type_id: osTypeId(e.os) } : undefined }) : undefined,
    unmapped: {
      latchkey: clean({
        type: e.type,
        chain: { seq: sealed.seq, hash: sealed.hash, prev_hash: sealed.prevHash },
        browser: e.browser ?? undefined,
        credential_id: e.credentialId ?? undefined,
        data: data ?? undefined,
      }),
    },
  };

  if (rule.class === 'authentication') {
    base.user = user ?? (e.type === 'api_key.rejected' && e.actor.id ? { uid: e.actor.id, type_id: 4, type: 'Service' } : { type_id: 0, type: 'Unknown' });
    base.service = context.service;
    base.session = e.sessionId ? { uid: e.sessionId } : undefined;
    if (factor) base.auth_factors = [FACTORS[factor]];
    base.is_mfa = isMfa(e.type, factor, data);
    if (e.type === 'session.created' && data?.scope && data.scope !== 'full') base.status_detail = `session scope ${String(data.scope)}`;
    if (e.type === 'session.revoked' && typeof data?.by === 'string') base.status_detail = `revoked by ${data.by}`;
  } else if (rule.class === 'accountChange') {
    base.user = user ?? { type_id: 0, type: 'Unknown' };
    if (factor) base.auth_factors = [FACTORS[factor]];
  } else if (rule.class === 'entityManagement' && rule.entity) {
    base.entity = clean({ type: rule.entity.type, uid: strField(data, rule.entity.idKey) ?? 'unknown', name: strField(data, rule.entity.nameKey) });
    base.user = user;
  } else if (rule.class === 'apiActivity') {
    const operation = strField(data, 'operation') ?? (typeof data?.scope === 'string' ? `authorize ${data.scope}` : e.type);
    base.api = { operation };
    base.user = user;
  } else {
    base.user = user;
  }
  return clean(base) as OcsfEvent;
}

/**
 * `is_mfa`: a passkey verified with user verification is two factors in one (possession and
 * inherence or knowledge); a TOTP is only ever a second factor here; a password, an e-mail code or
 * a recovery code alone is one. Undefined when the event does not say.
 */
function isMfa(type: string, factor: Factor | undefined, data: Record<string, unknown> | null): boolean | undefined {
  if (factor === 'passkey') return typeof data?.userVerified === 'boolean' ? data.userVerified : undefined;
  if (factor === 'totp') return true;
  if (type === 'session.created' && (factor === 'password' || factor === 'email_code' || factor === 'recovery_code')) return false;
  return undefined;
}

/** The README's mapping table (markdown), one row per audit event type. */
export function ocsfMappingTable(types: readonly string[]): string {
  const rows = types.map((type) => {
    const rule = ruleOf(type);
    const cls = CLASSES[rule.class];
    const activityName = rule.name ? `Other: ${rule.name}` : (ACTIVITIES[rule.class][rule.activity] ?? 'Unknown');
    const factor = typeof rule.factors === 'function' ? 'from `data.method`' : rule.factors ? `${FACTORS[rule.factors].factor_type} (${FACTORS[rule.factors].factor_type_id})` : '';
    const severity = `${SEVERITIES[rule.severity ?? 1]} / ${SEVERITIES[rule.failureSeverity ?? 2]}`;
    return `| \`${type}\` | ${cls.class_name} (${cls.class_uid}) | ${activityName} (${rule.activity}) | ${cls.class_uid * 100 + rule.activity} | ${factor} | ${severity} | ${rule.note ?? ''} |`;
  });
  return ['| audit event | OCSF class | activity | type_uid | auth_factors | severity (success / failure) | note |', '| --- | --- | --- | --- | --- | --- | --- |', ...rows].join('\n');
}
