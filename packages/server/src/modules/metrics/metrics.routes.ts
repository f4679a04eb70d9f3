import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { AppError } from '../../errors/app-error.ts';
import { CommonErrors } from '../../errors/common.errors.ts';
import { toAppError } from '../../errors/problem.ts';
import { isCloneSuspected } from '../webauthn/webauthn.module.ts';
import type { CeremonySeries, CeremonyType, Metrics, RouteSeries } from './metrics.service.ts';

/** The routes of each ceremony step. Routes not listed are counted as HTTP requests only. */
const CEREMONY_ROUTES: Record<string, { ceremony: CeremonyType; step: string; fallback?: true }> = {
  'POST /api/v1/passkeys/registration/options': { ceremony: 'registration', step: 'options' },
  'POST /api/v1/passkeys/registration/verify': { ceremony: 'registration', step: 'verify' },
  'POST /api/v1/passkeys/authentication/options': { ceremony: 'authentication', step: 'options' },
  'POST /api/v1/passkeys/authentication/verify': { ceremony: 'authentication', step: 'verify' },
  'POST /api/v1/session/step-up/options': { ceremony: 'step_up', step: 'options' },
  'POST /api/v1/session/step-up/verify': { ceremony: 'step_up', step: 'verify' },
  'POST /api/v1/email-code/sign-in': { ceremony: 'email_code', step: 'start' },
  'POST /api/v1/email-code/sign-in/verify': { ceremony: 'email_code', step: 'verify', fallback: true },
  'POST /api/v1/password/sign-in': { ceremony: 'password', step: 'verify', fallback: true },
  'POST /api/v1/session/totp': { ceremony: 'totp', step: 'verify', fallback: true },
  'POST /api/v1/recovery/start': { ceremony: 'recovery', step: 'start' },
  'POST /api/v1/recovery/verify': { ceremony: 'recovery', step: 'verify', fallback: true },
};

type StatusClass = keyof RouteSeries['requests'];
const STATUS_CLASS: StatusClass[] = ['1xx', '1xx', '2xx', '3xx', '4xx', '5xx'];

interface RouteEntry {
  series: RouteSeries;
  ceremony: CeremonySeries | undefined;
  /** A fallback's verify: its successes count as a fallback used. */
  fallback: CeremonyType | undefined;
}

/** Where /metrics is served: its own port, the main port behind a token, or nowhere. */
export interface MetricsExposure {
  port?: number | undefined;
  host: string;
  token?: string | undefined;
}

/**
 * Counts every response by route pattern, method and status class, and each ceremony step by
 * outcome and problem code. Counted when the response has been sent, so after the ceremony's
 * commit and exactly as the client saw it: a rolled-back verify (database gone) counts as its
 * 503, never as a success. The problem code comes from the error the route threw.
 */
export function installMetricsHooks(app: FastifyInstance, metrics: Metrics): void {
  const codes = new WeakMap<FastifyRequest, string>();
  // By route pattern, then method: no key string is built per request.
  const entries = new Map<string, Map<string, RouteEntry>>();
  const entryFor = (method: string, url: string | undefined): RouteEntry => {
    const route = url ?? 'unmatched';
    let byMethod = entries.get(route);
    if (!byMethod) {
      byMethod = new Map();
      entries.set(route, byMethod);
    }
    let entry = byMethod.get(method);
    if (!entry) {
      const ceremony = url === undefined ? undefined : CEREMONY_ROUTES[`${method} ${route}`];
      entry = {
        series: metrics.route(route, method),
        ceremony: ceremony && metrics.ceremony(ceremony.ceremony, ceremony.step),
        fallback: ceremony?.fallback ? ceremony.ceremony : undefined,
      };
      byMethod.set(method, entry);
    }
    return entry;
  };

  app.addHook('onError', (request, _reply, error, done) => {
    const appError = error instanceof AppError ? error : toAppError(error);
    codes.set(request, appError.code);
    metrics.problem(appError.code);
    if (appError.code === 'verification_failed' && isCloneSuspected(appError)) metrics.cloneSuspected();
    done();
  });

  app.addHook('onResponse', (request, reply, done) => {
    const entry = entryFor(request.method, request.routeOptions.url);
    const seconds = reply.elapsedTime / 1000;
    const status = reply.statusCode;
    entry.series.requests[STATUS_CLASS[Math.floor(status / 100)] ?? '5xx'].inc();
    entry.series.duration.observe(seconds);
    const ceremony = entry.ceremony;
    if (ceremony) {
      if (status >= 400) {
        ceremony.failed(seconds, codes.get(request) ?? `http_${status}`);
      } else {
        ceremony.succeeded(seconds);
        if (entry.fallback) metrics.fallbackUsed(entry.fallback);
      }
    }
    done();
  });
}

