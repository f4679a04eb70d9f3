import { sql, type Kysely } from 'kysely';
import type { Database } from '../../db/database.ts';
import { preparedQuery, type BoundStatement } from '../../db/prepared-query.ts';
import type { EmailCodesTable, FailureCountersTable } from './fallback.tables.ts';

// Runs in every passkey sign-in's batch; compiled once (db/prepared-query.ts).
const clearCountersOfUser = preparedQuery<{ userId: string; totpKey: string; recoveryKey: string }, never>((db, p) =>
  db.deleteFrom('failure_counters').where((eb) =>
    eb.or([
      eb('key', 'in', [p('totpKey'), p('recoveryKey')]),
      eb('key', 'in', eb.selectFrom('users').select(sql<string>`'pwd:' || username_key`.as('k')).where('id', '=', p('userId'))),
      eb('key', 'in', eb.selectFrom('users').select(sql<string>`'otp:' || email_key`.as('k')).where('id', '=', p('userId')).where('email_key', 'is not', null)),
    ]),
  ),
);

export function createFallbackRepository() {
  return {
    /** When this client (binding) last asked for a code to this address: the resend cooldown is per client. */
    async latestCodeTimeForClient(db: Kysely<Database>, emailKey: string, bindingHash: string): Promise<number | undefined> {
      const row = await db
        .selectFrom('email_codes')
        .select('created_at')
        .where('binding_hash', '=', bindingHash)
        .where('email_key', '=', emailKey)
        .orderBy('created_at', 'desc')
        .limit(1)
        .executeTakeFirst();
      return row ? Number(row.created_at) : undefined;
    },
    /** A new code supersedes the flow's earlier one of the same purpose. */
    async replaceCode(db: Kysely<Database>, row: EmailCodesTable): Promise<void> {
      await db.deleteFrom('email_codes').where('binding_hash', '=', row.binding_hash).where('purpose', '=', row.purpose).execute();
      await db.insertInto('email_codes').values(row).execute();
    },
    async findCodeForFlow(db: Kysely<Database>, bindingHash: string, purpose: string): Promise<EmailCodesTable | undefined> {
      return db.selectFrom('email_codes').selectAll().where('binding_hash', '=', bindingHash).where('purpose', '=', purpose).orderBy('created_at', 'desc').limit(1).executeTakeFirst();
    },
    /** Compare-and-set: spends one try; undefined when the code has no tries left (or is gone). */
    async spendAttempt(db: Kysely<Database>, id: string, maxAttempts: number): Promise<number | undefined> {
      const row = await db
        .updateTable('email_codes')
        .set({ attempts: sql<number>`attempts + 1` })
        .where('id', '=', id)
        .where('attempts', '<', maxAttempts)
        .returning('attempts')
        .executeTakeFirst();
      return row?.attempts;
    },
    /** Single use: the code is deleted, and only the request that deleted it may use it. */
    async consumeCode(db: Kysely<Database>, id: string): Promise<boolean> {
      const row = await db.deleteFrom('email_codes').where('id', '=', id).returning('id').executeTakeFirst();
      return row !== undefined;
    },
    async deleteExpiredCodes(db: Kysely<Database>, now: number): Promise<void> {
      await db.deleteFrom('email_codes').where('expires_at', '<=', now).execute();
    },

    async replaceRecoveryCodes(db: Kysely<Database>, userId: string, hashes: string[], now: number): Promise<void> {
      await db.deleteFrom('recovery_codes').where('user_id', '=', userId).execute();
      await db.insertInto('recovery_codes').values(hashes.map((code_hash) => ({ user_id: userId, code_hash, created_at: now, used_at: null }))).execute();
    },
    async unusedRecoveryHashes(db: Kysely<Database>, userId: string): Promise<string[]> {
      const rows = await db.selectFrom('recovery_codes').select('code_hash').where('user_id', '=', userId).where('used_at', 'is', null).execute();
      return rows.map((r) => r.code_hash);
    },
    /** Compare-and-set: true for the one request that marks the code used. */
    async useRecoveryCode(db: Kysely<Database>, userId: string, hash: string, now: number): Promise<boolean> {
      const result = await db
        .updateTable('recovery_codes')
        .set({ used_at: now })
        .where('user_id', '=', userId)
        .where('code_hash', '=', hash)
        .where('used_at', 'is', null)
        .executeTakeFirst();
      return Number(result.numUpdatedRows) === 1;
    },

    /** The failure counters `clearCountersOfUser` would clear, for support to see (keys as stored). */
    async countersOfUser(db: Kysely<Database>, userId: string): Promise<FailureCountersTable[]> {
      return db
        .selectFrom('failure_counters')
        .selectAll()
        .where((eb) =>
          eb.or([
            eb('key', 'in', [`totp:${userId}`, `recovery:${userId}`]),
            eb('key', 'in', eb.selectFrom('users').select(sql<string>`'pwd:' || username_key`.as('k')).where('id', '=', userId)),
            eb('key', 'in', eb.selectFrom('users').select(sql<string>`'otp:' || email_key`.as('k')).where('id', '=', userId).where('email_key', 'is not', null)),
          ]),
        )
        .execute();
    },
    async findCounter(db: Kysely<Database>, key: string): Promise<FailureCountersTable | undefined> {
      return db.selectFrom('failure_counters').selectAll().where('key', '=', key).executeTakeFirst();
    },
    async countFailure(db: Kysely<Database>, key: string, now: number): Promise<number> {
      const row = await db
        .insertInto('failure_counters')
        .values({ key, count: 1, last_failure_at: now })
        .onConflict((oc) => oc.column('key').doUpdateSet({ count: sql<number>`failure_counters.count + 1`, last_failure_at: now }))
        .returning('count')
        .executeTakeFirstOrThrow();
      return Number(row.count);
    },
    /** Counts one failure unless the count already reached `limit` (then undefined), in one statement. */
    async countFailureBelow(db: Kysely<Database>, key: string, limit: number, now: number): Promise<number | undefined> {
      const row = await db
        .insertInto('failure_counters')
        .values({ key, count: 1, last_failure_at: now })
        .onConflict((oc) =>
          oc
            .column('key')
            .doUpdateSet({ count: sql<number>`failure_counters.count + 1`, last_failure_at: now })
            .where('failure_counters.count', '<', limit),
        )
        .returning('count')
        .executeTakeFirst();
      return row ? Number(row.count) : undefined;
    },
    /**
     * Counts an attempt before it is checked, as a compare-and-set on the count the caller saw:
     * of several concurrent guesses that saw the same count, only one gets to try (SEC-34).
     */
    async claimAttempt(db: Kysely<Database>, key: string, seenCount: number, now: number): Promise<boolean> {
      if (seenCount === 0) {
        const inserted = await db
          .insertInto('failure_counters')
          .values({ key, count: 1, last_failure_at: now })
          .onConflict((oc) => oc.column('key').doNothing())
          .executeTakeFirst();
        return Number(inserted.numInsertedOrUpdatedRows ?? 0) === 1;
      }
      const updated = await db
        .updateTable('failure_counters')
        .set({ count: sql<number>`count + 1`, last_failure_at: now })
        .where('key', '=', key)
        .where('count', '=', seenCount)
        .executeTakeFirst();
      return Number(updated.numUpdatedRows) === 1;
    },
    /**
     * Every factor's counter of one account in one statement (run after each passkey sign-in,
     * so it must be cheap): the user-id keys and the username and e-mail keys of the users row.
     */
    clearCountersOfUser(userId: string): BoundStatement {
      return clearCountersOfUser.with({ userId, totpKey: `totp:${userId}`, recoveryKey: `recovery:${userId}` });
    },
    /** Support lifts an address's e-mail-code lock: its address-wide and per-client counters. Returns how many went. */
    async clearAddressCounters(db: Kysely<Database>, emailKey: string): Promise<number> {
      const shared = `otp:${emailKey}`;
      const perClient = `${shared}:`;
      const result = await db
        .deleteFrom('failure_counters')
        .where((eb) => eb.or([eb('key', '=', shared), eb(sql<string>`substr(key, 1, ${perClient.length})`, '=', perClient)]))
        .executeTakeFirst();
      return Number(result.numDeletedRows);
    },
    /**
     * Every failure counter that bears on one account: its password (by username), e-mail codes
     * (the address-wide counter and each client's), TOTP and recovery codes.
     */
    async liftableCountersOfUser(db: Kysely<Database>, userId: string): Promise<{ key: string; count: number; lastFailureAt: number }[]> {
      const user = await db.selectFrom('users').select(['username_key', 'email_key']).where('id', '=', userId).executeTakeFirst();
      if (!user) return [];
      const exact = [`totp:${userId}`, `recovery:${userId}`, `pwd:${user.username_key}`];
      const emailShared = user.email_key ? `otp:${user.email_key}` : undefined;
      const rows = await db
        .selectFrom('failure_counters')
        .select(['key', 'count', 'last_failure_at'])
        .where((eb) =>
          eb.or([
            eb('key', 'in', emailShared ? [...exact, emailShared] : exact),
            ...(emailShared ? [eb(sql<string>`substr(key, 1, ${emailShared.length + 1})`, '=', `${emailShared}:`)] : []),
          ]),
        )
        .execute();
      return rows.map((r) => ({ key: r.key, count: Number(r.count), lastFailureAt: Number(r.last_failure_at) }));
    },
    async deleteCounters(db: Kysely<Database>, keys: readonly string[]): Promise<void> {
      if (keys.length > 0) await db.deleteFrom('failure_counters').where('key', 'in', keys).execute();
    },
    async clearCounter(db: Kysely<Database>, key: string): Promise<void> {
      await db.deleteFrom('failure_counters').where('key', '=', key).execute();
    },
  };
}

export type FallbackRepository = ReturnType<typeof createFallbackRepository>;
