export { createMetrics, type Metrics, type CeremonyType } from './metrics.service.ts';
export { installMetricsEndpoint, installMetricsHooks, type MetricsExposure } from './metrics.routes.ts';
