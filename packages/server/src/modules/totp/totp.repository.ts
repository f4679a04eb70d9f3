import type { Kysely } from 'kysely';
import type { Database } from '../../db/database.ts';
import type { TotpSecretsTable } from './totp.tables.ts';

export function createTotpRepository() {
  return {
    async find(db: Kysely<Database>, userId: string): Promise<TotpSecretsTable | undefined> {
      return db.selectFrom('totp_secrets').selectAll().where('user_id', '=', userId).executeTakeFirst();
    },
    async replace(db: Kysely<Database>, row: TotpSecretsTable): Promise<void> {
      await db.deleteFrom('totp_secrets').where('user_id', '=', row.user_id).execute();
      await db.insertInto('totp_secrets').values(row).execute();
    },
    /** Compare-and-set: true only for the first use of a step later than every earlier one (SEC-40). */
    async useStep(db: Kysely<Database>, userId: string, step: number, confirmAt: number | null): Promise<boolean> {
      const result = await db
        .updateTable('totp_secrets')
        .set(confirmAt === null ? { last_step: step } : { last_step: step, confirmed_at: confirmAt })
        .where('user_id', '=', userId)
        .where((eb) => eb.or([eb('last_step', 'is', null), eb('last_step', '<', step)]))
        .executeTakeFirst();
      return Number(result.numUpdatedRows) === 1;
    },
    /** Rows whose box an older version sealed (a prefix other than the current one), a page at a time. */
    async findSealedBefore(db: Kysely<Database>, currentPrefix: string, afterUserId: string, limit: number): Promise<Pick<TotpSecretsTable, 'user_id' | 'secret_enc'>[]> {
      return db
        .selectFrom('totp_secrets')
        .select(['user_id', 'secret_enc'])
        .where((eb) => eb.not(eb('secret_enc', 'like', `${currentPrefix}%`)))
        .where('user_id', '>', afterUserId)
        .orderBy('user_id')
        .limit(limit)
        .execute();
    },
    /** Compare-and-set: replaces the box only if nobody changed it meanwhile (another node, a new enrolment). */
    async reseal(db: Kysely<Database>, userId: string, from: string, to: string): Promise<boolean> {
      const result = await db.updateTable('totp_secrets').set({ secret_enc: to }).where('user_id', '=', userId).where('secret_enc', '=', from).executeTakeFirst();
      return Number(result.numUpdatedRows) === 1;
    },
    async remove(db: Kysely<Database>, userId: string): Promise<boolean> {
      const result = await db.deleteFrom('totp_secrets').where('user_id', '=', userId).executeTakeFirst();
      return Number(result.numDeletedRows) === 1;
    },
  };
}
