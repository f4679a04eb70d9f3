import { sql, type Kysely } from 'kysely';

/**
 * The queue index of webhook deliveries covers the pending ones only. Almost every delivery is
 * written delivered (its first attempt made before the fan-out commit) and never waits in the
 * queue, yet each one added an entry to `(status, next_attempt_at)`: one more b-tree page written
 * per delivery, in an index that grew with the delivery log while the queue stays short. The
 * queries that use it name `status = 'pending'` as a literal (webhooks.repository.ts), so both
 * SQLite and PostgreSQL match them to this partial index.
 */
// biome-ignore lint/suspicious/noExplicitAny: migrations are frozen in time and typed Kysely<any>
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('webhook_deliveries_due').execute();
  await sql`CREATE INDEX webhook_deliveries_pending ON webhook_deliveries (next_attempt_at) WHERE status = 'pending'`.execute(db);
}

// biome-ignore lint/suspicious/noExplicitAny: see up()
export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('webhook_deliveries_pending').execute();
  await db.schema.createIndex('webhook_deliveries_due').on('webhook_deliveries').columns(['status', 'next_attempt_at']).execute();
}
