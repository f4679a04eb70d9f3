/**
 * Adoption analytics (issue 14 item 4–5): daily rollups folded incrementally from the sealed
 * audit chain by one worker at a time, the KPIs, funnels and savings projection read from them,
 * and the BI export.
 */
export { createAnalyticsRepository, type AnalyticsRepository } from './analytics.repository.ts';
export { createRollupWorker, type RollupWorker } from './analytics.worker.ts';
export { createAnalyticsService, type AnalyticsService } from './analytics.service.ts';
export { AnalyticsErrors } from './analytics.errors.ts';
export { EVENT_COLUMNS, ROLLUP_COLUMNS } from './analytics.export.ts';
