import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { SessionSchema, UserSchema } from '../../contract/schemas.ts';
import type { Auth } from '../../http/auth.ts';
import { requestContext } from '../../http/auth.ts';
import type { CookiePolicy } from '../../http/cookies.ts';
import type { RateLimiter } from '../../http/rate-limit.ts';
import type { Clock } from '../../platform/clock.ts';
import { toBase64Url } from '../../platform/encoding.ts';
import type { Random } from '../../platform/random.ts';
import type { AccountsService } from '../accounts/accounts.module.ts';
import { sessionJson, userJson } from '../webauthn/webauthn.module.ts';
import type { EmailCodesService } from './email-codes.service.ts';
import { FallbackErrors } from './fallback.errors.ts';
import type { FallbackService } from './fallback.service.ts';
import type { RecoveryService } from './recovery.service.ts';
import { PUBLIC_ROUTE, SIGNED_IN } from '../../http/openapi.ts';

export interface FallbackRouteDeps {
  auth: Auth;
  cookies: CookiePolicy;
  clock: Clock;
  random: Random;
  accounts: AccountsService;
  emailCodes: EmailCodesService;
  fallback: FallbackService;
  recovery: RecoveryService;
  /** Per client IP, for every code request and code check (SEC-34, SEC-35: request.ip honours only trusted proxies). */
  ipLimiter: RateLimiter;
  emailCodeEnabled: boolean;
  recoveryEnabled: boolean;
  codeTtlSeconds: number;
  countPasskeys(userId: string): Promise<number>;
}

const problem = { $ref: 'Problem#' };
const EmailBody = Type.Object({ email: Type.String({ minLength: 1, maxLength: 320 }) }, { additionalProperties: false });
const CodeBody = Type.Object({ code: Type.String({ minLength: 1, maxLength: 32, description: 'The six digits from the mail' }) }, { additionalProperties: false });
const Sent = Type.Object(
  { expiresAt: Type.String({ format: 'date-time' }) },
  { description: 'The same answer whether or not an account has the address (SEC-36); the code goes only to a known, verified address' },
);

