import type { Kysely } from 'kysely';
import type { Database } from '../../db/database.ts';
import type { ApiKeysTable } from './api-keys.tables.ts';

/** A stored key, secret hash included: only the service sees this; views drop the hash. */
export interface StoredApiKey {
  id: string;
  name: string;
  secretHash: string;
  scopes: string[];
  createdAt: number;
  createdBy: { kind: string; id: string | null };
  expiresAt: number | null;
  lastUsedAt: number | null;
  revokedAt: number | null;
}

function toStored(row: ApiKeysTable): StoredApiKey {
  return {
    id: row.id,
    name: row.name,
    secretHash: row.secret_hash,
    scopes: JSON.parse(row.scopes) as string[],
    createdAt: Number(row.created_at),
    createdBy: { kind: row.created_by_kind, id: row.created_by_id },
    expiresAt: row.expires_at === null ? null : Number(row.expires_at),
    lastUsedAt: row.last_used_at === null ? null : Number(row.last_used_at),
    revokedAt: row.revoked_at === null ? null : Number(row.revoked_at),
  };
}

export function createApiKeysRepository() {
  return {
    async insert(db: Kysely<Database>, row: ApiKeysTable): Promise<void> {
      await db.insertInto('api_keys').values(row).execute();
    },
    async findById(db: Kysely<Database>, id: string): Promise<StoredApiKey | undefined> {
      const row = await db.selectFrom('api_keys').selectAll().where('id', '=', id).executeTakeFirst();
      return row && toStored(row);
    },
    /** Newest first; a deployment has a handful of keys, so there is no paging. */
    async list(db: Kysely<Database>): Promise<StoredApiKey[]> {
      const rows = await db.selectFrom('api_keys').selectAll().orderBy('created_at', 'desc').orderBy('id').limit(1000).execute();
      return rows.map(toStored);
    },
    /** True when this call revoked it (false: unknown or revoked before). */
    async revoke(db: Kysely<Database>, id: string, now: number): Promise<boolean> {
      const result = await db.updateTable('api_keys').set({ revoked_at: now }).where('id', '=', id).where('revoked_at', 'is', null).executeTakeFirst();
      return Number(result.numUpdatedRows) === 1;
    },
    /** Last use, written at most once per `minGapMs` per key: concurrent requests race to one write. */
    async touch(db: Kysely<Database>, id: string, now: number, minGapMs: number): Promise<void> {
      await db
        .updateTable('api_keys')
        .set({ last_used_at: now })
        .where('id', '=', id)
        .where((eb) => eb.or([eb('last_used_at', 'is', null), eb('last_used_at', '<=', now - minGapMs)]))
        .execute();
    },
  };
}

export type ApiKeysRepository = ReturnType<typeof createApiKeysRepository>;
