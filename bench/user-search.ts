/**
 * How fast is the support console's user search (GET /api/admin/v1/users/search, issue 13) on a
 * large directory? Starts a real server on 127.0.0.1 (SQLite, or a throwaway PostgreSQL cluster
 * with --dialect=postgres), inserts --users generated users straight into the users table
 * (names like "john.smith417", e-mail addresses, external ids), then asks the search over HTTP
 * for exact identifiers, prefixes and typo'd prefixes, and prints per query the median and p95
 * over --runs requests, plus the query plan of one prefix probe (an index range, never a scan).
 *
 * Usage: node scripts/run.mjs bench/user-search.ts [--dialect=sqlite|postgres] [--users=1000000] [--runs=30]
 */
import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { createUserDirectory } from '../packages/server/src/modules/accounts/accounts.module.ts';
import { editVariants, minimalPrefixes } from '../packages/server/src/modules/support/fuzzy.ts';
import { systemClock } from '../packages/server/src/platform/clock.ts';
import { cryptoRandom } from '../packages/server/src/platform/random.ts';
import { createTestApiKey } from '../packages/server/test/helpers/api-keys.ts';
import { startTestServer } from '../packages/server/test/helpers/test-server.ts';
import { startPostgres, type TestCluster } from '../scripts/postgres.mjs';

const args = Object.fromEntries(process.argv.slice(2).map((a) => /^--([^=]+)=(.*)$/.exec(a)?.slice(1) ?? [a, 'true']));
const dialect = args.dialect === 'postgres' ? 'postgres' : 'sqlite';
const USERS = Math.min(Number(args.users ?? 1_000_000), 5_000_000);
const RUNS = Math.min(Number(args.runs ?? 30), 1000);

const FIRST = ['john', 'jane', 'maria', 'mohammed', 'wei', 'olga', 'lukas', 'sofia', 'james', 'anna', 'david', 'laura', 'peter', 'emma', 'paul', 'lea', 'omar', 'yuki', 'ivan', 'nina', 'carlos', 'fatima', 'tom', 'sara', 'ali', 'eva', 'max', 'mia', 'noah', 'ella'];
const LAST = ['smith', 'mueller', 'garcia', 'chen', 'novak', 'rossi', 'kim', 'schmidt', 'jones', 'weber', 'silva', 'khan', 'nguyen', 'fischer', 'brown', 'lopez', 'meyer', 'wagner', 'ivanova', 'tanaka'];

let cluster: TestCluster | undefined;
if (dialect === 'postgres') {
  cluster = await startPostgres();
  process.env.LATCHKEY_TEST_PG_URL = cluster.url;
}
const server = await startTestServer(dialect, { config: { database: { poolSize: 4 } } });
const { db } = server.database;

