import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Kysely, SqliteDialect } from 'kysely';
import type { Database } from '../../db/database.ts';
import { createMigrator, migrateToLatest } from '../../db/migrate.ts';
import { openNodeSqlite } from '../../db/node-sqlite-database.ts';
import { newDelivery } from './webhooks.dispatcher.ts';
import { webhooksRepository as repository } from './webhooks.repository.ts';

const DAY = 86_400_000;

/** A migrated SQLite database that records every statement it runs, with its parameters. */
async function database() {
  const sqlite = openNodeSqlite(':memory:');
  const statements: { sql: string; parameters: readonly unknown[] }[] = [];
  const db = new Kysely<Database>({
    dialect: new SqliteDialect({ database: sqlite }),
    log: (event) => {
      statements.push({ sql: event.query.sql, parameters: event.query.parameters });
    },
  });
  await migrateToLatest(db);
  const endpoint = (id: string) =>
    db
      .insertInto('webhook_endpoints')
      .values({ id, url: `https://hooks.example/${id}`, description: '', event_types: '["*"]', enabled: 1, disabled_reason: null, disabled_at: null, secret_sealed: 'x', previous_secret_sealed: null, previous_secret_expires_at: null, failing_since: null, created_at: 0, updated_at: 0, signin_failed: '{"mode":"each"}', signin_failed_summarized_until: null, signin_succeeded: '{"mode":"each"}', signin_succeeded_summarized_until: null })
      .execute();
  const plan = (statement: { sql: string; parameters: readonly unknown[] }) =>
    sqlite.raw
      .prepare(`EXPLAIN QUERY PLAN ${statement.sql}`)
      .all(...(statement.parameters as (string | number | null)[]))
      .map((row) => String(row.detail))
      .join('\n');
  return { db, sqlite, statements, endpoint, plan };
}

test('the queue is read from the partial index of pending deliveries, not by scanning the delivery log', async () => {
  const { db, statements, endpoint, plan } = await database();
  await endpoint('e1');
  const delivered = (i: number) => ({ ...newDelivery(`d${String(i).padStart(5, '0')}`, 'e1', `msg_${i}`, 'user.created', '{}', 1000 + i), status: 'delivered' as const, attempts: 1, next_attempt_at: null });
  await repository.insertDeliveries(db, [...Array.from({ length: 300 }, (_, i) => delivered(i)), newDelivery('p1', 'e1', 'msg_p1', 'user.created', '{}', 5000)]);
  statements.length = 0;
  const claimed = await repository.claimDue(db, 6000, 9000, 32);
  assert.deepEqual(
    claimed.map((d) => d.id),
    ['p1'],
  );
  const pending = await repository.pendingDeliveries(db);
  assert.deepEqual(pending, { depth: 1, oldest: 5000 });
  const reads = statements.filter((s) => /"status" = 'pending'/.test(s.sql));
  assert.equal(reads.length, 3, `the probe, the claim and the backlog name the status as a literal:\n${statements.map((s) => s.sql).join('\n')}`);
  for (const read of reads) {
    assert.match(plan(read), /USING (COVERING )?INDEX webhook_deliveries_pending/, read.sql);
    assert.doesNotMatch(plan(read), /TEMP B-TREE/, 'in next_attempt_at order as the index has it, not sorted');
  }
  // Nothing due: the probe finds nothing and no UPDATE runs.
  statements.length = 0;
  assert.deepEqual(await repository.claimDue(db, 6000, 9000, 32), []);
  assert.ok(!statements.some((s) => /^update/i.test(s.sql)), 'the claim is not attempted when nothing is due');
  await db.destroy();
});

test('the sweep deletes finished deliveries past retention endpoint by endpoint, from the index, in bounded batches', async () => {
  const { db, statements, endpoint, plan } = await database();
  await endpoint('e1');
  await endpoint('e2');
  const at = (id: string, endpointId: string, createdAt: number, status: 'pending' | 'delivered' | 'failed') => ({ ...newDelivery(id, endpointId, `msg_${id}`, 'user.created', '{}', createdAt), status });
  await repository.insertDeliveries(db, [
    at('old-delivered', 'e1', 1 * DAY, 'delivered'),
    at('old-failed', 'e2', 1 * DAY, 'failed'),
    at('old-pending', 'e1', 1 * DAY, 'pending'),
    at('new-delivered', 'e1', 40 * DAY, 'delivered'),
  ]);
  await db.insertInto('webhook_delivery_attempts').values({ id: 'a1', delivery_id: 'old-delivered', attempted_at: DAY, outcome: 'success', status_code: 204, latency_ms: 3, error: null, response_excerpt: null }).execute();
  statements.length = 0;
  assert.equal(await repository.sweepFinished(db, 31 * DAY), 2);
  const left = (await db.selectFrom('webhook_deliveries').select('id').orderBy('id').execute()).map((r) => r.id);
  assert.deepEqual(left, ['new-delivered', 'old-pending'], 'a pending delivery is never swept, however old');
  assert.equal((await db.selectFrom('webhook_delivery_attempts').selectAll().execute()).length, 0, 'the attempt log goes with its delivery');
  const deletes = statements.filter((s) => /^delete/i.test(s.sql));
  assert.equal(deletes.length, 2, 'one delete per endpoint');
  for (const statement of deletes) assert.match(plan(statement), /SEARCH webhook_deliveries USING INDEX webhook_deliveries_endpoint \(endpoint_id=\? AND created_at<\?\)/);
  await db.destroy();
});

test('migration 2026_12_06: the queue index becomes partial, and back (up, down, up)', async () => {
  const { db, sqlite } = await database();
  const indexes = () =>
    sqlite.raw
      .prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'webhook_deliveries' AND name NOT LIKE 'sqlite_%' ORDER BY name")
      .all()
      .map((r) => String(r.name));
  assert.deepEqual(indexes(), ['webhook_deliveries_endpoint', 'webhook_deliveries_pending']);
  const down = await createMigrator(db).migrateTo('2026_12_05_webhooks_from_chain');
  assert.equal(down.error, undefined);
  assert.deepEqual(indexes(), ['webhook_deliveries_due', 'webhook_deliveries_endpoint']);
  await migrateToLatest(db);
  assert.deepEqual(indexes(), ['webhook_deliveries_endpoint', 'webhook_deliveries_pending']);
  await db.destroy();
});
