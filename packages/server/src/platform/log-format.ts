/**
 * Human-readable log lines for a terminal: pino writes one JSON object per line to `write`, this
 * prints `12:04:05 INFO  message key=value`. Used only when stdout is a TTY (main.ts); pipes,
 * files and log collectors get pino's JSON unchanged.
 */
const LEVELS: Record<number, [string, string]> = {
  10: ['TRACE', '\x1b[90m'],
  20: ['DEBUG', '\x1b[36m'],
  30: ['INFO ', '\x1b[32m'],
  40: ['WARN ', '\x1b[33m'],
  50: ['ERROR', '\x1b[31m'],
  60: ['FATAL', '\x1b[35m'],
};
const RESET = '\x1b[0m';
const DIM = '\x1b[2m';
const SKIP = new Set(['level', 'time', 'msg', 'pid', 'hostname', 'v']);

/** One pino JSON line as text for a terminal; a line that is not JSON is returned as it was. */
export function formatLogLine(line: string, colour = true): string {
  let entry: Record<string, unknown>;
  try {
    entry = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return line.endsWith('\n') ? line : `${line}\n`;
  }
  const [label, colourCode] = LEVELS[Number(entry.level)] ?? ['LOG  ', ''];
  const time = typeof entry.time === 'number' ? new Date(entry.time).toTimeString().slice(0, 8) : '';
  const fields: string[] = [];
  for (const [key, value] of Object.entries(entry)) {
    if (SKIP.has(key) || value === undefined) continue;
    if (key === 'req' && value && typeof value === 'object') {
      const req = value as { method?: string; url?: string };
      fields.push(`${req.method ?? ''} ${req.url ?? ''}`.trim());
    } else if (key === 'res' && value && typeof value === 'object') fields.push(`status=${(value as { statusCode?: number }).statusCode}`);
    else if (key === 'err' && value && typeof value === 'object') {
      const err = value as { message?: string; stack?: string };
      fields.push(`err=${JSON.stringify(err.message ?? '')}${err.stack ? `\n${err.stack}` : ''}`);
    } else fields.push(`${key}=${typeof value === 'string' ? value : JSON.stringify(value)}`);
  }
  const level = colour ? `${colourCode}${label}${RESET}` : label;
  const rest = fields.length > 0 ? ` ${colour ? DIM : ''}${fields.join(' ')}${colour ? RESET : ''}` : '';
  return `${time} ${level} ${String(entry.msg ?? '')}${rest}\n`;
}

/** A pino destination that writes formatted lines to `out` (a terminal). */
export function createPrettyDestination(out: { write(text: string): unknown }, colour = true): { write(line: string): void } {
  return {
    write(chunk: string) {
      for (const line of chunk.split('\n')) if (line) out.write(formatLogLine(line, colour));
    },
  };
}
