import { mkdirSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { CompiledQuery, Kysely, PostgresDialect, SqliteDialect, SqliteDriver, type DatabaseConnection, type Driver, type SqliteDialectConfig } from 'kysely';
import pg from 'pg';
import type { Database } from './database.ts';
import { openNodeSqlite } from './node-sqlite-database.ts';
import { enableSqliteFastPath, type SqliteFastPath } from './prepared-query.ts';

export type Dialect = 'sqlite' | 'postgres';

export interface DatabaseHandle {
  db: Kysely<Database>;
  dialect: Dialect;
  /** Cheap query used by /healthz. */
  ping(): Promise<void>;
  /**
   * Called when a connection fails outside any query (PostgreSQL restarting, a dropped socket):
   * for the log only, as the pool has already discarded the connection and the next query opens a
   * new one (or fails with a 503 while the database is away).
   */
  onConnectionError(listener: (error: Error) => void): void;
  /**
   * Tells `observer` how long each query took, in seconds (metrics). Timed where the queries
   * run: the SQLite statement calls (Kysely's and the fast path's) and PostgreSQL's
   * `client.query`; a transaction's BEGIN and COMMIT count as queries too.
   */
  observeQueries(observer: (seconds: number) => void): void;
  /** What the metrics report about the database right now. */
  stats(): DatabaseStats;
  close(): Promise<void>;
}

export interface DatabaseStats {
  /** PostgreSQL: connections open, idle, the pool's cap, and queries waiting for a connection. */
  pool?: { total: number; idle: number; max: number; waiting: number };
  /** SQLite: bytes in the write-ahead log file (0 when it has none). */
  walBytes?: number;
}

const INT8_OID = 20;
const CONNECT_TIMEOUT_MS = 5000;

/**
 * Opens the database named by `url`: `sqlite:<path>` (created with its folder on first start)
 * or `postgres://...`. Timestamps are epoch milliseconds in both, so BIGINT is read as a number.
 */
export function createDatabase(url: string, options: { poolSize?: number; sqliteWalLimitMb?: number; sqliteCacheMb?: number; sqliteMmapMb?: number } = {}): DatabaseHandle {
  if (url.startsWith('sqlite:')) {
    const path = url.slice('sqlite:'.length);
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
    const MB = 1024 * 1024;
    const sqlite = openNodeSqlite(path, {
      ...(options.sqliteWalLimitMb ? { walLimitBytes: options.sqliteWalLimitMb * MB } : {}),
      ...(options.sqliteCacheMb ? { cacheBytes: options.sqliteCacheMb * MB } : {}),
      ...(options.sqliteMmapMb ? { mmapBytes: options.sqliteMmapMb * MB } : {}),
    });
    const db = new Kysely<Database>({ dialect: new ImmediateSqliteDialect({ database: sqlite }) });
    const fast: SqliteFastPath = { db, raw: sqlite.raw, statement: sqlite.statement };
    // The fast path must see Kysely's open transactions: DatabaseSync.isTransaction (Node 22.16+).
    if (typeof sqlite.raw.isTransaction === 'boolean') enableSqliteFastPath(fast);
    return {
      db,
      dialect: 'sqlite',
      ping: async () => {
        sqlite.raw.prepare('SELECT 1').get();
      },
      onConnectionError: () => {},
      observeQueries: (observer) => {
        sqlite.onQuery = observer;
        fast.onQuery = observer;
      },
      stats: () => ({ walBytes: path === ':memory:' ? 0 : fileSize(`${path}-wal`) }),
      // The checkpoint thread's connection closes first, so this one is the last and removes the WAL.
      close: async () => {
        await sqlite.stopBackground();
        await db.destroy();
      },
    };
  }
  const pool = new pg.Pool({
    connectionString: url,
    max: options.poolSize ?? 10,
    // A database that does not answer fails the request (503) instead of holding it forever.
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
    keepAlive: true,
    types: {
      getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
        oid === INT8_OID ? (value: string) => Number(value) : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
    },
  });
  const listeners = new Set<(error: Error) => void>();
  const report = (error: Error) => {
    for (const listener of listeners) listener(error);
  };
  // A connection that dies (PostgreSQL restarting: "terminating connection due to administrator
  // command", ECONNRESET) makes its pg.Client emit 'error', and an 'error' nobody listens to ends
  // the process. pg-pool listens only while a client is idle (and re-emits on the pool); a client
  // checked out by Kysely for a query or a transaction has no listener at all. So every client
  // gets one of its own for its whole life: the query in flight fails (503 problem+json), the pool
  // drops the broken client when it is released and opens a new one on the next request.
  let observer: ((seconds: number) => void) | undefined;
  pool.on('connect', (client) => {
    client.on('error', report);
    usePreparedStatements(client, () => observer);
  });
  pool.on('error', () => {}); // the idle client's error, already reported by its own listener
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  return {
    db,
    dialect: 'postgres',
    ping: async () => {
      await pool.query('SELECT 1');
    },
    onConnectionError: (listener) => listeners.add(listener),
    observeQueries: (next) => {
      observer = next;
    },
    stats: () => ({ pool: { total: pool.totalCount, idle: pool.idleCount, max: pool.options.max, waiting: pool.waitingCount } }),
    close: () => db.destroy(),
  };
}

/**
 * Transactions take SQLite's write lock at BEGIN (BEGIN IMMEDIATE). The WAL checkpoint worker holds
 * that lock for a moment when it truncates the log; a transaction that had begun deferred and read
 * first would then be refused the lock at once with SQLITE_BUSY (SQLite runs no busy handler for a
 * read-to-write upgrade), where BEGIN IMMEDIATE waits its busy_timeout. One connection serves
 * every request, so taking the lock early costs no concurrency.
 */
class ImmediateSqliteDriver extends SqliteDriver {
  override async beginTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('begin immediate'));
  }
}

