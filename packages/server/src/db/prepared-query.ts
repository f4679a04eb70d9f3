import type { Compilable, CompiledQuery, Kysely, QueryResult } from 'kysely';

/**
 * A query that is built and compiled by Kysely once per dialect and then executed with new
 * values. The hot path of a sign-in runs ~9 statements; building and compiling each one anew
 * cost ~10 µs of query-builder work apiece (object trees, `freeze`, the visitor), a tenth of a
 * login's server CPU (bench/RESULTS.md). The SQL text stays the one Kysely writes, so the
 * prepared-statement cache of the SQLite adapter and PostgreSQL see one statement per query.
 *
 * @example
 * const consume = preparedQuery<{ challenge: string }, ChallengeRow>((db, p) =>
 *   db.deleteFrom('challenges').where('challenge', '=', p('challenge')).returningAll());
 * const row = await consume.first(trx, { challenge });
 */
export interface PreparedQuery<P, R> {
  /** All rows. */
  rows<DB>(db: Kysely<DB>, values: P): Promise<R[]>;
  /** The first row, or undefined. */
  first<DB>(db: Kysely<DB>, values: P): Promise<R | undefined>;
  /** The number of rows an insert, update or delete changed. */
  affected<DB>(db: Kysely<DB>, values: P): Promise<number>;
}

type Slot = { name: string } | { constant: unknown };
interface Prepared {
  compiled: CompiledQuery;
  slots: Slot[];
}

// A value no caller can produce: a NUL cannot reach a query from outside (PostgreSQL refuses it in text).
const SENTINEL_PREFIX = '\u0000latchkey-param:';

export function preparedQuery<P extends Record<string, unknown>, R>(
  // biome-ignore lint/suspicious/noExplicitAny: the builder is typed by the caller's schema
  build: (db: Kysely<any>, param: <K extends keyof P & string>(name: K) => P[K]) => Compilable<R>,
): PreparedQuery<P, R> {
  // One compiled form per dialect (`?` for SQLite, `$1` for PostgreSQL); tests run both in one process.
  const byDialect = new WeakMap<object, Prepared>();

  function prepare<DB>(db: Kysely<DB>): Prepared {
    const adapter = db.getExecutor().adapter;
    const cached = byDialect.get(adapter.constructor);
    if (cached) return cached;
    const names = new Set<string>();
    const param = <K extends keyof P & string>(name: K): P[K] => {
      names.add(name);
      return `${SENTINEL_PREFIX}${name}` as P[K];
    };
    const compiled = build(db, param).compile();
    const slots: Slot[] = compiled.parameters.map((value) =>
      typeof value === 'string' && value.startsWith(SENTINEL_PREFIX) ? { name: value.slice(SENTINEL_PREFIX.length) } : { constant: value },
    );
    for (const name of names) {
      if (!slots.some((slot) => 'name' in slot && slot.name === name)) throw new Error(`preparedQuery: parameter "${name}" is not bound in ${compiled.sql}`);
    }
    const prepared = { compiled, slots };
    byDialect.set(adapter.constructor, prepared);
    return prepared;
  }

  function execute<DB>(db: Kysely<DB>, values: P): Promise<QueryResult<R>> {
    const { compiled, slots } = prepare(db);
    const parameters = slots.map((slot) => ('name' in slot ? values[slot.name] : slot.constant));
    return db.executeQuery({ ...compiled, parameters } as CompiledQuery<R>);
  }

  return {
    rows: async (db, values) => (await execute(db, values)).rows,
    first: async (db, values) => (await execute(db, values)).rows[0],
    affected: async (db, values) => Number((await execute(db, values)).numAffectedRows ?? 0n),
  };
}

/**
 * `INSERT INTO table (columns of the row) VALUES (…)`, compiled once per set of columns. Columns
 * whose value is undefined are left out, as Kysely's `.values()` does, so their defaults apply.
 */
// biome-ignore lint/suspicious/noExplicitAny: any database with that table; the row type is the check
export function preparedInsert<Row extends object>(table: string): (db: Kysely<any>, row: Row) => Promise<number> {
  const byColumns = new Map<string, PreparedQuery<Record<string, unknown>, never>>();
  return (db, row) => {
    const values = row as Record<string, unknown>;
    const columns = Object.keys(values).filter((column) => values[column] !== undefined);
    const signature = columns.join(',');
    let query = byColumns.get(signature);
    if (!query) {
      query = preparedQuery<Record<string, unknown>, never>((db, p) => db.insertInto(table).values(Object.fromEntries(columns.map((c) => [c, p(c)]))));
      byColumns.set(signature, query);
    }
    return query.affected(db, values);
  };
}
