import type { Kysely } from 'kysely';
import { Migrator, type Migration, type MigrationProvider, type MigrationResultSet } from 'kysely/migration';
import * as core from './migrations/2026_11_22_0001_core.ts';
import * as fallbacks from './migrations/2026_12_02_0100_fallbacks.ts';
import * as passwords from './migrations/2026_12_02_0200_passwords.ts';
import * as totp from './migrations/2026_12_02_0300_totp.ts';
import * as consumedChallenges from './migrations/2026_12_02_0400_consumed_challenges.ts';
import * as mgmt from './migrations/2026_12_03_0100_mgmt.ts';
import * as auditRetention from './migrations/2026_12_03_infra_audit_retention.ts';
import * as appendTokens from './migrations/2026_12_03_passkey_append.ts';
import * as sessionSecondFactor from './migrations/2026_12_03_0100_sessions.ts';
import * as sealChain from './migrations/2026_12_03_seal_chain.ts';
import * as usernameSkeletonConformance from './migrations/2026_12_03_0100_username_skeleton_conformance.ts';
import * as tokens from './migrations/2026_12_03_tokens.ts';
import * as analytics from './migrations/2026_12_04_analytics.ts';
import * as consoleSearch from './migrations/2026_12_04_console_search.ts';
import * as experiments from './migrations/2026_12_04_experiments.ts';
import * as rollout from './migrations/2026_12_04_rollout.ts';
import * as siemCursors from './migrations/2026_12_04_siem_cursors.ts';
import * as staff from './migrations/2026_12_04_staff.ts';
import * as webhooks from './migrations/2026_12_04_webhooks.ts';
import * as webhookSigninFailed from './migrations/2026_12_05_webhook_signin_failed.ts';
import * as webhooksFromChain from './migrations/2026_12_05_webhooks_from_chain.ts';
import * as webhookDeliveryIndexes from './migrations/2026_12_06_webhook_delivery_indexes.ts';
import * as webhookSigninSucceeded from './migrations/2026_12_07_webhook_signin_succeeded.ts';

/** Explicit import map: the order is the file names' order, and nothing is found by scanning folders. */
const MIGRATIONS: Record<string, Migration> = {
  '2026_11_22_0001_core': core,
  '2026_12_02_0100_fallbacks': fallbacks,
  '2026_12_02_0200_passwords': passwords,
  '2026_12_02_0300_totp': totp,
  '2026_12_02_0400_consumed_challenges': consumedChallenges,
  '2026_12_03_0100_mgmt': mgmt,
  '2026_12_03_0100_sessions': sessionSecondFactor,
  '2026_12_03_0100_username_skeleton_conformance': usernameSkeletonConformance,
  '2026_12_03_infra_audit_retention': auditRetention,
  '2026_12_03_passkey_append': appendTokens,
  '2026_12_03_seal_chain': sealChain,
  '2026_12_03_tokens': tokens,
  '2026_12_04_analytics': analytics,
  '2026_12_04_console_search': consoleSearch,
  '2026_12_04_experiments': experiments,
  '2026_12_04_rollout': rollout,
  '2026_12_04_siem_cursors': siemCursors,
  '2026_12_04_staff': staff,
  '2026_12_04_webhooks': webhooks,
  '2026_12_05_webhook_signin_failed': webhookSigninFailed,
  '2026_12_05_webhooks_from_chain': webhooksFromChain,
  '2026_12_06_webhook_delivery_indexes': webhookDeliveryIndexes,
  '2026_12_07_webhook_signin_succeeded': webhookSigninSucceeded,
};

const provider: MigrationProvider = { getMigrations: async () => MIGRATIONS };

// biome-ignore lint/suspicious/noExplicitAny: migrations work on any schema
export function createMigrator(db: Kysely<any>): Migrator {
  return new Migrator({ db, provider, migrationTableName: 'latchkey_migrations', migrationLockTableName: 'latchkey_migrations_lock' });
}

/** Brings the schema up to date; throws with the failing migration's name. */
// biome-ignore lint/suspicious/noExplicitAny: migrations work on any schema
export async function migrateToLatest(db: Kysely<any>): Promise<MigrationResultSet> {
  const result = await createMigrator(db).migrateToLatest();
  if (result.error) {
    const failed = result.results?.find((r) => r.status === 'Error')?.migrationName ?? 'unknown';
    throw new Error(`database migration ${failed} failed: ${(result.error as Error).message ?? result.error}`, { cause: result.error });
  }
  return result;
}
