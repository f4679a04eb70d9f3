/** Tables owned by the fallback module (e-mail codes, recovery codes, failure counters). */
export interface EmailCodesTable {
  id: string;
  /** 'sign_in' | 'verify_email' | 'recovery' */
  purpose: string;
  /** SHA-256 of the flow binding (ceremony cookie or Latchkey-Ceremony header) that asked (SEC-36). */
  binding_hash: string;
  email_key: string;
  /** Where the code was mailed: the account's verified address as stored, or the address typed (a new address to confirm, an unknown one). */
  email: string;
  /** Null for an address no account has: the row exists so both cases answer alike. */
  user_id: string | null;
  /** HMAC-SHA-256 under the e-mail-code subkey (platform/keys.ts) of id:code; the code itself is never stored. */
  code_hash: string;
  attempts: number;
  created_at: number;
  expires_at: number;
}

export interface RecoveryCodesTable {
  user_id: string;
  /** SHA-256 of the normalized code (≥ 112 bits of entropy, so a fast hash is allowed; SEC-38). */
  code_hash: string;
  created_at: number;
  used_at: number | null;
}

export interface FailureCountersTable {
  /** `<factor>:<account key>`, e.g. `otp:<e-mail key>` or `recovery:<user id>`. */
  key: string;
  count: number;
  last_failure_at: number;
}
