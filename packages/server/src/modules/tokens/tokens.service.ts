import { createLocalJWKSet, jwtVerify, SignJWT, type JSONWebKeySet } from 'jose';
import type { Kysely } from 'kysely';
import type { Database } from '../../db/database.ts';
import type { Clock } from '../../platform/clock.ts';
import { toBase64Url } from '../../platform/encoding.ts';
import type { Random } from '../../platform/random.ts';
import type { RequestContext } from '../../platform/request-context.ts';
import type { AuditService } from '../audit/audit.module.ts';
import type { SessionView } from '../sessions/sessions.module.ts';
import { isAllowedAudience, TOKEN_TYPES, tokenClaims, type TokenClaims, type TokenKind } from './claims.ts';
import { createRedeemedRepository } from './redeemed.repository.ts';
import { SIGNING_ALG, type SigningKeys } from './signing-keys.service.ts';
import { TokenErrors } from './tokens.errors.ts';

export interface TokensConfig {
  issuer: string;
  audiences: readonly string[];
  loginResultTtlSeconds: number;
  accessTokenTtlSeconds: number;
}

/** What a token is about: a signed-in user and the session's record of how they signed in. */
export interface TokenSubject {
  user: { id: string };
  session: Pick<SessionView, 'id' | 'amr' | 'userVerified' | 'scope' | 'authTime'>;
}

export interface TokensService {
  /** 400 audience_not_allowed unless the audience is configured; call before any other work. */
  checkAudience(audience: string): void;
  /** Signs a token about the session for the audience, audited as `token.issued` (kind, audience, jti, kid). */
  issue(input: { kind: TokenKind; audience: string; found: TokenSubject; context: RequestContext }): Promise<{ token: string; expiresAt: number }>;
  /** Verifies a login result as its audience would and records its jti: a second redemption is 409. */
  redeem(input: { loginResult: string; audience?: string | undefined; context: RequestContext }): Promise<TokenClaims>;
  sweep(): Promise<void>;
}

export function createTokensService(deps: {
  db: Kysely<Database>;
  clock: Clock;
  random: Random;
  audit: AuditService;
  keys: SigningKeys;
  /** The user's external id (the `sub` when set). */
  externalIdOf(userId: string): Promise<string | null>;
  config: TokensConfig;
}): TokensService {
  const redeemed = createRedeemedRepository();
  const lifetime = (kind: TokenKind) => (kind === 'login_result' ? deps.config.loginResultTtlSeconds : deps.config.accessTokenTtlSeconds);
  const checkAudience = (audience: string) => {
    if (!isAllowedAudience(audience, deps.config.audiences)) throw TokenErrors.audience_not_allowed({ detail: 'Ask for one of the audiences in LATCHKEY_TOKEN_AUDIENCES.' });
  };
  return {
    checkAudience,
    async issue({ kind, audience, found, context }) {
      checkAudience(audience);
      const { kid, key } = await deps.keys.signer();
      const claims = tokenClaims({
        issuer: deps.config.issuer,
        audience,
        user: { id: found.user.id, externalId: await deps.externalIdOf(found.user.id) },
        session: found.session,
        jti: toBase64Url(deps.random.bytes(16)),
        now: deps.clock.now(),
        lifetimeSeconds: lifetime(kind),
      });
      const token = await new SignJWT({ ...claims }).setProtectedHeader({ alg: SIGNING_ALG, typ: TOKEN_TYPES[kind], kid }).sign(key);
      // The row comes before the token leaves: no audit row, no token. The token itself is never stored.
      await deps.audit.record(deps.db, context, {
        type: 'token.issued',
        outcome: 'success',
        subjectUserId: found.user.id,
        sessionId: found.session.id,
        data: { kind, audience, jti: claims.jti, kid },
      });
      return { token, expiresAt: claims.exp * 1000 };
    },
    async redeem({ loginResult, audience, context }) {
      const now = deps.clock.now();
      let claims: TokenClaims;
      try {
        const jwks = JSON.parse(await deps.keys.jwks()) as JSONWebKeySet;
        const { payload } = await jwtVerify(loginResult, createLocalJWKSet(jwks), {
          algorithms: [SIGNING_ALG],
          issuer: deps.config.issuer,
          audience: audience === undefined ? [...deps.config.audiences] : audience,
          typ: TOKEN_TYPES.login_result,
          currentDate: new Date(now),
          requiredClaims: ['jti', 'exp', 'iat', 'sub'],
        });
        claims = payload as unknown as TokenClaims;
      } catch (err) {
        throw TokenErrors.login_result_invalid({ internal: (err as { code?: string }).code ?? 'unreadable' });
      }
      const first = await deps.db.transaction().execute(async (trx) => {
        const inserted = await redeemed.insertIfAbsent(trx, { jti: claims.jti, expiresAt: claims.exp * 1000, redeemedAt: now });
        await deps.audit.record(trx, context, {
          type: 'login_result.redeemed',
          outcome: inserted ? 'success' : 'failure',
          subjectUserId: claims.latchkey_uid,
          errorCode: inserted ? null : 'login_result_used',
          data: { audience: claims.aud, jti: claims.jti },
        });
        return inserted;
      });
      if (!first) throw TokenErrors.login_result_used();
      return claims;
    },
    async sweep() {
      await redeemed.deleteExpired(deps.db, deps.clock.now());
    },
  };
}
