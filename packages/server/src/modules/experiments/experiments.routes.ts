import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { requestContext, type Auth } from '../../http/auth.ts';
import { SIGNED_IN } from '../../http/openapi.ts';
import type { RateLimiter } from '../../http/rate-limit.ts';
import { installScopeGuard } from '../../http/scopes.ts';
import { CONVERSION_METRICS, EXPERIMENT_FEATURES, type Experiment } from './experiments.repository.ts';
import type { Assignment, ExperimentsService } from './experiments.service.ts';
import type { ExperimentResult } from './experiments.stats.ts';

const problem = { $ref: 'Problem#' };
const Slug = (max: number) => Type.String({ pattern: `^[a-z0-9][a-z0-9_-]{0,${max - 1}}$`, description: `Lowercase letters, digits, - and _, at most ${max}` });
const ExperimentKey = Slug(64);
const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
const NullableTime = Type.Union([Type.String({ format: 'date-time' }), Type.Null()]);

const ExperimentSchema = Type.Object(
  {
    key: Type.String(),
    feature: Type.Unsafe<string>({ type: 'string', enum: [...EXPERIMENT_FEATURES] }),
    description: Type.String(),
    variants: Type.Array(Type.Object({ key: Type.String(), weight: Type.Integer(), description: Type.String() })),
    metric: Type.Unsafe<string>({ type: 'string', enum: Object.keys(CONVERSION_METRICS) }),
    conversionWindowHours: Type.Integer(),
    trafficPercent: Type.Integer(),
    baselineRate: Type.Number(),
    minimumDetectableEffect: Type.Number(),
    status: Type.Union([Type.Literal('draft'), Type.Literal('running'), Type.Literal('stopped')]),
    winner: Type.Union([Type.String(), Type.Null()], { description: 'After a stop: the variant everybody gets now (null: everybody back to the default)' }),
    createdAt: Type.String({ format: 'date-time' }),
    startedAt: NullableTime,
    stoppedAt: NullableTime,
  },
  { $id: 'Experiment' },
);

const IntervalSchema = Type.Object({ low: Type.Number(), high: Type.Number() });
const ResultSchema = Type.Object({
  requiredPerArm: Type.Integer({ description: 'Exposures every arm needs before a verdict (95 %, 80 % power, Bonferroni over the comparisons)' }),
  enoughData: Type.Boolean({ description: 'False: "not enough data yet"; the numbers are shown but no arm is called' }),
  arms: Type.Array(
    Type.Object({
      variant: Type.String(),
      exposures: Type.Integer(),
      conversions: Type.Integer(),
      rate: Type.Number(),
      interval: IntervalSchema,
      difference: Type.Optional(Type.Object({ value: Type.Number(), interval: IntervalSchema, pValue: Type.Number() }, { description: 'Against the control (Newcombe interval)' })),
      verdict: Type.Union([Type.Literal('control'), Type.Literal('better'), Type.Literal('worse'), Type.Literal('no_difference'), Type.Literal('not_enough_data')]),
    }),
  ),
  recommendation: Type.Union([Type.Object({ variant: Type.String(), why: Type.Union([Type.Literal('better_than_control'), Type.Literal('no_variant_better')]) }), Type.Null()]),
});

export const experimentJson = (e: Experiment) => ({
  key: e.key,
  feature: e.feature,
  description: e.description,
  variants: e.variants,
  metric: e.metric,
  conversionWindowHours: e.conversionWindowHours,
  trafficPercent: e.trafficPercent,
  baselineRate: e.baselineRate,
  minimumDetectableEffect: e.minimumDetectableEffect,
  status: e.status,
  winner: e.winner,
  createdAt: new Date(e.createdAt).toISOString(),
  startedAt: iso(e.startedAt),
  stoppedAt: iso(e.stoppedAt),
});
const resultJson = (r: ExperimentResult) => r;