try {
  const started = performance.now();
  const BATCH = 1000;
  const PER_COMMIT = 50_000;
  let sample: { id: string; email: string; externalId: string } | undefined;
  for (let commit = 0; commit < USERS; commit += PER_COMMIT) await db.transaction().execute(async (trx) => {
  for (let from = commit; from < Math.min(USERS, commit + PER_COMMIT); from += BATCH) {
    const rows = [];
    for (let i = from; i < Math.min(USERS, from + BATCH); i++) {
      const username = `${FIRST[i % FIRST.length]}.${LAST[Math.floor(i / FIRST.length) % LAST.length]}${Math.floor(i / (FIRST.length * LAST.length))}`;
      const id = randomUUID();
      const email = `${username}@example.com`;
      rows.push({
        id,
        username,
        username_key: username,
        username_skeleton: null,
        display_name: username,
        user_handle: `h${i}`,
        external_id: `ext-${i}`,
        status: 'active',
        created_at: 1_700_000_000_000 + i,
        email,
        email_key: email,
        email_verified_at: 1_700_000_000_000,
      });
      if (i === Math.floor(USERS / 2)) sample = { id, email, externalId: `ext-${i}` };
    }
    await trx.insertInto('users').values(rows).execute();
    if ((from / BATCH) % 100 === 0) process.stderr.write(`\rinserted ${(from + rows.length).toLocaleString('en')} users`);
  }
  });
  await sql`ANALYZE`.execute(db);
  process.stderr.write(`\rinserted ${USERS.toLocaleString('en')} users in ${((performance.now() - started) / 1000).toFixed(0)} s\n`);

  const key = await createTestApiKey(server, ['users:read'], 'bench');
  const queries: [label: string, q: string][] = [
    ['user id (exact)', sample?.id ?? ''],
    ['e-mail (exact)', (sample?.email ?? '').toUpperCase()],
    ['external id (exact)', sample?.externalId ?? ''],
    ['prefix "jo"', 'jo'],
    ['prefix "john.smith"', 'john.smith'],
    ['prefix "maria.garcia12"', 'maria.garcia12'],
    ['typo "jhon" (swap)', 'jhon'],
    ['typo "jonh.smi" (swap)', 'jonh.smi'],
    ['typo "mraia.gar" (swap)', 'mraia.gar'],
    ['typo "peterr" (insertion)', 'peterr'],
    ['no match "qqxz"', 'qqxz'],
  ];
  const results: { label: string; hits: number; first: string; median: number; p95: number }[] = [];
  for (const [label, q] of queries) {
    const url = `${server.url}/api/admin/v1/users/search?q=${encodeURIComponent(q)}&limit=20`;
    const times: number[] = [];
    let body: { items: { username: string; match: string }[] } = { items: [] };
    for (let i = 0; i < RUNS + 3; i++) {
      const t = performance.now();
      const r = await fetch(url, { headers: { authorization: `Bearer ${key.secret}` } });
      body = (await r.json()) as typeof body;
      if (r.status !== 200) throw new Error(`${label}: ${r.status} ${JSON.stringify(body)}`);
      if (i >= 3) times.push(performance.now() - t);
    }
    times.sort((a, b) => a - b);
    results.push({
      label,
      hits: body.items.length,
      first: body.items[0] ? `${body.items[0].username} (${body.items[0].match})` : '-',
      median: times[Math.floor(times.length / 2)] ?? 0,
      p95: times[Math.floor(times.length * 0.95)] ?? 0,
    });
  }
  console.log(`\nuser search over HTTP, ${dialect}, ${USERS.toLocaleString('en')} users, ${RUNS} runs each (ms, including HTTP and the audited read):\n`);
  console.log('| query | hits | first hit | median ms | p95 ms |\n| --- | --- | --- | --- | --- |');
  for (const r of results) console.log(`| ${r.label} | ${r.hits} | ${r.first} | ${r.median.toFixed(1)} | ${r.p95.toFixed(1)} |`);

  // The database part alone (in-process, no HTTP, no audit row): all typo variants of a query in one statement.
  const directory = createUserDirectory({ clock: systemClock, random: cryptoRandom });
  console.log('\nthe typo probe alone (one statement, every one-edit variant as an index range, 20 per variant):\n');
  console.log('| typed | variants probed | rows | median ms | p95 ms |\n| --- | --- | --- | --- | --- |');
  for (const typed of ['jhon', 'jonh.smi', 'mraia.gar', 'qqxz']) {
    const variants = minimalPrefixes(editVariants(typed), typed);
    const times: number[] = [];
    let rows = 0;
    for (let i = 0; i < RUNS + 3; i++) {
      const t = performance.now();
      rows = (await directory.findByUsernameKeyPrefixes(db, variants, 20)).length;
      if (i >= 3) times.push(performance.now() - t);
    }
    times.sort((a, b) => a - b);
    console.log(`| ${typed} | ${variants.length} | ${rows} | ${(times[Math.floor(times.length / 2)] ?? 0).toFixed(1)} | ${(times[Math.floor(times.length * 0.95)] ?? 0).toFixed(1)} |`);
  }

  // The plan of one prefix probe: an index range search, never a scan of users.
  const plan =
    dialect === 'postgres'
      ? await sql<Record<string, string>>`EXPLAIN SELECT id FROM users WHERE username_key COLLATE "C" >= ${'jhon'} AND username_key COLLATE "C" < ${'jhon\u{10FFFF}'} ORDER BY username_key COLLATE "C" LIMIT 20`.execute(db)
      : await sql<Record<string, string>>`EXPLAIN QUERY PLAN SELECT id FROM users WHERE username_key >= ${'jhon'} AND username_key < ${'jhon\u{10FFFF}'} ORDER BY username_key LIMIT 20`.execute(db);
  console.log(`\nplan of one prefix probe:\n${plan.rows.map((r) => `  ${r['QUERY PLAN'] ?? r.detail ?? JSON.stringify(r)}`).join('\n')}`);
} finally {
  await server.close();
  cluster?.stop();
}
