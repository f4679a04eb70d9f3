import type { FastifyRequest } from 'fastify';
import type { AppError } from '../errors/app-error.ts';
import { CommonErrors } from '../errors/common.errors.ts';

const STATE_CHANGING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/**
 * Login CSRF and cross-site state changes (SEC-23): a state-changing request that is not
 * bearer-authenticated must come from an allowed Origin (or say Sec-Fetch-Site: same-origin /
 * none when the browser sends no Origin), and a body must be application/json (checked by the
 * JSON-only content-type parser). Bearer calls cannot be forged by a browser, so they are exempt.
 */
export function createCsrfGuard(allowedOrigins: readonly string[], onRefused?: (origin: string, request: FastifyRequest) => void) {
  const allowed = new Set(allowedOrigins);
  /** The refusal for a request, or undefined to let it through. */
  return function csrfGuard(request: FastifyRequest): AppError | undefined {
    if (!STATE_CHANGING.has(request.method)) return undefined;
    if (/^bearer /i.test(request.headers.authorization ?? '')) return undefined;
    const origin = request.headers.origin;
    if (origin !== undefined) {
      if (allowed.has(origin)) return undefined;
      onRefused?.(origin, request);
      return CommonErrors.origin_not_allowed({ detail: `Origin ${origin.slice(0, 100)} is not allowed` });
    }
    const site = request.headers['sec-fetch-site'];
    if (site !== undefined && site !== 'same-origin' && site !== 'none') {
      return CommonErrors.origin_not_allowed({ detail: 'Cross-site request without an allowed Origin' });
    }
    return undefined;
  };
}
