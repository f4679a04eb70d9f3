export { createTelemetryService, type TelemetryService, type CeremonyReport } from './telemetry.service.ts';
export { telemetryRoutes } from './telemetry.routes.ts';
