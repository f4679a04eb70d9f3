import type { ColumnType } from 'kysely';

/** Tables owned by the accounts module; only its repository queries them. */
export interface UsersTable {
  id: string;
  /** As the user typed it (case preserved, NFC). */
  username: string;
  /** The uniqueness key: NFC, trimmed, case-folded. */
  username_key: string;
  /**
   * The look-alike key (usernames.ts usernameSkeleton, UTS #39), unique. Null only for accounts
   * that already looked like an older one when the column was added (migration
   * 2026_12_03_0100_username_skeleton_conformance): the older account holds the key.
   */
  username_skeleton: ColumnType<string | null, string | null | undefined, string | null>;
  display_name: string;
  /** WebAuthn user.id: 64 random bytes, base64url; never derived from the username (SEC-18). */
  user_handle: string;
  external_id: string | null;
  status: string;
  created_at: number;
  /** As the user typed it (trimmed, NFC); only set once verified by a code. */
  email: string | null;
  /** Lower-cased, unique among users. */
  email_key: string | null;
  email_verified_at: number | null;
  /** A label set through the management API that rollout rules can target (null: none). */
  segment: ColumnType<string | null, string | null | undefined, string | null>;
}
