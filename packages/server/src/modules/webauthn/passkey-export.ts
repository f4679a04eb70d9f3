import type { Kysely } from 'kysely';
import type { Database } from '../../db/database.ts';
import { toBase64Url } from '../../platform/encoding.ts';

/**
 * A passkey as it leaves in a user export (issue 11): everything needed to verify it elsewhere
 * (the COSE public key, counter, backup state) and nothing secret, since a passkey has no
 * server-side secret. Binary values are base64url.
 */
export interface ExportedPasskey {
  id: string;
  publicKey: string;
  signCount: number;
  aaguid: string;
  transports: string[];
  deviceType: 'singleDevice' | 'multiDevice';
  backedUp: boolean;
  uvInitialized: boolean;
  attestationFormat: string;
  name: string;
  createdAt: string;
  lastUsedAt: string | null;
}

/** The passkeys of a batch of users (one query), grouped by user id. */
export async function exportPasskeys(db: Kysely<Database>, userIds: readonly string[]): Promise<Map<string, ExportedPasskey[]>> {
  const byUser = new Map<string, ExportedPasskey[]>();
  if (userIds.length === 0) return byUser;
  const rows = await db
    .selectFrom('credentials')
    .select(['id', 'user_id', 'public_key', 'sign_count', 'aaguid', 'transports', 'device_type', 'backed_up', 'uv_initialized', 'attestation_fmt', 'name', 'created_at', 'last_used_at'])
    .where('user_id', 'in', [...userIds])
    .orderBy('created_at')
    .orderBy('id')
    .execute();
  for (const r of rows) {
    const list = byUser.get(r.user_id) ?? [];
    list.push({
      id: r.id,
      publicKey: toBase64Url(r.public_key),
      signCount: Number(r.sign_count),
      aaguid: r.aaguid,
      transports: JSON.parse(r.transports) as string[],
      deviceType: r.device_type,
      backedUp: r.backed_up === 1,
      uvInitialized: r.uv_initialized === 1,
      attestationFormat: r.attestation_fmt,
      name: r.name,
      createdAt: new Date(Number(r.created_at)).toISOString(),
      lastUsedAt: r.last_used_at === null ? null : new Date(Number(r.last_used_at)).toISOString(),
    });
    byUser.set(r.user_id, list);
  }
  return byUser;
}
