import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loggableUrl } from './log-redaction.ts';

test('management lookups and searches keep their shape in logs, not the person they name', () => {
  assert.equal(loggableUrl('/api/admin/v1/users/by-email/kim%40example.com'), '/api/admin/v1/users/by-email/[redacted]');
  assert.equal(loggableUrl('/api/admin/v1/users/by-username/kim'), '/api/admin/v1/users/by-username/[redacted]');
  assert.equal(loggableUrl('/api/admin/v1/users/by-external-id/crm-42?x=1'), '/api/admin/v1/users/by-external-id/[redacted]?[redacted]');
  assert.equal(loggableUrl('/api/admin/v1/users?query=kim&limit=5'), '/api/admin/v1/users?[redacted]');
  assert.equal(loggableUrl('/api/v1/passkeys/abc'), '/api/v1/passkeys/abc', 'other URLs are logged as they are');
  assert.equal(loggableUrl('/healthz'), '/healthz');
});
