/**
 * The database work of ONE login ceremony, in isolation (no HTTP, no crypto), three ways:
 *   A. Latchkey's own code: webauthn repository + sessions + audit services, their statements run
 *      by writeBatch's SQLite fast path (what authentication.service.ts runs; since 2026-12-02 the
 *      challenge is self-contained, so the old insert/consume rows are gone);
 *   A'. A over a stand-in database that answers at once: Kysely + services alone;
 *   B. the same SQL texts on the same schema, as raw node:sqlite statements prepared once;
 *   B'. B on a leaner schema (see LEAN_SCHEMA), to show what the write amplification costs;
 *   C. the baseline's statements (bench/baseline/server.ts schema, prepare per call).
 * For each: µs per login with the default WAL auto-checkpoint, and WAL pages written per login
 * (auto-checkpoint off, WAL growth / page size) with the share of each step.
 *
 * Usage: taskset -c 0 node bench/tools/micro-db.ts [--n=3000]
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { Kysely, SqliteDialect } from 'kysely';
import type { Database } from '../../packages/server/src/db/database.ts';
import { migrateToLatest } from '../../packages/server/src/db/migrate.ts';
import { openNodeSqlite } from '../../packages/server/src/db/node-sqlite-database.ts';
import { enableSqliteFastPath, writeBatch } from '../../packages/server/src/db/prepared-query.ts';
import { createAuditService } from '../../packages/server/src/modules/audit/audit.module.ts';
import { createSessionsService } from '../../packages/server/src/modules/sessions/sessions.module.ts';
import { createWebauthnRepository } from '../../packages/server/src/modules/webauthn/webauthn.repository.ts';
import { systemClock } from '../../packages/server/src/platform/clock.ts';
import { cryptoRandom } from '../../packages/server/src/platform/random.ts';
import { createUserAgentParser } from '../../packages/server/src/platform/user-agent.ts';
import { sha256Base64Url } from '../../packages/server/src/platform/encoding.ts';

const N = Number(/--n=(\d+)/.exec(process.argv.join(' '))?.[1] ?? 3000);
const USERS = 50;
const dir = mkdtempSync('/tmp/latchkey-micro-db-');
const b64 = (n: number) => randomBytes(n).toString('base64url');
const context = { requestId: randomUUID(), ip: '127.0.0.1', userAgent: 'node' };

const walFile = (path: string) => `${path}-wal`;
const walBytes = (path: string) => {
  try {
    return statSync(walFile(path)).size;
  } catch {
    return 0;
  }
};

interface Result {
  usPerLogin: number;
  walPagesPerLogin?: number;
  stepPages?: Record<string, number>;
}

// ---------------------------------------------------------------------------------------------
// A and B: Latchkey schema
// ---------------------------------------------------------------------------------------------

async function latchkeyDb(name: string) {
  const path = join(dir, `${name}.db`);
  const sqlite = openNodeSqlite(path);
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: sqlite }) });
  await migrateToLatest(db);
  const credentials: string[] = [];
  const now = Date.now();
  for (let i = 0; i < USERS; i++) {
    const userId = randomUUID();
    await db
      .insertInto('users')
      .values({ id: userId, username: `u${i}`, username_key: `u${i}`, display_name: `u${i}`, user_handle: b64(64), external_id: null, status: 'active', created_at: now })
      .execute();
    const id = b64(32);
    await db
      .insertInto('credentials')
      .values({
        id, user_id: userId, public_key: randomBytes(77), sign_count: 0, aaguid: '00000000-0000-0000-0000-000000000000', transports: '["internal"]',
        device_type: 'singleDevice', backed_up: 0, attestation_fmt: 'none', uv_initialized: 1, name: 'Passkey', created_at: now, last_used_at: null,
        created_os: null, created_browser: null,
      })
      .execute();
    credentials.push(id);
  }
  return { path, sqlite, db, credentials, counters: new Map(credentials.map((c) => [c, 0])) };
}

/**
 * A: with `dry`, the same code over a stand-in for node:sqlite that answers every statement at
 * once (a plausible row for reads, one changed row for writes): what Kysely, the adapter and the
 * services cost per login without any SQLite work.
 */
