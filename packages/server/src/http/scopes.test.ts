import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import Fastify, { type FastifyRequest } from 'fastify';
import { installScopeGuard } from './scopes.ts';

/** SEC-44: every route of the management API declares a scope, or the server does not start. */
describe('installScopeGuard', () => {
  test('a route without a scope, or with an unknown one, fails startup', async () => {
    for (const config of [undefined, {}, { scope: 'users:everything' }]) {
      const app = Fastify();
      await assert.rejects(
        async () => {
          await app.register(async (admin) => {
            installScopeGuard(admin, { authorize: async () => undefined, confirmDestructive: async () => {} });
            admin.get('/users', config ? { config: config as never } : {}, async () => ({}));
          });
          await app.ready();
        },
        /declares no known scope/,
        JSON.stringify(config),
      );
      await app.close().catch(() => {});
    }
  });

  test('each request is authorised for its route\'s scope before the handler runs; routes outside the guard are untouched', async () => {
    const asked: string[] = [];
    const app = Fastify();
    await app.register(async (admin) => {
      installScopeGuard(admin, {
        authorize: async (_request: FastifyRequest, scope) => {
          asked.push(scope);
          if (scope === 'users:delete') throw Object.assign(new Error('denied'), { statusCode: 403 });
        },
        confirmDestructive: async () => {},
      });
      admin.get('/users', { config: { scope: 'users:read' } }, async () => ({ ok: true }));
      admin.delete('/users/:id', { config: { scope: 'users:delete' } }, async () => ({ deleted: true }));
    }, { prefix: '/api/admin/v1' });
    app.get('/healthz', async () => ({ ok: true }));
    assert.equal((await app.inject({ method: 'GET', url: '/api/admin/v1/users' })).statusCode, 200);
    assert.equal((await app.inject({ method: 'DELETE', url: '/api/admin/v1/users/1' })).statusCode, 403);
    assert.equal((await app.inject({ method: 'GET', url: '/healthz' })).statusCode, 200);
    assert.deepEqual(asked, ['users:read', 'users:delete']);
    await app.close();
  });
});
