import { sql, type Kysely } from 'kysely';
import { dialectOf } from '../columns.ts';

/**
 * Issue 13 (support console): indexes for finding users as you type and for the auditors' search.
 * - Username prefixes are range scans (`username_key >= p AND < p || U+10FFFF`). SQLite's unique
 *   index on username_key (BINARY collation) serves them as is; PostgreSQL's serves them only in
 *   code point order, so it gets an index on `username_key COLLATE "C"` that the query names.
 * - The audit search filters by event type across all users, newest first.
 */
// biome-ignore lint/suspicious/noExplicitAny: migrations are frozen in time and typed Kysely<any>
export async function up(db: Kysely<any>): Promise<void> {
  if (dialectOf(db) === 'postgres') await sql`CREATE INDEX users_username_key_c ON users (username_key COLLATE "C")`.execute(db);
  await db.schema.createIndex('audit_events_type_created_at').on('audit_events').columns(['type', 'created_at']).execute();
}

// biome-ignore lint/suspicious/noExplicitAny: see up()
export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('audit_events_type_created_at').ifExists().execute();
  if (dialectOf(db) === 'postgres') await db.schema.dropIndex('users_username_key_c').ifExists().execute();
}
