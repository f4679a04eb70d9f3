import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { AuditEventTypes, type SealedEvent } from '../audit/audit.module.ts';
import type { AuditRecord } from '../audit/audit.module.ts';
import { OCSF_MAPPING, OCSF_VERSION, toOcsf, toOcsfForJson, type OcsfEvent } from './siem.ocsf.ts';

const context = { productVersion: '9.9.9', service: { name: 'Example', uid: 'example.com' } };

function sealed(event: Partial<AuditRecord> & { type: string }, extra: Partial<SealedEvent> = {}): SealedEvent {
  return {
    seq: 42,
    hash: 'a'.repeat(64),
    prevHash: 'b'.repeat(64),
    sealedAt: 1_764_720_001_000,
    reason: null,
    ...extra,
    event: {
      id: '0193a1b2-0000-7000-8000-000000000001',
      at: 1_764_720_000_000,
      outcome: 'success',
      actor: { kind: 'user', id: 'u1' },
      subjectUserId: 'u1',
      credentialId: null,
      sessionId: null,
      errorCode: null,
      reason: null,
      requestId: 'req-1',
      ip: '203.0.113.7',
      userAgent: null,
      os: 'Windows 10',
      browser: 'Chrome 131',
      device: null,
      data: null,
      ...event,
    },
  };
}

/**
 * The parts of the OCSF 1.8.0 schema this export uses (events/base_event.json, events/iam/*,
 * events/application/api_activity.json, dictionary.json): the attributes each class requires, the
 * activities it defines and the enums of the ids we set. An event that passes is valid OCSF as far
 * as those files say (SEC-53).
 */
const REQUIRED_BY_CLASS: Record<number, { category: number; activities: number[]; required: string[] }> = {
  0: { category: 0, activities: [0, 99], required: [] },
  3001: { category: 3, activities: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 99], required: ['user'] },
  3002: { category: 3, activities: [1, 2, 3, 4, 5, 6, 7, 99], required: ['user'] },
  3004: { category: 3, activities: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 99], required: ['entity'] },
  6003: { category: 6, activities: [1, 2, 3, 4, 99], required: ['actor', 'api', 'src_endpoint'] },
};
const FACTOR_TYPE_IDS = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 99];

function assertValidOcsf(e: OcsfEvent): void {
  for (const key of ['activity_id', 'category_uid', 'class_uid', 'metadata', 'severity_id', 'time', 'type_uid']) assert.ok(key in e, `base event requires ${key}`);
  const cls = REQUIRED_BY_CLASS[e.class_uid];
  assert.ok(cls, `known class ${e.class_uid}`);
  assert.equal(e.category_uid, cls.category);
  assert.ok(cls.activities.includes(e.activity_id), `activity ${e.activity_id} of class ${e.class_uid}`);
  assert.equal(e.type_uid, e.class_uid * 100 + e.activity_id, 'type_uid = class_uid * 100 + activity_id');
  for (const key of cls.required) assert.ok(e[key] !== undefined, `class ${e.class_uid} requires ${key}`);
  if (e.class_uid === 3002) assert.ok(e.service !== undefined || e.dst_endpoint !== undefined, 'Authentication: at least one of service, dst_endpoint');
  if (e.class_uid === 6003) assert.equal(typeof (e.api as { operation?: unknown }).operation, 'string', 'api.operation is required');
  assert.ok([0, 1, 2, 3, 4, 5, 6, 99].includes(e.severity_id));
  assert.ok([0, 1, 2, 99].includes(e.status_id));
  assert.equal(typeof e.time, 'number');
  const metadata = e.metadata as unknown as { version: string; product: Record<string, unknown> };
  assert.equal(metadata.version, OCSF_VERSION);
  assert.equal(metadata.product.name, 'Latchkey');
  for (const factor of (e.auth_factors as Array<{ factor_type_id: number }> | undefined) ?? []) assert.ok(FACTOR_TYPE_IDS.includes(factor.factor_type_id));
  const os = (e.src_endpoint as { os?: { name: string; type_id: number } } | undefined)?.os;
  if (os) assert.ok(os.name && typeof os.type_id === 'number', 'os requires name and type_id');
  // Whatever is set is JSON (no undefined, no functions) and small enough for one syslog message.
  assert.deepEqual(JSON.parse(JSON.stringify(e)), e);
}

