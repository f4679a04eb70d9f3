import { calculateJwkThumbprint, exportJWK, generateKeyPair, importJWK, type CryptoKey, type JWK } from 'jose';
import type { Kysely } from 'kysely';
import type { Database } from '../../db/database.ts';
import type { Clock } from '../../platform/clock.ts';
import type { Config } from '../../config/schema.ts';
import { deriveSigningKeyBoxKeys, type ServerKeys } from '../../platform/keys.ts';
import type { Random } from '../../platform/random.ts';
import { createSecretBox, type SecretBox } from '../../platform/secret-box.ts';
import { KEY_REFRESH_MS, keySchedule, nextKeyDue, retentionMs, rotationAt } from './key-schedule.ts';
import { createSigningKeysRepository, type StoredSigningKey } from './signing-keys.repository.ts';
import { TokenErrors } from './tokens.errors.ts';

/** ES256 (ECDSA P-256, SHA-256): the JWS algorithm every mainstream JWT library and KMS supports. */
export const SIGNING_ALG = 'ES256';

export interface SigningKeyView {
  kid: string;
  seq: number;
  createdAt: number;
  activatedAt: number;
  retiredAt: number | null;
  publishedUntil: number | null;
  state: 'pending' | 'signing' | 'retired' | 'unpublished';
}

export interface SigningKeys {
  /** Loads the keys, making the first one (or a scheduled rotation) when due. Run at start. */
  refresh(): Promise<void>;
  /** The key that signs now, from memory (a reload only when the cache is older than the refresh interval). */
  signer(): Promise<{ kid: string; key: CryptoKey }>;
  /** The JWKS document (JSON text) published now, from memory. */
  jwks(): Promise<string>;
  /** A new key, published now, signing after the publish lead; the older ones retire then. */
  rotate(): Promise<SigningKeyView>;
  list(): Promise<SigningKeyView[]>;
  /** Reloads on a timer (unref'd) until `stop`. */
  start(onError: (err: unknown) => void): void;
  stop(): void;
}

/**
 * The token signing keys of this node: every key row in memory, refreshed every minute (and
 * lazily when the injected clock has moved past that), the opened private keys kept by kid. No
 * database read per token. Keys are made insert-if-absent on a unique `seq`, so two nodes that
 * start (or rotate on schedule) together end up with one key, not two.
 */
