import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { requestContext, type Auth } from '../../http/auth.ts';
import { installScopeGuard } from '../../http/scopes.ts';
import { PLATFORMS, ROLLOUT_FEATURES, type RolloutRule } from './rollout.rules.ts';
import type { RolloutService } from './rollout.service.ts';

const problem = { $ref: 'Problem#' };
const Feature = Type.Union(
  ROLLOUT_FEATURES.map((f) => Type.Literal(f)),
  { description: 'passkey_button, autofill, append_prompt or passkey_first_signup' },
);
const Strings = (description: string) => Type.Array(Type.String({ minLength: 1, maxLength: 255 }), { maxItems: 1000, description });

export const RolloutRuleSchema = Type.Object(
  {
    feature: Feature,
    percentage: Type.Number({ description: '0 to 100 (two decimals): the share of buckets that get the feature' }),
    bucketBy: Type.Union([Type.Literal('user'), Type.Literal('device')], { description: "Whose id is bucketed (HMAC with a per-feature salt); 'user' falls back to the device before anyone is known" }),
    operatingSystems: Type.Array(Type.String(), { description: 'OS families (ios, macos, android, windows, linux, chromeos); empty: any' }),
    browsers: Type.Array(Type.String(), { description: 'Browser families (chrome, safari, firefox, edge, samsunginternet...); empty: any' }),
    platforms: Type.Array(Type.Union(PLATFORMS.map((p) => Type.Literal(p)))),
    segments: Type.Array(Type.String(), { description: 'User segments (PATCH /users/{id} `segment`); empty: any' }),
    allow: Type.Array(Type.String(), { description: 'User ids or external ids that always get the feature (unless the kill switch is on)' }),
    deny: Type.Array(Type.String(), { description: 'User ids or external ids that never get it' }),
    killSwitch: Type.Boolean({ description: 'On: nobody gets the feature; every node sees it within LATCHKEY_ROLLOUT_REFRESH_INTERVAL_MS' }),
    updatedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()], { description: 'null: no rule stored (everyone gets the feature)' }),
    updatedBy: Type.Union([Type.String(), Type.Null()], { description: 'Actor of the last change (`api_key:<id>`); the audit log has every change' }),
  },
  { $id: 'RolloutRule' },
);

const ruleFields = {
  percentage: Type.Optional(Type.Number({ minimum: 0, maximum: 100 })),
  bucketBy: Type.Optional(Type.Union([Type.Literal('user'), Type.Literal('device')])),
  operatingSystems: Type.Optional(Strings('OS families; empty: any')),
  browsers: Type.Optional(Strings('Browser families; empty: any')),
  platforms: Type.Optional(Type.Array(Type.Union(PLATFORMS.map((p) => Type.Literal(p))), { maxItems: 3 })),
  segments: Type.Optional(Strings('User segments; empty: any')),
  allow: Type.Optional(Strings('User ids or external ids')),
  deny: Type.Optional(Strings('User ids or external ids')),
  killSwitch: Type.Optional(Type.Boolean()),
};
const RuleInput = (minProperties: number) => Type.Object(ruleFields, { additionalProperties: false, minProperties });
/** A change: the rule fields and why (audited; staff must give one and need a recent step-up). */
const RuleChange = (minProperties: number) =>
  Type.Object({ ...ruleFields, reason: Type.Optional(Type.String({ maxLength: 2000, description: 'Why (3 to 500 characters; required for staff): audited' })) }, { additionalProperties: false, minProperties });

/** The rule fields of a body (the reason goes to the audit row through requestContext). */
const withoutReason = <T extends { reason?: string }>({ reason: _reason, ...rule }: T): Omit<T, 'reason'> => rule;

const ruleJson = (rule: RolloutRule) => ({ ...rule, updatedAt: rule.updatedAt > 0 ? new Date(rule.updatedAt).toISOString() : null });

