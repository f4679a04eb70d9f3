import { STATUS_CODES } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AppError } from './app-error.ts';
import { CommonErrors } from './common.errors.ts';

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';
/** Where each code is documented; `type` = this + code (a stable URL per code, RFC 9457 §3.1.1). */
export const PROBLEM_TYPE_BASE = 'https://latchkey.dev/problems/';

function problemBody(error: AppError, requestId: string): Record<string, unknown> {
  return {
    type: PROBLEM_TYPE_BASE + error.code,
    title: error.title,
    status: error.status,
    ...(error.detail ? { detail: error.detail } : {}),
    code: error.code,
    requestId,
    ...error.extensions,
  };
}

/** Serializes an AppError as RFC 9457 problem+json. */
export function sendProblem(reply: FastifyReply, error: AppError): FastifyReply {
  if (error.headers) reply.headers(error.headers);
  return reply.code(error.status).header('content-type', PROBLEM_CONTENT_TYPE).header('cache-control', 'no-store').send(problemBody(error, reply.request.id));
}

/**
 * Fastify's `frameworkErrors`: what the router refuses before any route (or hook) runs — a
 * malformed percent-encoding, an over-long path parameter — answered as problem+json like
 * everything else, with the headers every response carries.
 */
export function frameworkErrorHandler(error: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
  const appError =
    error.code === 'FST_ERR_BAD_URL'
      ? CommonErrors.invalid_url()
      : error.code === 'FST_ERR_MAX_PARAM_LENGTH'
        ? CommonErrors.uri_too_long()
        : toAppError(error);
  if (appError.status >= 500) request.log.error({ err: error, code: appError.code }, 'request failed');
  reply.header('x-request-id', request.id).header('x-content-type-options', 'nosniff').header('referrer-policy', 'no-referrer');
  sendProblem(reply, appError);
}

/**
 * Fastify's `clientErrorHandler`: what Node's HTTP parser refuses before there is a request
 * (a garbled request line or header, Content-Length with Transfer-Encoding, headers over the
 * limit, a request that does not arrive in time). Written to the socket as problem+json, with a
 * request id of its own, then the connection is closed.
 */
export function createClientErrorHandler(newRequestId: () => string, log: (err: Error, code: string) => void) {
  return (err: Error & { code?: string }, socket: Socket): void => {
    if (err.code === 'ECONNRESET' || socket.destroyed) return;
    const appError =
      err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? CommonErrors.request_timeout()
        : err.code === 'HPE_HEADER_OVERFLOW'
          ? CommonErrors.headers_too_large()
          : CommonErrors.invalid_request({ detail: 'The request is not valid HTTP/1.1' });
    log(err, appError.code);
    const id = newRequestId();
    const body = JSON.stringify(problemBody(appError, id));
    if (socket.writable) {
      socket.write(
        [
          `HTTP/1.1 ${appError.status} ${STATUS_CODES[appError.status] ?? 'Error'}`,
          `content-type: ${PROBLEM_CONTENT_TYPE}; charset=utf-8`,
          `content-length: ${Buffer.byteLength(body)}`,
          'cache-control: no-store',
          'x-content-type-options: nosniff',
          `x-request-id: ${id}`,
          'connection: close',
          '',
          body,
        ].join('\r\n'),
      );
    }
    socket.destroy();
  };
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
  if (fe.statusCode === 408) return CommonErrors.request_timeout();
  if (fe.statusCode === 414) return CommonErrors.uri_too_long();
  if (fe.statusCode === 431) return CommonErrors.headers_too_large();
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

/**
 * Installs the error and not-found handlers: every failure leaves as problem+json, 404 and 405
 * included; and, once the server is closing, 503 problem+json with Retry-After for requests that
 * still arrive on open connections (instead of Fastify's own `return503OnClosing` JSON, which
 * app.ts turns off).
 */
export function installProblemHandlers(app: FastifyInstance, newRequestId: () => string): void {
  // Node answers an Expect other than 100-continue itself, with an empty 417, unless someone listens.
  app.server.on('checkExpectation', (_request: IncomingMessage, response: ServerResponse) => {
    const id = newRequestId();
    const body = JSON.stringify(problemBody(CommonErrors.expectation_failed(), id));
    response.writeHead(417, {
      'content-type': `${PROBLEM_CONTENT_TYPE}; charset=utf-8`,
      'content-length': Buffer.byteLength(body),
      'cache-control': 'no-store',
      'x-content-type-options': 'nosniff',
      'x-request-id': id,
    });
    response.end(body);
  });
  let closing = false;
  app.addHook('preClose', (done) => {
    closing = true;
    done();
  });
  app.addHook('onRequest', (_request, reply, done) => {
    if (!closing) return done();
    reply.header('connection', 'close');
    sendProblem(reply, CommonErrors.service_unavailable({ detail: 'The server is shutting down; retry', headers: { 'retry-after': '1' } }));
  });

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
      request.log.error({ err: error, code: appError.code, ...(appError.internal ? { reason: appError.internal } : {}) }, 'request failed');
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
