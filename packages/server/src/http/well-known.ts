import type { FastifyInstance } from 'fastify';
import type { Config } from '../config/schema.ts';
import { CommonErrors } from '../errors/common.errors.ts';
import { PUBLIC_ROUTE } from './openapi.ts';

/**
 * Well-known documents from config: `/.well-known/webauthn` (WebAuthn L3 §5.11 related origin
 * requests: `{"origins": [...]}`, the exact configured list: SEC-22), and the app association files iOS and Android check before
 * their apps may use this RP's passkeys. Each is a 404 problem when not configured.
 */
export function installWellKnown(app: FastifyInstance, config: Readonly<Config>): void {
  const { relatedOrigins, appleAppSiteAssociation, assetLinks } = config.wellKnown;
  const webauthn = relatedOrigins.length > 0 ? JSON.stringify({ origins: relatedOrigins }) : undefined;
  const documents: [string, string | undefined, string, string][] = [
    ['/.well-known/webauthn', webauthn, 'LATCHKEY_RELATED_ORIGINS', 'getWebauthnRelatedOrigins'],
    ['/.well-known/apple-app-site-association', appleAppSiteAssociation, 'LATCHKEY_APPLE_APP_SITE_ASSOCIATION', 'getAppleAppSiteAssociation'],
    ['/.well-known/assetlinks.json', assetLinks, 'LATCHKEY_ASSET_LINKS', 'getAssetLinks'],
  ];
  for (const [path, body, variable, operationId] of documents) {
    const schema = {
      operationId,
      security: PUBLIC_ROUTE,
      tags: ['well-known'],
      summary: `Served from ${variable}; 404 when unset`,
      response: {
        200: { description: 'The configured JSON document', content: { 'application/json': { schema: { type: 'object', additionalProperties: true } } } },
        404: { $ref: 'Problem#' },
      },
    };
    app.get(path, { schema }, async (_request, reply) => {
      if (body === undefined) throw CommonErrors.not_found({ detail: `${path} is not configured (${variable})` });
      return reply.type('application/json').header('cache-control', 'public, max-age=300').send(body);
    });
  }
}
