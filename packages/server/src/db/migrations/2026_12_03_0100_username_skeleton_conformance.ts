import type { Kysely } from 'kysely';
import { usernameSkeleton } from '../../modules/accounts/usernames.ts';

const PAGE = 1000;

/**
 * users.username_skeleton: the look-alike key of each username (UTS #39 skeleton, see
 * modules/accounts/usernames.ts), unique, so that sign-up refuses "рау" (Cyrillic) beside "pay"
 * in one indexed lookup and a concurrent look-alike sign-up loses at the insert.
 *
 * Backfill: existing look-alike pairs must not fail the migration. Of accounts with the same
 * skeleton, the oldest (created_at, then id) gets it and the others keep NULL (a unique index
 * allows many NULLs on both databases); new look-alikes of any of them are still refused, since
 * they match the oldest one's key. `SELECT username FROM users WHERE username_skeleton IS NULL`
 * lists the accounts that already looked like another when this ran.
 * The skeleton depends on data/confusables.txt: a new version of that file needs a migration
 * like this one to recompute the column.
 */
// biome-ignore lint/suspicious/noExplicitAny: migrations are frozen in time and typed Kysely<any>
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('users').addColumn('username_skeleton', 'text').execute();

  const holders = new Map<string, { id: string; createdAt: number }>();
  let after = '';
  for (;;) {
    const rows: { id: string; username: string; created_at: number | string }[] = await db
      .selectFrom('users')
      .select(['id', 'username', 'created_at'])
      .where('id', '>', after)
      .orderBy('id')
      .limit(PAGE)
      .execute();
    for (const row of rows) {
      const skeleton = usernameSkeleton(row.username);
      const createdAt = Number(row.created_at);
      const holder = holders.get(skeleton);
      if (!holder || createdAt < holder.createdAt || (createdAt === holder.createdAt && row.id < holder.id)) holders.set(skeleton, { id: row.id, createdAt });
    }
    if (rows.length < PAGE) break;
    after = (rows.at(-1) as { id: string }).id;
  }
  for (const [skeleton, holder] of holders) {
    await db.updateTable('users').set({ username_skeleton: skeleton }).where('id', '=', holder.id).execute();
  }

  await db.schema.createIndex('users_username_skeleton_unique').on('users').column('username_skeleton').unique().execute();
}

// biome-ignore lint/suspicious/noExplicitAny: see up()
export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('users_username_skeleton_unique').ifExists().execute();
  await db.schema.alterTable('users').dropColumn('username_skeleton').execute();
}
