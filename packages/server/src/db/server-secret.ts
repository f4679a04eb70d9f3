import type { Kysely } from 'kysely';
import type { Database } from './database.ts';
import { fromBase64Url, toBase64Url } from '../platform/encoding.ts';
import type { Random } from '../platform/random.ts';

/**
 * The secret for derived values. From config when set; otherwise generated once and kept in the
 * database, so every node of a cluster and every restart derives the same values.
 */
export async function loadServerSecret(db: Kysely<Database>, random: Random, configured: string | undefined): Promise<Uint8Array> {
  if (configured) return new TextEncoder().encode(configured);
  await db
    .insertInto('server_secrets')
    .values({ name: 'derivation_key', value: toBase64Url(random.bytes(32)) })
    .onConflict((oc) => oc.column('name').doNothing())
    .execute();
  const row = await db.selectFrom('server_secrets').select('value').where('name', '=', 'derivation_key').executeTakeFirstOrThrow();
  return fromBase64Url(row.value) ?? new TextEncoder().encode(row.value);
}