/** Management routes (under /api/admin/v1): rollout rules per feature, scopes rollout:read / rollout:write. */
export async function rolloutAdminRoutes(app: FastifyInstance, deps: { rollout: RolloutService; auth: Auth }): Promise<void> {
  installScopeGuard(app, deps.auth);
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  const tags = ['management: rollout'];
  const security = [{ apiKey: [] }];
  const errors = { 400: problem, 401: problem, 403: problem };
  const params = Type.Object({ feature: Type.String({ minLength: 1, maxLength: 64 }) });

  r.get('/rollout-rules', {
    config: { scope: 'rollout:read' },
    schema: {
      tags,
      security,
      operationId: 'listRolloutRules',
      summary: 'The rule of every feature (a feature without a stored rule: 100 %, no filters)',
      response: { 200: Type.Object({ rules: Type.Array(RolloutRuleSchema), version: Type.Integer({ description: 'Bumped by every change' }) }), ...errors },
    },
  }, async () => ({ rules: (await deps.rollout.list()).map(ruleJson), version: deps.rollout.version() }));

  r.get('/rollout-rules/:feature', {
    config: { scope: 'rollout:read' },
    schema: { tags, security, operationId: 'getRolloutRule', summary: "One feature's rule", params, response: { 200: RolloutRuleSchema, ...errors, 404: problem } },
  }, async (request) => ruleJson(await deps.rollout.get(request.params.feature)));

  r.put('/rollout-rules/:feature', {
    config: { scope: 'rollout:write', destructive: true },
    schema: {
      tags,
      security,
      operationId: 'putRolloutRule',
      summary: "Replace a feature's rule (absent fields: 100 %, bucket by user, no filters, no lists, kill switch off)",
      description: 'Audited as rollout_rule.changed with the rule before and after and the API key as actor. Every node uses the new rule within LATCHKEY_ROLLOUT_REFRESH_INTERVAL_MS.',
      params,
      body: RuleChange(0),
      response: { 200: RolloutRuleSchema, ...errors, 404: problem },
    },
  }, async (request) => ruleJson(await deps.rollout.put(request.params.feature, withoutReason(request.body), 'replace', requestContext(request))));

  r.patch('/rollout-rules/:feature', {
    config: { scope: 'rollout:write', destructive: true },
    schema: {
      tags,
      security,
      operationId: 'updateRolloutRule',
      summary: "Change some fields of a feature's rule (e.g. {\"killSwitch\": true})",
      description: 'Audited like PUT.',
      params,
      body: RuleChange(1),
      response: { 200: RolloutRuleSchema, ...errors, 404: problem },
    },
  }, async (request) => ruleJson(await deps.rollout.put(request.params.feature, withoutReason(request.body), 'merge', requestContext(request))));

  r.delete('/rollout-rules/:feature', {
    config: { scope: 'rollout:write', destructive: true },
    schema: {
      tags,
      security,
      operationId: 'deleteRolloutRule',
      summary: "Delete a feature's rule: everyone gets the feature again",
      params,
      response: { 204: Type.Null(), ...errors, 404: problem },
    },
  }, async (request, reply) => {
    await deps.rollout.remove(request.params.feature, requestContext(request));
    return reply.code(204).send(null);
  });

  r.post('/rollout-rules/:feature/preview', {
    config: { scope: 'rollout:read' },
    schema: {
      tags,
      security,
      operationId: 'previewRolloutRule',
      summary: 'How many users and recent devices a rule reaches (the stored one, or the candidate in the body, merged onto it)',
      description:
        "Users: counted by the user criteria (allow/deny lists, segments, and the percentage when bucketed by user). Devices: those that reported a ceremony in the last 30 days, by the device criteria (OS, browser, platform, and the percentage when bucketed by device). Nothing is stored.",
      params,
      body: RuleInput(0),
      response: {
        200: Type.Object({
          feature: Feature,
          users: Type.Object({ total: Type.Integer(), reached: Type.Integer(), share: Type.Number(), truncated: Type.Boolean() }),
          devices: Type.Object({ windowDays: Type.Integer(), total: Type.Integer(), reached: Type.Integer(), share: Type.Number() }),
        }),
        ...errors,
        404: problem,
      },
    },
  }, async (request) => deps.rollout.preview(request.params.feature, Object.keys(request.body ?? {}).length > 0 ? request.body : undefined));
}
