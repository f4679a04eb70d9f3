import type { Kysely } from 'kysely';
import type { Database } from '../../db/database.ts';
import { AppError } from '../../errors/app-error.ts';
import { CommonErrors } from '../../errors/common.errors.ts';
import type { RateLimiter } from '../../http/rate-limit.ts';
import type { Clock } from '../../platform/clock.ts';
import { safeEqual, sha256Base64Url, toBase32, toBase64Url } from '../../platform/encoding.ts';
import type { Random } from '../../platform/random.ts';
import type { RequestContext } from '../../platform/request-context.ts';
import type { AuditService } from '../audit/audit.module.ts';
import { ApiKeyErrors } from './api-keys.errors.ts';
import { createApiKeysRepository, type StoredApiKey } from './api-keys.repository.ts';
import { isApiKeyScope, parseScopes, type ApiKeyScope } from './api-keys.scopes.ts';

/**
 * `lk_live_` + key id (16 base32 characters, 80 bits) + `_` + secret (32 bytes, base64url).
 * The fixed prefix lets secret scanners find leaked keys and tells a key from a session token
 * before any lookup; the id makes the lookup a primary-key read.
 */
export const API_KEY_PREFIX = 'lk_live_';
const KEY_FORMAT = /^lk_live_([a-z2-7]{16})_([A-Za-z0-9_-]{43})$/;
const NAME_MAX = 64;
/** Last use is written at most this often per key: a busy key must not cost a write per request. */
const TOUCH_INTERVAL_MS = 60_000;
/** Compared against when the id is unknown, so an unknown id and a wrong secret cost the same. */
const DUMMY_HASH = sha256Base64Url('latchkey:no-such-api-key');

/** Whether a bearer credential is an API key (by its prefix), so it is never taken for a session token. */
export function looksLikeApiKey(token: string): boolean {
  return token.startsWith(API_KEY_PREFIX);
}

/** The key behind a request: what authorisation and the audit log need. */
export interface ApiKeyPrincipal {
  id: string;
  name: string;
  scopes: ApiKeyScope[];
}

/** An API key as the management API and the CLI show it; never the secret or its hash. */
export interface ApiKeyView {
  id: string;
  name: string;
  /** The non-secret start of the key, to recognise it in a list: `lk_live_<id>`. */
  prefix: string;
  scopes: ApiKeyScope[];
  createdAt: string;
  createdBy: { kind: string; id: string | null };
  expiresAt: string | null;
  lastUsedAt: string | null;
  revokedAt: string | null;
}

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

function toView(key: StoredApiKey): ApiKeyView {
  return {
    id: key.id,
    name: key.name,
    prefix: `${API_KEY_PREFIX}${key.id}`,
    scopes: key.scopes.filter(isApiKeyScope),
    createdAt: new Date(key.createdAt).toISOString(),
    createdBy: key.createdBy,
    expiresAt: iso(key.expiresAt),
    lastUsedAt: iso(key.lastUsedAt),
    revokedAt: iso(key.revokedAt),
  };
}

export interface ApiKeysService {
  /** Makes a key; the secret is in the answer and nowhere else, ever. */
  create(input: {
    name: string;
    scopes: readonly string[];
    expiresAt?: number | null;
    /** The key (or the staff member's role) making this one, if any: it can only grant scopes it holds. */
    creator?: ApiKeyPrincipal;
    context: RequestContext;
  }): Promise<{ key: ApiKeyView; secret: string }>;
  list(): Promise<ApiKeyView[]>;
  /** Revokes at once; 404 api_key_not_found for an unknown id. Revoking twice is not an error. */
  revoke(id: string, context: RequestContext): Promise<ApiKeyView>;
  /** The principal of a presented key, or 401 (invalid, expired, revoked); failures are audited. */
  authenticate(presented: string, context: RequestContext): Promise<ApiKeyPrincipal>;
  /** Audits a refused request (SEC-50) and returns the 403 insufficient_scope naming the scope. */
  deny(context: RequestContext, scope: ApiKeyScope): Promise<AppError>;
}

