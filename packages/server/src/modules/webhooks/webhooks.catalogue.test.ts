import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AuditEventTypes } from '../audit/audit.module.ts';
import type { AuditRow } from '../audit/audit.module.ts';
import { toAuditRecord, type AuditRecord } from '../audit/audit.query.ts';
import { filterMatches, parseEventFilter, payloadOf, webhookTypeOf, WEBHOOK_EVENT_TYPES } from './webhooks.catalogue.ts';

/** An audit event as the chain hands it to the dispatcher. */
const row = (over: Partial<AuditRow>): AuditRecord => toAuditRecord({
  id: '0190a0b0-0000-7000-8000-000000000001',
  created_at: Date.UTC(2026, 11, 4, 10, 0, 0),
  type: 'session.created',
  outcome: 'success',
  actor_user_id: 'u1',
  actor_kind: 'user',
  actor_id: 'u1',
  subject_user_id: 'u1',
  credential_id: 'cred-1',
  session_id: 's1',
  error_code: null,
  reason: 'operator text',
  request_id: 'r1',
  ip: '203.0.113.7',
  user_agent: 'Mozilla/5.0 canary-agent',
  os: 'macOS',
  browser: 'Safari',
  device: 'desktop',
  data: null,
  ...over,
});

test('every mapped audit type exists, and every webhook type but the test event has a source', () => {
  const catalogue = Object.keys(WEBHOOK_EVENT_TYPES);
  for (const type of AuditEventTypes) {
    const mapped = webhookTypeOf(type);
    if (mapped) assert.ok(catalogue.includes(mapped), type);
  }
  // The test event is sent by hand, the summaries by the summary job (webhooks.summaries.ts).
  for (const type of catalogue.filter((t) => t !== 'webhook.test' && !t.endsWith('.summary'))) {
    assert.ok(AuditEventTypes.some((a) => webhookTypeOf(a) === type), `${type} has an audit source`);
  }
  assert.equal(webhookTypeOf('management.read'), undefined, 'reads never leave');
  assert.equal(webhookTypeOf('__proto__'), undefined);
});

test('payloads are minimal: ids, types, times, outcome; never an address, a user agent, a reason or free text (SEC-60)', () => {
  const body = payloadOf(row({ data: JSON.stringify({ method: 'password', email: 'ada@example.com' }) }), 'signin.succeeded');
  const parsed = JSON.parse(body);
  assert.deepEqual(parsed, {
    type: 'signin.succeeded',
    timestamp: '2026-12-04T10:00:00.000Z',
    data: { eventId: '0190a0b0-0000-7000-8000-000000000001', userId: 'u1', actor: { kind: 'user', id: 'u1' }, passkeyId: 'cred-1', sessionId: 's1', method: 'password' },
  });
  for (const leak of ['203.0.113.7', 'canary-agent', 'operator text', 'ada@example.com', 'Safari']) assert.ok(!body.includes(leak), leak);
  // The method of a success: data.method, else recovery for a recovery session, else passkey when a credential is named.
  assert.equal(JSON.parse(payloadOf(row({ data: JSON.stringify({ scope: 'recovery' }), credential_id: null }), 'signin.succeeded')).data.method, 'recovery');
  assert.equal(JSON.parse(payloadOf(row({ data: null }), 'signin.succeeded')).data.method, 'passkey');
  assert.equal(JSON.parse(payloadOf(row({ data: null, credential_id: null }), 'signin.succeeded')).data.method, 'unknown');
  const failed = JSON.parse(payloadOf(row({ type: 'password.failed', outcome: 'failure', error_code: 'password_invalid', session_id: null }), 'signin.failed'));
  assert.equal(failed.data.method, 'password');
  assert.equal(failed.data.errorCode, 'password_invalid');
  const updated = JSON.parse(payloadOf(row({ type: 'account.updated', data: JSON.stringify({ fields: ['displayName'], displayName: 'Ada' }) }), 'user.updated'));
  assert.deepEqual(updated.data.fields, ['displayName']);
  assert.ok(!JSON.stringify(updated).includes('Ada'));
});

test('filters: exact types, prefix.* and *, validated against the catalogue', () => {
  assert.deepEqual(parseEventFilter(['passkey.*', ' user.created ', 'passkey.*']), { ok: true, filter: ['passkey.*', 'user.created'] });
  assert.equal(parseEventFilter(['nope.*']).ok, false);
  assert.equal(parseEventFilter(['user.create']).ok, false);
  assert.equal(parseEventFilter([]).ok, false);
  assert.ok(filterMatches(['passkey.*'], 'passkey.deleted'));
  assert.ok(!filterMatches(['passkey.*'], 'passkeys.x'));
  assert.ok(filterMatches(['*'], 'user.created'));
  assert.ok(!filterMatches(['*'], 'webhook.test'), 'the test event goes only where it is sent');
  assert.ok(!filterMatches(['*'], 'signin.failed.summary') && !filterMatches(['signin.*'], 'signin.failed.summary'), 'a summary goes where signinFailed asks for it');
  const summary = parseEventFilter(['signin.failed.summary']);
  assert.ok(!summary.ok && summary.problem.includes('signinFailed {"mode": "summary"}'), 'the summary is not subscribed to by name: the problem says how to get it');
  assert.ok(!filterMatches(['*'], 'signin.succeeded.summary') && !filterMatches(['signin.*'], 'signin.succeeded.summary'), 'a summary goes where signinSucceeded asks for it');
  const successes = parseEventFilter(['signin.succeeded.summary']);
  assert.ok(!successes.ok && successes.problem.includes('signinSucceeded {"mode": "summary"}'));
});

