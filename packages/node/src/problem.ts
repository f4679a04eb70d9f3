import { LatchkeyTokenError } from './errors.ts';

/** The RFC 9457 problem answer of a refused request, as both middlewares send it. */
export interface TokenProblem {
  status: 401 | 503;
  headers: Record<string, string>;
  body: { type: string; title: string; status: number; code: string; detail: string };
}

/** Maps a verification failure (or a missing token) to the answer: 401, or 503 when the keys could not be fetched. */
export function tokenProblem(error: unknown): TokenProblem {
  if (!(error instanceof LatchkeyTokenError)) throw error;
  if (error.code === 'jwks_unavailable') {
    return {
      status: 503,
      headers: { 'content-type': 'application/problem+json', 'retry-after': '5' },
      body: { type: 'about:blank', title: 'Sign-in keys unavailable', status: 503, code: error.code, detail: 'The token could not be checked right now; try again.' },
    };
  }
  return {
    status: 401,
    headers: { 'content-type': 'application/problem+json', 'www-authenticate': `Bearer error="invalid_token", error_description="${error.code}"` },
    body: { type: 'about:blank', title: 'Unauthorized', status: 401, code: error.code, detail: error.message },
  };
}

/** The token of an `Authorization: Bearer <token>` header, or a `missing_token` error. */
export function bearerToken(header: string | string[] | undefined): string {
  const value = Array.isArray(header) ? header[0] : header;
  const match = value ? /^Bearer +([A-Za-z0-9._~+/-]+=*)$/i.exec(value.trim()) : null;
  if (!match?.[1]) throw new LatchkeyTokenError('missing_token', 'send Authorization: Bearer <access token>');
  return match[1];
}
