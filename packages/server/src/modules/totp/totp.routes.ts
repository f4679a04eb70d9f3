import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { SessionSchema } from '../../contract/schemas.ts';
import type { Auth } from '../../http/auth.ts';
import { requestContext } from '../../http/auth.ts';
import type { RateLimiter } from '../../http/rate-limit.ts';
import type { CookiePolicy } from '../../http/cookies.ts';
import type { Clock } from '../../platform/clock.ts';
import { FallbackErrors } from '../fallback/fallback.module.ts';
import { sessionJson } from '../webauthn/webauthn.module.ts';
import type { TotpService } from './totp.service.ts';
import { SIGNED_IN } from '../../http/openapi.ts';

const problem = { $ref: 'Problem#' };
const CodeBody = Type.Object({ code: Type.String({ minLength: 1, maxLength: 16, description: 'Six digits from the authenticator app' }) }, { additionalProperties: false });

export async function totpRoutes(app: FastifyInstance, deps: { auth: Auth; totp: TotpService; ipLimiter: RateLimiter; enabled: boolean; cookies: CookiePolicy; clock: Clock }): Promise<void> {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  const tags = ['totp'];
  const guard = () => {
    if (!deps.enabled) throw FallbackErrors.method_disabled({ detail: 'TOTP is not enabled (LATCHKEY_AUTH_METHODS)' });
  };

  r.post('/api/v1/account/totp', {
    schema: {
      operationId: 'startTotpEnrollment',
      security: SIGNED_IN,
      tags,
      summary: 'Start setting up an authenticator app (legacy second factor)',
      description: 'Needs a recent step-up. Returns the 160-bit seed once, as base32 and an otpauth:// URI; confirm with a code to turn it on.',
      body: Type.Object({}, { additionalProperties: false }),
      response: { 200: Type.Object({ secret: Type.String(), otpauthUrl: Type.String() }), 401: problem, 403: problem },
    },
  }, async (request, reply) => {
    guard();
    const found = await deps.auth.requireStepUp(request);
    return reply.header('cache-control', 'no-store').send(await deps.totp.enrol(found, requestContext(request)));
  });

  r.post('/api/v1/account/totp/verify', {
    schema: { operationId: 'confirmTotpEnrollment', security: SIGNED_IN, tags, summary: 'Confirm the authenticator app with a code', body: CodeBody, response: { 204: Type.Null(), 401: problem, 403: problem, 409: problem, 429: problem } },
  }, async (request, reply) => {
    guard();
    const found = await deps.auth.requireSession(request);
    await deps.ipLimiter.hit(`totp-ip:${request.ip}`);
    await deps.totp.confirm(found, request.body.code, requestContext(request));
    return reply.code(204).send(null);
  });

  r.delete('/api/v1/account/totp', {
    schema: { operationId: 'deleteTotp', security: SIGNED_IN, tags, summary: 'Remove the authenticator app', description: 'Needs a recent step-up.', response: { 204: Type.Null(), 401: problem, 403: problem, 409: problem } },
  }, async (request, reply) => {
    guard();
    const found = await deps.auth.requireStepUp(request);
    await deps.totp.remove(found, requestContext(request));
    return reply.code(204).send(null);
  });

  r.post('/api/v1/session/totp', {
    schema: {
      operationId: 'verifySessionTotp',
      security: SIGNED_IN,
      tags,
      summary: 'Finish a password sign-in with an authenticator code',
      description:
        'Only for a session with scope "second_factor" whose password sign-in answered secondFactor "totp" (403 second_factor_mismatch for any other session, including one that must finish with its passkey). Each 30-second code works once. The session gets a new token (a new cookie; in the body for a bearer client); the old one stops working.',
      body: CodeBody,
      response: { 200: Type.Object({ session: SessionSchema }), 401: problem, 403: problem, 409: problem, 429: problem },
    },
  }, async (request, reply) => {
    guard();
    const found = await deps.auth.requireSession(request, { allow: ['second_factor'], finishes: 'totp' });
    await deps.ipLimiter.hit(`totp-ip:${request.ip}`);
    const session = await deps.totp.completeSignIn(found, request.body.code, requestContext(request));
    // The finished session's new token (SEC-24): a new cookie, and in the body for a bearer client.
    deps.cookies.setSession(reply, session.token, session.expiresAt, deps.clock.now());
    return { session: sessionJson(session, deps.cookies.receivesToken(request) ? session.token : undefined) };
  });
}
