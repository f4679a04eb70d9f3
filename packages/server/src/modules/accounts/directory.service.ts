import type { Kysely } from 'kysely';
import type { Database } from '../../db/database.ts';
import { CommonErrors } from '../../errors/common.errors.ts';
import type { Clock } from '../../platform/clock.ts';
import { fromBase64Url, toBase64Url } from '../../platform/encoding.ts';
import type { Random } from '../../platform/random.ts';
import { AccountErrors } from './accounts.errors.ts';
import { createDirectoryRepository, type DirectoryPosition, type DirectoryUser } from './directory.repository.ts';
import { mixedScriptProblem } from './mixed-script.ts';
import { caseFold, normalizeDisplayName, normalizeEmail, normalizeUsername, usernameSkeleton } from './usernames.ts';

export const EXTERNAL_ID_MAX = 255;

/** A user of an import line after the checks of `prepareImport`. */
export interface ImportableUser {
  id: string;
  username: string;
  usernameKey: string;
  displayName: string;
  email: { address: string; key: string } | null;
  externalId: string | null;
  status: 'active' | 'disabled';
  createdAt: number;
  userHandle: string;
}
const FORBIDDEN = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/u;

function checkExternalId(value: string): string {
  if (value.length === 0 || value.length > EXTERNAL_ID_MAX || FORBIDDEN.test(value)) {
    throw CommonErrors.invalid_request({ detail: `/externalId: must be 1 to ${EXTERNAL_ID_MAX} characters without control characters` });
  }
  return value;
}

const SEGMENT = /^[A-Za-z0-9_.-]{1,64}$/;

/** A rollout segment: 1 to 64 letters, digits, `_`, `.` or `-` (rules match it exactly). */
function checkSegment(value: string): string {
  if (!SEGMENT.test(value)) throw CommonErrors.invalid_request({ detail: '/segment: 1 to 64 letters, digits, "_", "." or "-"' });
  return value;
}

function checkEmail(value: string): { address: string; key: string } {
  const email = normalizeEmail(value);
  if (!email.ok) throw AccountErrors.email_invalid({ detail: `email ${email.problem}` });
  return email;
}

/**
 * Users as a company's backend manages them (issue 11). Every method takes the caller's
 * transaction, so the change commits with its audit row; input rules are those of sign-up
 * (usernames, display names) and of the e-mail flows (addresses).
 */
