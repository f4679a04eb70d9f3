/** Append-only: triggers refuse UPDATE, and DELETE of any row not older than the retention cutoff. */
export interface AuditEventsTable {
  id: string;
  /** Monotonic order within one database (the hash chain of a later issue follows it). */
  created_at: number;
  type: string;
  outcome: 'success' | 'failure';
  actor_user_id: string | null;
  /** Who acted: 'user' (actor_id = actor_user_id), 'api_key' (actor_id = the key id) or 'cli'; null if nobody known. */
  actor_kind: string | null;
  actor_id: string | null;
  subject_user_id: string | null;
  credential_id: string | null;
  session_id: string | null;
  error_code: string | null;
  /** Why it failed, in words for operators (never sent to clients). */
  reason: string | null;
  request_id: string | null;
  ip: string | null;
  user_agent: string | null;
  os: string | null;
  browser: string | null;
  device: string | null;
  /** JSON object with event-specific fields. */
  data: string | null;
}

/** One row (id 1): audit rows created before `purge_before` may be deleted, no others. */
export interface AuditRetentionTable {
  id: number;
  purge_before: number;
}
