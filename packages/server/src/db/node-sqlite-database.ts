import { DatabaseSync, type StatementSync } from 'node:sqlite';
import { Worker } from 'node:worker_threads';
import type { SqliteDatabase, SqliteStatement } from 'kysely';

type SqlValue = null | number | bigint | string | Uint8Array;

/** node:sqlite binds no booleans or undefined; Kysely may hand us both. */
function toSqlValues(parameters: ReadonlyArray<unknown>): SqlValue[] {
  return parameters.map((p) => (p === undefined ? null : typeof p === 'boolean' ? (p ? 1 : 0) : (p as SqlValue)));
}

/**
 * Adapts the built-in `node:sqlite` to the interface Kysely's SqliteDialect expects
 * (the better-sqlite3 shape), with a prepared-statement cache: Kysely compiles the same
 * SQL text for every ceremony, so preparing it once saves a parse per query.
 */
export interface NodeSqlite extends SqliteDatabase {
  raw: DatabaseSync;
  /** The cached prepared statement for `sql`, and whether it returns rows. */
  statement(sql: string): { statement: StatementSync; reader: boolean };
  /** Told how long each query Kysely ran took, in seconds (metrics); unset costs nothing. */
  onQuery: ((seconds: number) => void) | undefined;
  /**
   * Stops the checkpoint thread and waits until its connection is closed, so that the serving
   * connection's close is the last one: SQLite then checkpoints the WAL into the database and
   * removes the file (a clean shutdown leaves no `-wal`). Call before `close()`.
   */
  stopBackground(): Promise<void>;
}

/** Default bound of the write-ahead log (LATCHKEY_SQLITE_WAL_LIMIT_MB). */
export const DEFAULT_WAL_LIMIT_BYTES = 64 * 1024 * 1024;

/** Default page cache of a connection (LATCHKEY_SQLITE_CACHE_MB). */
export const DEFAULT_CACHE_BYTES = 64 * 1024 * 1024;

export function openNodeSqlite(path: string, options: { backgroundCheckpoint?: boolean; walLimitBytes?: number; cacheBytes?: number; mmapBytes?: number } = {}): NodeSqlite {
  const walLimitBytes = options.walLimitBytes ?? DEFAULT_WAL_LIMIT_BYTES;
  const raw = new DatabaseSync(path, { enableForeignKeyConstraints: true });
  raw.exec('PRAGMA journal_mode = WAL');
  raw.exec('PRAGMA synchronous = NORMAL');
  raw.exec('PRAGMA busy_timeout = 5000');
  raw.exec('PRAGMA foreign_keys = ON');
  // SQLite reuses the WAL file from its start after a complete checkpoint but never shrinks it:
  // without a limit it stays at the largest size a burst ever made it (1.4 GB seen, issue 9).
  raw.exec(`PRAGMA journal_size_limit = ${Math.floor(walLimitBytes)}`);
  // SQLite's default page cache is 2 MB: a database past that size reads its hot pages (credential
  // and user b-trees) back from the OS on every sign-in, a read() call per page.
  raw.exec(`PRAGMA cache_size = -${Math.floor((options.cacheBytes ?? DEFAULT_CACHE_BYTES) / 1024)}`);
  if (options.mmapBytes) raw.exec(`PRAGMA mmap_size = ${Math.floor(options.mmapBytes)}`);
  const checkpointer = path !== ':memory:' && options.backgroundCheckpoint !== false ? startCheckpointer(raw, path, walLimitBytes) : undefined;
  const cache = new Map<string, { statement: StatementSync; reader: boolean }>();

  function statement(sql: string): { statement: StatementSync; reader: boolean } {
    let entry = cache.get(sql);
    if (!entry) {
      const prepared = raw.prepare(sql);
      entry = { statement: prepared, reader: prepared.columns().length > 0 };
      if (cache.size > 500) cache.clear();
      cache.set(sql, entry);
    }
    return entry;
  }

  function prepare(sql: string): SqliteStatement {
    const { statement: prepared, reader } = statement(sql);
    return {
      reader,
      all: (parameters) => {
        const observe = handle.onQuery;
        if (!observe) return prepared.all(...toSqlValues(parameters));
        const start = performance.now();
        try {
          return prepared.all(...toSqlValues(parameters));
        } finally {
          observe((performance.now() - start) / 1000);
        }
      },
      run: (parameters) => {
        const observe = handle.onQuery;
        const start = observe ? performance.now() : 0;
        try {
          const result = prepared.run(...toSqlValues(parameters));
          return { changes: result.changes, lastInsertRowid: result.lastInsertRowid };
        } finally {
          observe?.((performance.now() - start) / 1000);
        }
      },
      iterate: (parameters) => prepared.iterate(...toSqlValues(parameters)) as IterableIterator<unknown>,
    };
  }

  const handle: NodeSqlite = {
    raw,
    prepare,
    statement,
    onQuery: undefined,
    stopBackground: () => checkpointer?.stop() ?? Promise.resolve(),
    close: () => {
      cache.clear();
      checkpointer?.stop();
      raw.close();
    },
  };
  return handle;
}