async function runLatchkey(autocheckpoint: boolean, dry = false): Promise<Result> {
  const real = await latchkeyDb(`kysely-${autocheckpoint}-${dry}`);
  const { path, sqlite, credentials, counters } = real;
  let db = real.db;
  if (dry) {
    const row = { id: 'x', user_id: 'u', public_key: new Uint8Array(77), sign_count: 0, transports: '[]', device_type: 'singleDevice', backed_up: 0, aaguid: '0', name: 'n', created_at: 0, last_used_at: null, user_handle: 'h', username: 'u', display_name: 'u', status: 'active', challenge: 'c', ceremony: 'authentication', binding_hash: 'b', expires_at: 0 };
    const fake = {
      close: () => {},
      prepare: (sql: string) => {
        const reader = /^\s*select|returning/i.test(sql);
        return { reader, all: () => [row], run: () => ({ changes: 1, lastInsertRowid: 1 }), iterate: () => [row][Symbol.iterator]() };
      },
    };
    db = new Kysely<Database>({ dialect: new SqliteDialect({ database: fake }) });
  }
  if (!autocheckpoint) sqlite.raw.exec('PRAGMA wal_autocheckpoint = 0');
  const parseUserAgent = createUserAgentParser();
  const audit = createAuditService({ clock: systemClock, random: cryptoRandom, parseUserAgent });
  // Built from whatever the sessions service takes today (its deps grow); unknown extras are ignored.
  const sessions = createSessionsService({ db, clock: systemClock, random: cryptoRandom, idleTimeoutSeconds: 3600, absoluteTimeoutSeconds: 86400, parseUserAgent } as Parameters<typeof createSessionsService>[0]);
  const repository = createWebauthnRepository();
  if (!dry) enableSqliteFastPath({ db, raw: sqlite.raw, statement: sqlite.statement });
  const steps = { lookUpSignIn: 0, transaction: 0 };
  const login = async (i: number) => {
    const credentialId = credentials[i % credentials.length] as string;
    const challenge = { expiresAt: Date.now() + 300_000, nonce: b64(16) };
    let w = walBytes(path);
    const mark = (step: keyof typeof steps) => {
      if (autocheckpoint) return;
      const now = walBytes(path);
      steps[step] += now - w;
      w = now;
    };
    const { credential } = await repository.lookUpSignIn(db, { challenge, credentialId });
    mark('lookUpSignIn');
    const stored = counters.get(credentialId) as number;
    const opened = sessions.open({ userId: credential!.user_id, amr: ['passkey'], userVerified: true, context });
    await writeBatch(db, [
      { statement: repository.markChallengeConsumed(challenge), expectOne: true },
      { statement: repository.recordSignIn({ id: credentialId, storedCount: stored, newCount: stored + 1, backedUp: false, now: Date.now() }), expectOne: true },
      ...opened.statements.map((statement) => ({ statement })),
      {
        statement: audit.statement(context, {
          type: 'passkey.authenticated', outcome: 'success', subjectUserId: credential!.user_id, credentialId, sessionId: opened.view.id,
          data: { userVerified: true, backedUp: false, signCount: stored + 1 },
        }),
      },
    ]);
    counters.set(credentialId, stored + 1);
    mark('transaction');
  };
  for (let i = 0; i < 300; i++) await login(i); // warm-up
  for (const k of Object.keys(steps)) steps[k as keyof typeof steps] = 0;
  const w0 = walBytes(path);
  const t0 = performance.now();
  for (let i = 0; i < N; i++) await login(i);
  const us = ((performance.now() - t0) * 1000) / N;
  const pages = (walBytes(path) - w0) / (4096 + 24) / N;
  await db.destroy();
  if (dry) await real.db.destroy();
  return autocheckpoint || dry
    ? { usPerLogin: round(us) }
    : { usPerLogin: round(us), walPagesPerLogin: round(pages), stepPages: Object.fromEntries(Object.entries(steps).map(([k, v]) => [k, round(v / (4096 + 24) / N)])) };
}

/**
 * What-if schema for B: challenges WITHOUT ROWID with no expires_at index (the sweeper can scan the
 * few live rows), sessions and audit_events keyed WITHOUT ROWID by time-ordered ids (UUIDv7-like,
 * so inserts append instead of landing on a random leaf of a separate PK index).
 */
const LEAN_SCHEMA = `
  DROP INDEX challenges_expires_at;
  CREATE TABLE challenges2 (challenge TEXT PRIMARY KEY, ceremony TEXT NOT NULL, user_id TEXT, pending_user TEXT, allowed_credentials TEXT,
    binding_hash TEXT NOT NULL, expires_at BIGINT NOT NULL) WITHOUT ROWID;
  DROP TABLE challenges; ALTER TABLE challenges2 RENAME TO challenges;
  CREATE TABLE sessions2 (id TEXT PRIMARY KEY, token_hash TEXT NOT NULL UNIQUE, user_id TEXT NOT NULL, amr TEXT NOT NULL, user_verified INTEGER NOT NULL,
    auth_time BIGINT NOT NULL, created_at BIGINT NOT NULL, last_seen_at BIGINT NOT NULL, expires_at BIGINT NOT NULL, idle_expires_at BIGINT NOT NULL,
    revoked_at BIGINT, ip TEXT, user_agent TEXT) WITHOUT ROWID;
  DROP TABLE sessions; ALTER TABLE sessions2 RENAME TO sessions; CREATE INDEX sessions_user_id ON sessions(user_id);
  CREATE TABLE audit2 (id TEXT PRIMARY KEY, created_at BIGINT NOT NULL, type TEXT NOT NULL, outcome TEXT NOT NULL, actor_user_id TEXT, subject_user_id TEXT,
    credential_id TEXT, session_id TEXT, error_code TEXT, reason TEXT, request_id TEXT, ip TEXT, user_agent TEXT, os TEXT, browser TEXT, device TEXT, data TEXT) WITHOUT ROWID;
  DROP TABLE audit_events; ALTER TABLE audit2 RENAME TO audit_events;
  CREATE INDEX audit_events_subject ON audit_events(subject_user_id, created_at);`;