describe('OCSF mapping', () => {
  test('every audit event type has its own rule and maps to a valid OCSF event, success and failure', () => {
    for (const type of AuditEventTypes) {
      assert.ok(type in OCSF_MAPPING, `${type} is mapped`);
      for (const outcome of ['success', 'failure'] as const) assertValidOcsf(toOcsf(sealed({ type, outcome, data: { count: 3, keyId: 'k1', operation: 'getUser' } }), context));
    }
  });

  test('the JSON the export writes (toOcsfForJson, undefined members left to JSON.stringify) is byte for byte that of toOcsf, whatever the event says', () => {
    const variants: Array<Partial<AuditRecord>> = [
      {},
      { subjectUserId: 'u1', actor: { kind: 'user', id: 'u1' }, credentialId: 'c1', sessionId: 's1', ip: '192.0.2.1', os: 'Windows 11', browser: 'Edge', requestId: 'r1', data: { method: 'passkey', userVerified: true, count: 2, keyId: 'k', name: 'n', endpointId: 'e', scope: 'recovery', by: 'user', operation: 'op' } },
      { outcome: 'failure', errorCode: 'verification_failed', reason: 'unknown credential', actor: { kind: 'api_key', id: 'k1' }, data: { scope: 'users:read' } },
      { actor: { kind: 'cli', id: null }, os: 'iPadOS' },
      { actor: { kind: 'append_token', id: 'at' }, subjectUserId: 'u2', data: { method: 'password', scope: 'second_factor' } },
      { actor: { kind: 'staff', id: 'u9' }, subjectUserId: 'u9', outcome: 'failure', data: { method: 'totp' } },
    ];
    let compared = 0;
    for (const type of [...AuditEventTypes, 'a.type.of.a.newer.server']) {
      for (const variant of variants) {
        for (const userName of [undefined, 'alice']) {
          const event = sealed({ type, ...variant }, { reason: variant.reason ?? null });
          assert.equal(JSON.stringify(toOcsfForJson(event, { ...context, userName })), JSON.stringify(toOcsf(event, { ...context, userName })), `${type} ${JSON.stringify(variant)}`);
          compared += 1;
        }
      }
    }
    assert.ok(compared > 500);
  });

  test('Authentication (3002): a passkey sign-in is a Logon with the WebAuthn factor, MFA when the user was verified', () => {
    const e = toOcsf(sealed({ type: 'session.created', credentialId: 'cred-1', sessionId: 's1', data: { method: 'passkey', userVerified: true } }), { ...context, userName: 'alice' });
    assert.equal(e.class_uid, 3002);
    assert.equal(e.category_uid, 3);
    assert.equal(e.activity_id, 1);
    assert.equal(e.type_uid, 300201);
    assert.equal(e.status_id, 1);
    assert.equal(e.severity_id, 1);
    assert.deepEqual(e.auth_factors, [{ factor_type_id: 10, factor_type: 'WebAuthn' }]);
    assert.equal(e.is_mfa, true);
    assert.deepEqual(e.user, { uid: 'u1', name: 'alice', type_id: 1, type: 'User' });
    assert.deepEqual(e.session, { uid: 's1' });
    assert.deepEqual(e.src_endpoint, { ip: '203.0.113.7', os: { name: 'Windows 10', type_id: 100 } });
    assert.equal(e.time, 1_764_720_000_000);
    assert.deepEqual(e.metadata, {
      version: '1.8.0',
      product: { name: 'Latchkey', vendor_name: 'Latchkey', version: '9.9.9' },
      log_name: 'audit',
      event_code: 'session.created',
      uid: '0193a1b2-0000-7000-8000-000000000001',
      sequence: 42,
      correlation_uid: 'req-1',
      logged_time: 1_764_720_001_000,
    });
    assert.deepEqual((e.unmapped as { latchkey: { chain: unknown } }).latchkey.chain, { seq: 42, hash: 'a'.repeat(64), prev_hash: 'b'.repeat(64) });
    assert.equal(toOcsf(sealed({ type: 'session.created', credentialId: 'cred-1', data: { method: 'passkey', userVerified: false } }), context).is_mfa, false);
  });

  test('Authentication (3002): failures carry status, code and detail; each factor has its OCSF factor type (SEC-53: 10/11/7/8)', () => {
    const failed = toOcsf(sealed({ type: 'passkey.authentication_failed', outcome: 'failure', errorCode: 'verification_failed' }, { reason: 'unknown credential' }), context);
    assert.equal(failed.type_uid, 300201);
    assert.equal(failed.status_id, 2);
    assert.equal(failed.status, 'Failure');
    assert.equal(failed.status_code, 'verification_failed');
    assert.equal(failed.status_detail, 'unknown credential');
    assert.equal(failed.severity_id, 2);
    assert.equal(toOcsf(sealed({ type: 'passkey.clone_suspected', outcome: 'failure', errorCode: 'verification_failed' }), context).severity_id, 4);
    const factor = (type: string, data: Record<string, unknown> | null = null) => (toOcsf(sealed({ type, data }), context).auth_factors as Array<{ factor_type_id: number }>)[0]?.factor_type_id;
    assert.equal(factor('password.failed'), 11);
    assert.equal(factor('session.created', { method: 'password' }), 11);
    assert.equal(factor('session.created', { method: 'email_code' }), 8);
    assert.equal(factor('session.stepped_up', { method: 'totp' }), 7);
    assert.equal(factor('email_code.failed'), 8);
    assert.equal(factor('recovery.failed'), 99);
    assert.equal(toOcsf(sealed({ type: 'session.created', data: { method: 'password', scope: 'second_factor' } }), context).is_mfa, false);
    assert.equal(toOcsf(sealed({ type: 'session.stepped_up', data: { method: 'totp' } }), context).is_mfa, true);
    const logoff = toOcsf(sealed({ type: 'session.revoked', sessionId: 's1', data: { by: 'sign_out_others' } }), context);
    assert.equal(logoff.type_uid, 300202);
    assert.equal(logoff.status_detail, 'revoked by sign_out_others');
  });

  test('Account Change (3001): passkey added / removed are MFA Factor Enable / Disable; an API key acting is the actor, not the user', () => {
    const added = toOcsf(sealed({ type: 'passkey.registered', credentialId: 'cred-1', data: { aaguid: 'x', userVerified: true } }), context);
    assert.equal(added.type_uid, 300110);
    assert.deepEqual(added.auth_factors, [{ factor_type_id: 10, factor_type: 'WebAuthn' }]);
    const removed = toOcsf(sealed({ type: 'passkey.deleted', credentialId: 'cred-1' }), context);
    assert.equal(removed.type_uid, 300111);
    assert.equal(toOcsf(sealed({ type: 'totp.enrolled' }), context).type_uid, 300110);
    assert.deepEqual(toOcsf(sealed({ type: 'totp.removed' }), context).auth_factors, [{ factor_type_id: 7, factor_type: 'OTP', is_totp: true }]);
    assert.equal(toOcsf(sealed({ type: 'password.changed' }), context).type_uid, 300103);
    const disabled = toOcsf(sealed({ type: 'account.disabled', actor: { kind: 'api_key', id: 'key-1' }, subjectUserId: 'u2' }), { ...context, userName: 'bob' });
    assert.equal(disabled.type_uid, 300105);
    assert.deepEqual(disabled.user, { uid: 'u2', name: 'bob', type_id: 1, type: 'User' });
    assert.deepEqual(disabled.actor, { user: { uid: 'key-1', type_id: 4, type: 'Service' }, app_name: 'Latchkey management API' });
    assert.equal(toOcsf(sealed({ type: 'account.deleted' }), context).type_uid, 300106);
    const summary = toOcsf(sealed({ type: 'passkey.registration_failures_summarized', outcome: 'failure', subjectUserId: null, actor: { kind: null, id: null }, data: { count: 17 } }), context);
    assert.equal(summary.count, 17);
    assert.deepEqual(summary.user, { type_id: 0, type: 'Unknown' });
  });

  test('Entity Management (3004) for API keys, API Activity (6003) for management reads and refusals, Base Event (0) for telemetry', () => {
    const key = toOcsf(sealed({ type: 'api_key.created', subjectUserId: null, actor: { kind: 'cli', id: null }, data: { keyId: 'k1', name: 'deploy', scopes: ['users:read'] } }), context);
    assert.equal(key.type_uid, 300401);
    assert.deepEqual(key.entity, { type: 'API Key', uid: 'k1', name: 'deploy' });
    assert.deepEqual(key.actor, { app_name: 'latchkey CLI' });
    const read = toOcsf(sealed({ type: 'management.read', subjectUserId: null, actor: { kind: 'api_key', id: 'k1' }, data: { operation: 'getUser', userId: 'u1' } }), context);
    assert.equal(read.type_uid, 600302);
    assert.deepEqual(read.api, { operation: 'getUser' });
    const denied = toOcsf(sealed({ type: 'authorization.denied', outcome: 'failure', errorCode: 'insufficient_scope', data: { scope: 'users:write' } }), context);
    assert.equal(denied.type_uid, 600399);
    assert.deepEqual(denied.api, { operation: 'authorize users:write' });
    assert.equal(denied.severity_id, 3);
    const reported = toOcsf(sealed({ type: 'ceremony.reported', data: { ceremony: 'authentication', outcome: 'cancelled' } }), context);
    assert.equal(reported.class_uid, 0);
    assert.equal(reported.type_uid, 99);
    // A type this version does not know (a newer node's) still goes out, as Base Event / Unknown.
    const unknown = toOcsf(sealed({ type: 'future.thing' }), context);
    assert.equal(unknown.class_uid, 0);
    assert.equal(unknown.activity_id, 0);
    assertValidOcsf(unknown);
  });
});