/** SHA-256 of both sides, so the comparison is constant-time whatever the lengths. */
function tokenMatches(header: string | undefined, token: string): boolean {
  if (!header?.startsWith('Bearer ')) return false;
  const given = createHash('sha256').update(header.slice('Bearer '.length)).digest();
  const expected = createHash('sha256').update(token).digest();
  return timingSafeEqual(given, expected);
}

/**
 * Serves /metrics as the config says: on its own port (`port`; bound to `host`, 127.0.0.1 by
 * default), opened when the app is ready and closed with it; else on the main port when a
 * `token` is set; else not at all. Wherever it is served, a set token is required as
 * `Authorization: Bearer <token>` (401 problem+json without it).
 */
export function installMetricsEndpoint(app: FastifyInstance, metrics: Metrics, exposure: MetricsExposure): void {
  const { token } = exposure;
  if (exposure.port !== undefined) {
    const port = exposure.port;
    let server: Server | undefined;
    // Bound when the app gets ready (before the main port listens), so a port in use fails the start.
    app.addHook('onReady', async () => {
      server = createServer((request, response) => {
        const path = (request.url ?? '').split('?')[0];
        if (path !== '/metrics' || (request.method !== 'GET' && request.method !== 'HEAD')) {
          response.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('Not found; metrics are at GET /metrics\n');
          return;
        }
        if (token !== undefined && !tokenMatches(request.headers.authorization, token)) {
          response.writeHead(401, { 'content-type': 'text/plain; charset=utf-8', 'www-authenticate': 'Bearer' }).end('A bearer token is required\n');
          return;
        }
        metrics.scrape().then(
          ({ contentType, body }) => response.writeHead(200, { 'content-type': contentType, 'cache-control': 'no-store' }).end(request.method === 'HEAD' ? undefined : body),
          (err: unknown) => {
            app.log.error({ err }, 'metrics scrape failed');
            response.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' }).end('Scrape failed\n');
          },
        );
      });
      const listening = server;
      await new Promise<void>((resolve, reject) => {
        listening.once('error', reject);
        listening.listen(port, exposure.host, () => {
          listening.off('error', reject);
          resolve();
        });
      });
      const address = listening.address();
      app.log.info(`metrics at http://${exposure.host}:${typeof address === 'object' && address ? address.port : port}/metrics`);
    });
    app.addHook('onClose', async () => {
      if (!server) return;
      server.closeAllConnections();
      await new Promise((resolve) => server?.close(resolve));
    });
    return;
  }
  if (token === undefined) return;
  app.get(
    '/metrics',
    {
      schema: {
        operationId: 'getMetrics',
        hide: true,
        summary: 'Prometheus metrics (text exposition format), with LATCHKEY_METRICS_TOKEN as a bearer token',
      },
    },
    async (request, reply) => {
      if (!tokenMatches(request.headers.authorization, token)) {
        throw CommonErrors.unauthorized({ detail: 'Send the metrics token as Authorization: Bearer <token>', headers: { 'www-authenticate': 'Bearer' } });
      }
      const { contentType, body } = await metrics.scrape();
      return reply.header('content-type', contentType).header('cache-control', 'no-store').send(body);
    },
  );
}
