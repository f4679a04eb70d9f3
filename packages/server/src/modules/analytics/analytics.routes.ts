import { Readable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { requestContext, type Auth } from '../../http/auth.ts';
import { installScopeGuard } from '../../http/scopes.ts';
import { EVENT_COLUMNS, ROLLUP_COLUMNS, serialize } from './analytics.export.ts';
import type { AnalyticsService } from './analytics.service.ts';

const problem = { $ref: 'Problem#' };
const security = [{ apiKey: [] }];
const tags = ['management: analytics'];
const Rate = Type.Union([Type.Number({ minimum: 0, maximum: 1 }), Type.Null()], { description: 'Share 0..1; null when its denominator is 0' });
const Ms = Type.Union([Type.Integer(), Type.Null()]);
const Day = Type.String({ pattern: '^[0-9]{4}-[0-9]{2}-[0-9]{2}$', description: 'UTC day' });
const By = Type.Union([Type.Literal('os'), Type.Literal('browser'), Type.Literal('device'), Type.Literal('provider')], {
  description: 'Also group by this dimension (device type, OS family, browser family, passkey provider)',
});
const RangeQuery = Type.Object(
  {
    from: Type.Optional(Type.String({ maxLength: 10, description: 'First UTC day (YYYY-MM-DD); default 29 days before `to`' })),
    to: Type.Optional(Type.String({ maxLength: 10, description: 'Last UTC day, inclusive; default today' })),
  },
  { additionalProperties: false },
);
const GroupedQuery = Type.Object({ ...RangeQuery.properties, by: Type.Optional(By) }, { additionalProperties: false });
const ExportQuery = Type.Object(
  { ...RangeQuery.properties, format: Type.Optional(Type.Union([Type.Literal('csv'), Type.Literal('ndjson')], { description: 'Default csv' })) },
  { additionalProperties: false },
);

const KpisSchema = Type.Object(
  {
    adoption: Type.Object({ offered: Type.Integer(), created: Type.Integer(), rate: Rate, offeredToIncapable: Type.Integer() }),
    login: Type.Object({
      prompts: Type.Integer(),
      succeeded: Type.Integer(),
      aborted: Type.Integer(),
      failed: Type.Integer(),
      rate: Rate,
      medianMs: Ms,
      p90Ms: Ms,
    }),
    activeUsers: Type.Integer(),
    activeUsersWithPasskey: Type.Integer(),
    passkeyUserShare: Rate,
    signIns: Type.Object({
      total: Type.Integer(),
      passkey: Type.Integer(),
      emailCode: Type.Integer(),
      password: Type.Integer(),
      failed: Type.Integer(),
      passkeyShare: Rate,
      successRate: Rate,
    }),
    fallback: Type.Object({ signIns: Type.Integer(), share: Rate, emailCodesSent: Type.Integer() }),
    recovery: Type.Object({ started: Type.Integer(), completed: Type.Integer() }),
    passkeysCreated: Type.Integer(),
  },
  { $id: 'AnalyticsKpis' },
);
const DaySeries = Type.Array(Type.Object({ day: Day, kpis: Type.Ref('AnalyticsKpis') }));
const FunnelSchema = Type.Object(
  {
    ceremony: Type.String(),
    offered: Type.Integer(),
    started: Type.Integer(),
    completed: Type.Integer(),
    cancelled: Type.Integer(),
    timedOut: Type.Integer(),
    failed: Type.Integer(),
    completionRate: Rate,
    dropOff: Type.Array(Type.Object({ outcome: Type.String(), errorName: Type.Union([Type.String(), Type.Null()]), count: Type.Integer() })),
  },
  { $id: 'AnalyticsFunnel' },
);
const TrendSchema = Type.Object({ intercept: Type.Number(), slope: Type.Number(), points: Type.Integer() });

const exportDescription = (columns: readonly string[]) =>
  `Streamed; CSV (header line, RFC 4180) or NDJSON (one object per line). Columns, in this order (stable; README "BI export"): ${columns.map((c) => `\`${c}\``).join(', ')}.`;

/**
 * Management routes (under /api/admin/v1) of the adoption analytics: KPIs, funnels and the savings
 * projection read the daily rollups; the BI export streams the rollups or the pseudonymised events.
 */
export async function analyticsRoutes(app: FastifyInstance, deps: { analytics: AnalyticsService; auth: Auth }): Promise<void> {
  installScopeGuard(app, deps.auth.authorize);
  app.addSchema(KpisSchema);
  app.addSchema(FunnelSchema);
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  const { analytics } = deps;

  r.get('/analytics/kpis', {
    config: { scope: 'analytics:read' },
    schema: {
      tags,
      security,
      operationId: 'getAnalyticsKpis',
      summary: 'Passkey adoption and login rates and the other KPIs, per day and per dimension',
      description:
        'From the daily rollups (README "Adoption analytics" defines each KPI). `total` is the whole range, `days` each day; with `by`, `groups` has the same per value of the dimension. Active users summed over days are user-days.',
      querystring: GroupedQuery,
      response: {
        200: Type.Object({
          from: Day,
          to: Day,
          by: Type.Union([Type.String(), Type.Null()]),
          total: Type.Ref('AnalyticsKpis'),
          days: DaySeries,
          groups: Type.Array(Type.Object({ value: Type.String(), total: Type.Ref('AnalyticsKpis'), days: DaySeries })),
        }),
        400: problem,
        401: problem,
        403: problem,
      },
    },
  }, async (request) => analytics.kpis(analytics.range(request.query.from, request.query.to), request.query.by));

  r.get('/analytics/funnels', {
    config: { scope: 'analytics:read' },
    schema: {
      tags,
      security,
      operationId: 'getAnalyticsFunnels',
      summary: 'Funnels per ceremony: offered → started → completed / cancelled / timed out / failed, with drop-off by error',
      querystring: GroupedQuery,
      response: {
        200: Type.Object({
          from: Day,
          to: Day,
          by: Type.Union([Type.String(), Type.Null()]),
          funnels: Type.Array(Type.Ref('AnalyticsFunnel')),
          groups: Type.Array(Type.Object({ value: Type.String(), funnels: Type.Array(Type.Ref('AnalyticsFunnel')) })),
        }),
        400: problem,
        401: problem,
        403: problem,
      },
    },
  }, async (request) => analytics.funnels(analytics.range(request.query.from, request.query.to), request.query.by));

  r.get('/analytics/savings', {
    config: { scope: 'analytics:read' },
    schema: {
      tags,
      security,
      operationId: 'getAnalyticsSavings',
      summary: 'Projected one-time codes and password resets avoided over 12, 24 and 36 months',
      description: 'From the 30 days ending `to` (default today): the trend of the adoption and login rates and the configured costs (LATCHKEY_ANALYTICS_*). README "Savings model".',
      querystring: Type.Object({ to: RangeQuery.properties.to }, { additionalProperties: false }),
      response: {
        200: Type.Object({
          from: Day,
          to: Day,
          inputs: Type.Object({ signIns: Type.Integer(), passkeyUserShare: Type.Number(), codeShare: Type.Number(), adoption: TrendSchema, login: TrendSchema }),
          assumptions: Type.Object({
            currency: Type.String(),
            smsCost: Type.Number(),
            emailCost: Type.Number(),
            passwordResetCost: Type.Number(),
            smsShare: Type.Number(),
            passwordResetRate: Type.Number(),
            offerReach: Type.Number(),
          }),
          horizons: Type.Array(
            Type.Object({
              months: Type.Integer(),
              passkeySignIns: Type.Integer(),
              smsAvoided: Type.Integer(),
              emailsAvoided: Type.Integer(),
              passwordResetsAvoided: Type.Integer(),
              passkeyUserShare: Type.Number(),
              cost: Type.Object({ sms: Type.Number(), email: Type.Number(), passwordResets: Type.Number(), total: Type.Number(), currency: Type.String() }),
            }),
          ),
        }),
        400: problem,
        401: problem,
        403: problem,
      },
    },
  }, async (request) => analytics.savings(request.query.to));

  const exported = { 200: { description: 'The rows, streamed', content: { 'text/csv': { schema: { type: 'string' } }, 'application/x-ndjson': { schema: { type: 'string' } } } } };

  const exports = [
    { kind: 'rollups', operationId: 'exportAnalyticsRollups', summary: 'The daily rollups for BI (CSV or NDJSON)', columns: ROLLUP_COLUMNS, extra: '' },
    {
      kind: 'events',
      operationId: 'exportAnalyticsEvents',
      summary: 'The pseudonymised event stream for BI (CSV or NDJSON)',
      columns: EVENT_COLUMNS,
      extra: ' User ids are replaced by an HMAC pseudonym (its own server key); no IP addresses, user agents, usernames or e-mail addresses.',
    },
  ] as const;
  for (const e of exports) {
    r.get(`/analytics/export/${e.kind}`, {
      config: { scope: 'analytics:export' },
      schema: {
        tags,
        security,
        operationId: e.operationId,
        summary: e.summary,
        description: `${exportDescription(e.columns)}${e.extra} Each export is audited (\`analytics.exported\`).`,
        querystring: ExportQuery,
        response: { ...exported, 400: problem, 401: problem, 403: problem },
      },
    }, async (request, reply) => {
      const range = analytics.range(request.query.from, request.query.to);
      const format = request.query.format ?? 'csv';
      await analytics.recordExport(requestContext(request), e.kind, range, format);
      const rows = e.kind === 'rollups' ? serialize(analytics.exportRollups(range), ROLLUP_COLUMNS, format) : serialize(analytics.exportEvents(range), EVENT_COLUMNS, format);
      return reply
        .type(format === 'csv' ? 'text/csv; charset=utf-8' : 'application/x-ndjson')
        .header('content-disposition', `attachment; filename="latchkey-${e.kind}-${range.from}-${range.to}.${format}"`)
        .send(Readable.from(rows));
    });
  }
}
