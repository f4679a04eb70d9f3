import type { Kysely } from 'kysely';
import type { Database } from '../../db/database.ts';

/** The cursors of the SIEM sinks; only the SIEM exporter queries `siem_cursors`. */
export interface SiemRepository {
  /** Creates the sink's row at `seq` unless it exists; returns the row's seq either way. */
  ensure(sink: string, seq: number, now: number): Promise<number>;
  /**
   * Takes or renews the lease of `sink` for `owner` until `until` (compare-and-set: only when free,
   * expired or already ours). Returns the cursor when we hold it, undefined when another node does.
   */
  lease(sink: string, owner: string, now: number, until: number): Promise<number | undefined>;
  /** Moves the cursor forward to `seq`, only while `owner` holds the lease; false when it lost it. */
  advance(sink: string, owner: string, seq: number, now: number): Promise<boolean>;
  /** Gives the lease up (on close), so another node or the next start takes over at once. */
  release(sink: string, owner: string): Promise<void>;
  /** The cursor (0 when the sink has no row). */
  cursor(sink: string): Promise<number>;
}

export function createSiemRepository(db: Kysely<Database>): SiemRepository {
  return {
    async ensure(sink, seq, now) {
      await db.insertInto('siem_cursors').values({ sink, seq, lease_owner: null, lease_until: 0, updated_at: now }).onConflict((oc) => oc.column('sink').doNothing()).execute();
      const row = await db.selectFrom('siem_cursors').select('seq').where('sink', '=', sink).executeTakeFirstOrThrow();
      return Number(row.seq);
    },

    async lease(sink, owner, now, until) {
      const row = await db
        .updateTable('siem_cursors')
        .set({ lease_owner: owner, lease_until: until })
        .where('sink', '=', sink)
        .where((eb) => eb.or([eb('lease_owner', 'is', null), eb('lease_owner', '=', owner), eb('lease_until', '<', now)]))
        .returning('seq')
        .executeTakeFirst();
      return row ? Number(row.seq) : undefined;
    },

    async advance(sink, owner, seq, now) {
      const result = await db
        .updateTable('siem_cursors')
        .set({ seq, updated_at: now })
        .where('sink', '=', sink)
        .where('lease_owner', '=', owner)
        .where('seq', '<', seq)
        .executeTakeFirst();
      return Number(result.numUpdatedRows) === 1;
    },

    async release(sink, owner) {
      await db.updateTable('siem_cursors').set({ lease_owner: null, lease_until: 0 }).where('sink', '=', sink).where('lease_owner', '=', owner).execute();
    },

    async cursor(sink) {
      const row = await db.selectFrom('siem_cursors').select('seq').where('sink', '=', sink).executeTakeFirst();
      return Number(row?.seq ?? 0);
    },
  };
}
