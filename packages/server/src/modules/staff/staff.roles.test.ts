import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { ALL_SCOPES, STAFF_ONLY_SCOPES, parseScopes } from '../api-keys/api-keys.module.ts';
import { rolesTable } from './staff.docs.ts';
import { ROLE_DEFINITIONS, STAFF_ROLES } from './staff.roles.ts';

describe('staff roles', () => {
  test('the README roles table is the one generated from staff.roles.ts', () => {
    const readme = readFileSync(new URL('../../../../../README.md', import.meta.url), 'utf8');
    assert.ok(
      readme.includes(rolesTable()),
      'README.md is out of date: paste the output of `node packages/server/src/modules/staff/staff.docs.ts` into its "Staff and the support console" section',
    );
  });
  test('admin holds every scope; every role can open the console; only known scopes', () => {
    assert.deepEqual([...ROLE_DEFINITIONS.admin.scopes].sort(), [...ALL_SCOPES].sort());
    for (const role of STAFF_ROLES) {
      assert.ok(ROLE_DEFINITIONS[role].scopes.includes('console:access'), role);
      for (const scope of ROLE_DEFINITIONS[role].scopes) assert.ok(ALL_SCOPES.includes(scope), `${role}: ${scope}`);
    }
  });
  test('a key cannot hold a staff-only scope', () => {
    for (const scope of STAFF_ONLY_SCOPES) {
      const parsed = parseScopes([scope]);
      assert.ok(!parsed.ok && /staff roles only/.test(parsed.problem), scope);
    }
  });
});
