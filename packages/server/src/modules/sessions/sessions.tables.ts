export interface SessionsTable {
  id: string;
  /** SHA-256 of the bearer token; the token itself is never stored. */
  token_hash: string;
  user_id: string;
  /** JSON array, e.g. ["passkey"]. */
  amr: string;
  user_verified: number;
  auth_time: number;
  created_at: number;
  last_seen_at: number;
  expires_at: number;
  idle_expires_at: number;
  revoked_at: number | null;
  ip: string | null;
  user_agent: string | null;
  /** 'full', or 'recovery': a restricted session that may only enrol a passkey (SEC-39). */
  scope: string;
  /** With scope 'second_factor': the one factor that completes the sign-in ('passkey' | 'totp'); null otherwise. */
  second_factor: string | null;
}
