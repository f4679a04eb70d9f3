import type { Kysely } from 'kysely';
import type { Dialect } from './create-db.ts';

/** Column types that differ between SQLite and PostgreSQL, decided once (STYLE.md §I). */
export function columnTypes(dialect: Dialect) {
  return {
    bytes: dialect === 'postgres' ? ('bytea' as const) : ('blob' as const),
    /** Epoch milliseconds and counters. */
    bigint: 'bigint' as const,
  };
}

/** Kysely has no dialect name at runtime; migrations ask the adapter. */
export function dialectOf(db: Kysely<unknown>): Dialect {
  return db.getExecutor().adapter.constructor.name.toLowerCase().includes('postgres') ? 'postgres' : 'sqlite';
}
