import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { SessionSchema, UserSchema } from '../../contract/schemas.ts';
import { requestContext, type Auth } from '../../http/auth.ts';
import type { CookiePolicy } from '../../http/cookies.ts';
import { PUBLIC_ROUTE } from '../../http/openapi.ts';
import type { RateLimiter } from '../../http/rate-limit.ts';
import type { Clock } from '../../platform/clock.ts';
import type { AccountsService } from '../accounts/accounts.module.ts';
import { sessionJson, userJson } from '../webauthn/webauthn.module.ts';
import type { SupportRecoveryService } from './support-recovery.service.ts';

/**
 * The user's side of a support recovery: the code an agent read out, or the token of the mailed
 * link, opens the same restricted recovery session as the self-service recovery.
 */
export async function supportRecoveryRoutes(
  app: FastifyInstance,
  deps: { recovery: SupportRecoveryService; auth: Auth; cookies: CookiePolicy; clock: Clock; accounts: Pick<AccountsService, 'findById'>; ipLimiter: RateLimiter },
): Promise<void> {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  const problem = { $ref: 'Problem#' };
  r.post('/api/v1/recovery/support', {
    schema: {
      operationId: 'redeemSupportRecovery',
      security: PUBLIC_ROUTE,
      tags: ['recovery'],
      summary: 'Redeem a recovery support started: a restricted session that can only register a new passkey',
      description:
        'The code support read out (XXXX-XXXX-XXXX, any case, dashes optional) or the `support-code` of the mailed link. Single use, 15 minutes. Registering a passkey with this session (POST /api/v1/passkeys/registration/options with {}) ends the recovery and signs out every other session (SEC-39). 401 support_code_invalid.',
      body: Type.Object({ code: Type.String({ minLength: 1, maxLength: 80 }) }, { additionalProperties: false }),
      response: { 200: Type.Object({ user: UserSchema, session: SessionSchema }), 400: problem, 401: problem, 403: problem, 429: problem },
    },
  }, async (request, reply) => {
    // The same per-IP budget as e-mail code checks: a code is guessed no faster than one of those.
    await deps.ipLimiter.hit(`email-code-ip:${request.ip}`);
    const result = await deps.recovery.redeem({ code: request.body.code, context: requestContext(request), carried: await deps.auth.optionalSession(request) });
    const user = await deps.accounts.findById(result.userId);
    deps.cookies.setSession(reply, result.session.token, result.session.expiresAt, deps.clock.now());
    const token = deps.cookies.isBearerClient(request) ? result.session.token : undefined;
    return { user: userJson(user ?? { id: result.userId, username: '', displayName: '' }), session: sessionJson(result.session, token) };
  });
}
