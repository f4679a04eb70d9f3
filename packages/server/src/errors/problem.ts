import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AppError } from './app-error.ts';
import { CommonErrors } from './common.errors.ts';

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';
/** Where each code is documented; `type` = this + code (a stable URL per code, RFC 9457 §3.1.1). */
export const PROBLEM_TYPE_BASE = 'https://latchkey.dev/problems/';

/** Serializes an AppError as RFC 9457 problem+json. */
export function sendProblem(reply: FastifyReply, error: AppError): FastifyReply {
  if (error.headers) reply.headers(error.headers);
  return reply
    .code(error.status)
    .header('content-type', PROBLEM_CONTENT_TYPE)
    .header('cache-control', 'no-store')
    .send({
      type: PROBLEM_TYPE_BASE + error.code,
      title: error.title,
      status: error.status,
      ...(error.detail ? { detail: error.detail } : {}),
      code: error.code,
      requestId: reply.request.id,
      ...error.extensions,
    });
}

/** Maps Fastify's own errors (parsing, validation, limits) to our codes; unknown errors become a 500 that says nothing. */
export function toAppError(error: FastifyError | Error): AppError {
  if (error instanceof AppError) return error;
  const fe = error as FastifyError;
  if (fe.validation) {
    const errors = fe.validation.map((v) => {
      const missing = (v.params as { missingProperty?: string } | undefined)?.missingProperty;
      const extra = (v.params as { additionalProperty?: string } | undefined)?.additionalProperty;
      const pointer = v.instancePath + (missing ? `/${missing}` : extra ? `/${extra}` : '');
      return { pointer: pointer || '/', message: extra ? 'unknown field' : (v.message ?? 'invalid') };
    });
    const first = errors[0];
    return CommonErrors.invalid_request({
      detail: first ? `${first.pointer}: ${first.message}` : undefined,
      extensions: { errors },
    });
  }
  switch (fe.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return CommonErrors.payload_too_large();
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return CommonErrors.unsupported_media_type();
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return CommonErrors.invalid_request({ detail: 'The body is empty; send a JSON object' });
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return CommonErrors.invalid_request({ detail: 'The body is not valid JSON' });
  }
  if (fe.statusCode === 400 && /forbidden prototype|constructor/i.test(error.message)) {
    return CommonErrors.invalid_request({ detail: 'The body contains a forbidden key (__proto__ or constructor.prototype)' });
  }
  if (fe.statusCode === 400 && error instanceof SyntaxError) {
    return CommonErrors.invalid_request({ detail: 'The body is not valid JSON' });
  }
  if (typeof fe.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500) {
    return CommonErrors.invalid_request({ detail: 'The request could not be read' });
  }
  if (isDatabaseUnavailable(error)) return CommonErrors.service_unavailable({ cause: error, headers: { 'retry-after': '5' } });
  return CommonErrors.internal({ cause: error });
}

/** SQLite result codes that mean "try again later": BUSY, LOCKED, IOERR, FULL, CANTOPEN. */
const SQLITE_UNAVAILABLE = new Set([5, 6, 10, 13, 14]);
/** PostgreSQL SQLSTATEs of a server that is shutting down, refusing or unreachable. */
const PG_UNAVAILABLE = /^(08...|57P0[1-3]|53300|55000)$/;

function isDatabaseUnavailable(error: Error): boolean {
  const { code, errcode } = error as { code?: string; errcode?: number };
  if (code === 'ERR_SQLITE_ERROR') return typeof errcode === 'number' && SQLITE_UNAVAILABLE.has(errcode & 0xff);
  if (code && (PG_UNAVAILABLE.test(code) || ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE'].includes(code))) return true;
  // pg's own messages for a connection that died under a query or a transaction (then Kysely's
  // ROLLBACK fails with "not queryable"), and for one the driver has given up on.
  return /Connection terminated|connection timeout|database is closed|not currently accepting connections|is not queryable|connection has been discarded/i.test(error.message);
}

/** Installs the error and not-found handlers: every failure leaves as problem+json, 404 and 405 included. */
export function installProblemHandlers(app: FastifyInstance): void {
  const routes = new Map<string, { pattern: RegExp; methods: Set<string> }>();
  app.addHook('onRoute', (route) => {
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    const key = route.url;
    const entry = routes.get(key) ?? { pattern: new RegExp(`^${key.replace(/:[^/]+/g, '[^/]+').replace(/\*/g, '.*')}$`), methods: new Set() };
    for (const m of methods) entry.methods.add(m);
    routes.set(key, entry);
  });

  app.setErrorHandler((error: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
    const appError = toAppError(error);
    if (appError.status >= 500) {
      request.log.error({ err: error, code: appError.code }, 'request failed');
    } else if (appError.internal) {
      request.log.info({ code: appError.code, reason: appError.internal }, 'request refused');
    }
    return sendProblem(reply, appError);
  });

  app.setNotFoundHandler((request, reply) => {
    const path = request.url.split('?')[0] ?? '';
    const allowed = [...routes.values()].filter((r) => r.pattern.test(path)).flatMap((r) => [...r.methods]);
    if (allowed.length > 0) {
      reply.header('allow', [...new Set(allowed)].join(', '));
      return sendProblem(reply, CommonErrors.method_not_allowed({ detail: `${request.method} is not allowed here; use ${[...new Set(allowed)].join(', ')}` }));
    }
    return sendProblem(reply, CommonErrors.not_found({ detail: `No route for ${request.method} ${path}` }));
  });
}
