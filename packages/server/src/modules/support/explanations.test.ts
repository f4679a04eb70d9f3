// app.ts first: it imports every module, so every module's error codes are registered.
import '../../app.ts';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { registeredErrors } from '../../errors/app-error.ts';
import { AuditEventTypes } from '../audit/audit.module.ts';
import { CLIENT_EXPLANATIONS, ERROR_CODE_EXPLANATIONS, LANGUAGES, REASON_EXPLANATIONS, allExplanations, explainEvent, explanationsMarkdown } from './explanations.ts';
import { EVENT_TITLES, eventTitle } from './titles.ts';

const failure = (fields: { type?: string; errorCode?: string | null; reason?: string | null; data?: Record<string, unknown> | null }) => ({
  type: 'passkey.authentication_failed',
  outcome: 'failure' as const,
  errorCode: null,
  reason: null,
  data: null,
  ...fields,
});

describe('failure explanations', () => {
  test('every registered error code has an explanation (a new code cannot be forgotten)', () => {
    const missing = [...registeredErrors().keys()].filter((code) => !Object.hasOwn(ERROR_CODE_EXPLANATIONS, code));
    assert.deepEqual(missing, [], `add these codes to ERROR_CODE_EXPLANATIONS in src/modules/support/explanations.ts: ${missing.join(', ')}`);
    const stale = Object.keys(ERROR_CODE_EXPLANATIONS).filter((code) => !registeredErrors().has(code));
    assert.deepEqual(stale, [], 'explanations of codes that no longer exist');
  });

  test('every explanation has a meaning and a message for the user in English and German', () => {
    for (const [key, e] of allExplanations()) {
      for (const language of LANGUAGES) {
        assert.ok(e.meaning[language].length > 10, `${key} meaning ${language}`);
        assert.ok(e.tellUser[language].length > 10, `${key} tellUser ${language}`);
      }
      assert.notEqual(e.meaning.en, e.meaning.de, `${key}: the German text is not the English one`);
    }
  });

  test('the WebAuthn DOMException names the elements report are covered', () => {
    for (const name of ['NotAllowedError', 'AbortError', 'InvalidStateError', 'SecurityError', 'NotSupportedError', 'ConstraintError', 'UnknownError']) {
      assert.ok(Object.hasOwn(CLIENT_EXPLANATIONS, name), name);
    }
  });

  test('a NotAllowedError is a cancel before the timeout and a time-out after it', () => {
    const report = (data: Record<string, unknown>) => explainEvent(failure({ type: 'ceremony.reported', data }));
    assert.equal(report({ ceremony: 'authentication', outcome: 'cancelled' })?.key, 'client:cancelled');
    assert.match(report({ ceremony: 'authentication', outcome: 'cancelled' })?.meaning ?? '', /cancelled/);
    assert.equal(report({ ceremony: 'authentication', outcome: 'timed_out' })?.key, 'client:timed_out');
    assert.equal(report({ ceremony: 'registration', outcome: 'error', errorName: 'InvalidStateError' })?.key, 'client:InvalidStateError');
    assert.equal(report({ ceremony: 'registration', outcome: 'error', errorName: 'SecurityError' })?.severity, 'warning');
    assert.equal(explainEvent({ ...failure({ type: 'ceremony.reported', data: { outcome: 'started' } }), outcome: 'success' }), undefined);
  });

  test('verification failures are explained by their reason, more precisely than the public code', () => {
    const why = (reason: string, errorCode = 'verification_failed') => explainEvent(failure({ errorCode, reason }));
    assert.equal(why('Unexpected authentication response origin "https://evil.example", expected "https://shop.example"')?.key, 'reason:origin_mismatch');
    assert.match(why('Unexpected authentication response origin "x", expected "y"')?.meaning ?? '', /phishing/i);
    assert.equal(why('Unexpected RP ID hash')?.key, 'reason:rp_id_mismatch');
    assert.equal(why('User verification required, but user could not be verified')?.key, 'reason:user_verification_missing');
    assert.equal(why('counter did not increase (stored 7, got 3)')?.key, 'reason:counter_went_backwards');
    assert.equal(why('counter did not increase (stored 7, got 3)')?.severity, 'danger');
    assert.match(why('counter did not increase (stored 7, got 3)')?.tellUser ?? '', /[Rr]emove/);
    assert.equal(why('challenge expired', 'challenge_invalid')?.key, 'reason:challenge_expired');
    assert.equal(why('unknown or already used challenge', 'challenge_invalid')?.key, 'reason:challenge_used');
    assert.equal(why('unknown credential')?.key, 'reason:unknown_credential');
    assert.match(why('unknown credential')?.tellUser ?? '', /Signal API/);
    assert.equal(why('cross-origin ceremonies are not allowed')?.key, 'reason:cross_origin');
    assert.equal(why('library did not verify the response')?.key, 'reason:bad_signature');
    assert.equal(why('something nobody foresaw')?.key, 'code:verification_failed', 'an unknown reason falls back to the code');
    assert.equal(explainEvent(failure({ type: 'passkey.clone_suspected', errorCode: 'verification_failed' }))?.key, 'reason:counter_went_backwards');
    assert.equal(explainEvent(failure({ type: 'password.failed', errorCode: 'invalid_credentials' }))?.key, 'code:invalid_credentials');
    assert.ok(REASON_EXPLANATIONS.length >= 10);
  });

  test('explanations come in German on request', () => {
    const de = explainEvent(failure({ errorCode: 'verification_failed', reason: 'Unexpected authentication response origin "a", expected "b"' }), 'de');
    assert.match(de?.meaning ?? '', /Phishing/);
  });

  test('every audit event type has a title in both languages', () => {
    for (const type of AuditEventTypes) for (const language of LANGUAGES) assert.ok(EVENT_TITLES[type]?.[language], `${type} ${language}`);
    assert.equal(eventTitle('ceremony.reported', { ceremony: 'authentication', outcome: 'timed_out' }, 'en'), 'Passkey sign-in timed out in the browser');
    assert.equal(eventTitle('ceremony.reported', { ceremony: 'authentication', outcome: 'cancelled' }, 'de'), 'Passkey-Anmeldung im Browser abgebrochen');
  });

  test('the README section "What each failure means" is the one generated from the table', () => {
    const readme = readFileSync(new URL('../../../../../README.md', import.meta.url), 'utf8');
    assert.ok(
      readme.includes(explanationsMarkdown()),
      'README.md is out of date: paste the output of `node packages/server/src/modules/support/explanations-docs.ts` into its section "What each failure means"',
    );
  });
});
