import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { requestContext, REASON_MAX, REASON_MIN, type Auth, type Principal } from '../../http/auth.ts';
import { installScopeGuard } from '../../http/scopes.ts';
import { CommonErrors } from '../../errors/common.errors.ts';
import type { ApiKeyScope } from '../api-keys/api-keys.module.ts';
import type { StaffMember } from './staff.repository.ts';
import { ROLE_DEFINITIONS, STAFF_ROLES, type StaffRole } from './staff.roles.ts';
import type { StaffService } from './staff.service.ts';
import type { SupportRecoveryService } from './support-recovery.service.ts';
import type { LockoutLifter } from './lockout-lift.service.ts';

const iso = (ms: number) => new Date(ms).toISOString();

export const ReasonSchema = Type.String({
  maxLength: 2000,
  description: `Why (${REASON_MIN} to ${REASON_MAX} characters): written to the audit log with the action`,
});

const RoleSchema = Type.Unsafe<StaffRole>({
  type: 'string',
  enum: [...STAFF_ROLES],
  description: STAFF_ROLES.map((r) => `\`${r}\`: ${ROLE_DEFINITIONS[r].summary}`).join('; '),
});

export const StaffMemberSchema = Type.Object(
  {
    userId: Type.String(),
    username: Type.String(),
    displayName: Type.String(),
    role: RoleSchema,
    createdAt: Type.String({ format: 'date-time' }),
    createdBy: Type.Object({ kind: Type.String({ description: '"cli", "staff" or "api_key"' }), id: Type.Union([Type.String(), Type.Null()]) }),
  },
  { $id: 'StaffMember' },
);

const memberJson = (m: StaffMember) => ({ ...m, createdAt: iso(m.createdAt) });

/** The URL a new staff member opens to enrol their passkey in the console, with an append token. */
export function enrollUrlOf(publicOrigin: string, token: string): string {
  return `${publicOrigin}/admin/enroll#token=${token}`;
}

/**
 * Staff (issue 13): who is signed in to the console (`GET /me`) and the staff list, under the
 * management prefix and its scope guard like every admin route.
 */
