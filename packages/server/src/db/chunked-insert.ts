import { CompiledQuery, type Compilable, type Kysely } from 'kysely';
import { dialectOf } from './columns.ts';
import type { Database } from './database.ts';

/**
 * A multi-row INSERT for batches written off the request path (audit chain rows, webhook
 * deliveries), run a power-of-two chunk at a time: a batch of 1,000 rows is at most 10 statements,
 * and each chunk size is one SQL text, built and compiled by Kysely once per dialect and then run
 * with new values. Building the statement for each batch instead cost a tree of thousands of value
 * nodes (allocation the garbage collector then pays for), and each batch length was a new SQL text
 * for SQLite to prepare and PostgreSQL to name.
 *
 * `build` writes the statement for some rows (ON CONFLICT and RETURNING included); it is called
 * with placeholder rows whose values name their slot, and the compiled parameters must come out in
 * row-then-column order, or the insert refuses to run.
 *
 * @example
 * const insertChainRows = chunkedInsert<AuditChainTable, never>({
 *   columns: ['seq', 'event_id', 'prev_hash', 'hash', 'version', 'sealed_at'],
 *   maxChunk: 512,
 *   build: (db, rows) => db.insertInto('audit_chain').values(rows),
 * });
 * await insertChainRows(trx, rows);
 */
export function chunkedInsert<Row, Out>(spec: {
  columns: readonly (keyof Row & string)[];
  /** The largest chunk, a power of two (mind the dialects' parameter limits: columns × maxChunk). */
  maxChunk: number;
  build: (db: Kysely<Database>, rows: Row[]) => Compilable<Out>;
}): (trx: Kysely<Database>, rows: readonly Row[]) => Promise<Out[]> {
  if (!Number.isInteger(spec.maxChunk) || spec.maxChunk < 1 || (spec.maxChunk & (spec.maxChunk - 1)) !== 0) throw new Error('chunkedInsert: maxChunk must be a power of two');
  const chunks: number[] = [];
  for (let size = spec.maxChunk; size >= 1; size /= 2) chunks.push(size);
  const statements = new Map<string, string>();

  function sqlFor(db: Kysely<Database>, size: number): string {
    const key = `${dialectOf(db)}:${size}`;
    let text = statements.get(key);
    if (text === undefined) {
      const names = Array.from({ length: size }, (_, i) => spec.columns.map((column) => `${column}:${i}`));
      const template = names.map((row) => Object.fromEntries(spec.columns.map((column, k) => [column, row[k]]))) as unknown as Row[];
      const compiled = spec.build(db, template).compile();
      if (compiled.parameters.join('\n') !== names.flat().join('\n')) throw new Error('chunkedInsert: unexpected parameter order in the compiled statement');
      text = compiled.sql;
      statements.set(key, text);
    }
    return text;
  }

  return async (trx, rows) => {
    const out: Out[] = [];
    let next = 0;
    for (const size of chunks) {
      while (rows.length - next >= size) {
        const parameters: unknown[] = [];
        for (let i = next; i < next + size; i++) {
          const row = rows[i] as Record<string, unknown>;
          for (const column of spec.columns) parameters.push(row[column] ?? null);
        }
        const result = await trx.executeQuery<Out>(CompiledQuery.raw(sqlFor(trx, size), parameters));
        for (const r of result.rows) out.push(r);
        next += size;
      }
    }
    return out;
  };
}
