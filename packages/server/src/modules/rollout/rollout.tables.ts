/** Tables owned by the rollout module; only its repository queries them. */
export interface RolloutRulesTable {
  /** One of ROLLOUT_FEATURES. */
  feature: string;
  /** 0 to 100, two decimals at most. */
  percentage: number;
  /** 'user' or 'device'. */
  bucket_by: string;
  /** JSON arrays of strings (empty: any). */
  operating_systems: string;
  browsers: string;
  platforms: string;
  segments: string;
  /** JSON arrays of user ids or external ids. */
  allow: string;
  deny: string;
  /** 0 or 1. */
  kill_switch: number;
  updated_at: number;
  /** `<actor kind>:<actor id>` of the last change, for display (the audit row is the record). */
  updated_by: string | null;
}

/** One row (id 1): bumped in the commit of every rule change; nodes poll it. */
export interface RolloutStateTable {
  id: number;
  version: number;
  updated_at: number;
}
