import type { Kysely } from 'kysely';
import type { Database } from '../../db/database.ts';
import type { AppendTokensTable } from './append-tokens.tables.ts';

/** Append tokens in storage: every write that decides something is one conditional statement. */
export function createAppendTokensRepository() {
  return {
    async insert(db: Kysely<Database>, row: AppendTokensTable): Promise<void> {
      await db.insertInto('append_tokens').values(row).execute();
    },

    /**
     * Binds a live token to a new registration challenge, in one conditional UPDATE: a second
     * ceremony started with the same token takes the binding over, and the first one can no
     * longer finish. Undefined for an unknown, used or expired token.
     */
    async bindChallenge(db: Kysely<Database>, input: { tokenHash: string; challengeHash: string; now: number }): Promise<{ id: string; userId: string } | undefined> {
      const row = await db
        .updateTable('append_tokens')
        .set({ challenge_hash: input.challengeHash })
        .where('token_hash', '=', input.tokenHash)
        .where('used_at', 'is', null)
        .where('expires_at', '>', input.now)
        .returning(['id', 'user_id'])
        .executeTakeFirst();
      return row && { id: row.id, userId: row.user_id };
    },

    /** Uses the token for the ceremony it is bound to: true for exactly one caller, while it is live. */
    async consume(db: Kysely<Database>, input: { id: string; challengeHash: string; now: number }): Promise<boolean> {
      const result = await db
        .updateTable('append_tokens')
        .set({ used_at: input.now })
        .where('id', '=', input.id)
        .where('challenge_hash', '=', input.challengeHash)
        .where('used_at', 'is', null)
        .where('expires_at', '>', input.now)
        .executeTakeFirst();
      return Number(result.numUpdatedRows) === 1;
    },

    /** Tokens an hour past their expiry, used or not: nothing can be done with them any more. */
    async deleteExpired(db: Kysely<Database>, before: number): Promise<number> {
      const result = await db.deleteFrom('append_tokens').where('expires_at', '<=', before).executeTakeFirst();
      return Number(result.numDeletedRows);
    },
  };
}
