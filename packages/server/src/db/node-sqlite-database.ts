import { DatabaseSync, type StatementSync } from 'node:sqlite';
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
export function openNodeSqlite(path: string): SqliteDatabase & { raw: DatabaseSync } {
  const raw = new DatabaseSync(path, { enableForeignKeyConstraints: true });
  raw.exec('PRAGMA journal_mode = WAL');
  raw.exec('PRAGMA synchronous = NORMAL');
  raw.exec('PRAGMA busy_timeout = 5000');
  raw.exec('PRAGMA foreign_keys = ON');
  const cache = new Map<string, { statement: StatementSync; reader: boolean }>();

  function prepare(sql: string): SqliteStatement {
    let entry = cache.get(sql);
    if (!entry) {
      const statement = raw.prepare(sql);
      entry = { statement, reader: statement.columns().length > 0 };
      if (cache.size > 500) cache.clear();
      cache.set(sql, entry);
    }
    const { statement, reader } = entry;
    return {
      reader,
      all: (parameters) => statement.all(...toSqlValues(parameters)),
      run: (parameters) => {
        const result = statement.run(...toSqlValues(parameters));
        return { changes: result.changes, lastInsertRowid: result.lastInsertRowid };
      },
      iterate: (parameters) => statement.iterate(...toSqlValues(parameters)) as IterableIterator<unknown>,
    };
  }

  return {
    raw,
    prepare,
    close: () => {
      cache.clear();
      raw.close();
    },
  };
}