export async function staffRoutes(
  app: FastifyInstance,
  deps: {
    staff: StaffService;
    auth: Auth;
    stepUpMaxAgeSeconds: number;
    publicOrigin: string;
    recovery: SupportRecoveryService;
    lockouts: LockoutLifter;
    /** The effective configuration with its secrets masked (config/load.ts redactConfig). */
    settings: unknown;
  },
): Promise<void> {
  installScopeGuard(app, deps.auth);
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  const security = [{ apiKey: [] }];
  const problem = { $ref: 'Problem#' };
  const errors = { 400: problem, 401: problem, 403: problem };
  const tags = ['management: staff'];
  const principalOf = (request: FastifyRequest, scope: ApiKeyScope): Promise<Principal> => deps.auth.authorize(request, scope);

  r.get('/me', {
    config: { scope: 'console:access' },
    schema: {
      tags,
      security,
      operationId: 'getStaffMe',
      summary: 'The signed-in staff member: role, scopes and until when the last step-up counts',
      description: 'Staff sessions only (a user-verified passkey sign-in); an API key cannot hold console:access.',
      response: {
        200: Type.Object({
          userId: Type.String(),
          username: Type.String(),
          displayName: Type.String(),
          role: RoleSchema,
          scopes: Type.Array(Type.String()),
          stepUpValidUntil: Type.Union([Type.String({ format: 'date-time' }), Type.Null()], {
            description: 'Destructive actions need a step-up until then; null: step up before the next one',
          }),
        }),
        ...errors,
      },
    },
  }, async (request) => {
    const principal = await principalOf(request, 'console:access');
    if (principal.kind !== 'staff') throw CommonErrors.unauthorized();
    const { session, user } = principal.session;
    const validUntil = session.authTime + deps.stepUpMaxAgeSeconds * 1000;
    const recent = await deps.auth.isRecentlyVerified(principal.session);
    return {
      userId: user.id,
      username: user.username,
      displayName: user.displayName,
      role: principal.staff.role,
      scopes: [...principal.scopes],
      stepUpValidUntil: recent ? iso(validUntil) : null,
    };
  });

  r.get('/staff', {
    config: { scope: 'staff:read' },
    schema: { tags, security, operationId: 'listStaff', summary: 'Every staff member and their role', response: { 200: Type.Object({ items: Type.Array(StaffMemberSchema) }), ...errors } },
  }, async () => ({ items: (await deps.staff.list()).map(memberJson) }));

  r.post('/staff', {
    config: { scope: 'staff:manage', destructive: true },
    schema: {
      tags,
      security,
      operationId: 'addStaffMember',
      summary: 'Make a user a staff member (a new user when the username names nobody yet)',
      description: 'When the user has no passkey yet, `enrollUrl` opens the console\'s enrolment page with a one-time append token (shown once). 409 already_staff.',
      body: Type.Union([
        Type.Object({ userId: Type.String({ minLength: 1, maxLength: 64 }), role: RoleSchema, reason: Type.Optional(ReasonSchema) }, { additionalProperties: false }),
        Type.Object({ username: Type.String({ minLength: 1, maxLength: 256 }), role: RoleSchema, reason: Type.Optional(ReasonSchema) }, { additionalProperties: false }),
      ]),
      response: {
        201: Type.Object({
          member: StaffMemberSchema,
          userCreated: Type.Boolean(),
          enrollUrl: Type.Optional(Type.String({ description: '<origin>/admin/enroll#token=lk_append_…: shown once' })),
          enrollExpiresAt: Type.Optional(Type.String({ format: 'date-time' })),
        }),
        ...errors,
        404: problem,
        409: problem,
      },
    },
  }, async (request, reply) => {
    const body = request.body as { userId?: string; username?: string; role: StaffRole };
    const target = body.userId !== undefined ? { userId: body.userId } : { username: body.username ?? '' };
    const added = await deps.staff.add({ target, role: body.role, context: requestContext(request) });
    return reply.code(201).send({
      member: memberJson(added.member),
      userCreated: added.userCreated,
      ...(added.enrollment ? { enrollUrl: enrollUrlOf(deps.publicOrigin, added.enrollment.token), enrollExpiresAt: iso(added.enrollment.expiresAt) } : {}),
    });
  });

  const memberParams = Type.Object({ userId: Type.String({ minLength: 1, maxLength: 64 }) });
  r.patch('/staff/:userId', {
    config: { scope: 'staff:manage', destructive: true },
    schema: {
      tags,
      security,
      operationId: 'changeStaffRole',
      summary: "Change a staff member's role (effective on their next request)",
      description: '409 last_admin: the last admin cannot be demoted. 403 own_role_raise: nobody raises their own role.',
      params: memberParams,
      body: Type.Object({ role: RoleSchema, reason: Type.Optional(ReasonSchema) }, { additionalProperties: false }),
      response: { 200: StaffMemberSchema, ...errors, 404: problem, 409: problem },
    },
  }, async (request) => memberJson(await deps.staff.changeRole({ userId: request.params.userId, role: request.body.role, context: requestContext(request) })));

  r.delete('/staff/:userId', {
    config: { scope: 'staff:manage', destructive: true },
    schema: {
      tags,
      security,
      operationId: 'removeStaffMember',
      summary: 'Remove a staff member (the user account stays; its elevated access ends now)',
      description: '409 last_admin: the last admin cannot be removed.',
      params: memberParams,
      response: { 204: Type.Null(), ...errors, 404: problem, 409: problem },
    },
  }, async (request, reply) => {
    await deps.staff.remove({ userId: request.params.userId, context: requestContext(request) });
    return reply.code(204).send(null);
  });
}

