import ipaddr from 'ipaddr.js';

/**
 * SSRF rules for webhook targets (SEC-59), as pure functions: which addresses a delivery may
 * connect to, and which URLs an endpoint may have. The HTTP client (webhooks.http.ts) applies
 * `checkAddress` to the address it is about to connect to, after DNS resolution, so a name that
 * resolves to a public address when the endpoint is saved and to 127.0.0.1 later (DNS
 * rebinding) is refused at the connect that matters.
 */

export type AddressVerdict = { ok: true } | { ok: false; reason: string };

/** Internal targets an operator allows on purpose (LATCHKEY_WEBHOOK_ALLOWED_TARGETS). */
export interface EgressAllowlist {
  readonly cidrs: ReadonlyArray<readonly [ipaddr.IPv4 | ipaddr.IPv6, number]>;
  /** Lower-case host names whose every address is allowed. */
  readonly hosts: ReadonlySet<string>;
}

export const EMPTY_ALLOWLIST: EgressAllowlist = { cidrs: [], hosts: new Set() };

/** Entries are CIDRs (`10.1.0.0/16`, `fd12::/64`), single addresses or host names. */
export function parseAllowlist(entries: readonly string[]): { ok: true; allowlist: EgressAllowlist } | { ok: false; problem: string } {
  const cidrs: (readonly [ipaddr.IPv4 | ipaddr.IPv6, number])[] = [];
  const hosts = new Set<string>();
  for (const raw of entries) {
    const entry = raw.trim().toLowerCase();
    if (entry === '') continue;
    if (ipaddr.isValidCIDR(entry)) cidrs.push(ipaddr.parseCIDR(entry));
    else if (ipaddr.isValid(entry)) {
      const address = ipaddr.parse(entry);
      cidrs.push([address, address.kind() === 'ipv4' ? 32 : 128]);
    } else if (/^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/.test(entry)) hosts.add(entry);
    else return { ok: false, problem: `"${entry.slice(0, 64)}" is neither a CIDR, an address nor a host name` };
  }
  return { ok: true, allowlist: { cidrs, hosts } };
}

/** IPv4 ranges that are never a webhook receiver on the internet. */
const REFUSED_V4: Readonly<Record<string, string>> = {
  unspecified: 'unspecified',
  broadcast: 'broadcast',
  multicast: 'multicast',
  linkLocal: 'link-local (cloud metadata lives at 169.254.169.254)',
  loopback: 'loopback',
  carrierGradeNat: 'carrier-grade NAT',
  private: 'private',
  reserved: 'reserved',
  as112: 'reserved',
  amt: 'reserved',
};

/**
 * Whether a delivery may connect to `address` (an IPv4 or IPv6 literal, as DNS answered it).
 * Only public unicast addresses pass, unless the allowlist names the address's range. IPv6 forms
 * that carry an IPv4 address (mapped `::ffff:a.b.c.d`, compatible `::a.b.c.d`, NAT64 `64:ff9b::`,
 * 6to4, Teredo, SIIT) are refused outright: what they reach depends on a translator.
 */
export function checkAddress(address: string, allowlist: EgressAllowlist = EMPTY_ALLOWLIST): AddressVerdict {
  const literal = address.startsWith('[') && address.endsWith(']') ? address.slice(1, -1) : address;
  // A zone index (fe80::1%eth0) is link-local whatever it says.
  if (literal.includes('%')) return { ok: false, reason: 'an address with a zone index' };
  if (!ipaddr.isValid(literal)) return { ok: false, reason: 'not an IP address' };
  const parsed = ipaddr.parse(literal);
  if (allowed(parsed, allowlist)) return { ok: true };
  if (parsed.kind() === 'ipv4') {
    const range = parsed.range();
    if (range === 'unicast') return { ok: true };
    return { ok: false, reason: REFUSED_V4[range] ?? range };
  }
  const v6 = parsed as ipaddr.IPv6;
  if (v6.isIPv4MappedAddress()) {
    // Allowlisted as IPv4 (the same host), never as a way around the IPv4 rules.
    if (allowed(v6.toIPv4Address(), allowlist)) return { ok: true };
    return { ok: false, reason: 'an IPv4-mapped IPv6 address' };
  }
  const parts = v6.parts;
  if (parts.slice(0, 6).every((p) => p === 0) && !(parts[6] === 0 && (parts[7] ?? 0) <= 1)) return { ok: false, reason: 'an IPv4-compatible IPv6 address' };
  const range = v6.range();
  if (range === 'unicast') return { ok: true };
  const names: Record<string, string> = {
    uniqueLocal: 'unique local (private; fd00:ec2::254 is cloud metadata)',
    linkLocal: 'link-local',
    loopback: 'loopback',
    unspecified: 'unspecified',
    multicast: 'multicast',
    rfc6052: 'NAT64',
    rfc6145: 'an IPv4-translated address',
    '6to4': '6to4',
    teredo: 'Teredo',
  };
  return { ok: false, reason: names[range] ?? range };
}

function allowed(address: ipaddr.IPv4 | ipaddr.IPv6, allowlist: EgressAllowlist): boolean {
  return allowlist.cidrs.some(([range, bits]) => range.kind() === address.kind() && address.match(range, bits));
}

/** Whether `host` (as in a URL, lower case) is an allowlisted name. */
export function isAllowlistedHost(host: string, allowlist: EgressAllowlist): boolean {
  return allowlist.hosts.has(host.toLowerCase());
}

/**
 * An endpoint URL as saved: absolute, `https:` (or `http:` when the operator allows it), no user
 * name or password, no fragment, at most 2,048 characters. A host that is an IP literal is
 * checked now as well (a name is checked at every connect).
 */
export function checkWebhookUrl(input: string, options: { allowHttp: boolean; allowlist: EgressAllowlist }): { ok: true; url: string } | { ok: false; problem: string; refused?: boolean } {
  if (input.length > 2048) return { ok: false, problem: 'longer than 2,048 characters' };
  let url: URL;
  try {
    url = new URL(input);
  } catch {
    return { ok: false, problem: 'not an absolute URL' };
  }
  if (url.protocol !== 'https:' && !(options.allowHttp && url.protocol === 'http:')) {
    return { ok: false, problem: options.allowHttp ? 'the scheme must be https or http' : 'the scheme must be https (LATCHKEY_WEBHOOK_ALLOW_HTTP allows http)' };
  }
  if (url.username || url.password) return { ok: false, problem: 'a user name or password in the URL is not allowed (the signature authenticates us)' };
  if (url.hash) return { ok: false, problem: 'a fragment is not allowed' };
  if (!url.hostname) return { ok: false, problem: 'no host' };
  const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
  if (ipaddr.isValid(host)) {
    const verdict = checkAddress(host, options.allowlist);
    if (!verdict.ok) return { ok: false, problem: `the address is ${verdict.reason} (LATCHKEY_WEBHOOK_ALLOWED_TARGETS allows internal targets)`, refused: true };
  } else if (host === 'localhost' || host.endsWith('.localhost')) {
    if (!isAllowlistedHost(host, options.allowlist)) return { ok: false, problem: 'localhost is loopback (LATCHKEY_WEBHOOK_ALLOWED_TARGETS allows internal targets)', refused: true };
  }
  return { ok: true, url: url.toString() };
}
