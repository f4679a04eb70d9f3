import type { FastifyInstance, FastifyRequest } from 'fastify';
import { isApiKeyScope, type ApiKeyScope } from '../modules/api-keys/api-keys.module.ts';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The scope a management route needs (api-keys.scopes.ts); required under the scope guard. */
    scope?: ApiKeyScope;
    /**
     * A destructive action: staff need a recent step-up and a written reason (`reason` in the
     * body, or the `Latchkey-Reason` header for DELETE); the reason is audited.
     */
    destructive?: boolean;
  }
}

/** What the guard needs of `createAuth` (http/auth.ts). */
export interface ScopeGuardAuth {
  authorize(request: FastifyRequest, scope: ApiKeyScope): Promise<unknown>;
  confirmDestructive(request: FastifyRequest, targetUserId: string | undefined, destructive: boolean): Promise<void>;
}

/** The user a state-changing request acts on: the `:id` of /users/{id}/… or a body's `userId`. */
function targetOf(request: FastifyRequest): string | undefined {
  const params = request.params as { id?: unknown; userId?: unknown } | undefined;
  if (request.routeOptions.url?.includes('/users/:id') && typeof params?.id === 'string') return params.id;
  if (typeof params?.userId === 'string') return params.userId;
  const body = request.body as { userId?: unknown } | undefined;
  return body && typeof body === 'object' && typeof body.userId === 'string' ? body.userId : undefined;
}

/**
 * Deny by default (SEC-44) for every route registered in `app`'s context after this call: a
 * route without a known `config.scope` fails startup, and each request is authorised for its
 * route's scope before anything else runs (before the body is even parsed). The scope is written
 * into the route's OpenAPI security requirements (OpenAPI 3.1 §4.8.30: role names for non-OAuth
 * schemes), so the document lists what every operation needs. State-changing requests that act
 * on a staff member's account need staff:manage; destructive ones also step-up and a reason.
 */
export function installScopeGuard(app: FastifyInstance, guard: ScopeGuardAuth | ScopeGuardAuth['authorize']): void {
  // A bare authorize function (the form before staff): scopes only, no step-up, reason or staff-target rules.
  const auth: ScopeGuardAuth = typeof guard === 'function' ? { authorize: guard, confirmDestructive: async () => {} } : guard;
  app.addHook('onRoute', (route) => {
    const config = route.config as { scope?: unknown; destructive?: unknown } | undefined;
    const scope = config?.scope;
    if (typeof scope !== 'string' || !isApiKeyScope(scope)) {
      throw new TypeError(`${String(route.method)} ${route.url} declares no known scope in its config (SEC-44: deny by default)`);
    }
    if (route.schema) {
      const schema = route.schema as Record<string, unknown>;
      schema.security = [{ apiKey: [scope] }, { bearer: [scope] }, { cookie: [scope] }];
      if (config?.destructive === true) {
        schema['x-latchkey-step-up'] = true;
        schema.description = `${typeof schema.description === 'string' ? `${schema.description}\n\n` : ''}Scope \`${scope}\`. Destructive: staff need a recent step-up (403 step_up_required) and a reason (400 reason_required), sent as \`reason\` in the JSON body or, for DELETE, the \`Latchkey-Reason\` header (percent-encoded UTF-8); the reason is audited.`;
      } else {
        schema.description = `${typeof schema.description === 'string' ? `${schema.description}\n\n` : ''}Scope \`${scope}\`.`;
      }
    }
  });
  app.addHook('onRequest', async (request) => {
    const scope = request.routeOptions.config.scope;
    // Unreachable for routes of this context (onRoute refused them); fail closed all the same.
    if (!scope) throw new TypeError(`${request.method} ${request.url}: no scope`);
    await auth.authorize(request, scope);
  });
  app.addHook('preHandler', async (request) => {
    if (request.method === 'GET') return;
    const target = targetOf(request);
    const destructive = request.routeOptions.config.destructive === true;
    if (destructive || target !== undefined) await auth.confirmDestructive(request, target, destructive);
  });
}
