import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import serverPackage from '../../../package.json' with { type: 'json' };
import type { DatabaseHandle } from '../../db/create-db.ts';
import { foldCounter, foldHistogram, pendingCounter, pendingHistogram, type PendingCounter, type PendingHistogram } from './metrics.pending.ts';

/** The sign-in and sign-up ceremonies counted; the README's metric list names the routes of each. */
export type CeremonyType = 'registration' | 'authentication' | 'step_up' | 'email_code' | 'password' | 'totp' | 'recovery';

/** HTTP status classes, the only form of the status a label carries. */
const STATUS_CLASSES = ['1xx', '2xx', '3xx', '4xx', '5xx'] as const;

/** Seconds: a passkey verify takes ~1 ms on SQLite; a password hash (argon2id) a few hundred. */
const CEREMONY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];
const HTTP_BUCKETS = CEREMONY_BUCKETS;
const QUERY_BUCKETS = [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1];

/** One route's labelled series, looked up once per route instead of once per request. */
export interface RouteSeries {
  requests: Record<(typeof STATUS_CLASSES)[number], { inc(): void }>;
  duration: { observe(seconds: number): void };
}

/** One ceremony step's series: the success counter and the histogram, ready; failures by code. */
export interface CeremonySeries {
  succeeded(seconds: number): void;
  failed(seconds: number, code: string): void;
}

/** What the app records into, and what /metrics reads. */
export interface Metrics {
  readonly registry: Registry;
  /** The Prometheus text exposition of every metric, and its content type. */
  scrape(): Promise<{ contentType: string; body: string }>;
  /** The series of one route pattern and method (made on first use, then reused). */
  route(route: string, method: string): RouteSeries;
  /** The series of one ceremony step (made once per route, then reused). */
  ceremony(ceremony: CeremonyType, step: string): CeremonySeries;
  fallbackUsed(method: CeremonyType): void;
  cloneSuspected(): void;
  /** A problem+json error thrown by a route or a hook. */
  problem(code: string): void;
  /** The callback a limiter calls on each refusal. */
  rateLimitRefused(limiter: string): () => void;
  junkRegistrationVerify(code: string): void;
  /** A webhook attempt's outcome: delivered, retry, failed (gave up), disabled (the endpoint). */
  webhookDelivery(outcome: string): void;
  /** A webhook event not written to the outbox, and why (signin_failed_rate). */
  webhookDropped(reason: string): void;
  /** Where the webhook backlog gauges read from at scrape time (set once webhooks exist). */
  observeWebhookBacklog(read: () => Promise<{ depth: number; oldestAgeSeconds: number }>): void;
  /** The SIEM export's counters, and its lag read at scrape time. */
  siem(lag: () => Promise<ReadonlyArray<{ sink: string; events: number; seconds: number }>>): SiemCounters;
}

/** What the SIEM exporter counts into (modules/siem SiemObserver). */
export interface SiemCounters {
  exported(sink: string, count: number): void;
  sendError(sink: string): void;
  dropped(sink: string, reason: string, count: number): void;
}

/**
 * Latchkey's Prometheus metrics, in a registry of their own (one per app, no global state).
 * Every label is one of a fixed set of values (ceremony, step, outcome, error code, route
 * pattern, limiter name): never a user id, a username or an address.
 */
