/** Owned by the totp module. */
export interface TotpSecretsTable {
  user_id: string;
  /** AES-256-GCM of the base32 seed: `v2.<iv>.<ciphertext>.<tag>` (secret-box.ts), user id as associated data;
   *  `v1.` rows (an older key derivation) still open and are re-sealed at start. */
  secret_enc: string;
  /** The last time step accepted: each step works once per user (SEC-40). */
  last_step: number | null;
  created_at: number;
  /** Null until the user proved the authenticator app has the seed. */
  confirmed_at: number | null;
}
