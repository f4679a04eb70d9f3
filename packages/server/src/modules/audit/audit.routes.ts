import type { FastifyPluginAsync } from 'fastify';
import { PUBLIC_ROUTE } from '../../http/openapi.ts';
import type { AuditPublicJwk } from './audit-chain.keys.ts';

/**
 * GET /.well-known/latchkey-audit-key: the Ed25519 public key (JWK, RFC 8037) that signs audit-chain
 * checkpoints, so an auditor holding a checkpoint can prove the chain up to its seq existed then.
 */
export const auditKeyRoutes: FastifyPluginAsync<{ jwk: AuditPublicJwk }> = async (app, { jwk }) => {
  const body = JSON.stringify(jwk);
  app.get(
    '/.well-known/latchkey-audit-key',
    {
      schema: {
        tags: ['well-known'],
        operationId: 'getAuditCheckpointKey',
        security: PUBLIC_ROUTE,
        summary: 'The Ed25519 key (JWK) audit-chain checkpoints are signed with',
        response: {
          200: { description: 'The public key as a JWK (RFC 8037, OKP Ed25519)', content: { 'application/jwk+json': { schema: { type: 'object', additionalProperties: true } } } },
          400: { $ref: 'Problem#' },
        },
      },
    },
    async (_request, reply) => reply.type('application/jwk+json').header('cache-control', 'public, max-age=3600').send(body),
  );
};