export function createSigningKeys(deps: {
  db: Kysely<Database>;
  clock: Clock;
  box: SecretBox;
  rotationDays: number;
  /** The longest lifetime of a token these keys sign (s): a retired key stays published that much longer. */
  longestTokenLifetimeSeconds: number;
}): SigningKeys {
  const repository = createSigningKeysRepository();
  const retention = retentionMs(deps.longestTokenLifetimeSeconds);
  let keys: StoredSigningKey[] = [];
  let loadedAt = Number.NEGATIVE_INFINITY;
  let loading: Promise<void> | undefined;
  const opened = new Map<string, Promise<CryptoKey>>();
  let jwksCache: { kids: string; body: string } | undefined;
  let timer: NodeJS.Timeout | undefined;

  const aad = (kid: string) => `signing-key:${kid}`;

  /** `now`: the time the decision was made; the key is created then (never activated before it is published). */
  async function makeKey(seq: number, activatedAt: number, now: number): Promise<boolean> {
    const { publicKey, privateKey } = await generateKeyPair(SIGNING_ALG, { extractable: true });
    const publicJwk = await exportJWK(publicKey);
    const kid = await calculateJwkThumbprint(publicJwk);
    const sealed = deps.box.seal(JSON.stringify(await exportJWK(privateKey)), aad(kid));
    return repository.insertNext(
      deps.db,
      {
        kid,
        seq,
        alg: SIGNING_ALG,
        public_jwk: JSON.stringify({ kty: publicJwk.kty, crv: publicJwk.crv, x: publicJwk.x, y: publicJwk.y }),
        private_key_sealed: sealed,
        created_at: now,
        activated_at: Math.max(activatedAt, now),
        retired_at: null,
        published_until: null,
      },
      retention,
    );
  }

  async function load(): Promise<void> {
    const now = deps.clock.now();
    let rows = await repository.list(deps.db);
    const due = nextKeyDue(rows, now, deps.rotationDays);
    if (due) {
      // Losing the race to another node is fine: its key is in the table now.
      await makeKey(due.seq, due.activatedAt, now);
      rows = await repository.list(deps.db);
    }
    keys = rows;
    loadedAt = now;
  }

  function reload(): Promise<void> {
    loading ??= load().finally(() => {
      loading = undefined;
    });
    return loading;
  }

  async function current(): Promise<StoredSigningKey[]> {
    const now = deps.clock.now();
    // Also when the clock went back (a corrected clock, a test): never trust a cache from the future.
    if (now - loadedAt >= KEY_REFRESH_MS || now < loadedAt || keys.length === 0) await reload();
    return keys;
  }

  function open(key: StoredSigningKey): Promise<CryptoKey> {
    let found = opened.get(key.kid);
    if (!found) {
      found = (async () => {
        const jwk = JSON.parse(deps.box.open(key.privateKeySealed, aad(key.kid))) as JWK;
        return (await importJWK({ ...jwk, alg: SIGNING_ALG }, SIGNING_ALG)) as CryptoKey;
      })();
      found.catch(() => opened.delete(key.kid));
      opened.set(key.kid, found);
    }
    return found;
  }

  /**
   * 503 signing_key_unavailable, logged once per request by the problem handler with the fix:
   * Retry-After is the time until the next key signs when one is pending (after `keys rotate`),
   * else a node's reload interval.
   */
  function unavailable(rows: StoredSigningKey[], now: number, what: string, cause?: unknown) {
    const pending = rows.filter((k) => k.activatedAt > now).map((k) => k.activatedAt);
    const waitMs = pending.length > 0 ? Math.min(...pending) - now : KEY_REFRESH_MS;
    return TokenErrors.signing_key_unavailable({
      internal: `tokens cannot be signed: ${what}; run \`latchkey keys rotate\` with the new LATCHKEY_ENCRYPTION_KEY set (the new key signs 7 minutes later)`,
      headers: { 'retry-after': String(Math.max(1, Math.ceil(waitMs / 1000))) },
      cause,
    });
  }

  function view(k: StoredSigningKey, now: number, signingKid: string | undefined): SigningKeyView {
    const state =
      k.kid === signingKid ? 'signing' : k.activatedAt > now ? 'pending' : k.publishedUntil !== null && now >= k.publishedUntil ? 'unpublished' : 'retired';
    return { kid: k.kid, seq: k.seq, createdAt: k.createdAt, activatedAt: k.activatedAt, retiredAt: k.retiredAt, publishedUntil: k.publishedUntil, state };
  }

  return {
    refresh: reload,
    async signer() {
      const rows = await current();
      const now = deps.clock.now();
      const schedule = keySchedule(rows, now);
      if (!schedule.signing) throw unavailable(rows, now, 'no signing key is active');
      try {
        return { kid: schedule.signing.kid, key: await open(schedule.signing) };
      } catch (cause) {
        throw unavailable(rows, now, `the private key of signing key ${schedule.signing.kid} does not open (LATCHKEY_ENCRYPTION_KEY changed?)`, cause);
      }
    },
    async jwks() {
      const { published } = keySchedule(await current(), deps.clock.now());
      const kids = published.map((k) => k.kid).join(',');
      if (jwksCache?.kids !== kids) {
        jwksCache = { kids, body: JSON.stringify({ keys: published.map((k) => ({ ...k.publicJwk, kid: k.kid, alg: k.alg, use: 'sig' })) }) };
      }
      return jwksCache.body;
    },
    async rotate() {
      for (let attempt = 0; attempt < 3; attempt++) {
        const rows = await repository.list(deps.db);
        const now = deps.clock.now();
        const next = rotationAt(rows, now);
        if (await makeKey(next.seq, next.activatedAt, now)) {
          await reload();
          const made = keys.find((k) => k.seq === next.seq);
          if (made) return view(made, deps.clock.now(), undefined);
        }
      }
      throw new Error('tokens: could not add a signing key (another node kept adding one)');
    },
    async list() {
      // Read only: listing never makes a key.
      const rows = await repository.list(deps.db);
      const now = deps.clock.now();
      const signingKid = keySchedule(rows, now).signing?.kid;
      return [...rows].reverse().map((k) => view(k, now, signingKid));
    },
    start(onError) {
      timer = setInterval(() => {
        reload().catch(onError);
      }, KEY_REFRESH_MS);
      timer.unref();
    },
    stop() {
      if (timer) clearInterval(timer);
    },
  };
}

/** This node's signing keys from config: private halves sealed under their own subkey (keys.ts). */
export function createTokenSigningKeys(input: {
  db: Kysely<Database>;
  clock: Clock;
  random: Random;
  keys: ServerKeys;
  config: Pick<Readonly<Config>, 'tokens' | 'secrets'>;
}): SigningKeys {
  const { tokens, secrets } = input.config;
  return createSigningKeys({
    db: input.db,
    clock: input.clock,
    box: createSecretBox({ keys: deriveSigningKeyBoxKeys(input.keys, secrets.encryptionKey), randomBytes: input.random.bytes }),
    rotationDays: tokens.keyRotationDays,
    longestTokenLifetimeSeconds: Math.max(tokens.loginResultTtlSeconds, tokens.accessTokenTtlSeconds),
  });
}
