import { sql, type Kysely, type Selectable } from 'kysely';
import { chunkedInsert } from '../../db/chunked-insert.ts';
import { dialectOf } from '../../db/columns.ts';
import type { Database } from '../../db/database.ts';
import type { SigninOutcome } from './webhooks.signin-delivery.ts';
import type { WebhookDeliveriesTable, WebhookDeliveryAttemptsTable, WebhookEndpointsTable } from './webhooks.tables.ts';

export type EndpointRow = Selectable<WebhookEndpointsTable>;

/** Where each outcome's summaries have got (null: not in summary mode). */
export const SUMMARIZED_UNTIL = { failed: 'signin_failed_summarized_until', succeeded: 'signin_succeeded_summarized_until' } as const satisfies Record<SigninOutcome, keyof WebhookEndpointsTable>;
/** Each outcome's setting (webhooks.signin-delivery.ts). */
export const SIGNIN_SETTING = { failed: 'signin_failed', succeeded: 'signin_succeeded' } as const satisfies Record<SigninOutcome, keyof WebhookEndpointsTable>;
export type DeliveryRow = Selectable<WebhookDeliveriesTable>;
export type AttemptRow = Selectable<WebhookDeliveryAttemptsTable>;

type Db = Kysely<Database>;

const FANOUT = 'chain';
/**
 * `status = 'pending'` written into the SQL, not bound: the queue index is partial on exactly
 * that (2026_12_06_webhook_delivery_indexes), and neither SQLite nor a generic PostgreSQL plan can
 * match a bound parameter to an index's WHERE clause.
 */
const PENDING = sql.lit<WebhookDeliveriesTable['status']>('pending');
/** Finished deliveries deleted per endpoint per sweep at most. */
const SWEEP_BATCH = 10_000;

// A fan-out pass writes up to 256 deliveries (and their attempt log) at once: chunked, one SQL text per chunk size.
const insertDeliveryRows = chunkedInsert<WebhookDeliveriesTable, { id: string }>({
  columns: [
    'id', 'endpoint_id', 'message_id', 'event_type', 'payload', 'created_at', 'status', 'attempts', 'next_attempt_at', 'lease_until', 'last_attempt_at',
    'last_status_code', 'last_error', 'delivered_at',
  ],
  maxChunk: 128,
  build: (db, rows) => db.insertInto('webhook_deliveries').values(rows).onConflict((oc) => oc.columns(['endpoint_id', 'message_id']).doNothing()).returning('id'),
});
const insertAttemptRows = chunkedInsert<WebhookDeliveryAttemptsTable, never>({
  columns: ['id', 'delivery_id', 'attempted_at', 'outcome', 'status_code', 'latency_ms', 'error', 'response_excerpt'],
  maxChunk: 128,
  build: (db, rows) => db.insertInto('webhook_delivery_attempts').values(rows),
});

