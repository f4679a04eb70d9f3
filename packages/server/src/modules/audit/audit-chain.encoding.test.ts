import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CANONICAL_V1_COLUMNS, canonicalEventV1, chainHash, GENESIS_HASH } from './audit-chain.encoding.ts';
import { checkpointMessage, createCheckpointSigner, verifyCheckpointSignature } from './audit-chain.keys.ts';
import type { AuditEventsTable } from './audit.tables.ts';

const event: AuditEventsTable = {
  id: '0193a1b2-0000-7000-8000-000000000001',
  created_at: 1_764_720_000_000,
  type: 'passkey.authenticated',
  outcome: 'success',
  actor_user_id: 'u1',
  actor_kind: 'user',
  actor_id: 'u1',
  subject_user_id: 'u1',
  credential_id: 'c1',
  session_id: null,
  error_code: null,
  reason: 'line\nbreak "quoted" é',
  request_id: 'r1',
  ip: '127.0.0.1',
  user_agent: null,
  os: 'macOS 10.15.7',
  browser: 'Chrome 131',
  device: 'desktop',
  data: '{"userVerified":true}',
};

test('canonical encoding v1: fixed key order, explicit nulls, integers as strings, data as its stored text', () => {
  assert.equal(
    canonicalEventV1(7, event),
    '{"v":1,"seq":"7","id":"0193a1b2-0000-7000-8000-000000000001","created_at":"1764720000000","type":"passkey.authenticated","outcome":"success",' +
      '"actor_user_id":"u1","actor_kind":"user","actor_id":"u1","subject_user_id":"u1","credential_id":"c1","session_id":null,"error_code":null,' +
      '"reason":"line\\nbreak \\"quoted\\" é","request_id":"r1","ip":"127.0.0.1","user_agent":null,"os":"macOS 10.15.7","browser":"Chrome 131",' +
      '"device":"desktop","data":"{\\"userVerified\\":true}"}',
  );
  // The same row read back with created_at as a bigint or a numeric string encodes the same.
  assert.equal(canonicalEventV1(7, { ...event, created_at: BigInt(event.created_at) as unknown as number }), canonicalEventV1(7, event));
});

test('canonical encoding v1: the same bytes as the reference (one JSON.stringify per key and value) for awkward values', () => {
  // The first implementation, kept as the definition the faster one must match byte for byte.
  const reference = (seq: number, e: AuditEventsTable) => {
    const integer = (v: unknown) => (typeof v === 'bigint' ? v : BigInt(Math.trunc(Number(v)))).toString(10);
    const parts = [`"v":1`, `"seq":${JSON.stringify(integer(seq))}`];
    for (const column of CANONICAL_V1_COLUMNS) {
      const value = e[column];
      const text = column === 'created_at' ? integer(value) : value === null || value === undefined ? null : String(value);
      parts.push(`${JSON.stringify(column)}:${text === null ? 'null' : JSON.stringify(text)}`);
    }
    return `{${parts.join(',')}}`;
  };
  const awkward: AuditEventsTable[] = [
    event,
    { ...event, created_at: -0, reason: 'lone \ud800 surrogate, NUL \u0000, DEL \u007f, U+2028 \u2028, tab\t', data: null },
    { ...event, created_at: 2 ** 60 as number, user_agent: '\\"</script>', session_id: '' },
    { ...event, created_at: '1764720000000' as unknown as number, ip: undefined as unknown as null },
  ];
  for (const seq of [1, 2 ** 40, Number.MAX_SAFE_INTEGER]) for (const e of awkward) assert.equal(canonicalEventV1(seq, e), reference(seq, e));
});

test('chain hash: SHA-256 over the previous hash bytes and the encoding; every column and the position count', () => {
  const h1 = chainHash(GENESIS_HASH, 1, event);
  assert.match(h1, /^[0-9a-f]{64}$/);
  // A fixed vector: a change to the encoding is a new version, never an edit of v1.
  const minimal = { ...event, id: 'e1', created_at: 1, type: 't', actor_user_id: null, actor_kind: null, actor_id: null, subject_user_id: null, credential_id: null, reason: null, request_id: null, ip: null, os: null, browser: null, device: null, data: null };
  assert.equal(chainHash(GENESIS_HASH, 1, minimal), '95f5e7bc5491678144568bb998f006e1b2ec9c3939bc4e2ec5a24a5b39bedec0');
  assert.notEqual(chainHash(GENESIS_HASH, 2, event), h1, 'seq is hashed');
  assert.notEqual(chainHash(h1, 1, event), h1, 'prev hash is hashed');
  for (const column of Object.keys(event) as (keyof AuditEventsTable)[]) {
    const changed = { ...event, [column]: column === 'created_at' ? event.created_at + 1 : event[column] === null ? '' : `${event[column]}x` };
    assert.notEqual(chainHash(GENESIS_HASH, 1, changed), h1, column);
  }
  assert.throws(() => chainHash(GENESIS_HASH, 1, event, 2), /version 2/);
});

test('checkpoint signatures: Ed25519 from a 32-byte seed, RFC 7638 kid, covering kind, seq, hash and time', () => {
  const signer = createCheckpointSigner(new Uint8Array(32).fill(7));
  assert.equal(createCheckpointSigner(new Uint8Array(32).fill(7)).jwk.x, signer.jwk.x, 'deterministic');
  assert.notEqual(createCheckpointSigner(new Uint8Array(32).fill(8)).jwk.kid, signer.jwk.kid);
  const checkpoint = { kind: 'periodic', seq: 42, hash: 'ab'.repeat(32), createdAt: 1_764_720_000_000 };
  assert.equal(checkpointMessage(checkpoint), `latchkey-audit-checkpoint/v1\nperiodic\n42\n${'ab'.repeat(32)}\n1764720000000`);
  const signature = signer.sign(checkpointMessage(checkpoint));
  assert.ok(verifyCheckpointSignature(signer.jwk, checkpointMessage(checkpoint), signature));
  for (const changed of [{ seq: 41 }, { kind: 'retention' }, { hash: 'cd'.repeat(32) }, { createdAt: 1 }]) {
    assert.ok(!verifyCheckpointSignature(signer.jwk, checkpointMessage({ ...checkpoint, ...changed }), signature), JSON.stringify(changed));
  }
  assert.throws(() => createCheckpointSigner(new Uint8Array(16)), /32 bytes/);
});
