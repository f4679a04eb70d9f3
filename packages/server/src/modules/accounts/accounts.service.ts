import type { Kysely } from 'kysely';
import type { Database } from '../../db/database.ts';
import type { Clock } from '../../platform/clock.ts';
import { hmacSha256, toBase64Url } from '../../platform/encoding.ts';
import type { Random } from '../../platform/random.ts';
import { AccountErrors } from './accounts.errors.ts';
import { createAccountsRepository, type User } from './accounts.repository.ts';
import { mixedScriptProblem } from './mixed-script.ts';
import { isEmailShaped, normalizeDisplayName, normalizeUsername, usernameSkeleton } from './usernames.ts';

export interface NewAccount {
  username: string;
  usernameKey: string;
  displayName: string;
}

export function createAccountsService(deps: {
  db: Kysely<Database>;
  clock: Clock;
  random: Random;
  rejectEmailUsernames: boolean;
  /** The `lookup` subkey (platform/keys.ts): tags usernames that cannot exist; never another key. */
  lookupKey: Uint8Array;
}) {
  const repository = createAccountsRepository();
  const usernameKey = (username: string): string | undefined => {
    const name = normalizeUsername(username);
    return name.ok ? name.key : undefined;
  };
  /** Throws username_taken if the name exists (case, width and NFC folded), username_confusable if one looks like it (UTS #39). */
  async function assertUsernameAvailable(account: NewAccount, db: Kysely<Database> = deps.db): Promise<void> {
    const conflict = await repository.usernameConflict(db, account.usernameKey, usernameSkeleton(account.username));
    if (conflict === 'taken') throw AccountErrors.username_taken();
    if (conflict === 'confusable') throw AccountErrors.username_confusable();
  }
  return {
    /** Validates sign-up input; throws username_invalid / display_name_invalid naming the rule. */
    prepareNewAccount(input: { username: string; displayName?: string | undefined }): NewAccount {
      const name = normalizeUsername(input.username);
      if (!name.ok) throw AccountErrors.username_invalid({ detail: `username ${name.problem}` });
      // UTS #39 §5.2 "highly restrictive": no Latin+Cyrillic "кnown" beside "known".
      const mixed = mixedScriptProblem(name.username);
      if (mixed) throw AccountErrors.username_invalid({ detail: `username ${mixed}` });
      if (deps.rejectEmailUsernames && isEmailShaped(name.username)) {
        throw AccountErrors.username_invalid({ detail: 'username must not be an e-mail address on this server' });
      }
      const display = normalizeDisplayName(input.displayName ?? name.username);
      if (!display.ok) throw AccountErrors.display_name_invalid({ detail: `displayName ${display.problem}` });
      return { username: name.username, usernameKey: name.key, displayName: display.displayName };
    },
    assertUsernameAvailable,
    usernameKey,
    /**
     * What a sign-in looks a username up by: its username key, or for a username that cannot
     * exist a keyed tag of it (`invalid:…`, under the lookup subkey) that matches no row and
     * counts failures like any other. The tag is computed for every username, so both cases
     * do the same work (SEC-20). It may be stored (failure counters) and is no key.
     */
    lookupKeyOf(username: string): string {
      const tag = `invalid:${toBase64Url(hmacSha256(deps.lookupKey, username))}`;
      return usernameKey(username) ?? tag;
    },
    async emailOf(userId: string): Promise<string | undefined> {
      return repository.findEmail(deps.db, userId);
    },
    /**
     * The active account whose verified address has this key, with that address as stored: mail
     * goes there, never to the form someone typed (another case of a local part can be another
     * mailbox, RFC 5321 §2.4).
     */
    async findByEmailKey(emailKey: string): Promise<{ userId: string; email: string } | undefined> {
      const found = await repository.findActiveByEmailKey(deps.db, emailKey);
      return found && { userId: found.id, email: found.email };
    },
    /** Sets a verified address inside the caller's transaction; throws email_taken if another account has it. */
    async setVerifiedEmail(db: Kysely<Database>, userId: string, email: { address: string; key: string }): Promise<void> {
      if (!(await repository.setEmail(db, userId, email.address, email.key, deps.clock.now()))) throw AccountErrors.email_taken();
    },
    async findById(id: string, db: Kysely<Database> = deps.db): Promise<User | undefined> {
      return repository.findById(db, id);
    },
    /** Creates the account inside the caller's transaction; throws username_taken / username_confusable if a concurrent sign-up won. */
    async create(db: Kysely<Database>, account: NewAccount & { userHandle: string }): Promise<User> {
      const user: User = {
        id: deps.random.uuid(),
        username: account.username,
        displayName: account.displayName,
        userHandle: account.userHandle,
        status: 'active',
        createdAt: deps.clock.now(),
      };
      const inserted = await repository.insert(db, {
        id: user.id,
        username: user.username,
        username_key: account.usernameKey,
        // From the name itself, not the pending sign-up: challenges made before this column existed lack it.
        username_skeleton: usernameSkeleton(account.username),
        display_name: user.displayName,
        user_handle: user.userHandle,
        external_id: null,
        status: user.status,
        created_at: user.createdAt,
        email: null,
        email_key: null,
        email_verified_at: null,
      });
      if (!inserted) {
        await assertUsernameAvailable(account, db);
        throw AccountErrors.username_taken({ internal: 'user handle collision' });
      }
      return user;
    },
  };
}

export type AccountsService = ReturnType<typeof createAccountsService>;
