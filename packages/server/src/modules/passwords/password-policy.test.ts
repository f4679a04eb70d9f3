import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { commonPasswords, passwordProblem } from './password-policy.ts';

const rules = { minLength: 15, contextWords: ['alice', 'Latchkey'] };

describe('password policy (SEC-41)', () => {
  test('length counts code points after NFKC; no composition rules', () => {
    assert.match(passwordProblem('short one', rules) ?? '', /at least 15/);
    assert.equal(passwordProblem('correct horse battery staple', rules), undefined, 'lower-case words only is fine');
    assert.equal(passwordProblem('😀🙂😎🤖🎉🔑🚀🌍🍕🎸📚🧩🦊🐙🌈', rules), undefined, '15 emoji are 15 characters');
    assert.match(passwordProblem('😀😀😀😀😀😀😀', rules) ?? '', /at least/, '7 emoji are 14 UTF-16 units but 7 characters');
    assert.equal(passwordProblem('x'.repeat(3) + 'y'.repeat(3) + 'qwzmvbnrtpkjlsd'.repeat(4), rules), undefined, '64 and more are accepted');
  });

  test('common passwords and near-copies of the username or service name are refused, case-insensitively', () => {
    assert.ok(commonPasswords().size > 2000, `${commonPasswords().size} entries`);
    assert.match(passwordProblem('Password123456', { ...rules, minLength: 8 }) ?? '', /common/);
    assert.match(passwordProblem('QWERTYUIOP', { ...rules, minLength: 8 }) ?? '', /common/);
    assert.match(passwordProblem('alice2026!', { ...rules, minLength: 8 }) ?? '', /username/);
    assert.match(passwordProblem('latchkey-secret', { ...rules, minLength: 8 }) ?? '', /username|service/);
    assert.match(passwordProblem('aaaaaaaaaaaaaaaaaaaaa', rules) ?? '', /repeats/);
  });
});