export function createUserDirectory(deps: { clock: Clock; random: Random }) {
  const repository = createDirectoryRepository();
  return {
    /**
     * A user without a passkey yet. The e-mail address is taken as verified: the calling backend
     * vouches for it (it can sign in with e-mail codes where those are enabled).
     */
    async create(
      db: Kysely<Database>,
      input: { username: string; displayName?: string | undefined; email?: string | undefined; externalId?: string | undefined; segment?: string | undefined },
    ): Promise<DirectoryUser> {
      const name = normalizeUsername(input.username);
      if (!name.ok) throw AccountErrors.username_invalid({ detail: `username ${name.problem}` });
      // The sign-up rules for names (UTS #39): no mixed scripts beyond "highly restrictive", no look-alike.
      const mixed = mixedScriptProblem(name.username);
      if (mixed) throw AccountErrors.username_invalid({ detail: `username ${mixed}` });
      const display = normalizeDisplayName(input.displayName ?? name.username);
      if (!display.ok) throw AccountErrors.display_name_invalid({ detail: `displayName ${display.problem}` });
      const email = input.email === undefined ? undefined : checkEmail(input.email);
      const externalId = input.externalId === undefined ? null : checkExternalId(input.externalId);
      const segment = input.segment === undefined ? null : checkSegment(input.segment);
      const now = deps.clock.now();
      const user: DirectoryUser = {
        id: deps.random.uuid(),
        username: name.username,
        displayName: display.displayName,
        email: email?.address ?? null,
        externalId,
        status: 'active',
        createdAt: now,
        segment,
      };
      const outcome = await repository.insert(db, {
        id: user.id,
        username: user.username,
        username_key: name.key,
        username_skeleton: usernameSkeleton(name.username),
        display_name: user.displayName,
        // WebAuthn user.id: 64 random bytes, never derived from the username (SEC-18).
        user_handle: toBase64Url(deps.random.bytes(64)),
        external_id: externalId,
        status: 'active',
        created_at: now,
        email: email?.address ?? null,
        email_key: email?.key ?? null,
        email_verified_at: email ? now : null,
        segment,
      });
      if (outcome === 'username') throw AccountErrors.username_taken();
      if (outcome === 'confusable') throw AccountErrors.username_confusable();
      if (outcome === 'external_id') throw AccountErrors.external_id_taken();
      if (outcome === 'email') throw AccountErrors.email_taken();
      return user;
    },

    async findById(db: Kysely<Database>, id: string): Promise<DirectoryUser | undefined> {
      return repository.find(db, { id });
    },
    async findByExternalId(db: Kysely<Database>, externalId: string): Promise<DirectoryUser | undefined> {
      return repository.find(db, { externalId });
    },
    /** By the username's uniqueness key, so `Alice` finds `alice` (SEC-19). */
    async findByUsername(db: Kysely<Database>, username: string): Promise<DirectoryUser | undefined> {
      const name = normalizeUsername(username);
      return name.ok ? repository.find(db, { usernameKey: name.key }) : undefined;
    },
    async findByEmail(db: Kysely<Database>, email: string): Promise<DirectoryUser | undefined> {
      const normalized = normalizeEmail(email);
      return normalized.ok ? repository.find(db, { emailKey: normalized.key }) : undefined;
    },

    /** Users whose username key starts with one of these (already case-folded) prefixes; see the repository. */
    async findByUsernameKeyPrefixes(db: Kysely<Database>, prefixes: readonly string[], perPrefix: number) {
      return repository.findByUsernameKeyPrefixes(db, prefixes, perPrefix);
    },

    /** `query` matches the start of the username (case-insensitively) or of the e-mail address. */
    async page(
      db: Kysely<Database>,
      input: { after?: DirectoryPosition; limit: number; query?: string; status?: 'active' | 'disabled' },
    ): Promise<DirectoryUser[]> {
      const q = input.query?.trim();
      return repository.page(db, {
        limit: input.limit,
        ...(input.after ? { after: input.after } : {}),
        ...(input.status ? { status: input.status } : {}),
        ...(q ? { usernameKeyPrefix: caseFold(q.normalize('NFKC')).normalize('NFC'), emailKeyPrefix: q.normalize('NFC').toLowerCase() } : {}),
      });
    },

    /**
     * Stores a user of an import, already validated by the caller (`prepareImport`): keeps its id,
     * user handle (its passkeys are bound to it) and creation time.
     */
    async importUser(db: Kysely<Database>, user: ImportableUser): Promise<'created' | 'same' | 'id' | 'username' | 'external_id' | 'email' | 'user_handle'> {
      return repository.importUser(db, {
        id: user.id,
        username: user.username,
        username_key: user.usernameKey,
        username_skeleton: usernameSkeleton(user.username),
        display_name: user.displayName,
        user_handle: user.userHandle,
        external_id: user.externalId,
        status: user.status,
        created_at: user.createdAt,
        email: user.email?.address ?? null,
        email_key: user.email?.key ?? null,
        email_verified_at: user.email ? deps.clock.now() : null,
      });
    },

    /** Checks the user fields of an import line with the rules of `create`; the problem names the field. */
    prepareImport(input: {
      id?: unknown;
      username?: unknown;
      displayName?: unknown;
      email?: unknown;
      externalId?: unknown;
      status?: unknown;
      createdAt?: unknown;
      userHandle?: unknown;
    }): { ok: true; user: ImportableUser } | { ok: false; problem: string } {
      const id = input.id ?? deps.random.uuid();
      if (typeof id !== 'string' || !/^[A-Za-z0-9-]{1,64}$/.test(id)) return { ok: false, problem: '/id: must be 1 to 64 letters, digits or dashes' };
      if (typeof input.username !== 'string') return { ok: false, problem: '/username: required' };
      const name = normalizeUsername(input.username);
      if (!name.ok) return { ok: false, problem: `/username: ${name.problem}` };
      const display = normalizeDisplayName(typeof input.displayName === 'string' ? input.displayName : name.username);
      if (!display.ok || (input.displayName !== undefined && typeof input.displayName !== 'string')) return { ok: false, problem: `/displayName: ${display.ok ? 'must be a string' : display.problem}` };
      let email: { address: string; key: string } | null = null;
      if (input.email !== undefined && input.email !== null) {
        const normalized = typeof input.email === 'string' ? normalizeEmail(input.email) : undefined;
        if (!normalized?.ok) return { ok: false, problem: `/email: ${normalized && !normalized.ok ? normalized.problem : 'must be a string or null'}` };
        email = { address: normalized.address, key: normalized.key };
      }
      const externalId = input.externalId ?? null;
      if (externalId !== null && (typeof externalId !== 'string' || externalId.length === 0 || externalId.length > EXTERNAL_ID_MAX || FORBIDDEN.test(externalId))) {
        return { ok: false, problem: `/externalId: must be 1 to ${EXTERNAL_ID_MAX} characters without control characters, or null` };
      }
      const status = input.status ?? 'active';
      if (status !== 'active' && status !== 'disabled') return { ok: false, problem: '/status: must be active or disabled' };
      const createdAt = input.createdAt === undefined ? deps.clock.now() : typeof input.createdAt === 'string' ? Date.parse(input.createdAt) : Number.NaN;
      if (Number.isNaN(createdAt)) return { ok: false, problem: '/createdAt: must be an ISO 8601 date-time' };
      // WebAuthn L3 §5.4.3: a user handle is at most 64 bytes; a new one is 64 random bytes (SEC-18).
      const handle = input.userHandle === undefined ? deps.random.bytes(64) : typeof input.userHandle === 'string' ? fromBase64Url(input.userHandle) : undefined;
      if (!handle || handle.length === 0 || handle.length > 64 || (typeof input.userHandle === 'string' && toBase64Url(handle) !== input.userHandle)) {
        return { ok: false, problem: '/userHandle: must be base64url of 1 to 64 bytes' };
      }
      return {
        ok: true,
        user: { id, username: name.username, usernameKey: name.key, displayName: display.displayName, email, externalId: externalId as string | null, status, createdAt, userHandle: toBase64Url(handle) },
      };
    },

    async userHandles(db: Kysely<Database>, ids: readonly string[]): Promise<Map<string, string>> {
      return repository.userHandles(db, ids);
    },

    /** Throws not_found, display_name_invalid, email_invalid or email_taken; `email: null` removes the address. */
    async updateProfile(
      db: Kysely<Database>,
      id: string,
      input: { displayName?: string | undefined; email?: string | null | undefined; segment?: string | null | undefined },
    ): Promise<DirectoryUser> {
      const changes: { displayName?: string; email?: { address: string; key: string } | null; segment?: string | null } = {};
      if (input.segment !== undefined) changes.segment = input.segment === null ? null : checkSegment(input.segment);
      if (input.displayName !== undefined) {
        const display = normalizeDisplayName(input.displayName);
        if (!display.ok) throw AccountErrors.display_name_invalid({ detail: `displayName ${display.problem}` });
        changes.displayName = display.displayName;
      }
      if (input.email !== undefined) changes.email = input.email === null ? null : checkEmail(input.email);
      const outcome = await repository.updateProfile(db, id, changes, deps.clock.now());
      if (outcome === 'email') throw AccountErrors.email_taken();
      const user = outcome ? await repository.find(db, { id }) : undefined;
      if (!user) throw CommonErrors.not_found({ detail: 'No such user' });
      return user;
    },

    /** True when the status changed; throws not_found for an unknown user. */
    async setStatus(db: Kysely<Database>, id: string, status: 'active' | 'disabled'): Promise<boolean> {
      if (await repository.setStatus(db, id, status)) return true;
      if (!(await repository.find(db, { id }))) throw CommonErrors.not_found({ detail: 'No such user' });
      return false;
    },

    async delete(db: Kysely<Database>, id: string): Promise<boolean> {
      return repository.delete(db, id);
    },
  };
}

export type UserDirectory = ReturnType<typeof createUserDirectory>;
