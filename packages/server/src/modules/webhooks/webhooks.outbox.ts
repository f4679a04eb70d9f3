import type { Kysely } from 'kysely';
import type { Database } from '../../db/database.ts';
import type { BoundStatement } from '../../db/prepared-query.ts';
import type { Clock } from '../../platform/clock.ts';
import type { AuditRow } from '../audit/audit.module.ts';
import { auditTypesOf, payloadOf, typesOf, webhookTypeOf } from './webhooks.catalogue.ts';
import { webhooksRepository as repository } from './webhooks.repository.ts';

/**
 * The write side of the outbox (SEC-56): for each audit row, the outbox insert that commits with
 * it, when an enabled endpoint subscribes to its type. Which types that are is a small cache,
 * re-read from the database every few seconds (so every node agrees within that time) and at once
 * when this node changes an endpoint. A deployment without webhooks pays one Set lookup per audit
 * row.
 */
export interface WebhookOutbox {
  /** The audit service's companion (modules/audit: `AuditCompanion`). */
  companion(row: Readonly<AuditRow>): BoundStatement | undefined;
  /** Re-reads the subscriptions now. */
  refresh(): Promise<void>;
  /** Whether any endpoint is enabled (the dispatcher idles otherwise). */
  readonly active: boolean;
  start(onError: (err: unknown) => void): void;
  stop(): void;
}

export function createWebhookOutbox(deps: {
  db: Kysely<Database>;
  clock: Clock;
  refreshMs: number;
  /** signin.failed rows a node writes per minute at most (README: "Webhooks"). */
  signinFailedPerMinute: number;
  onDropped?: (reason: string) => void;
}): WebhookOutbox {
  let auditTypes = new Set<string>();
  let active = false;
  let timer: NodeJS.Timeout | undefined;
  let minute = 0;
  let signinFailures = 0;

  async function refresh(): Promise<void> {
    const endpoints = await repository.enabledFilters(deps.db);
    const filters = endpoints.map((e) => JSON.parse(e.event_types) as string[]);
    auditTypes = auditTypesOf(typesOf(filters));
    active = endpoints.length > 0;
  }

  return {
    companion(row) {
      if (!auditTypes.has(row.type)) return undefined;
      const type = webhookTypeOf(row.type);
      if (!type) return undefined;
      if (type === 'signin.failed') {
        const now = Math.floor(deps.clock.now() / 60_000);
        if (now !== minute) {
          minute = now;
          signinFailures = 0;
        }
        signinFailures += 1;
        if (signinFailures > deps.signinFailedPerMinute) {
          deps.onDropped?.('signin_failed_rate');
          return undefined;
        }
      }
      return repository.enqueue({ id: row.id, event_type: type, payload: payloadOf(row, type), created_at: row.created_at });
    },
    refresh,
    get active() {
      return active;
    },
    start(onError) {
      const tick = () => {
        refresh()
          .catch(onError)
          .finally(() => {
            if (timer) timer = setTimeout(tick, deps.refreshMs).unref();
          });
      };
      timer = setTimeout(tick, deps.refreshMs).unref();
    },
    stop() {
      if (timer) clearTimeout(timer);
      timer = undefined;
    },
  };
}
