import { createPublicKey, type JsonWebKey } from 'node:crypto';
import { isoCBOR } from '@simplewebauthn/server/helpers';
import type { Kysely } from 'kysely';
import type { Database } from '../../db/database.ts';
import { fromBase64Url, toBase64Url } from '../../platform/encoding.ts';
import type { CredentialsTable } from './webauthn.tables.ts';

/** A passkey of an import line, checked: what `insertImportedPasskey` stores. */
export interface ImportedPasskey {
  id: string;
  publicKey: Uint8Array;
  signCount: number;
  aaguid: string;
  transports: string[];
  deviceType: 'singleDevice' | 'multiDevice';
  backedUp: boolean;
  uvInitialized: boolean;
  attestationFormat: string;
  name: string;
  createdAt: number;
  lastUsedAt: number | null;
}

const FIELDS = new Set(['id', 'publicKey', 'signCount', 'aaguid', 'transports', 'deviceType', 'backedUp', 'uvInitialized', 'attestationFormat', 'name', 'createdAt', 'lastUsedAt']);
const AAGUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const TRANSPORTS = new Set(['ble', 'cable', 'hybrid', 'internal', 'nfc', 'smart-card', 'usb']);
const b = (bytes: unknown) => (bytes instanceof Uint8Array ? toBase64Url(bytes) : undefined);

/**
 * The checks a stored COSE key must pass when it did not come out of a verified attestation:
 * canonical CBOR (re-encodes to the same bytes, nothing left over), an algorithm we offer (SEC-13:
 * EdDSA -8, ES256 -7, RS256 -257) with the key type and curve that go with it, and a key Node's
 * crypto accepts (an EC point must lie on P-256; RSA at least 2048 bits).
 */
export function checkCoseKey(bytes: Uint8Array): string | undefined {
  let key: Map<number, unknown>;
  try {
    key = isoCBOR.decodeFirst<Map<number, unknown>>(new Uint8Array(bytes));
    if (!(key instanceof Map)) return 'not a COSE key map';
    const again = isoCBOR.encode(key as never);
    if (again.length !== bytes.length || !again.every((v, i) => v === bytes[i])) return 'not canonical CBOR, or trailing bytes';
  } catch {
    return 'not CBOR';
  }
  const kty = key.get(1);
  const alg = key.get(3);
  let jwk: JsonWebKey;
  if (alg === -8 && kty === 1 && key.get(-1) === 6 && (key.get(-2) as Uint8Array | undefined)?.length === 32) {
    jwk = { kty: 'OKP', crv: 'Ed25519', x: b(key.get(-2)) };
  } else if (alg === -7 && kty === 2 && key.get(-1) === 1 && (key.get(-2) as Uint8Array | undefined)?.length === 32 && (key.get(-3) as Uint8Array | undefined)?.length === 32) {
    jwk = { kty: 'EC', crv: 'P-256', x: b(key.get(-2)), y: b(key.get(-3)) };
  } else if (alg === -257 && kty === 3 && ((key.get(-1) as Uint8Array | undefined)?.length ?? 0) >= 256 && key.get(-2) instanceof Uint8Array) {
    jwk = { kty: 'RSA', n: b(key.get(-1)), e: b(key.get(-2)) };
  } else {
    return 'not an EdDSA (Ed25519), ES256 (P-256) or RS256 (≥ 2048-bit) COSE key';
  }
  try {
    createPublicKey({ key: jwk, format: 'jwk' });
  } catch {
    return 'the key does not import (e.g. a point not on the curve)';
  }
  return undefined;
}

const isoTime = (value: unknown): number | undefined => (typeof value === 'string' && !Number.isNaN(Date.parse(value)) ? Date.parse(value) : undefined);

