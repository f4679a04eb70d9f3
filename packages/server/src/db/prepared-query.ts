import type { StatementSync } from 'node:sqlite';
import { CompiledQuery, type Compilable, type Kysely } from 'kysely';
import { dialectOf } from './columns.ts';

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
  /** This statement with its values, to run in a `writeBatch`. */
  with(values: P): BoundStatement;
}

/** A prepared statement and the values to run it with (see `writeBatch`). */
export interface BoundStatement {
  readonly execute: <DB>(db: Kysely<DB>) => Promise<number>;
  readonly executeSync: (fast: SqliteFastPath) => number;
  /** The SQL and parameters for `db`'s dialect. */
  readonly compile: <DB>(db: Kysely<DB>) => CompiledQuery;
}

/**
 * The embedded database's connection, for statements that skip Kysely's executor. Kysely runs
 * every query through a connection mutex and several promise hops even on SQLite, whose calls are
 * synchronous: on the sign-in path that was ~120 µs of a ~1.3 ms login (`node bench/profile.ts`).
 * A statement (or a whole `writeBatch`) run synchronously cannot interleave with anything, so it
 * is safe whenever no Kysely transaction holds the connection open (`isTransaction`); when one
 * does, the query takes the Kysely path and waits its turn.
 */
export interface SqliteFastPath {
  /** The root Kysely instance over this connection; it compiles each query's SQLite text once. */
  // biome-ignore lint/suspicious/noExplicitAny: any schema
  readonly db: Kysely<any>;
  readonly raw: { readonly isTransaction: boolean };
  statement(sql: string): { statement: StatementSync; reader: boolean };
  /** Told how long each statement run here took, in seconds (metrics); unset costs nothing. */
  onQuery?: ((seconds: number) => void) | undefined;
}

const fastPaths = new WeakMap<object, SqliteFastPath>();

/** Lets prepared queries on `db` (the root instance, not its transactions) run synchronously. */
export function enableSqliteFastPath(fast: SqliteFastPath): void {
  fastPaths.set(fast.db, fast);
}

function fastPathFor(db: object): SqliteFastPath | undefined {
  const fast = fastPaths.get(db);
  return fast && !fast.raw.isTransaction ? fast : undefined;
}

type SqlValue = null | number | bigint | string | NodeJS.ArrayBufferView;
const toSqlValue = (p: unknown): SqlValue => (p === undefined ? null : typeof p === 'boolean' ? (p ? 1 : 0) : (p as SqlValue));

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

  function compile<DB>(db: Kysely<DB>, values: P): CompiledQuery<R> {
    const { compiled, slots } = prepare(db);
    const parameters = slots.map((slot) => ('name' in slot ? values[slot.name] : slot.constant));
    return { ...compiled, parameters } as CompiledQuery<R>;
  }

  function executeSync(fast: SqliteFastPath, values: P): { rows: R[]; affected: number } {
    // From the slots straight to SQLite values: no CompiledQuery copy and second array per statement.
    const { compiled, slots } = prepare(fast.db);
    const { statement, reader } = fast.statement(compiled.sql);
    const bound = slots.map((slot) => toSqlValue('name' in slot ? values[slot.name] : slot.constant));
    const observe = fast.onQuery;
    if (!observe) {
      if (reader) return { rows: statement.all(...bound) as R[], affected: 0 };
      return { rows: [], affected: Number(statement.run(...bound).changes) };
    }
    const start = performance.now();
    try {
      if (reader) return { rows: statement.all(...bound) as R[], affected: 0 };
      return { rows: [], affected: Number(statement.run(...bound).changes) };
    } finally {
      observe((performance.now() - start) / 1000);
    }
  }

  /** Synchronously on the SQLite fast path when it is free, else through Kysely. */
  async function run<DB>(db: Kysely<DB>, values: P): Promise<{ rows: R[]; affected: number }> {
    const fast = fastPathFor(db);
    if (fast) return executeSync(fast, values);
    const result = await db.executeQuery(compile(db, values));
    return { rows: result.rows, affected: Number(result.numAffectedRows ?? 0n) };
  }

  return {
    rows: async (db, values) => (await run(db, values)).rows,
    first: async (db, values) => (await run(db, values)).rows[0],
    affected: async (db, values) => (await run(db, values)).affected,
    with: (values) => ({
      execute: async (db) => (await run(db, values)).affected,
      executeSync: (fast) => executeSync(fast, values).affected,
      compile: (db) => compile(db, values),
    }),
  };
}

/**
 * `INSERT INTO table (columns of the row) VALUES (…)`, compiled once per set of columns. Columns
 * whose value is undefined are left out, as Kysely's `.values()` does, so their defaults apply.
 */
export interface PreparedInsert<Row> {
  // biome-ignore lint/suspicious/noExplicitAny: any database with that table; the row type is the check
  (db: Kysely<any>, row: Row): Promise<number>;
  /** The insert of `row`, to run in a `writeBatch`. */
  with(row: Row): BoundStatement;
}

