import { sql, type Kysely } from 'kysely';
import { columnTypes, dialectOf } from '../columns.ts';

/**
 * Webhooks read the sealed audit chain instead of an outbox table of their own (issue 12 item 6).
 * The audit row already commits with the change it describes, so a second row in that commit (the
 * old `webhook_outbox`, two more pages in every sign-in's commit) bought nothing. `webhook_fanout`
 * holds the chain seq fanned out so far and the lease of the node doing it.
 *
 * The starting point: just before the oldest sealed event still waiting in the old outbox (so it
 * is fanned out again; an event not sealed yet gets a seq above it anyway), else the chain's end
 * (nothing older is sent again). The deliveries' (endpoint, message id) key keeps anything already
 * fanned out from being queued twice.
 */
// biome-ignore lint/suspicious/noExplicitAny: migrations are frozen in time and typed Kysely<any>
export async function up(db: Kysely<any>): Promise<void> {
  const t = columnTypes(dialectOf(db));
  await db.schema
    .createTable('webhook_fanout')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('seq', t.bigint, (c) => c.notNull())
    .addColumn('lease_owner', 'text')
    .addColumn('lease_until', t.bigint, (c) => c.notNull())
    .addColumn('updated_at', t.bigint, (c) => c.notNull())
    .execute();
  const start = await sql<{ seq: number | string | null }>`
    SELECT COALESCE(
      (SELECT min(c.seq) - 1 FROM audit_chain c JOIN webhook_outbox o ON o.id = c.event_id),
      (SELECT max(seq) FROM audit_chain),
      0) AS seq`.execute(db);
  await db
    .insertInto('webhook_fanout')
    .values({ id: 'chain', seq: Number(start.rows[0]?.seq ?? 0), lease_owner: null, lease_until: 0, updated_at: Date.now() })
    .execute();
  await db.schema.dropTable('webhook_outbox').execute();
}

// biome-ignore lint/suspicious/noExplicitAny: see up()
export async function down(db: Kysely<any>): Promise<void> {
  const t = columnTypes(dialectOf(db));
  await db.schema
    .createTable('webhook_outbox')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('event_type', 'text', (c) => c.notNull())
    .addColumn('payload', 'text', (c) => c.notNull())
    .addColumn('created_at', t.bigint, (c) => c.notNull())
    .execute();
  await db.schema.createIndex('webhook_outbox_created_at').on('webhook_outbox').column('created_at').execute();
  await db.schema.dropTable('webhook_fanout').ifExists().execute();
}
