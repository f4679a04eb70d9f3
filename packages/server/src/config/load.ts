import { readFileSync } from 'node:fs';
import { Value } from 'typebox/value';
import { parseAllowlist } from '../modules/webhooks/webhooks.module.ts';
import { ConfigSchema, ENVIRONMENT, type Config } from './schema.ts';

/** Thrown when configuration is invalid; `problems` names every bad variable or key at once. */
export class ConfigError extends Error {
  readonly problems: readonly string[];
  constructor(problems: readonly string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

export interface LoadConfigOptions {
  /** Environment to read; `process.env` by default. The only place `process.env` is read. */
  env?: Record<string, string | undefined>;
  /** Overrides applied after the environment (tests use this instead of env strings). */
  overrides?: DeepPartial<Config>;
}

export type DeepPartial<T> = { [K in keyof T]?: T[K] extends object ? (T[K] extends unknown[] ? T[K] : DeepPartial<T[K]>) : T[K] };

type Plain = Record<string, unknown>;

/**
 * Builds the one validated, frozen config object: schema defaults, then the JSON file named by
 * `LATCHKEY_CONFIG_FILE`, then `LATCHKEY_*` variables, then `overrides`. Every problem is reported at once.
 */
export function loadConfig(options: LoadConfigOptions = {}): Readonly<Config> {
  const env = options.env ?? process.env;
  const problems: string[] = [];
  const where = new Map<string, string>();

  let raw: Plain = {};
  const file = env.LATCHKEY_CONFIG_FILE;
  if (file) {
    try {
      const parsed: unknown = JSON.parse(readFileSync(file, 'utf8'));
      if (!isPlain(parsed)) throw new Error('the file must hold a JSON object');
      raw = parsed;
      for (const [section, value] of Object.entries(raw)) {
        if (!isPlain(value)) continue;
        for (const key of Object.keys(value)) {
          const variable = ENVIRONMENT.find((e) => e.path[0] === section && e.path[1] === key)?.env;
          where.set(`/${section}/${key}`, `${variable ? `${variable} (` : ''}${key} in ${section} of ${file}${variable ? ')' : ''}`);
        }
      }
    } catch (err) {
      problems.push(`LATCHKEY_CONFIG_FILE=${file}: ${(err as Error).message}`);
    }
  }

  for (const { env: name, path, list } of ENVIRONMENT) {
    const value = env[name];
    if (value === undefined || value === '') continue;
    raw[path[0]] ??= {};
    const section = raw[path[0]] as Plain;
    section[path[1]] = list ? value.split(',').map((v) => v.trim()).filter(Boolean) : fromEnvString(value, settingSchema(path));
    where.set(`/${path[0]}/${path[1]}`, name);
  }
  for (const [key] of Object.entries(env)) {
    if (key.startsWith('LATCHKEY_') && key !== 'LATCHKEY_CONFIG_FILE' && !ENVIRONMENT.some((e) => e.env === key)) {
      problems.push(`${key}: unknown variable (see the configuration table in the README)`);
    }
  }
  if (options.overrides) merge(raw, options.overrides as Plain);

  // No Value.Convert: it would read LATCHKEY_PORT=true as 1 and 80.5 as 80. Environment strings are
  // converted strictly above; the file and overrides are JSON and already typed.
  const config: unknown = Value.Default(ConfigSchema, structuredClone(raw));
  const reported = new Set<string>();
  for (const error of Value.Errors(ConfigSchema, config)) {
    if (error.keyword === 'boolean') continue; // reported again as additionalProperties
    const pointer = error.instancePath;
    // A union reports once per branch; one line per setting is what an operator needs.
    if (reported.has(pointer)) continue;
    reported.add(pointer);
    const extra = (error.params as { additionalProperties?: string[] }).additionalProperties;
    if (extra) {
      // Only a config file (or a test's overrides) can hold unknown keys: unknown variables are reported above.
      const setting = `${pointer ? `${pointer.slice(1).replaceAll('/', '.')}.` : ''}`;
      for (const key of extra) problems.push(`${file ? `LATCHKEY_CONFIG_FILE=${file}` : 'config'}: unknown setting "${setting}${key}"`);
      continue;
    }
    const name = nameOf(pointer, where);
    const got = valueAt(config, pointer);
    const allowed = allowedValues(pointer);
    const message = allowed ? `must be one of ${allowed.join(', ')}` : error.message;
    problems.push(`${name}: ${message}${got === undefined ? '' : ` (got ${JSON.stringify(got)})`}`);
  }
  const valid = config as Config;
  // The default origin follows the port; from a bad port it would only add a second, confusing problem.
  if (Array.isArray(valid.rp?.origins) && valid.rp.origins.length === 0 && Number.isInteger(valid.server?.port)) valid.rp.origins = [valid.server.port === 80 ? 'http://localhost' : `http://localhost:${valid.server.port}`];
  // One problem with the RP ID explains itself; the origins would only repeat it.
  const rpIdProblem = typeof valid.rp?.id === 'string' ? checkRpId(valid.rp.id) : undefined;
  if (rpIdProblem) problems.push(`${nameOf('/rp/id', where)}: ${rpIdProblem}`);
  try {
    // Also run when a field above is wrong, so every problem is reported at once.
    problems.push(...crossFieldProblems(valid, where, rpIdProblem === undefined));
  } catch {
    // a field these checks read is itself invalid and already reported
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return deepFreeze(valid);
}

interface SettingSchema {
  type?: string;
  anyOf?: Array<{ const?: unknown }>;
}

function settingSchema(path: readonly [string, string]): SettingSchema | undefined {
  const sections = (ConfigSchema as unknown as { properties: Record<string, { properties: Record<string, SettingSchema> }> }).properties;
  return sections[path[0]]?.properties[path[1]];
}

/**
 * Environment values are strings; integers must be plain decimal integers, numbers decimals, and booleans `true` or
 * `false`. Anything else is left as the string it was, so the schema reports it with the bad value.
 */
function fromEnvString(value: string, schema: SettingSchema | undefined): unknown {
  if (schema?.type === 'integer' && /^-?\d{1,15}$/.test(value.trim())) return Number(value.trim());
  if (schema?.type === 'number' && /^-?\d{1,15}(\.\d{1,9})?$/.test(value.trim())) return Number(value.trim());
  if (schema?.type === 'boolean' && (value === 'true' || value === 'false')) return value === 'true';
  return value;
}

/** For a setting that is a choice of fixed strings, the strings (so the message can list them). */
function allowedValues(pointer: string): string[] | undefined {
  const [, section, key] = pointer.split('/');
  if (!section || !key) return undefined;
  const choices = settingSchema([section, key])?.anyOf;
  if (!choices?.every((c) => typeof c.const === 'string')) return undefined;
  return choices.map((c) => String(c.const));
}

/** What an RP ID is, for every message about one (WebAuthn L3 §5.1.4.1: a registrable domain suffix of the origin). */
export const RP_ID_HELP =
  'the RP ID (LATCHKEY_RP_ID) is a domain name such as example.com, without scheme, port or path; every origin in LATCHKEY_ORIGINS must be that domain or one of its subdomains (https://example.com, https://app.example.com)';

/**
 * Why a value cannot be an RP ID, or undefined. WebAuthn takes a domain only: not a URL, not an
 * IP address (L3 §5.1.4.1: the RP ID must be a registrable domain suffix of the effective domain,
 * and an IP address has none), no port, no path.
 */
export function checkRpId(value: string): string | undefined {
  const id = value.trim();
  const url = /^[a-z][a-z0-9+.-]*:\/\//i.test(id) ? parseUrl(id) : undefined;
  if (url) {
    const hostname = url.hostname.replace(/^\[|\]$/g, '');
    // https://192.168.1.10 is a URL and an IP address: the IP address is what needs fixing.
    return checkRpId(hostname)?.replace(`"${hostname}"`, `"${value}"`) ?? `"${value}" is a URL, not an RP ID: use "${hostname}" (${RP_ID_HELP})`;
  }
  const host = id.replace(/[:/].*$/, '');
  const ipv6 = id.startsWith('[') || (id.match(/:/g)?.length ?? 0) > 1;
  if (ipv6 || /^\d{1,3}(\.\d{1,3}){3}$/.test(host)) {
    return `"${value}" is an IP address, which WebAuthn does not allow as an RP ID: use a domain name (localhost for local development) (${RP_ID_HELP})`;
  }
  if (id !== host) return `"${value}" has a ${id[host.length] === ':' ? 'port' : 'path'}: use "${host}" (${RP_ID_HELP})`;
  if (!/^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/i.test(id)) {
    return `"${value}" is not a domain name (${RP_ID_HELP})`;
  }
  return undefined;
}

function parseUrl(value: string): URL | undefined {
  try {
    return new URL(value);
  } catch {
    return undefined;
  }
}

/** The variable (or config file key) a setting came from; a default's own variable when it came from none. */
function nameOf(pointer: string, where: Map<string, string>): string {
  const found = where.get(pointer);
  if (found) return found;
  const [, section, key] = pointer.split('/');
  const variable = ENVIRONMENT.find((e) => e.path[0] === section && e.path[1] === key)?.env;
  return variable ?? `LATCHKEY_CONFIG_FILE ${pointer.slice(1).replaceAll('/', '.')}`;
}

function crossFieldProblems(config: Config, where: Map<string, string>, rpIdValid: boolean): string[] {
  const problems: string[] = [];
  const originsName = nameOf('/rp/origins', where);
  const rpId = config.rp.id.toLowerCase();
  // The default RP ID is easy to forget: say that it is one.
  const rpIdName = where.has('/rp/id') ? `the RP ID "${config.rp.id}"` : `the RP ID "${config.rp.id}" (LATCHKEY_RP_ID is not set)`;
  for (const [list, name] of [[config.rp.origins, originsName], [config.rp.topOrigins, nameOf('/rp/topOrigins', where)]] as const) {
    for (const origin of list) {
      const parsed = parseOrigin(origin);
      if (!parsed) {
        problems.push(`${name}: "${origin}" is not an origin (scheme://host[:port], no path)`);
        continue;
      }
      if (parsed.protocol !== 'https:' && !(parsed.protocol === 'http:' && isLocalhost(parsed.hostname))) {
        problems.push(`${name}: "${origin}" must use https (http is allowed only for localhost)`);
      }
      if (list === config.rp.origins && rpIdValid) {
        const host = parsed.hostname.toLowerCase();
        if (host !== rpId && !host.endsWith(`.${rpId}`)) {
          problems.push(`${name}: "${origin}" is not on ${rpIdName} or one of its subdomains: set LATCHKEY_RP_ID to the domain your users' browsers show, or fix the origin (${RP_ID_HELP})`);
        }
      }
    }
  }
  for (const path of ['/cors/origins', '/wellKnown/relatedOrigins'] as const) {
    const name = nameOf(path, where);
    const list = path === '/cors/origins' ? config.cors.origins : config.wellKnown.relatedOrigins;
    for (const origin of list) {
      const parsed = parseOrigin(origin);
      if (!parsed) problems.push(`${name}: "${origin}" is not an origin (scheme://host[:port], no path)`);
      else if (parsed.protocol !== 'https:' && !(parsed.protocol === 'http:' && isLocalhost(parsed.hostname))) {
        problems.push(`${name}: "${origin}" must use https (http is allowed only for localhost)`);
      } else if (path === '/cors/origins' && !config.rp.origins.includes(origin)) {
        // SEC-61: CORS only for LATCHKEY_ORIGINS. The page runs the ceremony on its own origin, so it is one anyway.
        problems.push(`${name}: "${origin}" must also be in ${originsName}`);
      }
    }
  }
  for (const key of ['appleAppSiteAssociation', 'assetLinks'] as const) {
    const document = config.wellKnown[key];
    if (document === undefined) continue;
    try {
      JSON.parse(document);
    } catch {
      problems.push(`${nameOf(`/wellKnown/${key}`, where)}: must be a JSON document`);
    }
  }
  if (!/^(sqlite:.+|postgres(ql)?:\/\/.+)$/.test(config.database.url)) {
    problems.push(`${nameOf('/database/url', where)}: must be sqlite:<path> or postgres://user:pass@host:port/db`);
  }
  if (config.emailCode.addressCeilingPerHour < config.emailCode.perAddressPerHour) {
    problems.push(
      `${nameOf('/emailCode/addressCeilingPerHour', where)}: must not be lower than ${nameOf('/emailCode/perAddressPerHour', where)} (the address-wide ceiling is above the per-client quota)`,
    );
  }
  if (config.siem.syslogTransport === 'tcp' && config.server.environment === 'production') {
    problems.push(`${nameOf('/siem/syslogTransport', where)}: tcp sends the audit log unencrypted; use tls in production`);
  }
  if ((config.siem.syslogCertFile === undefined) !== (config.siem.syslogKeyFile === undefined)) {
    problems.push(`${nameOf('/siem/syslogCertFile', where)} and ${nameOf('/siem/syslogKeyFile', where)}: set both (a client certificate needs its key) or neither`);
  }
  if (config.session.absoluteTimeoutSeconds < config.session.idleTimeoutSeconds) {
    problems.push(`${nameOf('/session/absoluteTimeoutSeconds', where)}: must not be shorter than ${nameOf('/session/idleTimeoutSeconds', where)}`);
  }
  const allowlist = parseAllowlist(config.webhooks.allowedTargets);
  if (!allowlist.ok) problems.push(`${nameOf('/webhooks/allowedTargets', where)}: ${allowlist.problem}`);
  return problems;
}

/** Parses an exact origin; anything with a path, query, credentials or fragment is refused. */
export function parseOrigin(origin: string): URL | undefined {
  try {
    const url = new URL(origin);
    if (url.origin !== origin || url.hostname.includes('*')) return undefined;
    return url;
  } catch {
    return undefined;
  }
}

export function isLocalhost(hostname: string): boolean {
  return hostname === 'localhost' || hostname.endsWith('.localhost') || hostname === '127.0.0.1' || hostname === '[::1]';
}

function isPlain(value: unknown): value is Plain {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function merge(target: Plain, source: Plain): void {
  for (const [key, value] of Object.entries(source)) {
    if (isPlain(value)) {
      target[key] ??= {};
      merge(target[key] as Plain, value);
    }
    else target[key] = value;
  }
}

function valueAt(root: unknown, pointer: string): unknown {
  let node = root;
  for (const part of pointer.split('/').slice(1)) node = isPlain(node) ? node[part] : undefined;
  return node;
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}

/** A copy safe to log: secrets and database passwords removed. */
export function redactConfig(config: Config): unknown {
  return {
    ...config,
    database: { ...config.database, url: config.database.url.replace(/\/\/([^:/@]+):[^@]+@/, '//$1:***@') },
    secrets: { serverSecret: config.secrets.serverSecret ? '***' : undefined, encryptionKey: config.secrets.encryptionKey ? '***' : undefined },
    password: { ...config.password, pepper: config.password.pepper ? '***' : undefined },
    mail: { ...config.mail, smtpUrl: config.mail.smtpUrl?.replace(/\/\/([^:/@]+):[^@]+@/, '//$1:***@') },
    metrics: { ...config.metrics, token: config.metrics.token ? '***' : undefined },
  };
}
