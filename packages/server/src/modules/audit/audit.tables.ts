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

/**
 * The hash chain over `audit_events`, in seal order (modules/audit/audit-chain.encoding.ts).
 * Append-only; rows at or below the latest retention anchor may be deleted, no others.
 */
export interface AuditChainTable {
  /** 1, 2, 3, … without gaps: the order the sealer appended events in (the database's order, not a clock's). */
  seq: number;
  /** Unique: every event is sealed once. */
  event_id: string;
  /** Lowercase hex SHA-256: the previous row's `hash` (or the anchor's, or 64 zeros before seq 1). */
  prev_hash: string;
  /** SHA-256(prev_hash || canonical encoding of the event at this seq), lowercase hex. */
  hash: string;
  /** Canonical encoding version (1). */
  version: number;
  sealed_at: number;
}

/** Signed (seq, hash, time) of the chain. Append-only. */
export interface AuditCheckpointsTable {
  /** 'periodic', or 'retention': the anchor chain rows at or below `seq` were deleted under. */
  kind: 'periodic' | 'retention';
  seq: number;
  hash: string;
  created_at: number;
  /** RFC 7638 thumbprint of the Ed25519 key that signed it. */
  key_id: string;
  /** Ed25519 signature (base64url) of `checkpointMessage` (audit-chain.keys.ts). */
  signature: string;
}

/** One row (id 1): the newest `created_at` sealed so far (the sealer looks back a fixed window from it). */
export interface AuditSealStateTable {
  id: number;
  high_water: number;
}
