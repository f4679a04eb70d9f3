import type { FastifyRequest } from 'fastify';
import { CommonErrors } from '../errors/common.errors.ts';

const STATE_CHANGING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/**
 * Login CSRF and cross-site state changes (SEC-23): a state-changing request that is not
 * bearer-authenticated must come from an allowed Origin (or say Sec-Fetch-Site: same-origin /
 * none when the browser sends no Origin), and a body must be application/json (checked by the
 * JSON-only content-type parser). Bearer calls cannot be forged by a browser, so they are exempt.
 */
export function createCsrfGuard(allowedOrigins: readonly string[]) {
  const allowed = new Set(allowedOrigins);
  return async function csrfGuard(request: FastifyRequest): Promise<void> {
    if (!STATE_CHANGING.has(request.method)) return;
    if (/^bearer /i.test(request.headers.authorization ?? '')) return;
    const origin = request.headers.origin;
    if (origin !== undefined) {
      if (!allowed.has(origin)) throw CommonErrors.origin_not_allowed({ detail: `Origin ${origin.slice(0, 100)} is not allowed` });
      return;
    }
    const site = request.headers['sec-fetch-site'];
    if (site !== undefined && site !== 'same-origin' && site !== 'none') {
      throw CommonErrors.origin_not_allowed({ detail: 'Cross-site request without an allowed Origin' });
    }
  };
}