/** Intention-named queries of the webhook tables; the only SQL of the module. */
export const webhooksRepository = {
  /** The endpoints that receive webhooks now, secrets included (the dispatcher signs with them). */
  async enabledEndpoints(db: Db): Promise<EndpointRow[]> {
    return db.selectFrom('webhook_endpoints').selectAll().where('enabled', '=', 1).orderBy('created_at').orderBy('id').execute();
  },

  /**
   * Takes or renews the fan-out lease for `owner` until `until` (compare-and-set: only when free,
   * run out or already ours); answers the chain seq fanned out so far, or undefined while another
   * node holds it.
   */
  async leaseFanout(db: Db, owner: string, now: number, until: number): Promise<number | undefined> {
    const row = await db
      .updateTable('webhook_fanout')
      .set({ lease_owner: owner, lease_until: until })
      .where('id', '=', FANOUT)
      .where((eb) => eb.or([eb('lease_owner', 'is', null), eb('lease_owner', '=', owner), eb('lease_until', '<', now)]))
      .returning('seq')
      .executeTakeFirst();
    return row ? Number(row.seq) : undefined;
  },

  /** Moves the fan-out position from `from` to `to`, only while `owner` still holds the lease. */
  async advanceFanout(trx: Db, owner: string, from: number, to: number, now: number): Promise<boolean> {
    const result = await trx
      .updateTable('webhook_fanout')
      .set({ seq: to, updated_at: now })
      .where('id', '=', FANOUT)
      .where('lease_owner', '=', owner)
      .where('seq', '=', from)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  },

  /** Gives the lease up (on close), so that another node takes over at once. */
  async releaseFanout(db: Db, owner: string): Promise<void> {
    await db.updateTable('webhook_fanout').set({ lease_owner: null, lease_until: 0 }).where('id', '=', FANOUT).where('lease_owner', '=', owner).execute();
  },

  async fanoutPosition(db: Db): Promise<number> {
    return Number((await db.selectFrom('webhook_fanout').select('seq').where('id', '=', FANOUT).executeTakeFirst())?.seq ?? 0);
  },

  /** Inserts deliveries not queued yet (an (endpoint, message id) already there is left alone); answers the ids inserted. */
  async insertDeliveries(trx: Db, rows: WebhookDeliveriesTable[]): Promise<Set<string>> {
    return new Set((await insertDeliveryRows(trx, rows)).map((r) => r.id));
  },

  /**
   * Takes up to `limit` due deliveries of enabled endpoints for this node until `leaseUntil`, in
   * one statement: a row another node holds (its lease not yet run out) is not taken, and on
   * PostgreSQL a row another node is taking right now is skipped, not waited for.
   */
  async claimDue(db: Db, now: number, leaseUntil: number, limit: number): Promise<DeliveryRow[]> {
    // A read first: the claim is an UPDATE (a write lock on SQLite, row locks on PostgreSQL) and
    // every node runs it every poll interval, almost always to find nothing due.
    const anyDue = await db
      .selectFrom('webhook_deliveries')
      .select('id')
      .where('status', '=', PENDING)
      .where('next_attempt_at', '<=', now)
      .where((eb) => eb.or([eb('lease_until', 'is', null), eb('lease_until', '<', now)]))
      .limit(1)
      .executeTakeFirst();
    if (!anyDue) return [];
    const postgres = dialectOf(db) === 'postgres';
    const due = db
      .selectFrom('webhook_deliveries as d')
      .select('d.id')
      .where('d.status', '=', PENDING)
      .where('d.next_attempt_at', '<=', now)
      .where((eb) => eb.or([eb('d.lease_until', 'is', null), eb('d.lease_until', '<', now)]))
      // EXISTS, not `endpoint_id IN (enabled endpoints)`: with IN, SQLite read the queue through the
      // endpoint index, every delivery the endpoint ever had, and sorted them.
      .where(({ exists, selectFrom }) => exists(selectFrom('webhook_endpoints as e').select('e.id').whereRef('e.id', '=', 'd.endpoint_id').where('e.enabled', '=', 1)))
      .orderBy('d.next_attempt_at')
      .limit(limit);
    return db
      .updateTable('webhook_deliveries')
      .set({ lease_until: leaseUntil })
      .where('id', 'in', postgres ? due.forUpdate().skipLocked() : due)
      .where('status', '=', 'pending')
      .where((eb) => eb.or([eb('lease_until', 'is', null), eb('lease_until', '<', now)]))
      .returningAll()
      .execute();
  },

  /** The outcome of an attempt, only if this node still holds the lease it sent under. */
  async finishAttempt(trx: Db, id: string, lease: number, change: Partial<WebhookDeliveriesTable>): Promise<boolean> {
    const result = await trx.updateTable('webhook_deliveries').set(change).where('id', '=', id).where('lease_until', '=', lease).executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  },

  async insertAttempts(trx: Db, rows: WebhookDeliveryAttemptsTable[]): Promise<void> {
    await insertAttemptRows(trx, rows);
  },

  async findEndpoints(db: Db, ids: string[]): Promise<EndpointRow[]> {
    return ids.length === 0 ? [] : db.selectFrom('webhook_endpoints').selectAll().where('id', 'in', ids).execute();
  },

  async endpointSucceeded(trx: Db, id: string): Promise<void> {
    await trx.updateTable('webhook_endpoints').set({ failing_since: null }).where('id', '=', id).where('failing_since', 'is not', null).execute();
  },

  /** Marks the endpoint failing (from `now` unless it already was); answers since when. */
  async endpointFailed(trx: Db, id: string, now: number): Promise<number | undefined> {
    await trx.updateTable('webhook_endpoints').set({ failing_since: now }).where('id', '=', id).where('failing_since', 'is', null).execute();
    return (await trx.selectFrom('webhook_endpoints').select('failing_since').where('id', '=', id).executeTakeFirst())?.failing_since ?? undefined;
  },

  /** Disables an enabled endpoint; false when it already was (another node, an operator). */
  async disable(trx: Db, id: string, reason: string, now: number): Promise<boolean> {
    const result = await trx
      .updateTable('webhook_endpoints')
      .set({ enabled: 0, disabled_reason: reason, disabled_at: now, updated_at: now })
      .where('id', '=', id)
      .where('enabled', '=', 1)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  },

  async findEndpoint(db: Db, id: string): Promise<EndpointRow | undefined> {
    return db.selectFrom('webhook_endpoints').selectAll().where('id', '=', id).executeTakeFirst();
  },

  async listEndpoints(db: Db): Promise<EndpointRow[]> {
    return db.selectFrom('webhook_endpoints').selectAll().orderBy('created_at').orderBy('id').execute();
  },

  async insertEndpoint(trx: Db, row: WebhookEndpointsTable): Promise<void> {
    await trx.insertInto('webhook_endpoints').values(row).execute();
  },

  async updateEndpoint(trx: Db, id: string, change: Partial<WebhookEndpointsTable>): Promise<boolean> {
    const result = await trx.updateTable('webhook_endpoints').set(change).where('id', '=', id).executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  },

  async deleteEndpoint(trx: Db, id: string): Promise<boolean> {
    const result = await trx.deleteFrom('webhook_endpoints').where('id', '=', id).executeTakeFirst();
    return Number(result.numDeletedRows) === 1;
  },

  async listDeliveries(db: Db, endpointId: string, options: { limit: number; status?: string | undefined; before?: number | undefined }): Promise<DeliveryRow[]> {
    let query = db.selectFrom('webhook_deliveries').selectAll().where('endpoint_id', '=', endpointId);
    if (options.status) query = query.where('status', '=', options.status as DeliveryRow['status']);
    if (options.before !== undefined) query = query.where('created_at', '<', options.before);
    return query.orderBy('created_at', 'desc').orderBy('id', 'desc').limit(options.limit).execute();
  },

  async findDelivery(db: Db, endpointId: string, id: string): Promise<DeliveryRow | undefined> {
    return db.selectFrom('webhook_deliveries').selectAll().where('id', '=', id).where('endpoint_id', '=', endpointId).executeTakeFirst();
  },

  async attemptsOf(db: Db, deliveryId: string): Promise<AttemptRow[]> {
    return db.selectFrom('webhook_delivery_attempts').selectAll().where('delivery_id', '=', deliveryId).orderBy('attempted_at').orderBy('id').execute();
  },

  /** Puts a delivery back in the queue, due now, with a fresh set of attempts; the same `webhook-id`. */
  async requeue(trx: Db, endpointId: string, id: string, now: number): Promise<boolean> {
    const result = await trx
      .updateTable('webhook_deliveries')
      .set({ status: 'pending', attempts: 0, next_attempt_at: now, lease_until: null })
      .where('id', '=', id)
      .where('endpoint_id', '=', endpointId)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  },

  async insertDelivery(trx: Db, row: WebhookDeliveriesTable): Promise<void> {
    await trx.insertInto('webhook_deliveries').values(row).execute();
  },

  /** Pending deliveries and the age of the oldest (metrics; events not fanned out yet are the chain's lag). */
  async pendingDeliveries(db: Db): Promise<{ depth: number; oldest: number | null }> {
    const row = await db
      .selectFrom('webhook_deliveries')
      .select((eb) => [eb.fn.countAll<string | number>().as('n'), eb.fn.min('created_at').as('m')])
      .where('status', '=', PENDING)
      .executeTakeFirstOrThrow();
    return { depth: Number(row.n ?? 0), oldest: row.m === null || row.m === undefined ? null : Number(row.m) };
  },

  /**
   * Deletes finished deliveries (and, by cascade, their attempts) created before `before`, at most
   * SWEEP_BATCH per endpoint a call (the minute sweep: a backlog goes over a few minutes, never in
   * one long write). Endpoint by endpoint, so that each delete is a range of the
   * `(endpoint_id, created_at)` index rather than a scan of the whole delivery log.
   */
  async sweepFinished(db: Db, before: number): Promise<number> {
    let deleted = 0;
    for (const { id } of await db.selectFrom('webhook_endpoints').select('id').execute()) {
      const result = await db
        .deleteFrom('webhook_deliveries')
        .where('id', 'in', (eb) =>
          eb.selectFrom('webhook_deliveries').select('id').where('endpoint_id', '=', id).where('created_at', '<', before).where('status', '!=', PENDING).limit(SWEEP_BATCH),
        )
        .executeTakeFirst();
      deleted += Number(result.numDeletedRows);
    }
    return deleted;
  },

  /** Enabled endpoints in summary mode for `outcome` whose summaries have not reached `until` yet. */
  async summariesDue(db: Db, outcome: SigninOutcome, until: number): Promise<{ id: string; event_types: string; summarized_until: number }[]> {
    const column = SUMMARIZED_UNTIL[outcome];
    const rows = await db
      .selectFrom('webhook_endpoints')
      .select((eb) => ['id', 'event_types', eb.ref(column).as('summarized_until')])
      .where('enabled', '=', 1)
      .where(column, '<', until)
      .execute();
    return rows.map((r) => ({ id: r.id, event_types: r.event_types, summarized_until: Number(r.summarized_until) }));
  },

  /**
   * Moves an endpoint's summaries of `outcome` on from `from` to `to`, only if no one else has
   * (compare and set: on PostgreSQL a second node's update waits for the first commit, then finds nothing).
   */
  async advanceSummaries(trx: Db, outcome: SigninOutcome, id: string, from: number, to: number): Promise<boolean> {
    const column = SUMMARIZED_UNTIL[outcome];
    const result = await trx
      .updateTable('webhook_endpoints')
      .set({ [column]: to })
      .where('id', '=', id)
      .where('enabled', '=', 1)
      .where(column, '=', from)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  },
};
