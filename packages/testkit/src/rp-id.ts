/**
 * Browser-style RP ID check: the RP ID must equal the origin's host or be a dot-separated
 * suffix of it (`example.com` for `login.example.com`). Unlike a browser there is no public
 * suffix list, so `com` would pass; good enough for tests.
 */
export function isRpIdValidForHost(rpId: string, host: string): boolean {
  const id = rpId.toLowerCase();
  const h = host.toLowerCase();
  return id.length > 0 && (h === id || h.endsWith(`.${id}`));
}
