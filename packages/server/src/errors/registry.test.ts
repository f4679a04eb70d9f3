// app.ts first: it imports every module, so every module's error codes are registered.
import '../app.ts';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, test } from 'node:test';
import { AppError, defineErrors, registeredErrors } from './app-error.ts';
import { toAppError } from './problem.ts';

/**
 * Every error code the API can answer with, and its status. Codes are API: clients switch on
 * them. A renamed, removed or re-statused code must fail this test; a new one must be added here
 * on purpose (and documented).
 */
const EXPECTED: [code: string, status: number][] = [
  ['invalid_request', 400],
  ['invalid_url', 400],
  ['uri_too_long', 414],
  ['headers_too_large', 431],
  ['request_timeout', 408],
  ['expectation_failed', 417],
  ['unsupported_media_type', 415],
  ['payload_too_large', 413],
  ['origin_not_allowed', 403],
  ['unauthorized', 401],
  ['not_found', 404],
  ['method_not_allowed', 405],
  ['rate_limited', 429],
  ['service_unavailable', 503],
  ['internal', 500],
  ['username_taken', 409],
  ['username_confusable', 409],
  ['username_invalid', 400],
  ['display_name_invalid', 400],
  ['signup_disabled', 403],
  ['invalid_response', 400],
  ['challenge_invalid', 400],
  ['registration_failed', 400],
  ['invalid_public_key', 400],
  ['invalid_attestation', 400],
  ['credential_exists', 409],
  ['verification_failed', 401],
  ['passkey_not_found', 404],
  ['session_not_found', 404],
  ['step_up_required', 403],
  ['recovery_session_restricted', 403],
  ['last_passkey', 409],
  ['email_taken', 409],
  ['email_invalid', 400],
  ['code_invalid', 401],
  ['too_many_attempts', 429],
  ['method_disabled', 403],
  ['recovery_failed', 401],
  ['second_factor_required', 403],
  ['second_factor_mismatch', 403],
  ['signed_in', 409],
  ['invalid_credentials', 401],
  ['password_rejected', 400],
  ['totp_invalid', 401],
  ['totp_not_enrolled', 409],
  ['external_id_taken', 409],
  ['api_key_invalid', 401],
  ['api_key_expired', 401],
  ['api_key_revoked', 401],
  ['insufficient_scope', 403],
  ['api_key_not_found', 404],
  ['import_invalid', 400],
  ['audience_not_allowed', 400],
  ['login_result_invalid', 400],
  ['login_result_used', 409],
  ['signing_key_unavailable', 503],
  ['analytics_range_invalid', 400],
  ['rollout_feature_unknown', 404],
  ['rollout_rule_invalid', 400],
  ['append_token_invalid', 401],
  ['user_disabled', 409],
  ['staff_passkey_required', 403],
  ['staff_session_expired', 401],
  ['reason_required', 400],
  ['staff_target_forbidden', 403],
  ['last_admin', 409],
  ['own_role_raise', 403],
  ['staff_not_found', 404],
  ['already_staff', 409],
  ['recovery_email_missing', 409],
  ['support_code_invalid', 401],
  ['experiment_not_found', 404],
  ['experiment_exists', 409],
  ['experiment_conflict', 409],
  ['experiment_state', 409],
  ['experiment_not_running', 409],
  ['variant_mismatch', 409],
  ['invalid_experiment', 400],
  ['webhook_url_invalid', 400],
  ['webhook_url_refused', 400],
  ['webhook_event_types_invalid', 400],
  ['webhook_signin_failed_invalid', 400],
  ['webhook_signin_succeeded_invalid', 400],
  ['webhook_endpoint_not_found', 404],
  ['webhook_delivery_not_found', 404],
  ['webhook_endpoint_disabled', 409],
];

describe('error registry', () => {
  test('the registered codes and statuses are exactly the snapshot', () => {
    const actual = [...registeredErrors()].map(([code, spec]) => [code, spec.status] as [string, number]);
    const byCode = (a: [string, number], b: [string, number]) => a[0].localeCompare(b[0]);
    assert.deepEqual([...actual].sort(byCode), [...EXPECTED].sort(byCode));
  });

  test('codes are snake_case, titles are present, statuses are 4xx/5xx', () => {
    for (const [code, spec] of registeredErrors()) {
      assert.match(code, /^[a-z]+(_[a-z]+)*$/, code);
      assert.ok(spec.title.length > 0 && spec.title.length <= 80, code);
      assert.ok(!spec.title.endsWith('.'), `${code}: a title, not a sentence`);
      assert.ok(spec.status >= 400 && spec.status <= 599, code);
    }
  });

  test('"unknown credential" and "bad signature" share one public code (SEC-20)', () => {
    const codes = [...registeredErrors().keys()];
    for (const forbidden of ['credential_not_found', 'unknown_credential', 'bad_signature', 'signature_invalid', 'user_not_found', 'unknown_user']) {
      assert.ok(!codes.includes(forbidden), `${forbidden} would tell an attacker which check failed`);
    }
  });

  test('every module\'s *.errors.ts is reached from app.ts', () => {
    const src = fileURLToPath(new URL('..', import.meta.url));
    const files = (readdirSync(src, { recursive: true }) as string[]).filter((f) => f.endsWith('.errors.ts'));
    assert.ok(files.length >= 4, files.join(', '));
    const registered = new Set(registeredErrors().keys());
    const declared = new Set<string>();
    for (const file of files) {
      const text = readFileSync(join(src, file), 'utf8');
      for (const [, code] of text.matchAll(/^\s{2}([a-z_]+): \{\s*status:/gm)) {
        declared.add(code as string);
        assert.ok(registered.has(code as string), `${code} from ${file} is registered when the app is built`);
      }
    }
    assert.deepEqual([...declared].sort(), [...registered].sort(), 'the scan found every declared code');
  });

  test('a code cannot be registered twice with another meaning; the same meaning is fine', () => {
    assert.throws(() => defineErrors({ not_found: { status: 400, title: 'Not found' } }), TypeError);
    assert.throws(() => defineErrors({ not_found: { status: 404, title: 'Gone' } }), TypeError);
    const again = defineErrors({ not_found: { status: 404, title: 'Not found' } });
    const error = again.not_found({ detail: 'x' });
    assert.ok(error instanceof AppError);
    assert.equal(error.status, 404);
    assert.equal(registeredErrors().get('not_found')?.status, 404);
  });

  test('unknown errors become a 500 "internal" that says nothing', () => {
    const error = toAppError(new Error('SELECT * FROM sessions WHERE token_hash = ...'));
    assert.equal(error.code, 'internal');
    assert.equal(error.status, 500);
    assert.equal(error.detail, undefined);
  });
});