class ImmediateSqliteDialect extends SqliteDialect {
  readonly #config: SqliteDialectConfig;
  constructor(config: SqliteDialectConfig) {
    super(config);
    this.#config = config;
  }
  override createDriver(): Driver {
    return new ImmediateSqliteDriver(this.#config);
  }
}

/** Distinct statement texts a connection keeps prepared; the hot path has about a dozen. */
const MAX_PREPARED_STATEMENTS = 256;
const statementNames = new Map<string, string>();

/**
 * Runs parameterized queries as named prepared statements, so PostgreSQL parses and plans each
 * statement text once per connection instead of on every call (pg prepares a name on its first
 * use on a connection). Kysely writes the same text for the same query, and the hot path's
 * queries are compiled once (db/prepared-query.ts). Past the cap, queries run unnamed as before.
 */
function usePreparedStatements(client: pg.PoolClient, observerOf: () => ((seconds: number) => void) | undefined): void {
  const query = client.query.bind(client) as (...args: unknown[]) => unknown;
  const run = (config: unknown, values?: unknown, callback?: unknown) => {
    if (typeof config === 'string' && Array.isArray(values) && values.length > 0 && callback === undefined) {
      let name = statementNames.get(config);
      if (!name && statementNames.size < MAX_PREPARED_STATEMENTS) {
        name = `latchkey_${statementNames.size}`;
        statementNames.set(config, name);
      }
      if (name) return query({ name, text: config, values });
    }
    return query(config, values, callback);
  };
  (client as { query: unknown }).query = (config: unknown, values?: unknown, callback?: unknown) => {
    const observe = observerOf();
    if (!observe || callback !== undefined) return run(config, values, callback);
    const start = performance.now();
    const result = run(config, values, callback) as Promise<unknown> | undefined;
    // A submittable (a cursor) is returned as it is, untimed.
    if (typeof result?.then === 'function') {
      const done = () => observe((performance.now() - start) / 1000);
      result.then(done, done);
    }
    return result;
  };
}

function fileSize(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}
