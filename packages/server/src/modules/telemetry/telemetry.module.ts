export { createTelemetryService, type TelemetryService } from './telemetry.service.ts';
export type { CeremonyReport } from '../../contract/schemas.ts';
export { telemetryRoutes } from './telemetry.routes.ts';
