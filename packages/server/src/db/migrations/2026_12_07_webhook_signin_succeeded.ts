import type { Kysely } from 'kysely';
import { columnTypes, dialectOf } from '../columns.ts';

/**
 * Issue 12 item 3, "sign-in succeeded/failed (aggregated or sampled, the endpoint chooses)": the
 * successes get the choice the failures got in 2026_12_05_webhook_signin_failed: how each endpoint
 * receives them (`signin_succeeded`, JSON: `{"mode": "each"}` for every endpoint that existed
 * before), and for the summary mode how far its per-minute summaries have got
 * (`signin_succeeded_summarized_until`, epoch ms; null in the other modes).
 */
// biome-ignore lint/suspicious/noExplicitAny: migrations are frozen in time and typed Kysely<any>
export async function up(db: Kysely<any>): Promise<void> {
  const t = columnTypes(dialectOf(db));
  await db.schema.alterTable('webhook_endpoints').addColumn('signin_succeeded', 'text', (c) => c.notNull().defaultTo('{"mode":"each"}')).execute();
  await db.schema.alterTable('webhook_endpoints').addColumn('signin_succeeded_summarized_until', t.bigint).execute();
}

// biome-ignore lint/suspicious/noExplicitAny: see up()
export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('webhook_endpoints').dropColumn('signin_succeeded_summarized_until').execute();
  await db.schema.alterTable('webhook_endpoints').dropColumn('signin_succeeded').execute();
}
