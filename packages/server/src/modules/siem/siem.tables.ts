/**
 * One row per SIEM sink (`syslog`, `ndjson`): how far in the audit chain it has exported, and which
 * node exports it now (a lease, so that with several nodes on one database only one sends).
 */
export interface SiemCursorsTable {
  sink: string;
  /** The last audit chain `seq` delivered to the sink (0: none yet). */
  seq: number;
  /** The node that holds the lease (a random id per process), or null. */
  lease_owner: string | null;
  /** Epoch ms: the lease is free after this. */
  lease_until: number;
  updated_at: number;
}
