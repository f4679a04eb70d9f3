import type { FastifyInstance } from 'fastify';
import { CommonErrors } from '../errors/common.errors.ts';

/**
 * U+0000 (NUL) is refused wherever a request carries text. No field of the API has a use for it,
 * and PostgreSQL cannot hold it in a text value: a query with one fails, which was a 500 for a NUL
 * in a path id or a lookup field (found by test/integration/api-fuzz.test.ts). Cheap on the hot
 * path: a substring test of the URL and of the raw JSON; the parsed body is walked only when its
 * raw text has the `\u0000` escape (a raw NUL byte is not valid JSON at all).
 */
export function installNulGuard(app: FastifyInstance): void {
  // Callback-style: it runs on every request, and an async hook costs a promise per call.
  app.addHook('onRequest', (request, _reply, done) => {
    done(request.url.includes('%00') ? CommonErrors.invalid_request({ detail: 'The URL contains U+0000 (%00), which no parameter accepts' }) : undefined);
  });
}

/** The error for a JSON body whose parsed value holds U+0000 in a string or a key, or undefined. */
export function nulInJson(raw: string, parsed: unknown): Error | undefined {
  if (!raw.includes('\\u0000') || !holdsNul(parsed)) return undefined;
  return CommonErrors.invalid_request({ detail: 'The body contains U+0000 (\\u0000), which no field accepts' });
}

/** Whether a string or key anywhere in `value` holds U+0000; iterative, as bodies can nest 10,000 deep. */
function holdsNul(value: unknown): boolean {
  const pending: unknown[] = [value];
  while (pending.length > 0) {
    const next = pending.pop();
    if (typeof next === 'string') {
      if (next.includes('\u0000')) return true;
    } else if (Array.isArray(next)) {
      for (const item of next) pending.push(item);
    } else if (next !== null && typeof next === 'object') {
      for (const [key, inner] of Object.entries(next)) {
        if (key.includes('\u0000')) return true;
        pending.push(inner);
      }
    }
  }
  return false;
}
