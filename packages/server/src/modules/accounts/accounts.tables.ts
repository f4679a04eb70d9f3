/** Tables owned by the accounts module; only its repository queries them. */
export interface UsersTable {
  id: string;
  /** As the user typed it (case preserved, NFC). */
  username: string;
  /** The uniqueness key: NFC, trimmed, case-folded. */
  username_key: string;
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
}
