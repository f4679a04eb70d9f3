import type { FastifyBaseLogger } from 'fastify';
import type { Clock } from '../platform/clock.ts';

/** One warning per origin in this window, and at most BURST warnings of all kinds in it. */
const WINDOW_MS = 10 * 60_000;
const BURST = 10;

export type OriginRefusal = 'cors' | 'csrf';

/**
 * Warns an operator about a browser origin that Latchkey refused, naming the variable that would
 * let it in: a page on a new domain is the first thing a deployment gets wrong, and the browser
 * only says "CORS" or the user "it does not work". Rate-limited (once per origin per 10 minutes,
 * at most 10 in 10 minutes in all, the rest counted) so a client sending made-up origins cannot
 * flood the log; the origin is cut to 100 characters and logged as a field, never in the message.
 */
export function createOriginWarnings(deps: { log: FastifyBaseLogger; clock: Clock; origins: readonly string[]; corsOrigins: readonly string[] }) {
  const origins = new Set(deps.origins);
  const cors = new Set(deps.corsOrigins);
  let windowStart = 0;
  let sent = 0;
  let suppressed = 0;
  const warned = new Set<string>();

  // CORS and the origin check may both refuse one request: it counts once.
  const handled = new WeakSet<object>();

  return function warnRefused(kind: OriginRefusal, origin: string, request: { method: string; url: string }): void {
    const now = deps.clock.now();
    if (now - windowStart >= WINDOW_MS) {
      windowStart = now;
      sent = 0;
      warned.clear();
    }
    // Per origin, whatever the kind: a cross-origin POST is refused by both, and one line says it all.
    // Checked before `handled`: an origin already warned about (every request of a client that keeps
    // sending it) costs no WeakSet entry.
    const key = origin;
    if (warned.has(key)) return;
    if (handled.has(request)) return;
    handled.add(request);
    if (sent >= BURST) {
      suppressed += 1;
      return;
    }
    warned.add(key);
    sent += 1;
    const fields = { origin: origin.slice(0, 100), method: request.method, path: request.url.split('?')[0]?.slice(0, 200), ...(suppressed > 0 ? { suppressed } : {}) };
    suppressed = 0;
    if (kind === 'csrf') {
      deps.log.warn(fields, 'refused a request from a browser origin that is not in LATCHKEY_ORIGINS: if it is your site, add it to LATCHKEY_ORIGINS (on the RP ID\'s domain)');
    } else if (!origins.has(origin)) {
      deps.log.warn(fields, 'no CORS for a browser origin that is not in LATCHKEY_ORIGINS: if it is your site and calls this API from another origin, add it to LATCHKEY_ORIGINS and LATCHKEY_CORS_ORIGINS');
    } else if (!cors.has(origin)) {
      deps.log.warn(fields, 'no CORS for a browser origin that is in LATCHKEY_ORIGINS but not in LATCHKEY_CORS_ORIGINS: add it to LATCHKEY_CORS_ORIGINS to let its pages call this API');
    }
  };
}
