import type { UsersTable } from '../modules/accounts/accounts.tables.ts';
import type { AppendTokensTable } from '../modules/append-tokens/append-tokens.tables.ts';
import type { ApiKeysTable } from '../modules/api-keys/api-keys.tables.ts';
import type { AuditChainTable, AuditCheckpointsTable, AuditEventsTable, AuditRetentionTable, AuditSealStateTable } from '../modules/audit/audit.tables.ts';
import type { EmailCodesTable, FailureCountersTable, RecoveryCodesTable } from '../modules/fallback/fallback.tables.ts';
import type { AnalyticsDailyTable, AnalyticsPasskeyUsersTable, AnalyticsSeenReportsTable, AnalyticsStateTable, AnalyticsUserDaysTable } from '../modules/analytics/analytics.tables.ts';
import type { ExperimentExposuresTable, ExperimentsTable } from '../modules/experiments/experiments.tables.ts';
import type { PasswordsTable } from '../modules/passwords/passwords.tables.ts';
import type { TotpSecretsTable } from '../modules/totp/totp.tables.ts';
import type { RedeemedLoginResultsTable, SigningKeysTable } from '../modules/tokens/tokens.tables.ts';
import type { DeviceSignalsTable } from '../modules/intelligence/intelligence.tables.ts';
import type { RolloutRulesTable, RolloutStateTable } from '../modules/rollout/rollout.tables.ts';
import type { SiemCursorsTable } from '../modules/siem/siem.tables.ts';
import type { SessionsTable } from '../modules/sessions/sessions.tables.ts';
import type { StaffMembersTable, SupportRecoveriesTable } from '../modules/staff/staff.tables.ts';
import type { WebhookDeliveriesTable, WebhookDeliveryAttemptsTable, WebhookEndpointsTable, WebhookFanoutTable } from '../modules/webhooks/webhooks.tables.ts';
import type { ChallengesTable, ConsumedChallengesTable, CredentialsTable } from '../modules/webauthn/webauthn.tables.ts';

export interface ServerSecretsTable {
  name: string;
  value: string;
}

export interface RateLimitsTable {
  key: string;
  window_start: number;
  count: number;
}

/** Every table, as Kysely sees it. Each module's repository touches only its own. */
export interface Database {
  users: UsersTable;
  credentials: CredentialsTable;
  challenges: ChallengesTable;
  consumed_challenges: ConsumedChallengesTable;
  sessions: SessionsTable;
  audit_events: AuditEventsTable;
  audit_retention: AuditRetentionTable;
  audit_chain: AuditChainTable;
  audit_checkpoints: AuditCheckpointsTable;
  audit_seal_state: AuditSealStateTable;
  server_secrets: ServerSecretsTable;
  rate_limits: RateLimitsTable;
  email_codes: EmailCodesTable;
  recovery_codes: RecoveryCodesTable;
  failure_counters: FailureCountersTable;
  passwords: PasswordsTable;
  totp_secrets: TotpSecretsTable;
  api_keys: ApiKeysTable;
  signing_keys: SigningKeysTable;
  redeemed_login_results: RedeemedLoginResultsTable;
  append_tokens: AppendTokensTable;
  analytics_daily: AnalyticsDailyTable;
  analytics_state: AnalyticsStateTable;
  analytics_seen_reports: AnalyticsSeenReportsTable;
  analytics_passkey_users: AnalyticsPasskeyUsersTable;
  analytics_user_days: AnalyticsUserDaysTable;
  staff_members: StaffMembersTable;
  support_recoveries: SupportRecoveriesTable;
  rollout_rules: RolloutRulesTable;
  rollout_state: RolloutStateTable;
  device_signals: DeviceSignalsTable;
  experiments: ExperimentsTable;
  experiment_exposures: ExperimentExposuresTable;
  siem_cursors: SiemCursorsTable;
  webhook_endpoints: WebhookEndpointsTable;
  webhook_fanout: WebhookFanoutTable;
  webhook_deliveries: WebhookDeliveriesTable;
  webhook_delivery_attempts: WebhookDeliveryAttemptsTable;
}
