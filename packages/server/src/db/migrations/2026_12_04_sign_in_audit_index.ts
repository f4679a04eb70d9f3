import type { Kysely } from 'kysely';

/**
 * Issue 9 (login regression): `audit_events_actor` (actor_kind, actor_id, created_at), added with
 * the actor columns in 2026_12_03_0100_mgmt, is read by no query, yet every sign-in paid for it:
 * its two audit rows land on the index page of their user, one more page in each sign-in's commit
 * (SQLite: 4 KB more WAL per login; `node bench/tools/micro-db.ts`). A query by actor should
 * come with its own index, best a partial one that leaves out `actor_kind = 'user'`, the rows
 * every sign-in writes.
 */
// biome-ignore lint/suspicious/noExplicitAny: migrations are frozen in time and typed Kysely<any>
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('audit_events_actor').ifExists().execute();
}

// biome-ignore lint/suspicious/noExplicitAny: see up()
export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.createIndex('audit_events_actor').ifNotExists().on('audit_events').columns(['actor_kind', 'actor_id', 'created_at']).execute();
}
