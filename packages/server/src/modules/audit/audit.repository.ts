import type { Kysely } from 'kysely';
import type { Database } from '../../db/database.ts';
import { preparedInsert } from '../../db/prepared-query.ts';
import type { AuditEventsTable } from './audit.tables.ts';

export type AuditRow = AuditEventsTable;

// Every state change writes one or two of these; compiled once per column set (db/prepared-query.ts).
const insertEvent = preparedInsert<AuditRow>('audit_events');

export function createAuditRepository() {
  return {
    /** `db` is the caller's transaction, so the audit row commits with the change it records. */
    async insert(db: Kysely<Database>, row: AuditRow): Promise<void> {
      await insertEvent(db, row);
    },
    async listForUser(db: Kysely<Database>, userId: string, limit: number): Promise<AuditRow[]> {
      return db.selectFrom('audit_events').selectAll().where('subject_user_id', '=', userId).orderBy('created_at', 'desc').limit(limit).execute();
    },
  };
}