/** Support actions on one user and the settings page: registered under the same guard (see staffRoutes). */
export async function supportActionRoutes(app: FastifyInstance, deps: Parameters<typeof staffRoutes>[1]): Promise<void> {
  installScopeGuard(app, deps.auth);
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  const security = [{ apiKey: [] }];
  const problem = { $ref: 'Problem#' };
  const errors = { 400: problem, 401: problem, 403: problem };
  const userParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) });

  r.post('/users/:id/recovery', {
    config: { scope: 'recovery:start', destructive: true },
    schema: {
      tags: ['management: support'],
      security,
      operationId: 'startUserRecovery',
      summary: 'Start an account recovery for a user: a one-time link by e-mail, or a one-time code to read out',
      description:
        'The user redeems it on the app\'s recovery path (POST /api/v1/recovery/support, the SDK\'s recoverWithSupportCode): a restricted recovery session that can only enrol a passkey. 15 minutes, single use, stored hashed; a new one replaces an unused one. `code` is in this answer only. 409 recovery_email_missing (no verified address), 409 user_disabled. Support cannot start one for a staff member (403 staff_target_forbidden).',
      params: userParams,
      body: Type.Object(
        { method: Type.Union([Type.Literal('email'), Type.Literal('code')]), reason: Type.Optional(ReasonSchema) },
        { additionalProperties: false },
      ),
      response: {
        201: Type.Object({
          method: Type.Union([Type.Literal('email'), Type.Literal('code')]),
          expiresAt: Type.String({ format: 'date-time' }),
          code: Type.Optional(Type.String({ description: 'method "code": XXXX-XXXX-XXXX, shown once: read it out to the user' })),
        }),
        ...errors,
        404: problem,
        409: problem,
      },
    },
  }, async (request, reply) => {
    const started = await deps.recovery.start({ userId: request.params.id, method: request.body.method, context: requestContext(request) });
    return reply.code(201).header('cache-control', 'no-store').send({ method: started.method, expiresAt: iso(started.expiresAt), ...(started.code ? { code: started.code } : {}) });
  });

  r.post('/users/:id/lockouts/lift', {
    config: { scope: 'lockouts:lift', destructive: true },
    schema: {
      tags: ['management: support'],
      security,
      operationId: 'liftUserLockout',
      summary: "Lift the locks and delays failed attempts put on a user's password, e-mail codes, TOTP and recovery codes",
      description: 'Includes the address-wide e-mail-code lock after 100 failures (NIST SP 800-63B-4 §3.2.2) and every client\'s delay on that address. `lifted` lists what was counted; empty when nothing was.',
      params: userParams,
      body: Type.Object({ reason: Type.Optional(ReasonSchema) }, { additionalProperties: false }),
      response: {
        200: Type.Object({
          lifted: Type.Array(
            Type.Object({
              method: Type.Union([Type.Literal('password'), Type.Literal('email_code'), Type.Literal('totp'), Type.Literal('recovery_code')]),
              scope: Type.Union([Type.Literal('account'), Type.Literal('client')], { description: "account: the method's own counter; client: one client's delay on the e-mail address" }),
              failures: Type.Integer(),
              locked: Type.Boolean({ description: 'Whether it was holding the user back (locked or delayed) when lifted' }),
            }),
          ),
        }),
        ...errors,
        404: problem,
      },
    },
  }, async (request) => ({ lifted: await deps.lockouts.lift(request.params.id, requestContext(request)) }));

  r.get('/settings', {
    config: { scope: 'settings:read' },
    schema: {
      tags: ['management: settings'],
      security,
      operationId: 'getSettings',
      summary: 'The effective configuration, secrets masked (***)',
      response: { 200: Type.Object({}, { additionalProperties: true, description: 'The configuration object (README, Configuration), with secrets and URL passwords as ***' }), ...errors },
    },
  }, async () => deps.settings);
}
