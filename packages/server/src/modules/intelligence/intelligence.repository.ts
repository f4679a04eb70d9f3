import type { Kysely } from 'kysely';
import type { Database } from '../../db/database.ts';
import { preparedQuery } from '../../db/prepared-query.ts';
import type { DeviceSignalsTable } from './intelligence.tables.ts';

export interface DeviceSignal {
  kind: 'success' | 'failure' | 'declined';
  ceremony: 'registration' | 'authentication' | null;
  credentialId: string | null;
  createdAt: number;
}

/** The newest signals of one device read per decision: at most this many (bounded, by index). */
export const SIGNALS_PER_DECISION = 50;

// Read on every decision: compiled once (db/prepared-query.ts).
const recentSignals = preparedQuery<{ deviceKey: string; since: number }, { kind: string; ceremony: string | null; credential_id: string | null; created_at: number }>((db, p) =>
  db
    .selectFrom('device_signals')
    .select(['kind', 'ceremony', 'credential_id', 'created_at'])
    .where('device_key', '=', p('deviceKey'))
    .where('created_at', '>', p('since'))
    .orderBy('created_at', 'desc')
    .limit(SIGNALS_PER_DECISION),
);

export function createIntelligenceRepository() {
  return {
    async insert(db: Kysely<Database>, row: DeviceSignalsTable): Promise<void> {
      await db.insertInto('device_signals').values(row).execute();
    },

    /** The device's newest signals since `since`, newest first (index device_key, created_at). */
    async recent(db: Kysely<Database>, deviceKey: string, since: number): Promise<DeviceSignal[]> {
      const rows = await recentSignals.rows(db, { deviceKey, since });
      return rows.map((r) => ({
        kind: r.kind === 'success' ? 'success' : r.kind === 'declined' ? 'declined' : 'failure',
        ceremony: r.ceremony === 'registration' ? 'registration' : r.ceremony === 'authentication' ? 'authentication' : null,
        credentialId: r.credential_id,
        createdAt: Number(r.created_at),
      }));
    },

    /** Whether the user said "not now" to the append prompt since `since` (index user_id, kind, created_at). */
    async declinedSince(db: Kysely<Database>, userId: string, since: number): Promise<boolean> {
      const row = await db
        .selectFrom('device_signals')
        .select('id')
        .where('user_id', '=', userId)
        .where('kind', '=', 'declined')
        .where('created_at', '>', since)
        .limit(1)
        .executeTakeFirst();
      return row !== undefined;
    },

    /** Distinct devices seen since `since` with what they last reported of themselves (for rollout previews). */
    async recentDevices(db: Kysely<Database>, since: number, limit: number): Promise<{ deviceKey: string; os: string | null; browser: string | null; platform: string | null }[]> {
      const rows = await db
        .selectFrom('device_signals')
        .select(['device_key', 'os', 'browser', 'platform'])
        .where('created_at', '>', since)
        .orderBy('created_at', 'desc')
        .limit(limit)
        .execute();
      const seen = new Map<string, { deviceKey: string; os: string | null; browser: string | null; platform: string | null }>();
      for (const r of rows) if (!seen.has(r.device_key)) seen.set(r.device_key, { deviceKey: r.device_key, os: r.os, browser: r.browser, platform: r.platform });
      return [...seen.values()];
    },

    async sweep(db: Kysely<Database>, before: number): Promise<number> {
      const result = await db.deleteFrom('device_signals').where('created_at', '<', before).executeTakeFirst();
      return Number(result.numDeletedRows);
    },
  };
}