/** A/B tests, managed with `experiments:read` / `experiments:write` (registered under the admin prefix). */
export async function experimentAdminRoutes(app: FastifyInstance, deps: { experiments: ExperimentsService; auth: Auth }): Promise<void> {
  installScopeGuard(app, deps.auth);
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  const tags = ['management: experiments'];
  const security = [{ apiKey: [] }];
  const errors = { 400: problem, 401: problem, 403: problem };
  const params = Type.Object({ key: ExperimentKey });

  r.post('/experiments', {
    config: { scope: 'experiments:write' },
    schema: {
      tags,
      security,
      operationId: 'createExperiment',
      summary: 'Define an A/B test (a draft until started)',
      description:
        'One variant must be `control` (today\'s behaviour). `metric`: `passkey_created` (the exposed user registers a passkey within the window) or `passkey_sign_in` (signs in with a passkey within it). The plan (`baselineRate`, `minimumDetectableEffect`, absolute) sets the sample size each arm needs before a verdict.',
      body: Type.Object(
        {
          key: ExperimentKey,
          feature: Type.Unsafe<(typeof EXPERIMENT_FEATURES)[number]>({ type: 'string', enum: [...EXPERIMENT_FEATURES] }),
          description: Type.Optional(Type.String({ maxLength: 500 })),
          variants: Type.Array(
            Type.Object({ key: Slug(32), weight: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })), description: Type.Optional(Type.String({ maxLength: 200 })) }, { additionalProperties: false }),
            { minItems: 2, maxItems: 5 },
          ),
          metric: Type.Unsafe<keyof typeof CONVERSION_METRICS>({ type: 'string', enum: Object.keys(CONVERSION_METRICS) }),
          conversionWindowHours: Type.Optional(Type.Integer({ minimum: 1, maximum: 720, description: 'Default 24' })),
          trafficPercent: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, description: 'Share of users enrolled at all (default 100)' })),
          baselineRate: Type.Optional(Type.Number({ exclusiveMinimum: 0, exclusiveMaximum: 1, description: "The control's expected rate (default 0.1)" })),
          minimumDetectableEffect: Type.Optional(Type.Number({ exclusiveMinimum: 0, exclusiveMaximum: 1, description: 'Smallest absolute lift worth detecting (default 0.05)' })),
        },
        { additionalProperties: false },
      ),
      response: { 201: Type.Object({ experiment: ExperimentSchema }), ...errors, 409: problem },
    },
  }, async (request, reply) => {
    const experiment = await deps.experiments.create(request.body, requestContext(request));
    return reply.code(201).send({ experiment: experimentJson(experiment) });
  });

  r.get('/experiments', {
    config: { scope: 'experiments:read' },
    schema: { tags, security, operationId: 'listExperiments', summary: 'Every experiment, newest first', response: { 200: Type.Object({ experiments: Type.Array(ExperimentSchema) }), ...errors } },
  }, async () => ({ experiments: (await deps.experiments.list()).map(experimentJson) }));

  r.get('/experiments/:key', {
    config: { scope: 'experiments:read' },
    schema: {
      tags,
      security,
      operationId: 'getExperiment',
      summary: 'An experiment and its results so far',
      description: 'Exposures, conversions, each rate with its 95 % Wilson interval, each variant against the control (Newcombe interval, p-value), and a verdict only once every arm has its planned sample.',
      params,
      response: { 200: Type.Object({ experiment: ExperimentSchema, result: ResultSchema }), ...errors, 404: problem },
    },
  }, async (request) => {
    const { experiment, result } = await deps.experiments.report(request.params.key);
    return { experiment: experimentJson(experiment), result: resultJson(result) };
  });

  r.post('/experiments/:key/start', {
    config: { scope: 'experiments:write' },
    schema: { tags, security, operationId: 'startExperiment', summary: 'Start assigning users (one running experiment per feature)', params, response: { 200: Type.Object({ experiment: ExperimentSchema }), ...errors, 404: problem, 409: problem } },
  }, async (request) => ({ experiment: experimentJson(await deps.experiments.start(request.params.key, requestContext(request))) }));

  r.post('/experiments/:key/stop', {
    config: { scope: 'experiments:write' },
    schema: {
      tags,
      security,
      operationId: 'stopExperiment',
      summary: 'Stop, and roll out the winner to everybody',
      description: 'With `winner`, every user gets that variant from now on (every node within seconds); with `winner: null` everybody is back to the default. Exposures stop; the results stay, counted up to the stop.',
      params,
      body: Type.Object({ winner: Type.Union([Slug(32), Type.Null()]) }, { additionalProperties: false }),
      response: { 200: Type.Object({ experiment: ExperimentSchema }), ...errors, 404: problem, 409: problem },
    },
  }, async (request) => ({ experiment: experimentJson(await deps.experiments.stop(request.params.key, request.body.winner, requestContext(request))) }));
}

/** The exposure report of the web components: a signed-in user was shown a variant. */
export async function experimentRoutes(app: FastifyInstance, deps: { experiments: ExperimentsService; auth: Auth; limiter: RateLimiter }): Promise<void> {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  const AssignmentSchema = Type.Object({
    experiment: Type.String(),
    variant: Type.String(),
    concluded: Type.Boolean({ description: 'The experiment stopped and rolled this variant out: show it, report nothing' }),
  });
  r.get('/api/v1/experiments/assignments', {
    schema: {
      operationId: 'listExperimentAssignments',
      security: SIGNED_IN,
      tags: ['experiments'],
      summary: "The signed-in user's arm of each feature under test",
      description: 'A feature is missing when no experiment covers it (or the user is outside its traffic share): show the default. The arm is fixed per user (a keyed hash), the same on every device.',
      response: { 200: Type.Object({ assignments: Type.Record(Type.String(), AssignmentSchema) }), 401: problem, 403: problem },
    },
  }, async (request, reply) => {
    const found = await deps.auth.requireSession(request);
    const assignments: Record<string, Assignment> = {};
    for (const feature of EXPERIMENT_FEATURES) {
      const assignment = await deps.experiments.variantFor(feature, found.user.id);
      if (assignment) assignments[feature] = assignment;
    }
    return reply.header('cache-control', 'no-store').send({ assignments });
  });

  r.post('/api/v1/experiments/:key/exposures', {
    schema: {
      operationId: 'reportExperimentExposure',
      security: SIGNED_IN,
      tags: ['experiments'],
      summary: 'Report that the signed-in user was shown a variant',
      description:
        'Send it when the variant is actually on screen, not when it was decided: only shown variants are counted. The server checks the variant is the one it assigns this user (409 variant_mismatch otherwise); the first report counts, repeats are harmless. Rate-limited per IP.',
      params: Type.Object({ key: ExperimentKey }),
      body: Type.Object({ variant: Slug(32) }, { additionalProperties: false }),
      response: { 204: Type.Null(), 400: problem, 401: problem, 404: problem, 409: problem, 429: problem },
    },
  }, async (request, reply) => {
    await deps.limiter.hit(`experiment-exposure:${request.ip}`);
    const found = await deps.auth.requireSession(request);
    await deps.experiments.expose(request.params.key, found.user.id, request.body.variant);
    return reply.code(204).send(null);
  });
}
