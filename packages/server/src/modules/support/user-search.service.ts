import type { Kysely } from 'kysely';
import type { Database } from '../../db/database.ts';
import { normalizeUsername, type DirectoryUser, type UserDirectory } from '../accounts/accounts.module.ts';
import { editVariants, minimalPrefixes } from './fuzzy.ts';

export type MatchKind = 'id' | 'credential' | 'email' | 'external_id' | 'prefix' | 'fuzzy';

export interface SearchHit {
  user: DirectoryUser;
  match: MatchKind;
  passkeyCount: number;
}

export interface UserSearchService {
  /** Users for what support typed, best first: exact identifiers, then username prefix, then one typo away. */
  search(query: string, limit: number): Promise<SearchHit[]>;
}

const RANK: Record<MatchKind, number> = { id: 0, credential: 0, email: 0, external_id: 0, prefix: 1, fuzzy: 2 };
/** A credential ID is base64url of at least 16 bytes (WebAuthn L3 §4: ≥ 16 bytes of entropy in practice). */
const CREDENTIAL_ID = /^[A-Za-z0-9_-]{16,1400}$/;

/**
 * Find a user as you type (issue 13): every lookup is an index probe, never a scan. Exact: user
 * id, credential id, e-mail (normalised) and external id; then usernames starting with the query
 * (case-folded like the uniqueness key); when that leaves room, usernames starting with a string
 * one edit away from the query (fuzzy.ts), ranked by how much of the query they keep.
 */
export function createUserSearchService(deps: {
  db: Kysely<Database>;
  directory: UserDirectory;
  ownerOfCredential(credentialId: string): Promise<string | undefined>;
  countPasskeys(userIds: readonly string[]): Promise<Map<string, number>>;
}): UserSearchService {
  const { db, directory } = deps;
  return {
    async search(raw, limit) {
      const query = raw.trim();
      if (query === '') return [];
      const found = new Map<string, { user: DirectoryUser; match: MatchKind; order: number }>();
      const add = (user: DirectoryUser | undefined, match: MatchKind, order = 0) => {
        if (!user) return;
        const seen = found.get(user.id);
        if (!seen || RANK[match] < RANK[seen.match] || (RANK[match] === RANK[seen.match] && order < seen.order)) found.set(user.id, { user, match, order });
      };
      const byCredential = async () => {
        if (!CREDENTIAL_ID.test(query)) return undefined;
        const owner = await deps.ownerOfCredential(query);
        return owner === undefined ? undefined : directory.findById(db, owner);
      };
      const [byId, credential, byEmail, byExternal] = await Promise.all([
        query.length <= 64 ? directory.findById(db, query) : undefined,
        byCredential(),
        query.includes('@') ? directory.findByEmail(db, query) : undefined,
        query.length <= 255 ? directory.findByExternalId(db, query) : undefined,
      ]);
      add(byId, 'id');
      add(credential, 'credential');
      add(byEmail, 'email');
      add(byExternal, 'external_id');

      const name = normalizeUsername(query);
      if (name.ok) {
        // The exact name first, then shorter names (closer to what was typed), then alphabetical.
        for (const { user } of await directory.findByUsernameKeyPrefixes(db, [name.key], limit)) add(user, 'prefix', keyOf(user) === name.key ? 0 : 1);
        // An exact identifier answers the query: no typo hunt (it would only add noise and time).
        if (found.size < limit && ![...found.values()].some((f) => RANK[f.match] === 0)) {
          const variants = minimalPrefixes(editVariants(name.key), name.key);
          // Longer matched variants keep more of what was typed: rank them first.
          for (const { prefix, user } of await directory.findByUsernameKeyPrefixes(db, variants, limit)) add(user, 'fuzzy', 100 - prefix.length);
        }
      }
      const ranked = [...found.values()]
        .sort((a, b) => RANK[a.match] - RANK[b.match] || a.order - b.order || keyOf(a.user).length - keyOf(b.user).length || keyOf(a.user).localeCompare(keyOf(b.user)))
        .slice(0, limit);
      const counts = await deps.countPasskeys(ranked.map((r) => r.user.id));
      return ranked.map((r) => ({ user: r.user, match: r.match, passkeyCount: counts.get(r.user.id) ?? 0 }));
    },
  };
}

function keyOf(user: DirectoryUser): string {
  const name = normalizeUsername(user.username);
  return name.ok ? name.key : user.username;
}
