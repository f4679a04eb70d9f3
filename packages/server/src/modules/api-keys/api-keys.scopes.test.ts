import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ALL_SCOPES, parseScopes } from './api-keys.scopes.ts';

describe('parseScopes', () => {
  test('trims, drops empties and duplicates, keeps the order', () => {
    assert.deepEqual(parseScopes([' users:read', 'users:write ', '', 'users:read']), { ok: true, scopes: ['users:read', 'users:write'] });
  });
  test('an unknown scope or none at all is refused, naming the problem', () => {
    const unknown = parseScopes(['users:read', 'users:*']);
    assert.ok(!unknown.ok && /unknown scope "users:\*"/.test(unknown.problem));
    const none = parseScopes(['', ' ']);
    assert.ok(!none.ok && /at least one/.test(none.problem));
    assert.ok(!parseScopes(['__proto__']).ok, 'only own keys of the scope table count');
    assert.ok(!parseScopes(['toString']).ok);
  });
  test('the scopes the issue asks for exist', () => {
    for (const s of ['users:read', 'users:write', 'users:delete', 'sessions:write', 'audit:read', 'api_keys:manage', 'tokens:issue', 'append_tokens:issue']) assert.ok(ALL_SCOPES.includes(s as never), s);
  });
});
