import type { FastifyInstance, FastifyRequest } from 'fastify';
import { isApiKeyScope, type ApiKeyScope } from '../modules/api-keys/api-keys.module.ts';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The scope a management route needs (api-keys.scopes.ts); required under the scope guard. */
    scope?: ApiKeyScope;
  }
}

/**
 * Deny by default (SEC-44) for every route registered in `app`'s context after this call: a
 * route without a known `config.scope` fails startup, and each request is authorised for its
 * route's scope before anything else runs (before the body is even parsed).
 */
export function installScopeGuard(app: FastifyInstance, authorize: (request: FastifyRequest, scope: ApiKeyScope) => Promise<unknown>): void {
  app.addHook('onRoute', (route) => {
    const scope = (route.config as { scope?: unknown } | undefined)?.scope;
    if (typeof scope !== 'string' || !isApiKeyScope(scope)) {
      throw new TypeError(`${String(route.method)} ${route.url} declares no known scope in its config (SEC-44: deny by default)`);
    }
  });
  app.addHook('onRequest', async (request) => {
    const scope = request.routeOptions.config.scope;
    // Unreachable for routes of this context (onRoute refused them); fail closed all the same.
    if (!scope) throw new TypeError(`${request.method} ${request.url}: no scope`);
    await authorize(request, scope);
  });
}
