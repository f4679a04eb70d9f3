import type { Kysely } from 'kysely';
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
    async listForUser(db: Kysely<Database>, userId: string, limit: number): Promise<AuditRow[]> {
      return db.selectFrom('audit_events').selectAll().where('subject_user_id', '=', userId).orderBy('created_at', 'desc').limit(limit).execute();
    },
  };
}