export function createMetrics(deps: { database: DatabaseHandle; collectProcessMetrics?: boolean }): Metrics {
  const registry = new Registry();
  if (deps.collectProcessMetrics !== false) collectDefaultMetrics({ register: registry });

  new Gauge({
    name: 'latchkey_build_info',
    help: 'Always 1; the labels say which Latchkey and which Node.js are running',
    labelNames: ['version', 'node_version'],
    registers: [registry],
  }).set({ version: serverPackage.version, node_version: process.version }, 1);

  // The series moved on every request are plain numbers, added to prom-client's at each scrape (collect).
  const ceremonySuccesses: PendingCounter[] = [];
  const ceremonyDurations: PendingHistogram[] = [];
  const requestCounts: PendingCounter[] = [];
  const requestDurations: PendingHistogram[] = [];
  const ceremonies = new Counter({
    name: 'latchkey_ceremonies_total',
    help: 'Ceremony requests answered, by ceremony, step, outcome (status below 400: success) and problem code (none on success)',
    labelNames: ['ceremony', 'step', 'outcome', 'code'],
    registers: [registry],
    collect() {
      foldCounter(this, ceremonySuccesses);
    },
  });
  new Histogram({
    name: 'latchkey_ceremony_duration_seconds',
    help: 'Server-side time to answer a ceremony request, by ceremony and step',
    labelNames: ['ceremony', 'step'],
    buckets: CEREMONY_BUCKETS,
    registers: [registry],
    collect() {
      foldHistogram(this, ceremonyDurations);
    },
  });
  const fallbacks = new Counter({
    name: 'latchkey_fallback_sign_ins_total',
    help: 'Successful sign-ins (or second factors) with something other than a passkey: email_code, password, totp, recovery',
    labelNames: ['method'],
    registers: [registry],
  });
  const clones = new Counter({
    name: 'latchkey_passkey_clone_suspected_total',
    help: 'Passkey sign-ins refused because the signature counter did not grow (SEC-10: a possible cloned authenticator)',
    registers: [registry],
  });
  const refusals = new Counter({
    name: 'latchkey_rate_limit_refusals_total',
    help: 'Requests refused with 429 rate_limited, by limiter',
    labelNames: ['limiter'],
    registers: [registry],
  });
  const junk = new Counter({
    name: 'latchkey_registration_junk_verifies_total',
    help: 'Registration verifies refused before any ceremony was found (unparseable body, unknown challenge): tallied, not audited one row each',
    labelNames: ['code'],
    registers: [registry],
  });
  const problems = new Counter({
    name: 'latchkey_problems_total',
    help: 'problem+json errors returned by routes and hooks, by code (service_unavailable: the database did not answer)',
    labelNames: ['code'],
    registers: [registry],
  });
  new Counter({
    name: 'latchkey_http_requests_total',
    help: 'HTTP requests answered, by route pattern (unmatched for no route), method and status class',
    labelNames: ['route', 'method', 'status_class'],
    registers: [registry],
    collect() {
      foldCounter(this, requestCounts);
    },
  });
  new Histogram({
    name: 'latchkey_http_request_duration_seconds',
    help: 'Server-side time to answer an HTTP request, by route pattern and method',
    labelNames: ['route', 'method'],
    buckets: HTTP_BUCKETS,
    registers: [registry],
    collect() {
      foldHistogram(this, requestDurations);
    },
  });

  const dialect = deps.database.dialect;
  const queries = pendingHistogram(QUERY_BUCKETS, { dialect });
  new Histogram({
    name: 'latchkey_db_query_duration_seconds',
    help: 'Time each database query took, by dialect (sqlite, postgres)',
    labelNames: ['dialect'],
    buckets: QUERY_BUCKETS,
    registers: [registry],
    collect() {
      foldHistogram(this, [queries]);
    },
  });
  deps.database.observeQueries(queries.observe);
  new Gauge({
    name: 'latchkey_db_up',
    help: '1 when the database answered a query at scrape time, else 0',
    labelNames: ['dialect'],
    registers: [registry],
    async collect() {
      try {
        await deps.database.ping();
        this.set({ dialect }, 1);
      } catch {
        this.set({ dialect }, 0);
      }
    },
  });
  if (dialect === 'postgres') {
    const poolGauge = (name: string, help: string, read: (pool: NonNullable<ReturnType<DatabaseHandle['stats']>['pool']>) => number) =>
      new Gauge({
        name,
        help,
        registers: [registry],
        collect() {
          const pool = deps.database.stats().pool;
          if (pool) this.set(read(pool));
        },
      });
    poolGauge('latchkey_db_pool_connections', 'PostgreSQL connections open in the pool', (p) => p.total);
    poolGauge('latchkey_db_pool_idle_connections', 'PostgreSQL connections open and idle', (p) => p.idle);
    poolGauge('latchkey_db_pool_max_connections', 'The pool size (LATCHKEY_DATABASE_POOL_SIZE)', (p) => p.max);
    poolGauge('latchkey_db_pool_waiting_requests', 'Queries waiting for a free PostgreSQL connection', (p) => p.waiting);
  } else {
    new Gauge({
      name: 'latchkey_sqlite_wal_bytes',
      help: 'Size of the SQLite write-ahead log file',
      registers: [registry],
      collect() {
        this.set(deps.database.stats().walBytes ?? 0);
      },
    });
  }

  const webhookDeliveries = new Counter({
    name: 'latchkey_webhook_deliveries_total',
    help: 'Webhook delivery attempts by outcome: delivered (2xx), retry (failed, tried again later), failed (gave up), disabled (410 or failing too long: the endpoint was disabled)',
    labelNames: ['outcome'],
    registers: [registry],
  });
  for (const outcome of ['delivered', 'retry', 'failed', 'disabled']) webhookDeliveries.labels({ outcome });
  const webhookDrops = new Counter({
    name: 'latchkey_webhook_events_dropped_total',
    help: 'Webhook events not sent, by reason (signin_failed_rate: over LATCHKEY_WEBHOOK_SIGNIN_FAILED_PER_MINUTE)',
    labelNames: ['reason'],
    registers: [registry],
  });
  let readBacklog: (() => Promise<{ depth: number; oldestAgeSeconds: number }>) | undefined;
  let backlog: Promise<{ depth: number; oldestAgeSeconds: number }> | undefined;
  // One query per scrape for both gauges.
  const backlogNow = () => {
    backlog ??= (readBacklog?.() ?? Promise.resolve({ depth: 0, oldestAgeSeconds: 0 })).finally(() => {
      setImmediate(() => {
        backlog = undefined;
      });
    });
    return backlog;
  };
  new Gauge({
    name: 'latchkey_webhook_queue_depth',
    help: 'Webhook events waiting: sealed audit events not yet fanned out (while an endpoint is enabled) plus deliveries pending (due or waiting for a retry)',
    registers: [registry],
    async collect() {
      this.set((await backlogNow().catch(() => ({ depth: 0 }))).depth);
    },
  });
  new Gauge({
    name: 'latchkey_webhook_oldest_pending_age_seconds',
    help: 'Age of the oldest webhook event still waiting (0 when none)',
    registers: [registry],
    async collect() {
      this.set((await backlogNow().catch(() => ({ oldestAgeSeconds: 0 }))).oldestAgeSeconds);
    },
  });

  const routeSeries = new Map<string, RouteSeries>();

  return {
    registry,

    async scrape(): Promise<{ contentType: string; body: string }> {
      return { contentType: registry.contentType, body: await registry.metrics() };
    },

    route(route: string, method: string): RouteSeries {
      const key = `${method} ${route}`;
      let series = routeSeries.get(key);
      if (!series) {
        const labels = { route, method };
        const counts = STATUS_CLASSES.map((statusClass) => pendingCounter({ ...labels, status_class: statusClass }));
        const duration = pendingHistogram(HTTP_BUCKETS, labels);
        requestCounts.push(...counts);
        requestDurations.push(duration);
        series = {
          requests: Object.fromEntries(STATUS_CLASSES.map((statusClass, i) => [statusClass, counts[i]])) as unknown as RouteSeries['requests'],
          duration,
        };
        routeSeries.set(key, series);
      }
      return series;
    },

    ceremony(ceremony: CeremonyType, step: string): CeremonySeries {
      const success = pendingCounter({ ceremony, step, outcome: 'success', code: 'none' });
      const duration = pendingHistogram(CEREMONY_BUCKETS, { ceremony, step });
      ceremonySuccesses.push(success);
      ceremonyDurations.push(duration);
      return {
        succeeded(seconds) {
          success.inc();
          duration.observe(seconds);
        },
        failed(seconds, code) {
          ceremonies.inc({ ceremony, step, outcome: 'failure', code });
          duration.observe(seconds);
        },
      };
    },

    fallbackUsed(method: CeremonyType): void {
      fallbacks.inc({ method });
    },

    cloneSuspected(): void {
      clones.inc();
    },

    problem(code: string): void {
      problems.inc({ code });
    },

    rateLimitRefused(limiter: string): () => void {
      const series = refusals.labels({ limiter });
      return () => series.inc();
    },

    junkRegistrationVerify(code: string): void {
      junk.inc({ code });
    },

    webhookDelivery(outcome: string): void {
      webhookDeliveries.inc({ outcome });
    },

    webhookDropped(reason: string): void {
      webhookDrops.inc({ reason });
    },

    observeWebhookBacklog(read) {
      readBacklog = read;
    },

    siem(lag): SiemCounters {
      const exported = new Counter({
        name: 'latchkey_siem_events_exported_total',
        help: 'Audit events delivered to a SIEM sink (syslog, ndjson), counted when the sink\'s cursor moves past them',
        labelNames: ['sink'],
        registers: [registry],
      });
      const errors = new Counter({
        name: 'latchkey_siem_send_errors_total',
        help: 'Failed sends to a SIEM sink (connection refused or lost, TLS, timeout, write error); the batch is sent again after a backoff',
        labelNames: ['sink'],
        registers: [registry],
      });
      const dropped = new Counter({
        name: 'latchkey_siem_events_dropped_total',
        help: 'Audit events that did not reach a SIEM sink whole, by reason: expired (deleted by retention before export), data_truncated (sent without unmapped.latchkey.data, too large)',
        labelNames: ['sink', 'reason'],
        registers: [registry],
      });
      let pending: Promise<ReadonlyArray<{ sink: string; events: number; seconds: number }>> | undefined;
      // One lag query per scrape for both gauges.
      const read = () => {
        pending ??= lag().finally(() => setTimeout(() => (pending = undefined), 0));
        return pending;
      };
      new Gauge({
        name: 'latchkey_siem_lag_events',
        help: 'Sealed audit events a SIEM sink has not received yet (newest chain seq minus the sink\'s cursor)',
        labelNames: ['sink'],
        registers: [registry],
        async collect() {
          for (const l of await read().catch(() => [])) this.set({ sink: l.sink }, l.events);
        },
      });
      new Gauge({
        name: 'latchkey_siem_lag_seconds',
        help: 'Age of the oldest audit event a SIEM sink has not received yet (0 when it is up to date)',
        labelNames: ['sink'],
        registers: [registry],
        async collect() {
          for (const l of await read().catch(() => [])) this.set({ sink: l.sink }, l.seconds);
        },
      });
      return {
        exported: (sink, count) => exported.inc({ sink }, count),
        sendError: (sink) => errors.inc({ sink }),
        dropped: (sink, reason, count) => dropped.inc({ sink, reason }, count),
      };
    },
  };
}
