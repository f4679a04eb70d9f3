import type { FastifyInstance } from 'fastify';
import type { Config } from '../config/schema.ts';
import { CommonErrors } from '../errors/common.errors.ts';

/**
 * Well-known documents from config: `/.well-known/webauthn` (WebAuthn L3 §5.11 related origin
 * requests: `{"origins": [...]}`, the exact configured list: SEC-22), and the app association files iOS and Android check before
 * their apps may use this RP's passkeys. Each is a 404 problem when not configured.
 */
export function installWellKnown(app: FastifyInstance, config: Readonly<Config>): void {
  const { relatedOrigins, appleAppSiteAssociation, assetLinks } = config.wellKnown;
  const webauthn = relatedOrigins.length > 0 ? JSON.stringify({ origins: relatedOrigins }) : undefined;
  const documents: [string, string | undefined, string][] = [
    ['/.well-known/webauthn', webauthn, 'LATCHKEY_RELATED_ORIGINS'],
    ['/.well-known/apple-app-site-association', appleAppSiteAssociation, 'LATCHKEY_APPLE_APP_SITE_ASSOCIATION'],
    ['/.well-known/assetlinks.json', assetLinks, 'LATCHKEY_ASSET_LINKS'],
  ];
  for (const [path, body, variable] of documents) {
    app.get(path, { schema: { tags: ['well-known'], summary: `Served from ${variable}; 404 when unset` } }, async (_request, reply) => {
      if (body === undefined) throw CommonErrors.not_found({ detail: `${path} is not configured (${variable})` });
      return reply.type('application/json').header('cache-control', 'public, max-age=300').send(body);
    });
  }
}
