import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createTestApiKey } from '../helpers/api-keys.ts';
import { newAuthenticator, register, signUp } from '../helpers/flows.ts';
import { startMailbox, userWithEmail, type Mailbox } from '../helpers/mailbox.ts';
import { enrollTokenIn, enrollWithToken, makeStaff, runCli, signIn } from '../helpers/staff.ts';
import { TestClient, type TestResponse } from '../helpers/test-client.ts';
import { createTestDatabase, dialects, startTestServer, type TestServer } from '../helpers/test-server.ts';
import type { SoftAuthenticator } from '../../../testkit/src/index.ts';

const ADMIN = '/api/admin/v1';
const STEP_UP = '/api/v1/session/step-up';
const SIX_MINUTES = 6 * 60_000;
/** A secret in the configuration: GET /settings must never show it. */
const METRICS_TOKEN = 'metrics-canary-5f1d2c9a7b';

/** A mail's text as the user reads it (quoted-printable undone). */
function readable(raw: string): string {
  return raw.replace(/=\r\n/g, '').replace(/=([0-9A-F]{2})/g, (_m, hex: string) => String.fromCharCode(Number.parseInt(hex, 16)));
}

function assertProblem(r: TestResponse, status: number, code: string, label = ''): void {
  assert.equal(r.status, status, `${label} ${r.text}`);
  assert.equal(r.body.code, code, `${label} ${r.text}`);
}

