import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { isIP } from 'node:net';
import { Agent, buildConnector, type Dispatcher } from 'undici';
import type { Clock } from '../../platform/clock.ts';
import { checkAddress, isAllowlistedHost, type EgressAllowlist } from './webhooks.address.ts';

/** What one POST to a receiver came to. */
export interface SendResult {
  /** The HTTP status, or null when no response came. */
  status: number | null;
  latencyMs: number;
  /** Why no usable answer came: `timeout`, `address_refused: …`, `connection_refused`, …; null with a status. */
  error: string | null;
  /** The start of the response body (at most `excerptBytes`), for the delivery log. */
  excerpt: string | null;
  /** Retry-After of a 429 or 503, in seconds. */
  retryAfterSeconds: number | null;
}

export interface WebhookHttpClient {
  post(url: string, headers: Record<string, string>, body: string): Promise<SendResult>;
  close(): Promise<void>;
}

/** The refusal a guarded connect ends with (SEC-59). */
class AddressRefusedError extends Error {
  readonly code = 'LATCHKEY_ADDRESS_REFUSED';
}

const EXCERPT_BYTES = 1024;

/**
 * The one HTTP client webhooks use: undici with a connector that resolves the host itself and
 * checks every address against the SSRF rules before connecting to exactly that address (so a
 * DNS answer that changes between the check and the connect cannot slip through: there is no
 * second resolution). IP-literal hosts, which Node never looks up, are checked the same way.
 * Redirects are never followed (undici's `request` does not), bodies are read up to 1 KiB, and
 * connect, headers and body each have the timeout, as does the whole exchange.
 */