/** Validates one passkey of an import line (the export's shape); the problem names the field. */
export function parseImportedPasskey(input: unknown, now: number): { ok: true; passkey: ImportedPasskey } | { ok: false; problem: string } {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) return { ok: false, problem: 'must be an object' };
  const p = input as Record<string, unknown>;
  const unknown = Object.keys(p).find((k) => !FIELDS.has(k));
  if (unknown) return { ok: false, problem: `/${unknown.slice(0, 40)}: unknown field` };
  const id = typeof p.id === 'string' ? fromBase64Url(p.id) : undefined;
  // SEC-12: credential IDs are at most 1023 bytes.
  if (!id || id.length === 0 || id.length > 1023 || toBase64Url(id) !== p.id) return { ok: false, problem: '/id: must be a base64url credential ID of 1 to 1023 bytes' };
  const publicKey = typeof p.publicKey === 'string' && p.publicKey.length <= 2048 ? fromBase64Url(p.publicKey) : undefined;
  if (!publicKey) return { ok: false, problem: '/publicKey: must be a base64url COSE public key' };
  const keyProblem = checkCoseKey(publicKey);
  if (keyProblem) return { ok: false, problem: `/publicKey: ${keyProblem}` };
  const signCount = p.signCount ?? 0;
  if (!Number.isSafeInteger(signCount) || (signCount as number) < 0 || (signCount as number) > 0xffffffff) return { ok: false, problem: '/signCount: must be an integer from 0 to 2^32-1' };
  const aaguid = p.aaguid ?? '00000000-0000-0000-0000-000000000000';
  if (typeof aaguid !== 'string' || !AAGUID.test(aaguid)) return { ok: false, problem: '/aaguid: must be a lower-case UUID' };
  const transports = p.transports ?? [];
  if (!Array.isArray(transports) || transports.length > 8 || !transports.every((t) => typeof t === 'string' && TRANSPORTS.has(t))) {
    return { ok: false, problem: `/transports: must be a list of ${[...TRANSPORTS].join(', ')}` };
  }
  const deviceType = p.deviceType ?? 'singleDevice';
  if (deviceType !== 'singleDevice' && deviceType !== 'multiDevice') return { ok: false, problem: '/deviceType: must be singleDevice or multiDevice' };
  const backedUp = p.backedUp ?? false;
  if (typeof backedUp !== 'boolean') return { ok: false, problem: '/backedUp: must be a boolean' };
  // WebAuthn L3 §6.1.3: a backed-up credential is backup eligible (SEC-11).
  if (backedUp && deviceType !== 'multiDevice') return { ok: false, problem: '/backedUp: a single-device passkey cannot be backed up' };
  const uvInitialized = p.uvInitialized ?? false;
  if (typeof uvInitialized !== 'boolean') return { ok: false, problem: '/uvInitialized: must be a boolean' };
  const attestationFormat = p.attestationFormat ?? 'none';
  if (typeof attestationFormat !== 'string' || !/^[a-z0-9-]{1,32}$/.test(attestationFormat)) return { ok: false, problem: '/attestationFormat: must be a format name like "none"' };
  const name = typeof p.name === 'string' ? p.name.replace(/[\p{Cc}\p{Cf}]/gu, '').replace(/\s+/gu, ' ').trim().normalize('NFC') : 'Passkey';
  if (name.length === 0 || [...name].length > 64) return { ok: false, problem: '/name: must be 1 to 64 characters' };
  const createdAt = p.createdAt === undefined ? now : isoTime(p.createdAt);
  if (createdAt === undefined) return { ok: false, problem: '/createdAt: must be an ISO 8601 date-time' };
  const lastUsedAt = p.lastUsedAt === undefined || p.lastUsedAt === null ? null : isoTime(p.lastUsedAt);
  if (lastUsedAt === undefined) return { ok: false, problem: '/lastUsedAt: must be an ISO 8601 date-time or null' };
  return {
    ok: true,
    passkey: { id: p.id as string, publicKey, signCount: signCount as number, aaguid, transports: transports as string[], deviceType, backedUp, uvInitialized, attestationFormat, name, createdAt, lastUsedAt },
  };
}

/**
 * Stores an imported passkey for `userId`, never overwriting (SEC-12): 'inserted'; 'same' when
 * this user already has it (a re-run of the same import); 'taken' when another user has that ID.
 */
export async function insertImportedPasskey(db: Kysely<Database>, userId: string, p: ImportedPasskey): Promise<'inserted' | 'same' | 'taken'> {
  const row: CredentialsTable = {
    id: p.id,
    user_id: userId,
    public_key: p.publicKey,
    sign_count: p.signCount,
    aaguid: p.aaguid,
    transports: JSON.stringify(p.transports),
    device_type: p.deviceType,
    backed_up: p.backedUp ? 1 : 0,
    attestation_fmt: p.attestationFormat,
    uv_initialized: p.uvInitialized ? 1 : 0,
    name: p.name,
    created_at: p.createdAt,
    last_used_at: p.lastUsedAt,
    created_os: null,
    created_browser: null,
  };
  const result = await db.insertInto('credentials').values(row).onConflict((oc) => oc.column('id').doNothing()).executeTakeFirst();
  if (Number(result.numInsertedOrUpdatedRows ?? 0) === 1) return 'inserted';
  const owner = await db.selectFrom('credentials').select('user_id').where('id', '=', p.id).executeTakeFirst();
  return owner?.user_id === userId ? 'same' : 'taken';
}
