import { sql, type Kysely } from 'kysely';
import type { Database } from '../../db/database.ts';
import { preparedInsert, type BoundStatement } from '../../db/prepared-query.ts';
import type { AuditEventsTable } from './audit.tables.ts';

export type AuditRow = AuditEventsTable;

// Every state change writes one or two of these; compiled once per column set (db/prepared-query.ts).
const insertEvent = preparedInsert<AuditRow>('audit_events');

export function createAuditRepository() {
  return {
    /** Run it in the caller's transaction or batch, so the audit row commits with the change it records. */
    insert(row: AuditRow): BoundStatement {
      return insertEvent.with(row);
    },
    /**
     * Retention: moves the cutoff the append-only trigger allows deletes below (never back), then
     * deletes up to `chunk` of the oldest rows created before it. Returns how many went.
     */
    async deleteChunkOlderThan(db: Kysely<Database>, cutoff: number, chunk: number): Promise<number> {
      await db
        .updateTable('audit_retention')
        .set({ purge_before: sql<number>`CASE WHEN purge_before < ${cutoff} THEN ${cutoff} ELSE purge_before END` })
        .where('id', '=', 1)
        .execute();
      const oldest = db.selectFrom('audit_events').select('id').where('created_at', '<', cutoff).orderBy('created_at').limit(chunk);
      const result = await db.deleteFrom('audit_events').where('id', 'in', oldest).executeTakeFirst();
      return Number(result.numDeletedRows);
    },
    async listForUser(db: Kysely<Database>, userId: string, limit: number): Promise<AuditRow[]> {
      return db.selectFrom('audit_events').selectAll().where('subject_user_id', '=', userId).orderBy('created_at', 'desc').limit(limit).execute();
    },
  };
}
