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
// biome-ignore lint/suspicious/noExplicitAny: any schema
export function dialectOf(db: Kysely<any>): Dialect {
  return db.getExecutor().adapter.constructor.name.toLowerCase().includes('postgres') ? 'postgres' : 'sqlite';
}
