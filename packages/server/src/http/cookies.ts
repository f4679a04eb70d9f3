import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Config } from '../config/schema.ts';
import { looksLikeApiKey } from '../modules/api-keys/api-keys.module.ts';

/**
 * Cookie names and attributes, decided from config, never from the request (SEC-25):
 * `__Host-` prefixed and Secure when every origin is https; plain names on http://localhost.
 */
export function createCookiePolicy(config: Readonly<Config>) {
  const secure = config.rp.origins.every((o) => o.startsWith('https:'));
  const session = secure ? '__Host-latchkey_session' : 'latchkey_session';
  const ceremony = secure ? '__Host-latchkey_ceremony' : 'latchkey_ceremony';
  const base = { httpOnly: true, secure, sameSite: 'lax' as const, path: '/' };

  return {
    secure,
    sessionCookieName: session,
    ceremonyCookieName: ceremony,
    setSession(reply: FastifyReply, token: string, expiresAt: number, now: number): void {
      reply.setCookie(session, token, { ...base, maxAge: Math.max(0, Math.floor((expiresAt - now) / 1000)) });
    },
    clearSession(reply: FastifyReply): void {
      reply.clearCookie(session, base);
    },
    /**
     * The session token a request carries: `Authorization: Bearer` first, then the session cookie.
     * A bearer API key (`lk_live_…`) is not a session token, and the cookie is then not looked at
     * either: such a request is exempt from the CSRF check, so it must never ride on a cookie.
     */
    sessionToken(request: FastifyRequest): { token: string; via: 'bearer' | 'cookie' } | undefined {
      const auth = request.headers.authorization;
      // RFC 9110 §11.1: the scheme name is case-insensitive.
      if (auth && /^bearer /i.test(auth)) {
        const token = auth.slice(7).trim();
        return looksLikeApiKey(token) ? undefined : { token, via: 'bearer' };
      }
      const cookie = request.cookies[session];
      return cookie ? { token: cookie, via: 'cookie' } : undefined;
    },
    /**
     * A bearer client: one that binds its ceremonies by the `Latchkey-Ceremony` header alone, with
     * no ceremony cookie. Only such a client finds the session token in a response body; a cookie
     * client (a browser) never does, so no script on its page can read what HttpOnly hides.
     */
    isBearerClient(request: FastifyRequest): boolean {
      const header = request.headers['latchkey-ceremony'];
      return typeof header === 'string' && /^[A-Za-z0-9_-]{43}$/.test(header) && request.cookies[ceremony] === undefined;
    },
    /**
     * Whether the answer to a re-authentication (step-up, second factor) carries the session's new
     * token: for a bearer client, or a request whose session came as `Authorization: Bearer` (its
     * script held the old token already). A cookie-carried session gets only the new cookie.
     */
    receivesToken(request: FastifyRequest): boolean {
      return this.isBearerClient(request) || this.sessionToken(request)?.via === 'bearer';
    },
    /** The API key a request carries as `Authorization: Bearer lk_live_…`, if any. */
    apiKey(request: FastifyRequest): string | undefined {
      const auth = request.headers.authorization;
      if (!auth || !/^bearer /i.test(auth)) return undefined;
      const token = auth.slice(7).trim();
      return looksLikeApiKey(token) ? token : undefined;
    },
    /** The ceremony binding a request carries (SEC-23): the cookie, or the header for cookie-less clients. */
    ceremonyBinding(request: FastifyRequest): string | undefined {
      const header = request.headers['latchkey-ceremony'];
      const value = (typeof header === 'string' ? header : undefined) ?? request.cookies[ceremony];
      return value && /^[A-Za-z0-9_-]{43}$/.test(value) ? value : undefined;
    },
    /** Keeps one binding per client, so several ceremonies may be open at once from one browser. */
    issueCeremonyBinding(request: FastifyRequest, reply: FastifyReply, fresh: () => string, ttlSeconds: number): string {
      const binding = this.ceremonyBinding(request) ?? fresh();
      reply.setCookie(ceremony, binding, { ...base, maxAge: ttlSeconds });
      reply.header('latchkey-ceremony', binding);
      return binding;
    },
  };
}

export type CookiePolicy = ReturnType<typeof createCookiePolicy>;
