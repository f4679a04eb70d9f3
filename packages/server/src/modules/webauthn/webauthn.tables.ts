export interface CredentialsTable {
  /** Credential ID, base64url. Globally unique. */
  id: string;
  user_id: string;
  /** COSE public key. */
  public_key: Uint8Array;
  sign_count: number;
  aaguid: string;
  /** JSON array of transports. */
  transports: string;
  device_type: 'singleDevice' | 'multiDevice';
  /** 0 or 1 (the same integer in SQLite and PostgreSQL). */
  backed_up: number;
  attestation_fmt: string;
  uv_initialized: number;
  name: string;
  created_at: number;
  last_used_at: number | null;
  created_os: string | null;
  created_browser: string | null;
}

export interface ChallengesTable {
  /** base64url of 32 random bytes, exactly as it appears in clientDataJSON. */
  challenge: string;
  ceremony: 'registration' | 'authentication' | 'step_up';
  /** Set when the ceremony is for a known user (passkey append, identifier-first sign-in). */
  user_id: string | null;
  /** JSON of the account to create on sign-up ({username, usernameKey, displayName, userHandle}). */
  pending_user: string | null;
  /** JSON array of credential IDs offered in allowCredentials (identifier-first; SEC-09). */
  allowed_credentials: string | null;
  /** SHA-256 of the ceremony binding (cookie or Latchkey-Ceremony header). */
  binding_hash: string;
  expires_at: number;
  /** Registration started with an append token (issue 11): its id; the ceremony needs no session. */
  append_token_id: string | null;
}

/** A sign-in challenge that was used (modules/webauthn/challenge-token.ts), kept until it expires. */
export interface ConsumedChallengesTable {
  expires_at: number;
  /** base64url of the challenge's 32 random bytes. */
  nonce: string;
}
