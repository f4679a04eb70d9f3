import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { SessionSchema, UserSchema } from '../../contract/schemas.ts';
import type { Auth } from '../../http/auth.ts';
import { requestContext } from '../../http/auth.ts';
import type { CookiePolicy } from '../../http/cookies.ts';
import type { RateLimiter } from '../../http/rate-limit.ts';
import type { Clock } from '../../platform/clock.ts';
import { CommonErrors } from '../../errors/common.errors.ts';
import { FallbackErrors } from '../fallback/fallback.module.ts';
import { sessionJson, userJson } from '../webauthn/webauthn.module.ts';
import { PASSWORD_MAX_BYTES } from './password-policy.ts';
import type { PasswordsService } from './passwords.service.ts';
import { PUBLIC_ROUTE, SIGNED_IN } from '../../http/openapi.ts';

export interface PasswordRouteDeps {
  auth: Auth;
  cookies: CookiePolicy;
  clock: Clock;
  passwords: PasswordsService;
  ipLimiter: RateLimiter;
  enabled: boolean;
}

const problem = { $ref: 'Problem#' };
// Characters here; bytes are checked too (SEC-43: 1 KiB before any hashing).
const Password = Type.String({ minLength: 1, maxLength: PASSWORD_MAX_BYTES, description: 'Any characters; NFKC-normalized; at most 1 KiB' });

export async function passwordRoutes(app: FastifyInstance, deps: PasswordRouteDeps): Promise<void> {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  const tags = ['password'];
  const guard = (password: string) => {
    if (!deps.enabled) throw FallbackErrors.method_disabled({ detail: 'Passwords are not enabled (LATCHKEY_AUTH_METHODS)' });
    if (Buffer.byteLength(password) > PASSWORD_MAX_BYTES) throw CommonErrors.invalid_request({ detail: '/password: at most 1 KiB' });
  };

  r.post('/api/v1/password/sign-in', {
    schema: {
      operationId: 'signInWithPassword',
      security: PUBLIC_ROUTE,
      tags,
      summary: 'Sign in with username and password',
      description:
        'One 401 invalid_credentials for every failure. A password alone is AAL1 (amr ["pwd"]). On a passkey-first server an account with a passkey gets secondFactor "passkey": finish with POST /api/v1/session/step-up/options and /verify (amr then ["pwd","passkey","mfa"], AAL2); secondFactor "totp": POST /api/v1/session/totp.',
      body: Type.Object({ username: Type.String({ minLength: 1, maxLength: 256 }), password: Password }, { additionalProperties: false }),
      response: {
        200: Type.Object({ user: UserSchema, session: SessionSchema, secondFactor: Type.Union([Type.Literal('passkey'), Type.Literal('totp'), Type.Null()]) }),
        400: problem, 401: problem, 403: problem, 429: problem,
      },
    },
  }, async (request, reply) => {
    guard(request.body.password);
    await deps.ipLimiter.hit(`password-ip:${request.ip}`);
    const result = await deps.passwords.signIn({
      username: request.body.username,
      password: request.body.password,
      context: requestContext(request),
      carried: await deps.auth.optionalSession(request),
    });
    deps.cookies.setSession(reply, result.session.token, result.session.expiresAt, deps.clock.now());
    // No ceremony here: a bearer client says so the same way, a Latchkey-Ceremony header without the cookie.
    const token = deps.cookies.isBearerClient(request) ? result.session.token : undefined;
    return { user: userJson(result.user), session: sessionJson(result.session, token), secondFactor: result.secondFactor };
  });

  r.put('/api/v1/account/password', {
    schema: {
      operationId: 'setPassword',
      security: SIGNED_IN,
      tags,
      summary: 'Set or change the password',
      description: 'Needs a recent step-up (403 step_up_required). Signs out every other session and notifies the user (SEC-42).',
      body: Type.Object({ password: Password }, { additionalProperties: false }),
      response: { 200: Type.Object({ sessionsRevoked: Type.Integer() }), 400: problem, 401: problem, 403: problem },
    },
  }, async (request) => {
    guard(request.body.password);
    const found = await deps.auth.requireStepUp(request);
    return deps.passwords.setPassword(found, request.body.password, requestContext(request));
  });
}
