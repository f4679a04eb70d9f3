import type { Kysely } from 'kysely';
import type { Database } from '../../db/database.ts';
import { isRolloutFeature, type Platform, type RolloutRule } from './rollout.rules.ts';
import type { RolloutRulesTable } from './rollout.tables.ts';

const list = (json: string): string[] => {
  const parsed = JSON.parse(json) as unknown;
  return Array.isArray(parsed) ? parsed.filter((v): v is string => typeof v === 'string') : [];
};

function toRule(row: RolloutRulesTable): RolloutRule | undefined {
  if (!isRolloutFeature(row.feature)) return undefined;
  return {
    feature: row.feature,
    percentage: Number(row.percentage),
    bucketBy: row.bucket_by === 'device' ? 'device' : 'user',
    operatingSystems: list(row.operating_systems),
    browsers: list(row.browsers),
    platforms: list(row.platforms) as Platform[],
    segments: list(row.segments),
    allow: list(row.allow),
    deny: list(row.deny),
    killSwitch: Number(row.kill_switch) === 1,
    updatedAt: Number(row.updated_at),
    updatedBy: row.updated_by,
  };
}

/** Rules and the version row every node polls. */
export function createRolloutRepository() {
  return {
    async version(db: Kysely<Database>): Promise<number> {
      const row = await db.selectFrom('rollout_state').select('version').where('id', '=', 1).executeTakeFirst();
      return Number(row?.version ?? 0);
    },

    /** The rules and the version they belong to, read in one transaction so they agree. */
    async snapshot(db: Kysely<Database>): Promise<{ version: number; rules: RolloutRule[] }> {
      return db.transaction().execute(async (trx) => {
        const version = await this.version(trx);
        const rows = await trx.selectFrom('rollout_rules').selectAll().execute();
        return { version, rules: rows.map(toRule).filter((r): r is RolloutRule => r !== undefined) };
      });
    },

    async find(db: Kysely<Database>, feature: string): Promise<RolloutRule | undefined> {
      const row = await db.selectFrom('rollout_rules').selectAll().where('feature', '=', feature).executeTakeFirst();
      return row ? toRule(row) : undefined;
    },

    /** Inserts or replaces the rule and bumps the version, in the caller's transaction. */
    async put(db: Kysely<Database>, rule: RolloutRule): Promise<void> {
      const row: RolloutRulesTable = {
        feature: rule.feature,
        percentage: rule.percentage,
        bucket_by: rule.bucketBy,
        operating_systems: JSON.stringify(rule.operatingSystems),
        browsers: JSON.stringify(rule.browsers),
        platforms: JSON.stringify(rule.platforms),
        segments: JSON.stringify(rule.segments),
        allow: JSON.stringify(rule.allow),
        deny: JSON.stringify(rule.deny),
        kill_switch: rule.killSwitch ? 1 : 0,
        updated_at: rule.updatedAt,
        updated_by: rule.updatedBy,
      };
      const { feature: _feature, ...changes } = row;
      await db.insertInto('rollout_rules').values(row).onConflict((oc) => oc.column('feature').doUpdateSet(changes)).execute();
      await this.bump(db, rule.updatedAt);
    },

    /** True when there was a rule to delete. */
    async delete(db: Kysely<Database>, feature: string, now: number): Promise<boolean> {
      const result = await db.deleteFrom('rollout_rules').where('feature', '=', feature).executeTakeFirst();
      if (Number(result.numDeletedRows) !== 1) return false;
      await this.bump(db, now);
      return true;
    },

    async bump(db: Kysely<Database>, now: number): Promise<void> {
      await db
        .updateTable('rollout_state')
        .set((eb) => ({ version: eb('version', '+', 1), updated_at: now }))
        .where('id', '=', 1)
        .execute();
    },
  };
}

export type RolloutRepository = ReturnType<typeof createRolloutRepository>;