export function createWebhookHttpClient(options: { timeoutMs: number; allowlist: EgressAllowlist; clock: Clock }): WebhookHttpClient {
  const guardedLookup = (
    hostname: string,
    lookupOptions: { family?: number | string; all?: boolean; hints?: number },
    callback: (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void,
  ): void => {
    const family = lookupOptions.family === 'IPv4' ? 4 : lookupOptions.family === 'IPv6' ? 6 : typeof lookupOptions.family === 'number' ? lookupOptions.family : 0;
    dnsLookup(hostname, { all: true, family, ...(lookupOptions.hints === undefined ? {} : { hints: lookupOptions.hints }) }, (err, addresses) => {
      if (err) return callback(err, []);
      if (!isAllowlistedHost(hostname, options.allowlist)) {
        for (const { address } of addresses) {
          const verdict = checkAddress(address, options.allowlist);
          // One refused address refuses the name: a receiver does not need a private address too.
          if (!verdict.ok) return callback(new AddressRefusedError(`${hostname} resolves to ${address}: ${verdict.reason}`), []);
        }
      }
      if (lookupOptions.all) return callback(null, addresses);
      const first = addresses[0];
      if (!first) return callback(Object.assign(new Error(`${hostname}: no address`), { code: 'ENOTFOUND' }), []);
      return callback(null, first.address, first.family);
    });
  };
  const connect = buildConnector({ timeout: options.timeoutMs, lookup: guardedLookup } as buildConnector.BuildOptions);
  const agent = new Agent({
    connect: (connectOptions, callback) => {
      const host = connectOptions.hostname.startsWith('[') ? connectOptions.hostname.slice(1, -1) : connectOptions.hostname;
      if (isIP(host) !== 0) {
        const verdict = checkAddress(host, options.allowlist);
        if (!verdict.ok) {
          callback(new AddressRefusedError(`${host}: ${verdict.reason}`), null);
          return;
        }
      }
      connect(connectOptions, callback);
    },
    headersTimeout: options.timeoutMs,
    bodyTimeout: options.timeoutMs,
    connections: 64,
  });

  // Endpoint URLs parsed once, not per attempt (a few endpoints, thousands of attempts a minute).
  const targets = new Map<string, Target>();
  const targetOf = (url: string): Target => {
    let target = targets.get(url);
    if (!target) {
      const parsed = new URL(url);
      target = { origin: parsed.origin, path: `${parsed.pathname}${parsed.search}` };
      if (targets.size >= 256) targets.clear();
      targets.set(url, target);
    }
    return target;
  };

  return {
    post(url, headers, body) {
      // A measurement, not a decision: the monotonic clock, not the injected one.
      const started = performance.now();
      return new Promise<SendResult>((resolve) => {
        // The low-level dispatch API: no response stream, no AbortSignal per attempt (undici's
        // `request` builds both; this is ~40% less CPU per delivery, bench/RESULTS.md).
        const chunks: Buffer[] = [];
        let size = 0;
        let status: number | null = null;
        let retryAfter: number | null = null;
        let controller: Dispatcher.DispatchController | undefined;
        let settled = false;
        const finish = (result: Omit<SendResult, 'latencyMs'>) => {
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          resolve({ ...result, latencyMs: Math.max(0, Math.round(performance.now() - started)) });
        };
        const answered = () => finish({ status, error: null, excerpt: decodeExcerpt(chunks, size), retryAfterSeconds: retryAfter });
        // The whole exchange has the timeout too (connect, headers and body have it each).
        const timer = setTimeout(() => {
          finish({ status: null, error: 'timeout', excerpt: null, retryAfterSeconds: null });
          controller?.abort(new TimeoutError());
        }, options.timeoutMs);
        let target: Target;
        try {
          target = targetOf(url);
        } catch (err) {
          finish({ status: null, error: describe(err), excerpt: null, retryAfterSeconds: null });
          return;
        }
        agent.dispatch(
          { origin: target.origin, path: target.path, method: 'POST', headers, body },
          {
            onRequestStart(c) {
              controller = c;
              if (settled) c.abort(new TimeoutError());
            },
            onResponseStart(_c, statusCode, responseHeaders) {
              status = statusCode;
              if (statusCode === 429 || statusCode === 503) retryAfter = parseRetryAfter(responseHeaders['retry-after'], options.clock.now());
            },
            onResponseData(c, chunk) {
              chunks.push(chunk);
              size += chunk.length;
              // Enough for the log: the rest is not read, the connection is dropped.
              if (size >= EXCERPT_BYTES) {
                answered();
                c.abort(new ExcerptComplete());
              }
            },
            onResponseEnd: answered,
            onResponseError(_c, err) {
              // A body that breaks off after the status still leaves the status and what came.
              if (status !== null) answered();
              else finish({ status: null, error: describe(err), excerpt: null, retryAfterSeconds: null });
            },
          },
        );
      });
    },
    close: () => agent.close(),
  };
}

/** Where a POST goes, in undici's terms. */
interface Target {
  origin: string;
  path: string;
}

/** Ends an attempt that took longer than the timeout. */
class TimeoutError extends Error {
  override readonly name = 'TimeoutError';
}
/** Ends the read of a response once the excerpt has its 1 KiB. */
class ExcerptComplete extends Error {}

function decodeExcerpt(chunks: Buffer[], size: number): string | null {
  if (size === 0) return null;
  return new TextDecoder('utf-8', { fatal: false }).decode(Buffer.concat(chunks).subarray(0, EXCERPT_BYTES));
}

/** RFC 9110 §10.2.3: delay-seconds or an HTTP-date. */
export function parseRetryAfter(value: string | string[] | undefined, now: number): number | null {
  const text = Array.isArray(value) ? value[0] : value;
  if (!text) return null;
  if (/^\s*\d{1,9}\s*$/.test(text)) return Number(text.trim());
  const date = Date.parse(text);
  return Number.isNaN(date) ? null : Math.max(0, Math.ceil((date - now) / 1000));
}

function describe(err: unknown): string {
  const seen = new Set<unknown>();
  let current: unknown = err;
  // undici wraps the connector's error; the refusal may be a cause or two down.
  while (current && typeof current === 'object' && !seen.has(current)) {
    seen.add(current);
    if (current instanceof AddressRefusedError) return `address_refused: ${current.message}`.slice(0, 300);
    current = (current as { cause?: unknown }).cause;
  }
  const e = err as { name?: string; code?: string; message?: string };
  if (e.name === 'TimeoutError' || e.name === 'AbortError' || e.code === 'UND_ERR_CONNECT_TIMEOUT' || e.code === 'UND_ERR_HEADERS_TIMEOUT' || e.code === 'UND_ERR_BODY_TIMEOUT') return 'timeout';
  if (e.code === 'ECONNREFUSED') return 'connection_refused';
  if (e.code === 'ECONNRESET' || e.code === 'UND_ERR_SOCKET') return 'connection_reset';
  if (e.code === 'ENOTFOUND' || e.code === 'EAI_AGAIN') return 'dns_failed';
  if (typeof e.code === 'string' && /^[A-Z_0-9]{2,40}$/.test(e.code)) return `network_error: ${e.code}`;
  return 'network_error';
}
