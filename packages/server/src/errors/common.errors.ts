import { defineErrors } from './app-error.ts';

/** Errors any route can produce (HTTP-level problems, not business rules). */
export const CommonErrors = defineErrors({
  invalid_request: { status: 400, title: 'The request is not valid', description: 'A field is missing or malformed; `errors` lists each with a JSON pointer.' },
  invalid_url: { status: 400, title: 'The request URL is not valid', description: 'The path has a malformed percent-encoding (e.g. `%zz` or a cut-off UTF-8 sequence).' },
  uri_too_long: { status: 414, title: 'The request URL is too long', description: 'A path segment is longer than any identifier the API uses.' },
  headers_too_large: { status: 431, title: 'The request headers are too large' },
  request_timeout: { status: 408, title: 'The request took too long to arrive' },
  unsupported_media_type: { status: 415, title: 'Request body must be application/json', description: 'Also for a body sent with a Content-Encoding (compression is not accepted).' },
  expectation_failed: { status: 417, title: 'The Expect header cannot be met', description: 'Only `Expect: 100-continue` is understood.' },
  payload_too_large: { status: 413, title: 'Request body is too large' },
  origin_not_allowed: { status: 403, title: 'Origin not allowed', description: 'The Origin header is not one of LATCHKEY_ORIGINS (login CSRF protection).' },
  unauthorized: { status: 401, title: 'Not signed in', description: 'No session, or the session expired or was revoked.' },
  not_found: { status: 404, title: 'Not found' },
  method_not_allowed: { status: 405, title: 'Method not allowed' },
  rate_limited: { status: 429, title: 'Too many requests', description: 'Wait for the number of seconds in Retry-After.' },
  service_unavailable: { status: 503, title: 'Service temporarily unavailable', description: 'The database is not answering; retry later.' },
  internal: { status: 500, title: 'Internal server error' },
});
