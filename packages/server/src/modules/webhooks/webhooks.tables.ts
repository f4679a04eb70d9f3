/** A receiver of webhooks (db/migrations/2026_12_04_webhooks.ts). */
export interface WebhookEndpointsTable {
  id: string;
  url: string;
  description: string;
  /** JSON array of event types and `prefix.*` / `*` patterns (webhooks.catalogue.ts). */
  event_types: string;
  /** 0/1. */
  enabled: number;
  /** 'gone' (410), 'failing' (failed for too long), 'manual'; null when enabled. */
  disabled_reason: string | null;
  disabled_at: number | null;
  /** The `whsec_…` secret in a secret box (associated data: the endpoint id). */
  secret_sealed: string;
  /** The secret before the last rotation, still signing until `previous_secret_expires_at`. */
  previous_secret_sealed: string | null;
  previous_secret_expires_at: number | null;
  /** The first failed attempt since the last success; null while deliveries succeed. */
  failing_since: number | null;
  created_at: number;
  updated_at: number;
  /** How sign-in failures are received, JSON (webhooks.signin-delivery.ts; 2026_12_05_webhook_signin_failed.ts). */
  signin_failed: string;
  /** Summary mode: failures from then on are not summarized yet (epoch ms, a minute boundary after the first window); null otherwise. */
  signin_failed_summarized_until: number | null;
  /** How successful sign-ins are received, JSON (webhooks.signin-delivery.ts; 2026_12_07_webhook_signin_succeeded.ts). */
  signin_succeeded: string;
  /** As `signin_failed_summarized_until`, for the successes. */
  signin_succeeded_summarized_until: number | null;
}

/**
 * How far webhooks have fanned the sealed audit chain out (one row): the audit log is the outbox
 * (SEC-56/58: each event's row commits with the change it describes); this is its read position,
 * and the lease of the one node that fans out at a time.
 */
export interface WebhookFanoutTable {
  id: string;
  /** The last chain seq fanned out. */
  seq: number;
  lease_owner: string | null;
  lease_until: number;
  updated_at: number;
}

/** One event for one endpoint, with the state of its retries. */
export interface WebhookDeliveriesTable {
  id: string;
  endpoint_id: string;
  /** `webhook-id`: the same on every attempt and redelivery. */
  message_id: string;
  event_type: string;
  payload: string;
  created_at: number;
  status: 'pending' | 'delivered' | 'failed';
  attempts: number;
  next_attempt_at: number | null;
  /** A node sending it holds it until then; another node may take it over after. */
  lease_until: number | null;
  last_attempt_at: number | null;
  last_status_code: number | null;
  last_error: string | null;
  delivered_at: number | null;
}

/** The log: one row per HTTP attempt. */
export interface WebhookDeliveryAttemptsTable {
  id: string;
  delivery_id: string;
  attempted_at: number;
  outcome: 'success' | 'failure';
  status_code: number | null;
  latency_ms: number;
  error: string | null;
  /** The start of the response body, at most 1 KiB. */
  response_excerpt: string | null;
}
