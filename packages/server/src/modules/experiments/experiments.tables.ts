/** Owned by the experiments module: A/B tests of passkey UX (issue 14 item 3). */
export interface ExperimentsTable {
  id: string;
  /** Unique slug the elements and the API name it by. */
  key: string;
  /** What it varies: 'append_prompt' or 'passkey_button'. */
  feature: string;
  description: string;
  /** JSON `[{ key, weight, description }]`; the first is `control`. */
  variants: string;
  /** 'passkey_created' or 'passkey_sign_in'. */
  metric: string;
  conversion_window_hours: number;
  /** Share of subjects enrolled at all, 1..100. */
  traffic_percent: number;
  /** The plan the sample size comes from. */
  baseline_rate: number;
  minimum_detectable_effect: number;
  status: 'draft' | 'running' | 'stopped';
  /** After a stop: the variant everybody gets from then on, or null (everybody back to the default). */
  winner: string | null;
  created_at: number;
  started_at: number | null;
  stopped_at: number | null;
  updated_at: number;
}

/**
 * A subject who was shown an arm (the exposure): written when the client reports that it showed
 * the variant, not when the arm was computed, so a user who never saw a prompt is not counted.
 */
export interface ExperimentExposuresTable {
  experiment_id: string;
  user_id: string;
  variant: string;
  exposed_at: number;
}
