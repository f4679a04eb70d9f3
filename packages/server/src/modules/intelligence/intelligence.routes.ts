import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { AppendDeclineBody, PasskeyDecisionsBody, PasskeyDecisionsSchema } from '../../contract/schemas.ts';
import { requestContext, type Auth } from '../../http/auth.ts';
import { OPTIONAL_SESSION, SIGNED_IN } from '../../http/openapi.ts';
import type { RateLimiter } from '../../http/rate-limit.ts';
import type { IntelligenceService } from './intelligence.service.ts';

const problem = { $ref: 'Problem#' };

/** Passkey intelligence (issue 14 item 1): what to offer on this device, and "not now" answers. */
export async function intelligenceRoutes(app: FastifyInstance, deps: { intelligence: IntelligenceService; auth: Auth; limiter: RateLimiter }): Promise<void> {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  const tags = ['passkey intelligence'];

  r.post('/api/v1/passkey-decisions', {
    schema: {
      tags,
      operationId: 'createPasskeyDecisions',
      security: OPTIONAL_SESSION,
      summary: 'What to offer on this device: passkey button, autofill, append prompt, passkey-first sign-up, or fallback only',
      description:
        'Called by the elements and the SDK before they show passkey UI. Each answer is `{offer, reason}` (reason codes: README, "Passkey intelligence"). With a session, about the signed-in user; signed out with an `identifier`, about that username — an unknown username gets exactly the answer of one without passkeys (no enumeration; what an identifier with passkeys reveals is documented there). Rate-limited per IP (LATCHKEY_INTELLIGENCE_PER_IP_PER_HOUR). No list of passkeys or provider names is ever returned.',
      body: PasskeyDecisionsBody,
      response: { 200: PasskeyDecisionsSchema, 400: problem, 429: problem },
    },
  }, async (request) => {
    await deps.limiter.hit(`decisions:${request.ip}`);
    const session = await deps.auth.optionalSession(request);
    const full = session && session.session.scope === 'full' ? session.user.id : null;
    return deps.intelligence.decide({
      client: request.body.client,
      deviceId: request.body.deviceId,
      identifier: request.body.identifier,
      sessionUserId: full,
      userAgent: request.headers['user-agent'] ?? null,
    });
  });

  r.post('/api/v1/passkey-decisions/declines', {
    schema: {
      tags,
      operationId: 'declinePasskeyAppend',
      security: SIGNED_IN,
      summary: 'Record a "not now" to the append prompt',
      description: 'The append prompt is not offered again to this user (reason declined_recently) for LATCHKEY_INTELLIGENCE_DECLINE_COOLDOWN_DAYS. Audited as passkey.append_declined.',
      body: AppendDeclineBody,
      response: { 204: Type.Null(), 400: problem, 401: problem, 429: problem },
    },
  }, async (request, reply) => {
    await deps.limiter.hit(`decisions:${request.ip}`);
    const session = await deps.auth.requireSession(request);
    await deps.intelligence.recordDecline(requestContext(request), { userId: session.user.id, deviceId: request.body.deviceId });
    return reply.code(204).send(null);
  });
}
