import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { Auth } from '../../http/auth.ts';
import { requestContext } from '../../http/auth.ts';
import type { RateLimiter } from '../../http/rate-limit.ts';
import { CeremonyReportBody } from '../../contract/schemas.ts';
import type { TelemetryService } from './telemetry.service.ts';
import { OPTIONAL_SESSION } from '../../http/openapi.ts';

export interface TelemetryRouteDeps {
  telemetry: TelemetryService;
  auth: Auth;
  limiter: RateLimiter;
}

export async function telemetryRoutes(app: FastifyInstance, deps: TelemetryRouteDeps): Promise<void> {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  r.post('/api/v1/telemetry/ceremonies', {
    schema: {
      operationId: 'reportCeremony',
      security: OPTIONAL_SESSION,
      tags: ['telemetry'],
      summary: 'Report the client-side outcome of a WebAuthn ceremony',
      description: 'Sent by the web components (offered, started, completed, cancelled, timed_out, error). Recorded as a `ceremony.reported` audit event with the parsed user agent and, when signed in, the user id. Rate-limited per IP.',
      body: CeremonyReportBody,
      response: { 204: Type.Null(), 400: { $ref: 'Problem#' }, 429: { $ref: 'Problem#' } },
    },
  }, async (request, reply) => {
    await deps.limiter.hit(`telemetry:${request.ip}`);
    const session = await deps.auth.optionalSession(request);
    await deps.telemetry.recordCeremony(requestContext(request), request.body as never, session?.user.id ?? null);
    return reply.code(204).send(null);
  });
}
