/**
 * Daily rollups of the analytics (issue 14 item 4): counts per UTC day × metric × detail ×
 * device × OS × browser × passkey provider. The dashboard and the BI export read these only.
 * Dimensions that do not apply are '' (never null, so they can be part of the key).
 */
export interface AnalyticsDailyTable {
  /** UTC day, YYYY-MM-DD. */
  day: string;
  /** A metric of analytics.facts.ts (`funnel.append.offered`, `signin.success`, …). */
  metric: string;
  /** Error name of a failed step, sign-in method, or duration bucket; '' when none. */
  detail: string;
  device: string;
  os: string;
  browser: string;
  provider: string;
  count: number;
}

/** One row (id 1): the last audit-chain seq the rollup worker has folded in. */
export interface AnalyticsStateTable {
  id: number;
  last_seq: number;
  updated_at: number;
}

/** Client report ids already counted (dedup of retried reports); swept after the late-report window. */
export interface AnalyticsSeenReportsTable {
  report_id: string;
  seen_at: number;
}

/** Users known to have created (or used) a passkey, and since when (UTC day of the first such event). */
export interface AnalyticsPasskeyUsersTable {
  user_id: string;
  since_day: string;
}

/** One row per user and UTC day they were active (signed in or signed up), for distinct daily actives. */
export interface AnalyticsUserDaysTable {
  day: string;
  user_id: string;
  device: string;
  os: string;
  browser: string;
  /** 1 when the user had a passkey by the end of that day. */
  has_passkey: number;
}