export function preparedInsert<Row extends object>(table: string): PreparedInsert<Row> {
  const byColumns = new Map<string, PreparedQuery<Record<string, unknown>, never>>();
  function queryFor(row: Row): PreparedQuery<Record<string, unknown>, never> {
    const values = row as Record<string, unknown>;
    const columns = Object.keys(values).filter((column) => values[column] !== undefined);
    const signature = columns.join(',');
    let query = byColumns.get(signature);
    if (!query) {
      query = preparedQuery<Record<string, unknown>, never>((db, p) => db.insertInto(table).values(Object.fromEntries(columns.map((c) => [c, p(c)]))));
      byColumns.set(signature, query);
    }
    return query;
  }
  const insert = (db: Kysely<unknown>, row: Row) => queryFor(row).affected(db, row as Record<string, unknown>);
  insert.with = (row: Row) => queryFor(row).with(row as Record<string, unknown>);
  return insert as PreparedInsert<Row>;
}

/** A statement of a batch; with `expectOne`, the batch is rolled back unless it changed exactly one row. */
export interface BatchStep {
  statement: BoundStatement;
  expectOne?: boolean;
}

class BatchRolledBack extends Error {
  readonly step: number;
  constructor(step: number) {
    super(`batch step ${step} changed no row`);
    this.step = step;
  }
}

/**
 * Runs the statements in one transaction, in order. Returns undefined when it committed, or the
 * index of the first `expectOne` step that changed no row, after rolling everything back — how
 * a compare-and-set (a counter, a single-use marker) refuses the whole change.
 *
 * On SQLite with the fast path, BEGIN … COMMIT runs synchronously: one commit, no promise hops,
 * and no other request's statement can land inside it. On PostgreSQL the whole batch goes to the
 * server as ONE statement (see `oneStatement`): one round trip instead of one per step plus
 * BEGIN and COMMIT. Steps must therefore not depend on each other's effects: they all see the
 * snapshot the statement started with.
 */
// biome-ignore lint/suspicious/noExplicitAny: any schema
export async function writeBatch(db: Kysely<any>, steps: BatchStep[]): Promise<number | undefined> {
  if (db.isTransaction) throw new Error('writeBatch runs its own transaction: pass the root database, not a transaction');
  const fast = fastPathFor(db);
  if (fast) return runBatchSync(fast, steps);
  const single = dialectOf(db) === 'postgres' ? oneStatement(db, steps) : undefined;
  if (single) {
    try {
      await db.executeQuery(single);
      return undefined;
    } catch (error) {
      // A compare-and-set changed no row and the statement undid itself; the step-by-step
      // transaction below finds which one (it fails the same way, since nothing changed).
      if ((error as { code?: string }).code !== DIVISION_BY_ZERO) throw error;
    }
  }
  try {
    await db.transaction().execute(async (trx) => {
      for (const [index, step] of steps.entries()) {
        const changed = await step.statement.execute(trx);
        if (step.expectOne && changed !== 1) throw new BatchRolledBack(index);
      }
    });
    return undefined;
  } catch (error) {
    if (error instanceof BatchRolledBack) return error.step;
    throw error;
  }
}

const DIVISION_BY_ZERO = '22012';

/**
 * PostgreSQL: the batch as one statement of data-modifying CTEs, which all run, to completion,
 * in one implicit transaction —
 *   `WITH "b0" AS (<step 0> RETURNING 1), "b1" AS (<step 1>), …
 *    SELECT 1 / ((SELECT count(*) FROM "b0") = 1)::int`
 * — where each `expectOne` step's guard divides by zero unless it changed exactly one row, which
 * aborts the statement and so undoes every step. `$n` placeholders are renumbered. Undefined
 * (run step by step instead) when a statement cannot be merged safely: placeholders that are not
 * exactly `$1…$k` for its k parameters (a `$` inside a literal, say) or a RETURNING of its own.
 */
// biome-ignore lint/suspicious/noExplicitAny: any schema
function oneStatement(db: Kysely<any>, steps: BatchStep[]): CompiledQuery | undefined {
  const ctes: string[] = [];
  const guards: string[] = [];
  const parameters: unknown[] = [];
  for (const [index, step] of steps.entries()) {
    const compiled = step.statement.compile(db);
    const found = new Set<number>();
    const offset = parameters.length;
    const text = compiled.sql.replace(/\$(\d+)/g, (_, n: string) => {
      found.add(Number(n));
      return `$${Number(n) + offset}`;
    });
    const count = compiled.parameters.length;
    if (found.size !== count || [...found].some((n) => n < 1 || n > count) || /\breturning\b/i.test(text)) return undefined;
    const name = `latchkey_batch_${index}`;
    if (step.expectOne) {
      ctes.push(`"${name}" as (${text} returning 1)`);
      guards.push(`1 / ((select count(*) from "${name}") = 1)::int as "${name}"`);
    } else {
      ctes.push(`"${name}" as (${text})`);
    }
    parameters.push(...compiled.parameters);
  }
  if (ctes.length === 0) return undefined;
  return CompiledQuery.raw(`with ${ctes.join(', ')} select ${guards.length > 0 ? guards.join(', ') : '1'}`, parameters);
}

function runBatchSync(fast: SqliteFastPath, steps: BatchStep[]): number | undefined {
  fast.statement('BEGIN IMMEDIATE').statement.run(); // as Kysely's transactions (db/create-db.ts)
  try {
    for (const [index, step] of steps.entries()) {
      const changed = step.statement.executeSync(fast);
      if (step.expectOne && changed !== 1) {
        fast.statement('ROLLBACK').statement.run();
        return index;
      }
    }
    fast.statement('COMMIT').statement.run();
    return undefined;
  } catch (error) {
    if (fast.raw.isTransaction) fast.statement('ROLLBACK').statement.run();
    throw error;
  }
}
