/** Tables owned by the api-keys module; only its repository queries them. */
export interface ApiKeysTable {
  /** The public key id: also the middle part of the key, so a lookup is by primary key. */
  id: string;
  name: string;
  /** SHA-256 (base64url) of the 256-bit secret; the secret itself is never stored. */
  secret_hash: string;
  /** JSON array of scopes (api-keys.scopes.ts). */
  scopes: string;
  created_at: number;
  /** 'cli' (made on the server's command line) or 'api_key' (made through the management API). */
  created_by_kind: string;
  created_by_id: string | null;
  expires_at: number | null;
  /** Refreshed at most once a minute per key. */
  last_used_at: number | null;
  revoked_at: number | null;
}