for (const dialect of dialects) {
  describe(`staff actions: step-up, reasons, last admin, recovery, lockouts (${dialect})`, () => {
    let server: TestServer;
    let mailbox: Mailbox;
    let dropFresh: () => Promise<void>;
    let admin: TestClient;
    let adminId: string;
    let adminAuthenticator: SoftAuthenticator;
    let support: { client: TestClient; authenticator: SoftAuthenticator; userId: string };

    const auditRows = (requestId: string) => server.database.db.selectFrom('audit_events').selectAll().where('request_id', '=', requestId).orderBy('id').execute();
    const stepUp = async (client: TestClient, authenticator: SoftAuthenticator) => {
      const options = await client.post(`${STEP_UP}/options`, {});
      assert.equal(options.status, 200, options.text);
      const verify = await client.post(`${STEP_UP}/verify`, await authenticator.getAssertion(options.body));
      assert.equal(verify.status, 200, verify.text);
    };
    const reason = (text: string) => ({ headers: { 'latchkey-reason': encodeURIComponent(text) } });

    before(async () => {
      const fresh = await createTestDatabase(dialect);
      dropFresh = fresh.drop;
      const cli = await runCli(fresh.url, ['staff', 'add', '--username', 'act-admin', '--role', 'admin']);
      assert.equal(cli.code, 0, cli.stderr);
      mailbox = await startMailbox();
      server = await startTestServer(dialect, {
        config: { database: { url: fresh.url }, mail: { smtpUrl: mailbox.url, from: 'Latchkey <no-reply@example.test>' }, lockout: { freeFailures: 3, hardLimit: 10 }, metrics: { token: METRICS_TOKEN } },
      });
      admin = server.client();
      adminAuthenticator = newAuthenticator();
      await enrollWithToken(admin, adminAuthenticator, enrollTokenIn(cli.stdout));
      await signIn(admin, adminAuthenticator);
      adminId = (await admin.get(`${ADMIN}/me`)).body.userId;
      support = await makeStaff(server, admin, 'act-support', 'support');
    });
    after(async () => {
      await server.close();
      await mailbox.close();
      await dropFresh();
    });

    test('a destructive action needs a recent step-up and a reason; both land in the audit row with the staff member as actor', async () => {
      const victim = await signUp(server.client(), newAuthenticator(), 'act-victim');
      server.clock.advance(SIX_MINUTES);
      const me = await support.client.get(`${ADMIN}/me`);
      assert.equal(me.body.stepUpValidUntil, null, 'the console knows a step-up is due');
      assertProblem(await support.client.post(`${ADMIN}/users/${victim.user.id}/disable`, { reason: 'customer asked' }), 403, 'step_up_required');
      await stepUp(support.client, support.authenticator);
      assert.ok(Date.parse((await support.client.get(`${ADMIN}/me`)).body.stepUpValidUntil) > server.clock.now());
      assertProblem(await support.client.post(`${ADMIN}/users/${victim.user.id}/disable`, {}), 400, 'reason_required');
      assertProblem(await support.client.post(`${ADMIN}/users/${victim.user.id}/disable`, { reason: 'no' }), 400, 'reason_required', 'too short');
      assertProblem(await support.client.post(`${ADMIN}/users/${victim.user.id}/disable`, { reason: 'x'.repeat(501) }), 400, 'reason_required', 'too long');
      assertProblem(await support.client.delete(`${ADMIN}/users/${victim.user.id}/sessions`), 400, 'reason_required', 'DELETE without the header');
      assert.equal((await admin.get(`${ADMIN}/users/${victim.user.id}`)).body.status, 'active', 'nothing happened');

      const disabled = await support.client.post(`${ADMIN}/users/${victim.user.id}/disable`, { reason: 'Customer on the phone: laptop stolen' });
      assert.equal(disabled.status, 200, disabled.text);
      const rows = await auditRows(disabled.headers.get('x-request-id') ?? '');
      const event = rows.find((r) => r.type === 'account.disabled');
      assert.equal(event?.actor_kind, 'staff');
      assert.equal(event?.actor_id, support.userId);
      assert.equal(event?.subject_user_id, victim.user.id);
      assert.equal(event?.reason, 'Customer on the phone: laptop stolen');
      assert.ok(rows.filter((r) => r.type === 'session.revoked').every((r) => r.reason === 'Customer on the phone: laptop stolen'), 'every row of the action');

      const enabled = await support.client.delete(`${ADMIN}/users/${victim.user.id}/sessions`, reason('Ende: Gerät gefunden ✓'));
      assert.equal(enabled.status, 200, enabled.text);
      // The user's own timeline names the staff member and the reason.
      const timeline = await admin.get(`${ADMIN}/users/${victim.user.id}/audit-events?type=account.disabled`);
      assert.equal(timeline.body.events[0].actor.kind, 'staff');
      assert.equal(timeline.body.events[0].actor.id, support.userId);
      assert.equal(timeline.body.events[0].reason, 'Customer on the phone: laptop stolen');
    });

    test('an API key needs no step-up and no reason, but a reason it sends is audited', async () => {
      const victim = await signUp(server.client(), newAuthenticator(), 'act-key-victim');
      const key = await createTestApiKey(server, ['users:write']);
      const client = new TestClient(server.url, null);
      client.bearer = key.secret;
      assert.equal((await client.post(`${ADMIN}/users/${victim.user.id}/disable`)).status, 200);
      const enabled = await client.post(`${ADMIN}/users/${victim.user.id}/enable`, { reason: 'ticket 4711' });
      assert.equal(enabled.status, 200, enabled.text);
      const [row] = await auditRows(enabled.headers.get('x-request-id') ?? '');
      assert.equal(row?.actor_kind, 'api_key');
      assert.equal(row?.reason, 'ticket 4711');
    });

    test("support cannot touch a staff member's account: disabling or recovering the admin is 403; deletion and exports are not theirs", async () => {
      await stepUp(support.client, support.authenticator);
      const refused = await support.client.post(`${ADMIN}/users/${adminId}/disable`, { reason: 'take over' });
      assertProblem(refused, 403, 'staff_target_forbidden');
      const [denied] = await auditRows(refused.headers.get('x-request-id') ?? '');
      assert.equal(denied?.type, 'authorization.denied', 'the attempt is audited');
      assert.equal(denied?.actor_id, support.userId);
      assertProblem(await support.client.post(`${ADMIN}/users/${adminId}/recovery`, { method: 'code', reason: 'take over' }), 403, 'staff_target_forbidden');
      assertProblem(await support.client.patch(`${ADMIN}/users/${adminId}`, { email: 'evil@example.test' }), 403, 'staff_target_forbidden');
      assertProblem(await support.client.delete(`${ADMIN}/users/${adminId}/sessions`, reason('take over')), 403, 'staff_target_forbidden');
      assertProblem(await support.client.delete(`${ADMIN}/users/${support.userId}`, reason('x')), 403, 'insufficient_scope');
      assertProblem(await support.client.get(`${ADMIN}/users/export`), 403, 'insufficient_scope');
      assertProblem(await support.client.patch(`${ADMIN}/staff/${support.userId}`, { role: 'admin', reason: 'promote me' }), 403, 'insufficient_scope', 'no one raises their own role');
      assert.equal((await admin.get(`${ADMIN}/me`)).status, 200, 'the admin is untouched');
    });

    test("an API key without staff:manage cannot hand out a passkey for a staff member's account (append token by id or externalId)", async () => {
      const key = await createTestApiKey(server, ['users:write', 'append_tokens:issue']);
      const backend = new TestClient(server.url, null);
      backend.bearer = key.secret;
      const created = await backend.post(`${ADMIN}/users`, { username: 'act-ext-staff', externalId: 'ext-staff-1' });
      assert.equal(created.status, 201, created.text);
      await stepUp(admin, adminAuthenticator);
      const added = await admin.post(`${ADMIN}/staff`, { userId: created.body.id, role: 'support', reason: 'new hire' });
      assert.equal(added.status, 201, added.text);
      assert.match(added.body.enrollUrl, /^http:\/\/localhost:8080\/admin\/enroll#token=lk_append_/);
      assertProblem(await backend.post(`${ADMIN}/append-tokens`, { userId: created.body.id }), 403, 'staff_target_forbidden', 'by id');
      assertProblem(await backend.post(`${ADMIN}/append-tokens`, { externalId: 'ext-staff-1' }), 403, 'staff_target_forbidden', 'by externalId');
      assertProblem(await backend.post(`${ADMIN}/users/${created.body.id}/disable`, {}), 403, 'staff_target_forbidden', 'disable');
      const ordinary = await backend.post(`${ADMIN}/append-tokens`, { externalId: 'ext-ordinary-1', username: 'act-ext-ordinary' });
      assert.equal(ordinary.status, 201, ordinary.text);
    });

    test('the last admin cannot be demoted or removed; a role change counts on the very next request', async () => {
      await stepUp(admin, adminAuthenticator);
      assertProblem(await admin.patch(`${ADMIN}/staff/${adminId}`, { role: 'support', reason: 'step down' }), 409, 'last_admin');
      assertProblem(await admin.delete(`${ADMIN}/staff/${adminId}`, reason('leaving')), 409, 'last_admin');
      assertProblem(await admin.post(`${ADMIN}/users/${adminId}/disable`, { reason: 'oops' }), 409, 'last_admin', "the last admin's account cannot be disabled");
      assertProblem(await admin.delete(`${ADMIN}/users/${adminId}`, reason('oops')), 409, 'last_admin', '… nor deleted');
      const second = await makeStaff(server, admin, 'act-admin-2', 'admin');
      const demoted = await admin.patch(`${ADMIN}/staff/${adminId}`, { role: 'auditor', reason: 'hand over to act-admin-2' });
      assert.equal(demoted.status, 200, demoted.text);
      assert.equal(demoted.body.role, 'auditor');
      assertProblem(await admin.get(`${ADMIN}/api-keys`), 403, 'insufficient_scope', 'elevated access ended at once');
      assert.equal((await admin.get(`${ADMIN}/settings`)).status, 200, 'an auditor reads the settings');
      assertProblem(await second.client.delete(`${ADMIN}/staff/${second.userId}`, reason('leaving')), 409, 'last_admin');
      const restored = await second.client.patch(`${ADMIN}/staff/${adminId}`, { role: 'admin', reason: 'back from holiday' });
      assert.equal(restored.status, 200, restored.text);
      const [row] = (await auditRows(restored.headers.get('x-request-id') ?? '')).filter((r) => r.type === 'staff.role_changed');
      assert.deepEqual(JSON.parse(row?.data ?? '{}'), { from: 'auditor', to: 'admin' });
      assert.equal(row?.actor_id, second.userId);
      const staff = await admin.get(`${ADMIN}/staff`);
      assert.deepEqual(staff.body.items.map((m: { username: string; role: string }) => `${m.username}:${m.role}`).sort(), ['act-admin-2:admin', 'act-admin:admin', 'act-ext-staff:support', 'act-support:support']);
    });

    test('cookie-authenticated admin calls from another origin are refused (CSRF)', async () => {
      const victim = await signUp(server.client(), newAuthenticator(), 'act-csrf');
      const forged = await admin.post(`${ADMIN}/users/${victim.user.id}/disable`, { reason: 'forged' }, { headers: { origin: 'https://evil.example' } });
      assertProblem(forged, 403, 'origin_not_allowed');
      const crossSite = await admin.post(`${ADMIN}/users/${victim.user.id}/disable`, { reason: 'forged' }, { headers: { origin: '', 'sec-fetch-site': 'cross-site' } });
      assert.equal(crossSite.status, 403, crossSite.text);
      assert.equal((await admin.get(`${ADMIN}/users/${victim.user.id}`)).body.status, 'active');
    });

    test('recovery by code: support reads out a one-time code; the user gets a recovery session that can only enrol a passkey', async () => {
      const userAuthenticator = newAuthenticator();
      const victim = await signUp(server.client(), userAuthenticator, 'act-lost');
      await stepUp(support.client, support.authenticator);
      assertProblem(await support.client.post(`${ADMIN}/users/${victim.user.id}/recovery`, { method: 'email', reason: 'lost phone' }), 409, 'recovery_email_missing');
      const started = await support.client.post(`${ADMIN}/users/${victim.user.id}/recovery`, { method: 'code', reason: 'Lost phone, identity checked by callback' });
      assert.equal(started.status, 201, started.text);
      assert.match(started.body.code, /^[A-Z2-7]{4}-[A-Z2-7]{4}-[A-Z2-7]{4}$/);
      assert.equal(Date.parse(started.body.expiresAt) - server.clock.now(), 15 * 60_000);
      const stored = await server.database.db.selectFrom('support_recoveries').selectAll().where('user_id', '=', victim.user.id).execute();
      assert.ok(!JSON.stringify(stored).includes(started.body.code.replaceAll('-', '')), 'stored hashed');

      const device = server.client();
      assertProblem(await device.post('/api/v1/recovery/support', { code: 'AAAA-BBBB-CCCC' }), 401, 'support_code_invalid');
      const redeemed = await device.post('/api/v1/recovery/support', { code: started.body.code.toLowerCase().replaceAll('-', ' ') });
      assert.equal(redeemed.status, 200, redeemed.text);
      assert.equal(redeemed.body.session.scope, 'recovery');
      assert.equal(redeemed.body.user.id, victim.user.id);
      assertProblem(await device.get('/api/v1/passkeys'), 403, 'recovery_session_restricted');
      assertProblem(await server.client().post('/api/v1/recovery/support', { code: started.body.code }), 401, 'support_code_invalid', 'single use');
      const { verify } = await register(device, newAuthenticator(), {});
      assert.equal(verify.status, 200, verify.text);
      assert.equal((await device.get('/api/v1/session')).body.session.scope, 'full', 'enrolling the passkey ends the recovery');

      const timeline = await admin.get(`${ADMIN}/users/${victim.user.id}/audit-events`);
      const types = timeline.body.events.map((e: { type: string }) => e.type);
      assert.ok(types.includes('recovery.support_started') && types.includes('recovery.started'), types.join());
      const started_ = timeline.body.events.find((e: { type: string }) => e.type === 'recovery.support_started');
      assert.equal(started_.actor.kind, 'staff');
      assert.equal(started_.actor.id, support.userId);
      const [row] = (await auditRows(started.headers.get('x-request-id') ?? '')).filter((r) => r.type === 'recovery.support_started');
      assert.equal(row?.reason, 'Lost phone, identity checked by callback');
      assert.ok(!JSON.stringify(row).includes(started.body.code), 'the code is not in the audit log');
    });

    test('recovery by e-mail: a one-time link through the real mailbox; an expired one does not work', async () => {
      const { userId } = await userWithEmail(server, mailbox, 'act-mail', 'act-mail@example.test');
      await stepUp(support.client, support.authenticator);
      const started = await support.client.post(`${ADMIN}/users/${userId}/recovery`, { method: 'email', reason: 'Locked out, asked by e-mail' });
      assert.equal(started.status, 201, started.text);
      assert.equal(started.body.code, undefined, 'the link goes only to the mailbox');
      const mail = await mailbox.waitFor('act-mail@example.test', /support-code/);
      const link = /(http:\/\/localhost:8080\/)#support-code=(lk_recover_[A-Za-z0-9_-]{43})/.exec(readable(mail.raw));
      assert.ok(link?.[2], mail.raw);
      const device = server.client();
      const redeemed = await device.post('/api/v1/recovery/support', { code: link[2] });
      assert.equal(redeemed.status, 200, redeemed.text);
      assert.equal(redeemed.body.session.scope, 'recovery');

      const mailsBefore = mailbox.to('act-mail@example.test').length;
      const again = await support.client.post(`${ADMIN}/users/${userId}/recovery`, { method: 'email', reason: 'Second try' });
      assert.equal(again.status, 201);
      for (let i = 0; i < 250 && mailbox.to('act-mail@example.test').length === mailsBefore; i++) await new Promise((r) => setTimeout(r, 20));
      const second = mailbox.to('act-mail@example.test')[mailsBefore];
      assert.ok(second, 'a second mail');
      const token = /#support-code=(lk_recover_[A-Za-z0-9_-]{43})/.exec(readable(second.raw))?.[1];
      assert.ok(token && token !== link[2]);
      server.clock.advance(16 * 60_000);
      assertProblem(await server.client().post('/api/v1/recovery/support', { code: token }), 401, 'support_code_invalid', 'expired');
    });

    test("lift a lockout: support clears the address-wide e-mail-code lock and each client's delay", async () => {
      const { client: owner } = await userWithEmail(server, mailbox, 'act-locked', 'act-locked@example.test');
      server.clock.advance(61_000);
      for (let i = 0; i < 4; i++) {
        const stranger = server.client();
        const before = mailbox.codeCount('act-locked@example.test');
        assert.equal((await stranger.post('/api/v1/email-code/sign-in', { email: 'act-locked@example.test' })).status, 202);
        await mailbox.newCode('act-locked@example.test', before);
        for (let j = 0; j < 3; j++) await stranger.post('/api/v1/email-code/sign-in/verify', { code: '000000' });
      }
      const before = mailbox.codeCount('act-locked@example.test');
      assert.equal((await owner.post('/api/v1/email-code/sign-in', { email: 'act-locked@example.test' })).status, 202);
      const code = await mailbox.newCode('act-locked@example.test', before);
      assertProblem(await owner.post('/api/v1/email-code/sign-in/verify', { code }), 429, 'too_many_attempts', 'locked');
      const userId = (await admin.post(`${ADMIN}/users/lookup`, { username: 'act-locked' })).body.id;

      await stepUp(support.client, support.authenticator);
      assertProblem(await support.client.post(`${ADMIN}/users/${userId}/lockouts/lift`, {}), 400, 'reason_required');
      const lifted = await support.client.post(`${ADMIN}/users/${userId}/lockouts/lift`, { reason: 'Customer verified by phone' });
      assert.equal(lifted.status, 200, lifted.text);
      const account = lifted.body.lifted.find((l: { scope: string }) => l.scope === 'account');
      assert.deepEqual(account, { method: 'email_code', scope: 'account', failures: 10, locked: true });
      assert.ok(lifted.body.lifted.some((l: { scope: string }) => l.scope === 'client'));
      assert.equal((await owner.post('/api/v1/email-code/sign-in/verify', { code })).status, 200, 'the same code works once the lock is lifted');
      const [row] = (await auditRows(lifted.headers.get('x-request-id') ?? '')).filter((r) => r.type === 'lockout.lifted');
      assert.equal(row?.actor_kind, 'staff');
      assert.equal(row?.reason, 'Customer verified by phone');
      const nothing = await support.client.post(`${ADMIN}/users/${userId}/lockouts/lift`, { reason: 'again' });
      assert.deepEqual(nothing.body.lifted, []);
    });

    test('GET /settings: the effective configuration with secrets masked (admin and auditor only)', async () => {
      const settings = await admin.get(`${ADMIN}/settings`);
      assert.equal(settings.status, 200, settings.text);
      assert.equal(settings.body.lockout.hardLimit, 10);
      assert.equal(settings.body.mail.smtpUrl, server.config.mail.smtpUrl);
      assert.equal(settings.body.auth.stepUpMaxAgeSeconds, 300);
      assert.equal(settings.body.metrics.token, '***');
      assert.ok(!settings.text.includes(METRICS_TOKEN), 'no secret in the answer');
      assertProblem(await support.client.get(`${ADMIN}/settings`), 403, 'insufficient_scope');
    });
  });
}