let seq = 0;
/** Time-ordered id (48-bit ms timestamp, then a counter and randomness), like UUIDv7. */
const timeOrderedId = () => `${Date.now().toString(16).padStart(12, '0')}-${(seq++).toString(16).padStart(8, '0')}-${randomBytes(8).toString('hex')}`;

/** B: the SQL Kysely generates for the same steps, as raw statements prepared once. */
async function runRaw(lean = false): Promise<Result> {
  const { path, sqlite, db, credentials, counters } = await latchkeyDb(lean ? 'raw-lean' : 'raw');
  const raw: DatabaseSync = sqlite.raw;
  if (lean) raw.exec(LEAN_SCHEMA);
  const newId = lean ? timeOrderedId : () => randomUUID();
  const s = {
    insertChallenge: raw.prepare('insert into "challenges" ("challenge", "ceremony", "user_id", "pending_user", "allowed_credentials", "binding_hash", "expires_at") values (?, ?, ?, ?, ?, ?, ?)'),
    consume: raw.prepare('delete from "challenges" where "challenge" = ? returning *'),
    find: raw.prepare(
      'select "c"."id", "c"."user_id", "c"."public_key", "c"."sign_count", "c"."transports", "c"."device_type", "c"."backed_up", "c"."aaguid", "c"."name", "c"."created_at", "c"."last_used_at", "u"."user_handle", "u"."username", "u"."display_name", "u"."status" from "credentials" as "c" inner join "users" as "u" on "u"."id" = "c"."user_id" where "c"."id" = ?',
    ),
    begin: raw.prepare('begin'),
    commit: raw.prepare('commit'),
    record: raw.prepare('update "credentials" set "sign_count" = ?, "backed_up" = ?, "last_used_at" = ? where "id" = ? and "sign_count" = ? and "sign_count" < ?'),
    session: raw.prepare(
      'insert into "sessions" ("id", "token_hash", "user_id", "amr", "user_verified", "auth_time", "created_at", "last_seen_at", "expires_at", "idle_expires_at", "revoked_at", "ip", "user_agent") values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
    ),
    audit: raw.prepare(
      'insert into "audit_events" ("id", "created_at", "type", "outcome", "actor_user_id", "subject_user_id", "credential_id", "session_id", "error_code", "reason", "request_id", "ip", "user_agent", "os", "browser", "device", "data") values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
    ),
  };
  const login = (i: number) => {
    const credentialId = credentials[i % credentials.length] as string;
    const challenge = b64(32);
    const now = Date.now();
    s.insertChallenge.run(challenge, 'authentication', null, null, null, sha256Base64Url(b64(32)), now + 300_000);
    s.consume.get(challenge);
    const credential = s.find.get(credentialId) as { user_id: string };
    const stored = counters.get(credentialId) as number;
    s.begin.run();
    s.record.run(stored + 1, 0, now, credentialId, stored, stored + 1);
    const token = b64(32);
    const sessionId = newId();
    s.session.run(sessionId, sha256Base64Url(token), credential.user_id, '["passkey"]', 1, now, now, now, now + 86_400_000, now + 3_600_000, null, '127.0.0.1', 'node');
    s.audit.run(newId(), now, 'passkey.authenticated', 'success', credential.user_id, credential.user_id, credentialId, sessionId, null, null, context.requestId, '127.0.0.1', 'node', null, null, 'desktop', '{"userVerified":true,"backedUp":false,"signCount":1}');
    s.commit.run();
    counters.set(credentialId, stored + 1);
  };
  for (let i = 0; i < 300; i++) login(i);
  const t0 = performance.now();
  for (let i = 0; i < N; i++) login(i);
  const us = ((performance.now() - t0) * 1000) / N;
  // WAL pages per login, auto-checkpoint off.
  raw.exec('PRAGMA wal_checkpoint(TRUNCATE)');
  raw.exec('PRAGMA wal_autocheckpoint = 0');
  const w0 = walBytes(path);
  for (let i = 0; i < 1000; i++) login(i);
  const pages = (walBytes(path) - w0) / (4096 + 24) / 1000;
  await db.destroy();
  return { usPerLogin: round(us), walPagesPerLogin: round(pages) };
}

