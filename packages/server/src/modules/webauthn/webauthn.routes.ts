import type { FastifyInstance, FastifyReply } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { AuthenticationResponseJSON, RegistrationResponseJSON } from '@simplewebauthn/server';
import {
  AuthenticationOptionsBody,
  AuthenticationResponseBody,
  PasskeyIdParams,
  PasskeySchema,
  RegistrationOptionsBody,
  RegistrationResponseBody,
  RenamePasskeyBody,
  SessionSchema,
  UserSchema,
} from '../../contract/schemas.ts';
import type { Auth } from '../../http/auth.ts';
import { requestContext } from '../../http/auth.ts';
import type { CookiePolicy } from '../../http/cookies.ts';
import { toBase64Url } from '../../platform/encoding.ts';
import type { Clock } from '../../platform/clock.ts';
import type { Random } from '../../platform/random.ts';
import { CommonErrors } from '../../errors/common.errors.ts';
import { AccountErrors } from '../accounts/accounts.module.ts';
import { assuranceLevel, type SessionView } from '../sessions/sessions.module.ts';
import type { RateLimiter } from '../../http/rate-limit.ts';
import type { AuthenticationService } from './authentication.service.ts';
import type { PasskeysService } from './passkeys.service.ts';
import type { RegistrationService } from './registration.service.ts';
import { OPTIONAL_SESSION, PUBLIC_ROUTE, SIGNED_IN } from '../../http/openapi.ts';

export interface WebauthnRouteDeps {
  registration: RegistrationService;
  authentication: AuthenticationService;
  passkeys: PasskeysService;
  auth: Auth;
  cookies: CookiePolicy;
  clock: Clock;
  random: Random;
  challengeTtlSeconds: number;
  signupLimiter: RateLimiter;
  /** Per client IP for passkey sign-in, step-up and registration verify (SEC-34, SEC-35). */
  authLimiter: RateLimiter;
  /** After a sign-up that gave an address: mail it a confirmation code bound to this client; false when none could be sent. */
  sendSignUpEmailCode(input: { userId: string; email: string; binding: string; context: ReturnType<typeof requestContext> }): Promise<boolean>;
  /** The RP ID, returned with the passkey list for the WebAuthn Signal API. */
  rpId: string;
  /** A signed login result in the sign-in's answer, when the request names an audience (`?audience=`). */
  loginResults: {
    /** Throws 400 audience_not_allowed: checked before the ceremony is touched. */
    check(audience: string): void;
    issue(
      audience: string,
      found: { user: { id: string }; session: Pick<SessionView, 'id' | 'amr' | 'userVerified' | 'scope' | 'authTime'> },
      context: ReturnType<typeof requestContext>,
    ): Promise<{ loginResult: string; loginResultExpiresAt: string }>;
  };
}

const OptionsResponse = Type.Object({}, { additionalProperties: true, description: 'WebAuthn L3 options JSON, ready for parse*OptionsFromJSON' });
const problem = { $ref: 'Problem#' };

/**
 * The `Session` a response carries. Never its token, unless the route passes one: only a route
 * that just issued the session or gave it a new token (SEC-24), and only to a bearer client
 * (`CookiePolicy.isBearerClient`, `receivesToken`).
 */
export function sessionJson(session: Omit<SessionView, 'id' | 'userId' | 'createdAt' | 'token' | 'secondFactor'>, token?: string) {
  return {
    ...(token ? { token } : {}),
    expiresAt: new Date(session.expiresAt).toISOString(),
    idleExpiresAt: new Date(session.idleExpiresAt).toISOString(),
    authTime: new Date(session.authTime).toISOString(),
    amr: session.amr,
    userVerified: session.userVerified,
    aal: assuranceLevel(session),
    scope: session.scope,
  };
}

export function userJson(user: { id: string; username: string; displayName: string }) {
  return { id: user.id, username: user.username, displayName: user.displayName };
}

