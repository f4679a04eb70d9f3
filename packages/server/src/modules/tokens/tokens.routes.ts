import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { requestContext, type Auth } from '../../http/auth.ts';
import { PUBLIC_ROUTE, SIGNED_IN } from '../../http/openapi.ts';
import { installScopeGuard } from '../../http/scopes.ts';
import { JWKS_MAX_AGE_SECONDS } from './key-schedule.ts';
import type { SigningKeys } from './signing-keys.service.ts';
import type { TokensService } from './tokens.service.ts';

const problem = { $ref: 'Problem#' };
const Audience = Type.String({ minLength: 1, maxLength: 512, description: 'One of LATCHKEY_TOKEN_AUDIENCES (400 audience_not_allowed otherwise)' });
const iso = (ms: number) => new Date(ms).toISOString();

/**
 * Signed tokens about the current session (issue 11 item 4): a login result for the app's own
 * backend, an access token for other backends, and the JWKS that verifies both.
 */
export async function tokenRoutes(app: FastifyInstance, deps: { tokens: TokensService; keys: SigningKeys; auth: Auth }): Promise<void> {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  const tags = ['tokens'];
  const security = SIGNED_IN;

  app.get('/.well-known/jwks.json', {
    schema: {
      tags,
      operationId: 'getJwks',
      security: PUBLIC_ROUTE,
      summary: 'The public keys that verify login results and access tokens (JWKS, ES256)',
      description: `Cacheable for ${JWKS_MAX_AGE_SECONDS} s. A new key is listed here minutes before it signs; a retired one stays listed until every token it signed has expired.`,
      response: {
        200: Type.Object({
          keys: Type.Array(
            Type.Object({
              kty: Type.Literal('EC'),
              crv: Type.Literal('P-256'),
              x: Type.String(),
              y: Type.String(),
              kid: Type.String(),
              alg: Type.Literal('ES256'),
              use: Type.Literal('sig'),
            }),
          ),
        }),
        400: problem,
      },
    },
  }, async (_request, reply) => {
    return reply.type('application/json').header('cache-control', `public, max-age=${JWKS_MAX_AGE_SECONDS}`).send(await deps.keys.jwks());
  });

  r.post('/api/v1/session/login-result', {
    schema: {
      tags,
      security,
      operationId: 'createLoginResult',
      summary: "A signed login result for the app's own backend",
      description:
        'ES256 JWT (header typ latchkey-login+jwt) about the current full session, for the backend named by `audience`; it verifies it offline with the JWKS, once (single use by jti). 403 for a recovery session or one waiting for its second factor.',
      body: Type.Object({ audience: Audience }, { additionalProperties: false }),
      response: {
        200: Type.Object({ loginResult: Type.String({ description: 'Compact JWS' }), expiresAt: Type.String({ format: 'date-time' }) }),
        400: problem,
        401: problem,
        403: problem,
        503: problem,
      },
    },
  }, async (request) => {
    const found = await deps.auth.requireSession(request);
    const { token, expiresAt } = await deps.tokens.issue({ kind: 'login_result', audience: request.body.audience, found, context: requestContext(request) });
    return { loginResult: token, expiresAt: iso(expiresAt) };
  });

  r.post('/api/v1/session/access-token', {
    schema: {
      tags,
      security,
      operationId: 'createAccessToken',
      summary: 'A short-lived signed access token for another backend',
      description: 'ES256 JWT (header typ at+jwt, RFC 9068) about the current full session, for the backend named by `audience`. 403 for a recovery session or one waiting for its second factor.',
      body: Type.Object({ audience: Audience }, { additionalProperties: false }),
      response: {
        200: Type.Object({ accessToken: Type.String({ description: 'Compact JWS' }), tokenType: Type.Literal('Bearer'), expiresAt: Type.String({ format: 'date-time' }) }),
        400: problem,
        401: problem,
        403: problem,
        503: problem,
      },
    },
  }, async (request) => {
    const found = await deps.auth.requireSession(request);
    const { token, expiresAt } = await deps.tokens.issue({ kind: 'access_token', audience: request.body.audience, found, context: requestContext(request) });
    return { accessToken: token, tokenType: 'Bearer' as const, expiresAt: iso(expiresAt) };
  });
}

/** Management route (under /api/admin/v1, scope tokens:redeem): online, single-use redemption of a login result. */
export async function tokenAdminRoutes(app: FastifyInstance, deps: { tokens: TokensService; auth: Auth }): Promise<void> {
  installScopeGuard(app, deps.auth);
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  r.post('/login-results/redeem', {
    config: { scope: 'tokens:redeem' },
    schema: {
      tags: ['management: tokens'],
      security: [{ apiKey: [] }],
      operationId: 'redeemLoginResult',
      summary: 'Verify a login result and use it up',
      description:
        'For backends that would rather not verify JWTs themselves: checks signature, issuer, audience (the one given, else any configured), type and expiry, and records the jti; a second redemption is 409 login_result_used.',
      body: Type.Object(
        { loginResult: Type.String({ minLength: 1, maxLength: 8192 }), audience: Type.Optional(Audience) },
        { additionalProperties: false },
      ),
      response: {
        200: Type.Object({
          claims: Type.Object({
            iss: Type.String(),
            aud: Type.String(),
            sub: Type.String(),
            latchkey_uid: Type.String(),
            auth_time: Type.Integer(),
            amr: Type.Array(Type.String()),
            acr: Type.String(),
            jti: Type.String(),
            iat: Type.Integer(),
            exp: Type.Integer(),
          }),
        }),
        400: problem,
        401: problem,
        403: problem,
        409: problem,
      },
    },
  }, async (request) => {
    if (request.body.audience !== undefined) deps.tokens.checkAudience(request.body.audience);
    const claims = await deps.tokens.redeem({ loginResult: request.body.loginResult, audience: request.body.audience, context: requestContext(request) });
    return { claims };
  });
}