/** E-mail codes, the account's address, recovery codes and account recovery. */
export async function fallbackRoutes(app: FastifyInstance, deps: FallbackRouteDeps): Promise<void> {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  const bind = (request: FastifyRequest, reply: FastifyReply) =>
    deps.cookies.issueCeremonyBinding(request, reply, () => toBase64Url(deps.random.bytes(32)), deps.codeTtlSeconds);
  const iso = (ms: number) => new Date(ms).toISOString();
  const requireEmailCodes = () => {
    if (!deps.emailCodeEnabled) throw FallbackErrors.method_disabled({ detail: 'E-mail codes are not enabled (LATCHKEY_AUTH_METHODS)' });
  };
  const requireRecovery = () => {
    if (!deps.emailCodeEnabled || !deps.recoveryEnabled) throw FallbackErrors.method_disabled({ detail: 'Account recovery is not enabled on this server' });
  };

  r.post('/api/v1/email-code/sign-in', {
    schema: {
      operationId: 'sendSignInEmailCode',
      security: PUBLIC_ROUTE,
      tags: ['e-mail code'],
      summary: 'Send a sign-in code to an address',
      description: 'Answers 202 whether or not the address belongs to an account. The code is bound to this client (ceremony cookie / Latchkey-Ceremony header). A session from a code is AAL1 (amr ["otp"]) and needs a passkey step-up for sensitive operations.',
      body: EmailBody,
      response: { 202: Sent, 400: problem, 403: problem, 429: problem },
    },
  }, async (request, reply) => {
    requireEmailCodes();
    await deps.ipLimiter.hit(`email-code-ip:${request.ip}`);
    const binding = bind(request, reply);
    const { expiresAt } = await deps.emailCodes.start({ purpose: 'sign_in', email: request.body.email, binding, context: requestContext(request) });
    return reply.code(202).send({ expiresAt: iso(expiresAt) });
  });

  r.post('/api/v1/email-code/sign-in/verify', {
    schema: {
      operationId: 'verifySignInEmailCode',
      security: PUBLIC_ROUTE,
      tags: ['e-mail code'],
      summary: 'Sign in with the e-mailed code',
      body: CodeBody,
      response: { 200: Type.Object({ user: UserSchema, session: SessionSchema }), 401: problem, 403: problem, 429: problem },
    },
  }, async (request, reply) => {
    requireEmailCodes();
    await deps.ipLimiter.hit(`email-code-ip:${request.ip}`);
    const result = await deps.fallback.signIn({
      binding: deps.cookies.ceremonyBinding(request),
      code: request.body.code,
      context: requestContext(request),
      carried: await deps.auth.optionalSession(request),
    });
    deps.cookies.setSession(reply, result.session.token, result.session.expiresAt, deps.clock.now());
    return { user: userJson(result.user), session: sessionJson(result.session, deps.cookies.isBearerClient(request) ? result.session.token : undefined) };
  });

  r.get('/api/v1/account', {
    schema: {
      operationId: 'getAccount',
      security: SIGNED_IN,
      tags: ['account'],
      summary: 'The current user\'s sign-in methods',
      response: {
        200: Type.Object({
          user: UserSchema,
          email: Type.Union([Type.String(), Type.Null()], { description: 'Verified address, or null' }),
          passkeys: Type.Integer(),
          recoveryCodesRemaining: Type.Integer(),
        }),
        401: problem,
        403: problem,
      },
    },
  }, async (request) => {
    const { user } = await deps.auth.requireSession(request);
    const [email, passkeys, recoveryCodesRemaining] = await Promise.all([deps.accounts.emailOf(user.id), deps.countPasskeys(user.id), deps.recovery.remaining(user.id)]);
    return { user: userJson(user), email: email ?? null, passkeys, recoveryCodesRemaining };
  });

  r.put('/api/v1/account/email', {
    schema: {
      operationId: 'setAccountEmail',
      security: SIGNED_IN,
      tags: ['account'],
      summary: 'Set or change the account\'s e-mail address: sends a code to the new address',
      description: 'Needs a recent step-up (403 step_up_required). The address changes once the code is confirmed.',
      body: EmailBody,
      response: { 202: Sent, 400: problem, 401: problem, 403: problem, 429: problem },
    },
  }, async (request, reply) => {
    const found = await deps.auth.requireStepUp(request);
    await deps.ipLimiter.hit(`email-code-ip:${request.ip}`);
    const binding = bind(request, reply);
    const { expiresAt } = await deps.emailCodes.start({ purpose: 'verify_email', email: request.body.email, binding, userId: found.user.id, context: requestContext(request) });
    return reply.code(202).send({ expiresAt: iso(expiresAt) });
  });

  r.post('/api/v1/account/email/verify', {
    schema: {
      operationId: 'verifyAccountEmail',
      security: SIGNED_IN,
      tags: ['account'],
      summary: 'Confirm the new address with the code sent to it',
      body: CodeBody,
      response: { 200: Type.Object({ email: Type.String() }), 401: problem, 403: problem, 409: problem, 429: problem },
    },
  }, async (request) => {
    const found = await deps.auth.requireSession(request);
    await deps.ipLimiter.hit(`email-code-ip:${request.ip}`);
    return deps.fallback.confirmEmail({ found, binding: deps.cookies.ceremonyBinding(request), code: request.body.code, context: requestContext(request) });
  });

  r.post('/api/v1/account/recovery-codes', {
    schema: {
      operationId: 'createRecoveryCodes',
      security: SIGNED_IN,
      tags: ['account'],
      summary: 'Make 10 new recovery codes (shown once; the old ones stop working)',
      description: 'Needs a recent step-up (403 step_up_required). Each code has 120 bits and works once.',
      body: Type.Object({}, { additionalProperties: false }),
      response: { 200: Type.Object({ codes: Type.Array(Type.String()) }), 401: problem, 403: problem },
    },
  }, async (request, reply) => {
    const found = await deps.auth.requireStepUp(request);
    const codes = await deps.recovery.regenerate(found, requestContext(request));
    return reply.header('cache-control', 'no-store').send({ codes });
  });

  r.post('/api/v1/recovery/start', {
    schema: {
      operationId: 'startRecovery',
      security: PUBLIC_ROUTE,
      tags: ['recovery'],
      summary: 'Lost every passkey: send a recovery code to the account\'s address',
      description: 'Answers 202 whether or not the address belongs to an account.',
      body: EmailBody,
      response: { 202: Sent, 400: problem, 403: problem, 429: problem },
    },
  }, async (request, reply) => {
    requireRecovery();
    await deps.ipLimiter.hit(`email-code-ip:${request.ip}`);
    const binding = bind(request, reply);
    const { expiresAt } = await deps.emailCodes.start({ purpose: 'recovery', email: request.body.email, binding, context: requestContext(request) });
    return reply.code(202).send({ expiresAt: iso(expiresAt) });
  });

  r.post('/api/v1/recovery/verify', {
    schema: {
      operationId: 'verifyRecovery',
      security: PUBLIC_ROUTE,
      tags: ['recovery'],
      summary: 'E-mailed code plus a recovery code: a restricted session that can only register a new passkey',
      description: 'Registering a passkey with this session (POST /api/v1/passkeys/registration/options with {}) ends the recovery and signs out every other session (SEC-39).',
      body: Type.Object(
        { code: Type.String({ minLength: 1, maxLength: 32 }), recoveryCode: Type.String({ minLength: 1, maxLength: 64 }) },
        { additionalProperties: false },
      ),
      response: {
        200: Type.Object({
          user: UserSchema,
          session: SessionSchema,
          recoveryCodesRemaining: Type.Integer({ description: 'Unused codes left; prompt for new ones (after the passkey is registered) when low (SEC-38)' }),
        }),
        401: problem, 403: problem, 429: problem,
      },
    },
  }, async (request, reply) => {
    requireRecovery();
    await deps.ipLimiter.hit(`email-code-ip:${request.ip}`);
    const result = await deps.recovery.recover({
      binding: deps.cookies.ceremonyBinding(request),
      code: request.body.code,
      recoveryCode: request.body.recoveryCode,
      context: requestContext(request),
      carried: await deps.auth.optionalSession(request),
    });
    const [user, recoveryCodesRemaining] = await Promise.all([deps.accounts.findById(result.userId), deps.recovery.remaining(result.userId)]);
    deps.cookies.setSession(reply, result.session.token, result.session.expiresAt, deps.clock.now());
    const token = deps.cookies.isBearerClient(request) ? result.session.token : undefined;
    return { user: userJson(user ?? { id: result.userId, username: '', displayName: '' }), session: sessionJson(result.session, token), recoveryCodesRemaining };
  });
}
