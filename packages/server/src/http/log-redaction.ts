/**
 * What a request's URL may say in a log line. Management lookups are POSTs (the person is in the
 * body), but a search names a person in its query (`?query=kim`), and a client may still call an
 * old-style `/users/by-email/kim@example.com`: logs keep the route's shape and drop the personal
 * part, so access logs hold no e-mail addresses or names (SEC-51; the audit row records the read
 * with the user id instead).
 */
const PERSONAL_SEGMENT = /(\/users\/by-(?:email|username|external-id)\/)[^/?#]*/;

export function loggableUrl(url: string): string {
  const adminApi = url.startsWith('/api/admin/');
  const redacted = url.replace(PERSONAL_SEGMENT, '$1[redacted]');
  if (!adminApi) return redacted;
  const query = redacted.indexOf('?');
  return query === -1 ? redacted : `${redacted.slice(0, query)}?[redacted]`;
}

/** Fastify's own request serializer (method, url, host, remote address and port), with `loggableUrl`. */
export function loggableRequest(request: { method: string; url: string; host: string; ip: string; socket?: { remotePort?: number | undefined } | undefined }) {
  return { method: request.method, url: loggableUrl(request.url), host: request.host, remoteAddress: request.ip, remotePort: request.socket?.remotePort };
}