// ---------------------------------------------------------------------------------------------
// C: the baseline's schema and statements
// ---------------------------------------------------------------------------------------------

function runBaseline(autocheckpoint: boolean): Result {
  const path = join(dir, `baseline-${autocheckpoint}.db`);
  const db = new DatabaseSync(path);
  db.exec('PRAGMA journal_mode = WAL');
  db.exec('PRAGMA synchronous = NORMAL');
  if (!autocheckpoint) db.exec('PRAGMA wal_autocheckpoint = 0');
  db.exec(`
    CREATE TABLE users (id TEXT PRIMARY KEY, username TEXT UNIQUE NOT NULL, display_name TEXT NOT NULL, user_handle TEXT UNIQUE NOT NULL, created_at INTEGER NOT NULL);
    CREATE TABLE credentials (id TEXT PRIMARY KEY, user_id TEXT NOT NULL REFERENCES users(id), public_key BLOB NOT NULL, counter INTEGER NOT NULL,
      transports TEXT NOT NULL, device_type TEXT NOT NULL, backed_up INTEGER NOT NULL, aaguid TEXT NOT NULL, created_at INTEGER NOT NULL, last_used_at INTEGER);
    CREATE INDEX credentials_user ON credentials(user_id);
    CREATE TABLE challenges (challenge TEXT PRIMARY KEY, type TEXT NOT NULL, binding TEXT NOT NULL, username TEXT, display_name TEXT, user_handle TEXT, expires_at INTEGER NOT NULL);
    CREATE TABLE sessions (token TEXT PRIMARY KEY, user_id TEXT NOT NULL REFERENCES users(id), created_at INTEGER NOT NULL, expires_at INTEGER NOT NULL);`);
  const credentials: string[] = [];
  for (let i = 0; i < USERS; i++) {
    const userId = randomUUID();
    db.prepare('INSERT INTO users VALUES (?, ?, ?, ?, ?)').run(userId, `u${i}`, `u${i}`, b64(64), Date.now());
    const id = b64(32);
    db.prepare('INSERT INTO credentials (id, user_id, public_key, counter, transports, device_type, backed_up, aaguid, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)').run(
      id, userId, randomBytes(77), 0, '["internal"]', 'singleDevice', 0, '00000000-0000-0000-0000-000000000000', Date.now(),
    );
    credentials.push(id);
  }
  const login = (i: number) => {
    const challenge = b64(32);
    db.prepare('INSERT INTO challenges (challenge, type, binding, expires_at) VALUES (?, ?, ?, ?)').run(challenge, 'authentication', b64(32), Date.now() + 300_000);
    db.prepare('SELECT * FROM challenges WHERE challenge = ?').get(challenge);
    db.prepare('DELETE FROM challenges WHERE challenge = ?').run(challenge);
    const credential = db.prepare('SELECT * FROM credentials WHERE id = ?').get(credentials[i % credentials.length] as string) as { id: string; user_id: string; counter: number };
    db.prepare('SELECT * FROM users WHERE id = ?').get(credential.user_id);
    db.prepare('UPDATE credentials SET counter = ?, backed_up = ?, last_used_at = ? WHERE id = ?').run(credential.counter + 1, 0, Date.now(), credential.id);
    db.prepare('INSERT INTO sessions (token, user_id, created_at, expires_at) VALUES (?, ?, ?, ?)').run(b64(32), credential.user_id, Date.now(), Date.now() + 86_400_000);
  };
  for (let i = 0; i < 300; i++) login(i);
  const w0 = walBytes(path);
  const t0 = performance.now();
  for (let i = 0; i < N; i++) login(i);
  const us = ((performance.now() - t0) * 1000) / N;
  const pages = (walBytes(path) - w0) / (4096 + 24) / N;
  db.close();
  return autocheckpoint ? { usPerLogin: round(us) } : { usPerLogin: round(us), walPagesPerLogin: round(pages) };
}

function round(x: number): number {
  return Math.round(x * 100) / 100;
}

try {
  const results = {
    n: N,
    latchkeyOwnCode: await runLatchkey(true),
    latchkeyOwnCodeNoCheckpoint: await runLatchkey(false),
    latchkeyCodeThroughKyselyWithoutSqlite: await runLatchkey(true, true),
    latchkeyRawStatements: await runRaw(),
    latchkeyRawStatementsLeanSchema: await runRaw(true),
    baseline: runBaseline(true),
    baselineNoCheckpoint: runBaseline(false),
  };
  process.stdout.write(`${JSON.stringify(results, null, 2)}\n`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
