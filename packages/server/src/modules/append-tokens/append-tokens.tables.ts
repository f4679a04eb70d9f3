export interface AppendTokensTable {
  /** Random UUID: the token's name in audit rows (never the token). */
  id: string;
  /** SHA-256 (base64url) of the token: 256 random bits, so a fast hash is enough. */
  token_hash: string;
  user_id: string;
  created_at: number;
  expires_at: number;
  /** Who asked for it: 'api_key' (the management API) or 'cli'. */
  created_by_kind: string;
  created_by_id: string | null;
  /** SHA-256 of the registration challenge the token last started: only that ceremony can use it. */
  challenge_hash: string | null;
  /** Set, once, by the registration verify that used the token. */
  used_at: number | null;
}