export function createApiKeysService(deps: {
  db: Kysely<Database>;
  clock: Clock;
  random: Random;
  audit: AuditService;
  /**
   * Counts refused keys per client IP: past its limit a refusal is a 429 and is not audited, so
   * guessing cannot flood the audit log. Accepted keys are never counted.
   */
  failureLimiter?: RateLimiter;
}): ApiKeysService {
  const repository = createApiKeysRepository();

  async function reject(context: RequestContext, keyId: string | null, error: AppError, reason: string): Promise<AppError> {
    try {
      await deps.failureLimiter?.hit(`api-key-failure-ip:${context.ip ?? 'unknown'}`);
    } catch (limited) {
      if (limited instanceof AppError && limited.code === 'rate_limited') return limited;
      throw limited;
    }
    await deps.audit.record(deps.db, { ...context, actor: { kind: 'api_key', id: keyId } }, {
      type: 'api_key.rejected',
      outcome: 'failure',
      errorCode: error.code,
      reason,
    });
    return error;
  }

  return {
    async create(input) {
      const name = input.name.replace(/\s+/gu, ' ').trim().normalize('NFC');
      if (name.length === 0 || [...name].length > NAME_MAX || /[\p{Cc}\p{Cf}]/u.test(name)) {
        throw CommonErrors.invalid_request({ detail: `/name: must be 1 to ${NAME_MAX} characters without control characters` });
      }
      const parsed = parseScopes(input.scopes);
      if (!parsed.ok) throw CommonErrors.invalid_request({ detail: `/scopes: ${parsed.problem}` });
      const creator = input.creator;
      const beyond = creator ? parsed.scopes.filter((s) => !creator.scopes.includes(s)) : [];
      if (beyond.length > 0) {
        // A key cannot mint a more powerful key than itself.
        throw ApiKeyErrors.insufficient_scope({ detail: `This key cannot grant ${beyond.join(', ')}`, extensions: { scope: beyond[0] } });
      }
      const now = deps.clock.now();
      if (input.expiresAt !== undefined && input.expiresAt !== null && input.expiresAt <= now) {
        throw CommonErrors.invalid_request({ detail: '/expiresAt: must be in the future' });
      }
      const id = toBase32(deps.random.bytes(10)).toLowerCase();
      const secret = toBase64Url(deps.random.bytes(32));
      const stored: StoredApiKey = {
        id,
        name,
        secretHash: sha256Base64Url(secret),
        scopes: parsed.scopes,
        createdAt: now,
        // Whoever acts (a key, a staff member in the console, the CLI operator) made it.
        createdBy: { kind: input.context.actor?.kind ?? (creator ? 'api_key' : 'cli'), id: input.context.actor?.id ?? creator?.id ?? null },
        expiresAt: input.expiresAt ?? null,
        lastUsedAt: null,
        revokedAt: null,
      };
      await deps.db.transaction().execute(async (trx) => {
        await repository.insert(trx, {
          id,
          name,
          secret_hash: stored.secretHash,
          scopes: JSON.stringify(stored.scopes),
          created_at: now,
          created_by_kind: stored.createdBy.kind,
          created_by_id: stored.createdBy.id,
          expires_at: stored.expiresAt,
          last_used_at: null,
          revoked_at: null,
        });
        await deps.audit.record(trx, input.context, {
          type: 'api_key.created',
          outcome: 'success',
          data: { keyId: id, name, scopes: stored.scopes, expiresAt: iso(stored.expiresAt) },
        });
      });
      return { key: toView(stored), secret: `${API_KEY_PREFIX}${id}_${secret}` };
    },

    async list() {
      return (await repository.list(deps.db)).map(toView);
    },

    async revoke(id, context) {
      return deps.db.transaction().execute(async (trx) => {
        if (await repository.revoke(trx, id, deps.clock.now())) {
          await deps.audit.record(trx, context, { type: 'api_key.revoked', outcome: 'success', data: { keyId: id } });
        }
        const key = await repository.findById(trx, id);
        if (!key) throw ApiKeyErrors.api_key_not_found();
        return toView(key);
      });
    },

    async deny(context, scope) {
      await deps.audit.record(deps.db, context, { type: 'authorization.denied', outcome: 'failure', errorCode: 'insufficient_scope', data: { scope } });
      return ApiKeyErrors.insufficient_scope({ detail: `This needs the scope ${scope}`, extensions: { scope } });
    },

    async authenticate(presented, context) {
      const match = KEY_FORMAT.exec(presented);
      if (!match) throw await reject(context, null, ApiKeyErrors.api_key_invalid(), 'malformed key');
      const [, id = '', secret = ''] = match;
      const key = await repository.findById(deps.db, id);
      // Unknown id and wrong secret: the same work and the same answer.
      const hashMatches = safeEqual(sha256Base64Url(secret), key?.secretHash ?? DUMMY_HASH);
      if (!key || !hashMatches) throw await reject(context, id, ApiKeyErrors.api_key_invalid(), key ? 'wrong secret' : 'unknown key id');
      const now = deps.clock.now();
      // Only the holder of the secret learns that a key was revoked or has expired.
      if (key.revokedAt !== null) throw await reject(context, id, ApiKeyErrors.api_key_revoked(), 'revoked');
      if (key.expiresAt !== null && key.expiresAt <= now) throw await reject(context, id, ApiKeyErrors.api_key_expired(), 'expired');
      if (key.lastUsedAt === null || now - key.lastUsedAt >= TOUCH_INTERVAL_MS) await repository.touch(deps.db, id, now, TOUCH_INTERVAL_MS);
      return { id: key.id, name: key.name, scopes: key.scopes.filter(isApiKeyScope) };
    },
  };
}
