import type { FastifyInstance, FastifyRequest } from 'fastify';

const ALLOWED_METHODS = 'GET, POST, PUT, PATCH, DELETE';
const ALLOWED_HEADERS = 'Accept, Authorization, Content-Type, Latchkey-Ceremony';
const EXPOSED_HEADERS = 'Latchkey-Ceremony, Retry-After, X-Request-Id';

/**
 * CORS with credentials for the configured origins only (LATCHKEY_CORS_ORIGINS, a subset of
 * LATCHKEY_ORIGINS: SEC-61), so the web components can live on another origin than the API.
 * An exact match of the Origin header is the only way in: no wildcards, no reflection of unknown
 * origins. CORS only lets those pages read answers; what they may change is still decided by the
 * CSRF guard (SEC-23). Exposes `Latchkey-Ceremony`, which cookie-less clients echo back on verify.
 */
export function installCors(app: FastifyInstance, origins: readonly string[], onRefused?: (origin: string, request: FastifyRequest) => void): void {
  const allowed = new Set(origins);
  // The last answer of isOwnOrigin (a URL parse, ~5 us): one client behind one Host sends the same
  // refused Origin on every request, so it is asked the same question again and again.
  let last: { origin: string; host: string | undefined; own: boolean } | undefined;
  const ownOrigin = (origin: string, host: string | undefined): boolean => {
    if (last?.origin !== origin || last.host !== host) last = { origin, host, own: isOwnOrigin(origin, host) };
    return last.own;
  };
  // Callback-style: it runs on every request, and an async hook costs a promise per call.
  app.addHook('onRequest', (request, reply, done) => {
    if (!request.url.startsWith('/api/')) return done();
    reply.header('vary', 'Origin');
    const origin = request.headers.origin;
    if (origin === undefined) return done();
    if (!allowed.has(origin)) {
      // A browser sends Origin on same-origin POSTs too: only a cross-origin page needs CORS.
      if (onRefused && request.headers['sec-fetch-site'] !== 'same-origin' && !ownOrigin(origin, request.headers.host)) onRefused(origin, request);
      return done();
    }
    reply.header('access-control-allow-origin', origin);
    reply.header('access-control-allow-credentials', 'true');
    reply.header('access-control-expose-headers', EXPOSED_HEADERS);
    if (request.method === 'OPTIONS' && request.headers['access-control-request-method'] !== undefined) {
      reply.header('access-control-allow-methods', ALLOWED_METHODS);
      reply.header('access-control-allow-headers', ALLOWED_HEADERS);
      reply.header('access-control-max-age', '600');
      // Answered here: the lifecycle stops without done().
      reply.code(204).send();
      return;
    }
    done();
  });
}

function isOwnOrigin(origin: string, host: string | undefined): boolean {
  try {
    return host !== undefined && new URL(origin).host === host;
  } catch {
    return false;
  }
}
