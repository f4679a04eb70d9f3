import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { requestContext, type Principal } from '../../http/auth.ts';
import { ALL_SCOPES, API_KEY_SCOPES, type ApiKeyScope } from './api-keys.scopes.ts';
import type { ApiKeysService } from './api-keys.service.ts';

const ScopeSchema = Type.Unsafe<ApiKeyScope>({
  type: 'string',
  enum: ALL_SCOPES,
  description: Object.entries(API_KEY_SCOPES).map(([scope, what]) => `\`${scope}\`: ${what}`).join('; '),
});

export const ApiKeySchema = Type.Object(
  {
    id: Type.String(),
    name: Type.String(),
    prefix: Type.String({ description: 'The non-secret start of the key, `lk_live_<id>`' }),
    scopes: Type.Array(ScopeSchema),
    createdAt: Type.String({ format: 'date-time' }),
    createdBy: Type.Object({ kind: Type.String({ description: '"cli" or "api_key"' }), id: Type.Union([Type.String(), Type.Null()]) }),
    expiresAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
    lastUsedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()], { description: 'Refreshed at most once a minute' }),
    revokedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  },
  { $id: 'ApiKey' },
);

/** API keys, managed with a key that holds `api_keys:manage`; registered inside the admin scope guard. */
export async function apiKeyRoutes(app: FastifyInstance, deps: { apiKeys: ApiKeysService; authorize: (request: FastifyRequest, scope: ApiKeyScope) => Promise<Principal> }): Promise<void> {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  const tags = ['management: api keys'];
  const security = [{ apiKey: [] }];
  const problem = { $ref: 'Problem#' };
  const errors = { 400: problem, 401: problem, 403: problem };

  r.post('/api-keys', {
    config: { scope: 'api_keys:manage', destructive: true },
    schema: {
      tags,
      security,
      operationId: 'createApiKey',
      summary: 'Make an API key; the secret is in this answer only',
      description: 'A key can grant only scopes it holds itself (403 insufficient_scope otherwise).',
      body: Type.Object(
        {
          name: Type.String({ minLength: 1, maxLength: 200 }),
          scopes: Type.Array(Type.String({ maxLength: 64 }), { minItems: 1, maxItems: 64 }),
          expiresAt: Type.Optional(Type.String({ format: 'date-time' })),
          reason: Type.Optional(Type.String({ maxLength: 2000, description: 'Why (3 to 500 characters; required for staff): audited' })),
        },
        { additionalProperties: false },
      ),
      response: { 201: Type.Object({ apiKey: ApiKeySchema, secret: Type.String({ description: 'Shown once: store it now' }) }), ...errors },
    },
  }, async (request, reply) => {
    const principal = await deps.authorize(request, 'api_keys:manage');
    const { expiresAt } = request.body;
    const created = await deps.apiKeys.create({
      name: request.body.name,
      scopes: request.body.scopes,
      expiresAt: expiresAt === undefined ? null : Date.parse(expiresAt),
      // A key, or a staff member, can grant only scopes it holds (console:access never: a key is not staff).
      creator: principal.kind === 'api_key' ? principal.key : { id: principal.kind === 'staff' ? principal.staff.userId : 'user', name: 'staff', scopes: [...principal.scopes] },
      context: requestContext(request),
    });
    return reply.code(201).send({ apiKey: created.key, secret: created.secret });
  });

  r.get('/api-keys', {
    config: { scope: 'api_keys:manage' },
    schema: { tags, security, operationId: 'listApiKeys', summary: 'Every API key (never a secret)', response: { 200: Type.Object({ apiKeys: Type.Array(ApiKeySchema) }), ...errors } },
  }, async () => ({ apiKeys: await deps.apiKeys.list() }));

  r.delete('/api-keys/:id', {
    config: { scope: 'api_keys:manage', destructive: true },
    schema: {
      tags,
      security,
      operationId: 'revokeApiKey',
      summary: 'Revoke a key at once (revoking twice is not an error)',
      params: Type.Object({ id: Type.String({ maxLength: 64 }) }),
      response: { 200: ApiKeySchema, ...errors, 404: problem },
    },
  }, async (request) => deps.apiKeys.revoke(request.params.id, requestContext(request)));
}