test('staff, support and configuration events leave with ids and identifiers only: no host, URL, rule or free text', () => {
  const staff = (type: string, data: Record<string, unknown>) => JSON.parse(payloadOf(row({ type, actor_kind: 'staff', actor_id: 'st1', credential_id: null, session_id: null, data: JSON.stringify(data) }), webhookTypeOf(type) as never)).data;
  assert.deepEqual(staff('staff.added', { role: 'support' }), { eventId: '0190a0b0-0000-7000-8000-000000000001', userId: 'u1', actor: { kind: 'staff', id: 'st1' }, role: 'support' });
  assert.deepEqual(staff('staff.role_changed', { from: 'support', to: 'admin' }).to, 'admin');
  assert.equal(staff('staff.removed', { role: 'auditor' }).role, 'auditor');
  assert.equal(staff('recovery.support_started', { method: 'link', supportRecoveryId: 'sr1', expiresAt: '2026-12-05T00:00:00Z' }).method, 'link');
  assert.ok(!('supportRecoveryId' in staff('recovery.support_started', { method: 'code', supportRecoveryId: 'sr1' })), 'not the id of the code');
  assert.deepEqual(staff('lockout.lifted', { lifted: ['password'] }), { eventId: '0190a0b0-0000-7000-8000-000000000001', userId: 'u1', actor: { kind: 'staff', id: 'st1' } });
  const created = staff('webhook_endpoint.created', { endpointId: 'e1', host: 'hooks.example.com', eventTypes: ['*'] });
  assert.deepEqual(Object.keys(created).sort(), ['actor', 'endpointId', 'eventId', 'userId'], 'the endpoint id, not its host or filter');
  assert.deepEqual(staff('webhook_endpoint.updated', { endpointId: 'e1', fields: ['url', 'eventTypes', 7], host: 'evil.example' }).fields, ['url', 'eventTypes']);
  assert.equal(staff('webhook_endpoint.secret_rotated', { endpointId: 'e1', previousSecretExpiresAt: 'x' }).endpointId, 'e1');
  const rollout = staff('rollout_rule.changed', { feature: 'conditional_ui', before: { percentage: 10 }, after: { percentage: 50, allow: ['ada'] } });
  assert.deepEqual(Object.keys(rollout).sort(), ['actor', 'eventId', 'feature', 'userId'], 'which feature, not the rule (its lists name users)');
  assert.deepEqual(staff('experiment.stopped', { key: 'append-copy', feature: 'append', winner: 'b' }), { eventId: '0190a0b0-0000-7000-8000-000000000001', userId: 'u1', actor: { kind: 'staff', id: 'st1' }, key: 'append-copy', feature: 'append', winner: 'b' });
  assert.equal(staff('experiment.stopped', { key: 'k', feature: 'append', winner: null }).winner, null);
  assert.equal(staff('experiment.started', { key: 'a key with spaces and <html>', feature: 'append' }).key, null, 'only identifiers pass');
  assert.deepEqual(staff('email.verified', { email: 'ada@example.com' }).fields, ['email']);
  assert.ok(!JSON.stringify(staff('email.verified', { email: 'ada@example.com' })).includes('ada@'));
});

test('the README lists every event type of the catalogue', async () => {
  const { readFileSync } = await import('node:fs');
  const readme = readFileSync(new URL('../../../../../README.md', import.meta.url), 'utf8');
  const section = readme.slice(readme.indexOf('### Events'), readme.indexOf('### Sign-ins: each'));
  // …and names every audit type that does not leave as a webhook, in its "Not sent" paragraph.
  const notSent = section.slice(section.indexOf('Not sent as webhooks'), section.indexOf('Payloads are minimal'));
  for (const type of AuditEventTypes.filter((t) => !webhookTypeOf(t))) assert.ok(notSent.includes(`\`${type}\``) || (type.endsWith('_summarized') && notSent.includes('tallies')), `${type} in README "Not sent as webhooks"`);
  for (const type of Object.keys(WEBHOOK_EVENT_TYPES)) assert.ok(section.includes(`| \`${type}\``) || section.includes(`, \`${type}\``), `${type} in the table of README "### Events"`);
});
