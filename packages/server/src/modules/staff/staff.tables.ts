/** Tables owned by the staff module; only its repositories query them. */
export interface StaffMembersTable {
  /** The staff member is an ordinary user (users.id); deleting the user removes the row. */
  user_id: string;
  /** 'admin' | 'support' | 'auditor' (staff.roles.ts). */
  role: string;
  created_at: number;
  /** 'cli' (the `staff add` command), 'staff' (an admin in the console) or 'api_key'. */
  created_by_kind: string;
  created_by_id: string | null;
}

export interface SupportRecoveriesTable {
  id: string;
  /** SHA-256 (base64url) of the normalised code or link token; never the secret itself. */
  secret_hash: string;
  user_id: string;
  /** 'email' (a link was mailed) or 'code' (read out by the agent). */
  method: string;
  created_at: number;
  expires_at: number;
  created_by_kind: string;
  created_by_id: string | null;
  /** Set once, by the redemption that opened the recovery session. */
  used_at: number | null;
}
