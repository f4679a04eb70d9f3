/** Owned by the passwords module. */
export interface PasswordsTable {
  user_id: string;
  /** argon2id PHC string (salt and parameters inside). */
  hash: string;
  updated_at: number;
}
