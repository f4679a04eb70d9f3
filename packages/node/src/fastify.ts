import type { FastifyInstance, FastifyPluginAsync } from 'fastify';
import { bearerToken, tokenProblem } from './problem.ts';
import type { LatchkeyIdentity, Verifier } from './verifier.ts';

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by `latchkeyFastify` once the access token verified. */
    latchkey?: LatchkeyIdentity;
  }
}

export interface LatchkeyFastifyOptions {
  verifier: Verifier;
}

/**
 * Fastify plugin: every request in the scope it is registered in must carry a valid access token
 * (`Authorization: Bearer <token>`); the identity is on `request.latchkey`. Otherwise 401
 * application/problem+json with the `LatchkeyTokenError` code, or 503 `jwks_unavailable`.
 * Register it inside the scope of the routes to protect (it does not leak to the parent).
 *
 * @example
 * import Fastify from 'fastify';
 * import { createVerifier } from '@latchkey/node';
 * import { latchkeyFastify } from '@latchkey/node/fastify';
 * const app = Fastify();
 * const verifier = createVerifier({ issuer: 'https://auth.example.com', audience: 'shop-api' });
 * await app.register(async (api) => {
 *   await api.register(latchkeyFastify, { verifier });
 *   api.get('/api/orders', async (request) => ({ user: request.latchkey?.sub }));
 * });
 */
const plugin: FastifyPluginAsync<LatchkeyFastifyOptions> = async (app: FastifyInstance, options) => {
  const { verifier } = options;
  if (!app.hasRequestDecorator('latchkey')) app.decorateRequest('latchkey', undefined);
  app.addHook('onRequest', async (request, reply) => {
    try {
      request.latchkey = await verifier.verifyAccessToken(bearerToken(request.headers.authorization));
    } catch (error) {
      const problem = tokenProblem(error);
      return reply.code(problem.status).headers(problem.headers).send(JSON.stringify(problem.body));
    }
  });
};
// Like fastify-plugin: the hook applies to the scope that registers the plugin, not a child of it.
(plugin as unknown as Record<symbol, unknown>)[Symbol.for('skip-override')] = true;
(plugin as unknown as Record<symbol, unknown>)[Symbol.for('fastify.display-name')] = '@latchkey/node';

export const latchkeyFastify = plugin;
