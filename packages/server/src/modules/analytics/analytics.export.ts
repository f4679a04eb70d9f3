/**
 * The BI export's schema (README, "BI export"): the columns, in this order, are a contract —
 * test/integration/analytics.test.ts checks them, so they cannot change silently. A new column
 * goes at the end; a column is never renamed or removed.
 */
export const ROLLUP_COLUMNS = ['day', 'metric', 'detail', 'device', 'os', 'browser', 'provider', 'count'] as const;

export const EVENT_COLUMNS = [
  'event_id',
  'recorded_at',
  'day',
  'type',
  'outcome',
  'user_pseudonym',
  'ceremony',
  'mode',
  'phase',
  'error',
  'duration_ms',
  'method',
  'device',
  'os',
  'browser',
  'provider',
] as const;

export type RollupExportRow = Record<(typeof ROLLUP_COLUMNS)[number], string | number>;
export type EventExportRow = Record<(typeof EVENT_COLUMNS)[number], string | number | null>;

export type ExportFormat = 'csv' | 'ndjson';

/** RFC 4180 field; a leading =, +, - or @ gets a ' so a spreadsheet does not run it as a formula. */
function csvField(value: string | number | null): string {
  if (value === null) return '';
  let text = String(value);
  if (typeof value === 'string' && /^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/** The rows as CSV (a header line first) or NDJSON, one line at a time, for a streamed answer. */
export async function* serialize<R extends Record<string, string | number | null>>(
  rows: AsyncIterable<R>,
  columns: readonly (keyof R & string)[],
  format: ExportFormat,
): AsyncGenerator<string> {
  if (format === 'csv') yield `${columns.join(',')}\r\n`;
  let buffer = '';
  let n = 0;
  for await (const row of rows) {
    buffer += format === 'csv' ? `${columns.map((c) => csvField(row[c] ?? null)).join(',')}\r\n` : `${JSON.stringify(row)}\n`;
    if (++n % 500 === 0) {
      yield buffer;
      buffer = '';
    }
  }
  if (buffer) yield buffer;
}