/** The v1 passkey endpoints: thin mapping between HTTP and the ceremony services. */
export async function webauthnRoutes(app: FastifyInstance, deps: WebauthnRouteDeps): Promise<void> {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  const tags = ['passkeys'];
  const bind = (request: Parameters<CookiePolicy['ceremonyBinding']>[0], reply: FastifyReply) =>
    deps.cookies.issueCeremonyBinding(request, reply, () => toBase64Url(deps.random.bytes(32)), deps.challengeTtlSeconds);

  r.post('/api/v1/passkeys/registration/options', {
    schema: {
      operationId: 'createRegistrationOptions',
      security: OPTIONAL_SESSION,
      tags,
      summary: 'Start registering a passkey',
      description:
        'Signed out with a username: sign-up of a new account (409 username_taken if it exists, 409 username_confusable if one looks like it; 409 signed_in while the request carries a session of any scope, recovery included). Signed in with {}: adds a passkey to the current user. With {"appendToken"} (from POST /api/admin/v1/append-tokens): adds a passkey to the token\'s user without a session (401 append_token_invalid); the verify then opens no session.',
      body: RegistrationOptionsBody,
      response: { 200: OptionsResponse, 400: problem, 401: problem, 403: problem, 409: problem, 429: problem },
    },
  }, async (request, reply) => {
    if (request.body.appendToken !== undefined) {
      if (request.body.username !== undefined || request.body.displayName !== undefined || request.body.email !== undefined) {
        throw CommonErrors.invalid_request({ detail: 'appendToken comes alone: the account is the token\'s' });
      }
      await deps.authLimiter.hit(`append-options-ip:${request.ip}`);
      const binding = bind(request, reply);
      return deps.registration.startAppendWithToken({ appendToken: request.body.appendToken, binding, context: requestContext(request) });
    }
    if (request.body.username !== undefined) {
      await deps.signupLimiter.hit(`signup:${request.ip}`);
      // No sign-up on top of a session (a recovery one above all: issue 9); the verify checks again.
      if (await deps.auth.optionalSession(request)) throw AccountErrors.signed_in();
      const binding = bind(request, reply);
      return deps.registration.startSignUp({ username: request.body.username, displayName: request.body.displayName, email: request.body.email, binding });
    }
    // SEC-31: adding a passkey needs a recent step-up; a recovery session exists for this alone (SEC-39).
    const found = await deps.auth.requireSession(request, { allow: ['recovery'] });
    if (found.session.scope === 'full') await deps.auth.requireStepUp(request);
    const binding = bind(request, reply);
    return deps.registration.startAppend({ user: found.user, binding });
  });

  r.post('/api/v1/passkeys/registration/verify', {
    schema: {
      operationId: 'verifyRegistration',
      security: OPTIONAL_SESSION,
      tags,
      summary: 'Finish registering a passkey',
      description: 'Finds the ceremony by its challenge. A ceremony started with an appendToken uses the token up here (401 append_token_invalid if it was used, expired or taken over by a later start) and answers {user, passkey} without a session.',
      body: RegistrationResponseBody,
      response: {
        200: Type.Object({
          user: UserSchema,
          passkey: PasskeySchema,
          session: Type.Optional(SessionSchema),
          emailCodeSent: Type.Optional(Type.Boolean({ description: 'Sign-up with an address: a code to confirm it went out (POST /api/v1/account/email/verify)' })),
        }),
        400: problem, 401: problem, 403: problem, 409: problem, 429: problem,
      },
    },
  }, async (request, reply) => {
    await deps.authLimiter.hit(`passkey-registration-verify-ip:${request.ip}`);
    const bearer = deps.cookies.isBearerClient(request);
    const result = await deps.registration.finish({
      response: request.body as RegistrationResponseJSON,
      binding: deps.cookies.ceremonyBinding(request),
      session: await deps.auth.optionalSession(request),
      context: requestContext(request),
    });
    if (result.session?.token) deps.cookies.setSession(reply, result.session.token, result.session.expiresAt, deps.clock.now());
    const binding = deps.cookies.ceremonyBinding(request);
    const emailCodeSent =
      result.pendingEmail && binding
        ? await deps.sendSignUpEmailCode({ userId: result.user.id, email: result.pendingEmail, binding, context: requestContext(request) })
        : undefined;
    return {
      user: userJson(result.user),
      passkey: result.passkey,
      ...(result.session ? { session: sessionJson(result.session, bearer ? result.session.token : undefined) } : {}),
      ...(emailCodeSent !== undefined ? { emailCodeSent } : {}),
    };
  });

  r.post('/api/v1/passkeys/authentication/options', {
    schema: {
      operationId: 'createAuthenticationOptions',
      security: PUBLIC_ROUTE,
      tags,
      summary: 'Start signing in with a passkey',
      description: '{} for discoverable sign-in and conditional UI; {"username"} for identifier-first. An unknown username gets an answer of the same shape.',
      body: AuthenticationOptionsBody,
      response: { 200: OptionsResponse, 400: problem, 429: problem },
    },
  }, async (request, reply) => {
    await deps.authLimiter.hit(`passkey-options-ip:${request.ip}`);
    const binding = bind(request, reply);
    return deps.authentication.start({ username: request.body.username, binding });
  });

  r.post('/api/v1/passkeys/authentication/verify', {
    schema: {
      operationId: 'verifyAuthentication',
      security: PUBLIC_ROUTE,
      tags,
      summary: 'Finish signing in with a passkey',
      description:
        "With `?audience=<one of LATCHKEY_TOKEN_AUDIENCES>` the answer also carries `loginResult`, a signed login result for that app backend (as POST /api/v1/session/login-result gives); an audience that is not configured is 400 audience_not_allowed before the sign-in is tried.",
      querystring: Type.Object({ audience: Type.Optional(Type.String({ minLength: 1, maxLength: 512 })) }),
      body: AuthenticationResponseBody,
      response: {
        200: Type.Object({
          user: UserSchema,
          passkey: PasskeySchema,
          session: SessionSchema,
          loginResult: Type.Optional(Type.String({ description: 'Signed login result (compact JWS), only with ?audience=' })),
          loginResultExpiresAt: Type.Optional(Type.String({ format: 'date-time' })),
        }),
        400: problem,
        401: problem,
        429: problem,
      },
    },
  }, async (request, reply) => {
    const { audience } = request.query;
    if (audience !== undefined) deps.loginResults.check(audience);
    await deps.authLimiter.hit(`passkey-verify-ip:${request.ip}`);
    const result = await deps.authentication.finish({
      response: request.body as AuthenticationResponseJSON,
      binding: deps.cookies.ceremonyBinding(request),
      context: requestContext(request),
      // Signing in again ends the session the request carried (no lookup when it carries none).
      carried: await deps.auth.optionalSession(request),
    });
    // Its own audit row (token.issued) after the sign-in's commit; no token without that row.
    const loginResult = audience !== undefined && result.session.scope === 'full' ? await deps.loginResults.issue(audience, result, requestContext(request)) : {};
    if (result.session.token) deps.cookies.setSession(reply, result.session.token, result.session.expiresAt, deps.clock.now());
    const token = deps.cookies.isBearerClient(request) ? result.session.token : undefined;
    return { user: userJson(result.user), passkey: result.passkey, session: sessionJson(result.session, token), ...loginResult };
  });

  r.get('/api/v1/passkeys', {
    schema: {
      operationId: 'listPasskeys',
      security: SIGNED_IN,
      tags,
      summary: "The current user's passkeys",
      description: 'Also returns the RP ID and the user handle, which the WebAuthn Signal API needs (signalAllAcceptedCredentials, WebAuthn L3 §5.1.10).',
      response: {
        200: Type.Object({
          passkeys: Type.Array(PasskeySchema),
          rpId: Type.String(),
          userHandle: Type.String({ description: 'The WebAuthn user.id (base64url), not the account id' }),
        }),
        401: problem,
      },
    },
  }, async (request) => {
    const { user } = await deps.auth.requireSession(request);
    return { passkeys: await deps.passkeys.list(user.id), rpId: deps.rpId, userHandle: user.userHandle };
  });

  r.patch('/api/v1/passkeys/:id', {
    schema: { operationId: 'renamePasskey', security: SIGNED_IN, tags, summary: 'Rename a passkey', params: PasskeyIdParams, body: RenamePasskeyBody, response: { 200: PasskeySchema, 400: problem, 401: problem, 404: problem } },
  }, async (request) => {
    const { user } = await deps.auth.requireSession(request);
    return deps.passkeys.rename({ userId: user.id, id: request.params.id, name: request.body.name, context: requestContext(request) });
  });

  r.delete('/api/v1/passkeys/:id', {
    schema: {
      operationId: 'deletePasskey',
      security: SIGNED_IN,
      tags,
      summary: 'Delete a passkey',
      description: 'Needs a recent step-up (403 step_up_required). The last passkey of an account without another sign-in method needs ?confirm=last (409 last_passkey).',
      params: PasskeyIdParams,
      querystring: Type.Object({ confirm: Type.Optional(Type.Literal('last')) }, { additionalProperties: false }),
      response: { 204: Type.Null(), 401: problem, 403: problem, 404: problem, 409: problem },
    },
  }, async (request, reply) => {
    const { user } = await deps.auth.requireStepUp(request);
    await deps.passkeys.delete({ userId: user.id, id: request.params.id, confirmLast: request.query.confirm === 'last', context: requestContext(request) });
    return reply.code(204).send(null);
  });

  r.post('/api/v1/session/step-up/options', {
    schema: {
      operationId: 'createStepUpOptions',
      security: SIGNED_IN,
      tags: ['session'],
      summary: 'Start re-authenticating the current user (step-up)',
      description:
        'Request options for the signed-in user\'s own passkeys with userVerification "required" (SEC-31). The challenge is bound to this session: no other session can answer it. Also finishes a password sign-in that answered secondFactor "passkey" (403 second_factor_mismatch for one that answered "totp").',
      body: Type.Object({}, { additionalProperties: false }),
      response: { 200: OptionsResponse, 401: problem, 403: problem },
    },
  }, async (request, reply) => {
    // Also the second step of a password sign-in on a passkey-first account.
    const found = await deps.auth.requireSession(request, { allow: ['second_factor'], finishes: 'passkey' });
    const binding = bind(request, reply);
    return deps.authentication.startStepUp({ found, binding });
  });

  r.post('/api/v1/session/step-up/verify', {
    schema: {
      operationId: 'verifyStepUp',
      security: SIGNED_IN,
      tags: ['session'],
      summary: 'Finish re-authenticating: refreshes the session\'s auth time and issues it a new token',
      body: AuthenticationResponseBody,
      response: { 200: Type.Object({ user: UserSchema, passkey: PasskeySchema, session: SessionSchema }), 400: problem, 401: problem, 403: problem, 429: problem },
    },
  }, async (request, reply) => {
    const stepUp = await deps.auth.requireSession(request, { allow: ['second_factor'], finishes: 'passkey' });
    await deps.authLimiter.hit(`passkey-verify-ip:${request.ip}`);
    const result = await deps.authentication.finish({
      response: request.body as AuthenticationResponseJSON,
      binding: deps.cookies.ceremonyBinding(request),
      context: requestContext(request),
      stepUp,
    });
    // The raised session's new token (SEC-24), handed over the way sign-in hands the first one.
    if (result.session.token) deps.cookies.setSession(reply, result.session.token, result.session.expiresAt, deps.clock.now());
    const token = deps.cookies.receivesToken(request) ? result.session.token : undefined;
    return { user: userJson(result.user), passkey: result.passkey, session: sessionJson(result.session, token) };
  });
}
