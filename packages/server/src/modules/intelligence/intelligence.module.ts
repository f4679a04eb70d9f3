import type { Kysely } from 'kysely';
import type { Database } from '../../db/database.ts';
import { createIntelligenceRepository } from './intelligence.repository.ts';

export { createIntelligenceService, type IntelligenceService, type VariantFor, type DecisionsWithVariant } from './intelligence.service.ts';
export { REASON_CODES, type ReasonCode } from './intelligence.rules.ts';
export { intelligenceRoutes } from './intelligence.routes.ts';

/** Devices seen lately, for rollout previews (the rollout module gets this, not the repository). */
export function createDeviceHistory(db: Kysely<Database>) {
  const repository = createIntelligenceRepository();
  return { recentDevices: (since: number, limit: number) => repository.recentDevices(db, since, limit) };
}
