import type { Kysely } from 'kysely';
import type { Database } from '../../db/database.ts';
import type { Clock } from '../../platform/clock.ts';
import { sha256Base64Url, toBase64Url } from '../../platform/encoding.ts';
import type { Random } from '../../platform/random.ts';
import type { RequestContext } from '../../platform/request-context.ts';
import type { AuditService } from '../audit/audit.module.ts';
import { createAppendTokensRepository } from './append-tokens.repository.ts';

/** What every append token starts with, so that it is recognised in logs and secret scanners. */
export const APPEND_TOKEN_PREFIX = 'lk_append_';
const TOKEN_SHAPE = /^lk_append_[A-Za-z0-9_-]{43}$/;

export interface IssuedAppendToken {
  id: string;
  /** Shown once, to the backend that asked; only its hash is kept. */
  token: string;
  userId: string;
  expiresAt: number;
}

export interface AppendTokensService {
  /** A new token for `userId`, written with its `append_token.issued` audit row in the caller's transaction. */
  issue(trx: Kysely<Database>, userId: string, context: RequestContext): Promise<IssuedAppendToken>;
  /**
   * Binds a live token to the registration challenge it starts (the last one wins). Undefined
   * when the token is unknown, used or expired.
   */
  bindToChallenge(token: string, challenge: string): Promise<{ id: string; userId: string } | undefined>;
  /** Uses the token for its ceremony, in the registration's transaction: true for exactly one caller. */
  consume(trx: Kysely<Database>, id: string, challenge: string): Promise<boolean>;
  sweep(): Promise<number>;
}

/**
 * Append tokens (issue 11 item 3): one-time, short-lived permission to add one passkey to one
 * user, asked for by the company's backend after its own sign-in. Not a session: it opens none
 * and is good for nothing but `POST /api/v1/passkeys/registration/options` and the verify of the
 * ceremony it started.
 */
export function createAppendTokensService(deps: { db: Kysely<Database>; clock: Clock; random: Random; audit: AuditService; ttlSeconds: number }): AppendTokensService {
  const repository = createAppendTokensRepository();
  return {
    async issue(trx, userId, context) {
      const now = deps.clock.now();
      // 256 random bits: unguessable, so SHA-256 without salt is enough to store it.
      const token = `${APPEND_TOKEN_PREFIX}${toBase64Url(deps.random.bytes(32))}`;
      const issued: IssuedAppendToken = { id: deps.random.uuid(), token, userId, expiresAt: now + deps.ttlSeconds * 1000 };
      await repository.insert(trx, {
        id: issued.id,
        token_hash: sha256Base64Url(token),
        user_id: userId,
        created_at: now,
        expires_at: issued.expiresAt,
        created_by_kind: context.actor?.kind ?? 'cli',
        created_by_id: context.actor?.id ?? null,
        challenge_hash: null,
        used_at: null,
      });
      await deps.audit.record(trx, context, {
        type: 'append_token.issued',
        outcome: 'success',
        subjectUserId: userId,
        data: { appendTokenId: issued.id, expiresAt: new Date(issued.expiresAt).toISOString() },
      });
      return issued;
    },

    async bindToChallenge(token, challenge) {
      if (!TOKEN_SHAPE.test(token)) return undefined;
      return repository.bindChallenge(deps.db, { tokenHash: sha256Base64Url(token), challengeHash: sha256Base64Url(challenge), now: deps.clock.now() });
    },

    async consume(trx, id, challenge) {
      return repository.consume(trx, { id, challengeHash: sha256Base64Url(challenge), now: deps.clock.now() });
    },

    async sweep() {
      return repository.deleteExpired(deps.db, deps.clock.now() - 3_600_000);
    },
  };
}
