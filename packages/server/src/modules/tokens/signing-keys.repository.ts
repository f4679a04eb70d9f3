import type { Kysely } from 'kysely';
import type { Database } from '../../db/database.ts';
import type { ScheduledKey } from './key-schedule.ts';
import type { SigningKeysTable } from './tokens.tables.ts';

/** A stored signing key; the private half stays sealed until the service opens it. */
export interface StoredSigningKey extends ScheduledKey {
  alg: string;
  publicJwk: Record<string, unknown>;
  privateKeySealed: string;
}

const num = (v: number | string | null): number | null => (v === null ? null : Number(v));

function toStored(row: SigningKeysTable): StoredSigningKey {
  return {
    kid: row.kid,
    seq: Number(row.seq),
    alg: row.alg,
    publicJwk: JSON.parse(row.public_jwk) as Record<string, unknown>,
    privateKeySealed: row.private_key_sealed,
    createdAt: Number(row.created_at),
    activatedAt: Number(row.activated_at),
    retiredAt: num(row.retired_at),
    publishedUntil: num(row.published_until),
  };
}

export function createSigningKeysRepository() {
  return {
    /** Every key (a handful: one per rotation, kept as history), oldest first. */
    async list(db: Kysely<Database>): Promise<StoredSigningKey[]> {
      const rows = await db.selectFrom('signing_keys').selectAll().orderBy('seq').limit(10_000).execute();
      return rows.map(toStored);
    },
    /**
     * Adds the key with its `seq` unless another node already added that `seq`, and retires the
     * older keys still in service (in the same commit). False: another node won; reload.
     */
    async insertNext(db: Kysely<Database>, row: SigningKeysTable, retention: number): Promise<boolean> {
      return db.transaction().execute(async (trx) => {
        const result = await trx.insertInto('signing_keys').values(row).onConflict((oc) => oc.column('seq').doNothing()).executeTakeFirst();
        if (Number(result.numInsertedOrUpdatedRows ?? 0) !== 1) return false;
        await trx
          .updateTable('signing_keys')
          .set({ retired_at: row.activated_at, published_until: row.activated_at + retention })
          .where('seq', '<', row.seq)
          .where('retired_at', 'is', null)
          .execute();
        return true;
      });
    },
  };
}

export type SigningKeysRepository = ReturnType<typeof createSigningKeysRepository>;