const CHECKPOINT_INTERVAL_MS = 200;
const SQLITE_DEFAULT_AUTOCHECKPOINT_PAGES = 1000;

/**
 * Moves WAL checkpoints off the event loop. By default SQLite checkpoints inside the commit that
 * crosses 1000 WAL pages: under load that commit (every ~60 sign-ins) stalls every request for
 * 6-8 ms of copying and fsync (bench/RESULTS.md). Here the serving connection never checkpoints
 * on its own; a worker thread with its own connection does, every 200 ms (wal-checkpointer.worker.mjs).
 *
 * That alone does not bound the WAL (issue 9: 1.4 GB): SQLite writes the log from its start again
 * only when a write begins with every frame already copied, and under load a commit always lands
 * while the worker copies. So when the worker sees the file past `walLimitBytes` it copies what it
 * can and says so; this connection, the only writer, then checkpoints the few frames left between
 * two of its transactions (no commit can land meanwhile), its next write starts the log over, and
 * journal_size_limit cuts the file back to the limit. No lock is fought over: a TRUNCATE checkpoint
 * in the worker would have to win the write lock from a busy event loop (seen: 1 s waits).
 * If the thread fails, the serving connection takes the whole job back (SQLite's own checkpoint
 * at 1000 pages, and journal_size_limit), so the WAL stays bounded.
 */
function startCheckpointer(raw: DatabaseSync, path: string, walLimitBytes: number): { stop(): Promise<void> } {
  let stopped = false;
  const fallBack = () => {
    if (!stopped && raw.isOpen) raw.exec(`PRAGMA wal_autocheckpoint = ${SQLITE_DEFAULT_AUTOCHECKPOINT_PAGES}`);
  };
  const finishCheckpoint = (attempt = 0) => {
    if (stopped || !raw.isOpen) return;
    // Not inside a transaction Kysely has open across an await (isTransaction: Node 22.16+): the
    // next turn of the event loop, then.
    if (raw.isTransaction === true && attempt < 100) {
      setImmediate(() => finishCheckpoint(attempt + 1));
      return;
    }
    try {
      raw.prepare('PRAGMA wal_checkpoint(PASSIVE)').get();
    } catch {
      // Locked by a transaction after all: the worker asks again once the file is still too big.
    }
    worker.postMessage('checkpointed');
  };
  raw.exec('PRAGMA wal_autocheckpoint = 0');
  const worker = new Worker(new URL('./wal-checkpointer.worker.mjs', import.meta.url), {
    workerData: { path, intervalMs: CHECKPOINT_INTERVAL_MS, walLimitBytes },
    resourceLimits: { maxOldGenerationSizeMb: 16, maxYoungGenerationSizeMb: 2 },
  });
  worker.unref();
  worker.on('message', (message: { error?: string; walOverLimit?: boolean }) => {
    if (message.walOverLimit) finishCheckpoint();
    if (message.error) fallBack();
  });
  worker.on('error', fallBack);
  const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
  worker.on('exit', fallBack);
  let stopping: Promise<void> | undefined;
  return {
    /** Resolves once the thread has closed its connection and exited (terminated after 2 s). */
    stop: () => {
      if (stopping) return stopping;
      stopped = true;
      worker.postMessage('stop');
      // Not unref'd: it keeps the process alive until the thread has exited (a CLI that closes the
      // database and then returns would otherwise end with the close still pending).
      const deadline = setTimeout(() => void worker.terminate(), 2000);
      stopping = exited.finally(() => clearTimeout(deadline));
      return stopping;
    },
  };
}
