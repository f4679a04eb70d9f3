import { createHash, createHmac, hkdfSync } from 'node:crypto';

/**
 * Every key the server uses is its own HKDF-SHA-256 subkey of the server secret, under a fixed
 * label (SECURITY.md, "Decisions"). The server secret itself keys nothing, and no label is ever
 * built from request input, so no value the server computes from user input (a keyed lookup of a
 * username, a failure-counter key) can equal a key.
 *
 * Labels are versioned: a new derivation gets a new label, and what was sealed under the old one
 * is opened by the code that knows it (see secret-box.ts for data at rest).
 */
export const KEY_LABELS = {
  /** HMAC of sign-in challenges sealed into tokens (challenge-token.ts). */
  challengeSealing: 'latchkey/v2/challenge-sealing',
  /** AES-256-GCM for secrets at rest (secret-box.ts), unless LATCHKEY_ENCRYPTION_KEY is set. */
  encryptionAtRest: 'latchkey/v2/encryption-at-rest',
  /** Keyed lookups of user input: usernames that cannot exist, stored and counted under a tag. */
  lookup: 'latchkey/v2/lookup',
  /** Imaginary credentials answered for unknown usernames (SEC-20). */
  imaginaryCredentials: 'latchkey/v2/imaginary-credentials',
  /** HMAC under which e-mailed one-time codes are stored (SEC-36). */
  emailCodes: 'latchkey/v2/email-codes',
  /**
   * AES-256-GCM of the token signing keys' private halves (modules/tokens): its own label, so a
   * box of another kind can never be opened as a signing key or the other way round.
   */
  tokenSigningKeys: 'latchkey/v2/token-signing-keys',
  /** Ed25519 seed of the key that signs audit-chain checkpoints (modules/audit/audit-chain.keys.ts). */
  auditCheckpoints: 'latchkey/v2/audit-checkpoints',
  /** HMAC that replaces user ids in the analytics' BI export of the event stream (modules/analytics). */
  analyticsPseudonyms: 'latchkey/v2/analytics-pseudonyms',
  /** Rollout bucketing (modules/rollout): each feature's salt is HMAC(this key, feature). */
  rolloutBucketing: 'latchkey/v2/rollout-bucketing',
  /** HMAC under which device ids the elements report are stored (modules/intelligence: device_signals). */
  deviceIds: 'latchkey/v2/device-ids',
  /** HMAC that puts a user in an A/B test arm (modules/experiments): nobody outside can tell the arms apart. */
  experimentBuckets: 'latchkey/v2/experiment-buckets',
  /** AES-256-GCM of webhook endpoint secrets (`whsec_…`, modules/webhooks): a box no other kind opens. */
  webhookSecrets: 'latchkey/v2/webhook-secrets',
} as const;

export type KeyName = keyof typeof KEY_LABELS;
export type ServerKeys = Readonly<Record<KeyName, Uint8Array>>;

/** HKDF salt: fixed and public (RFC 5869 §3.1 allows that); the secret is the input key material. */
const SALT = 'latchkey hkdf salt v2';
const KEY_BYTES = 32;

/** One subkey of `secret` under a fixed label (RFC 5869, SHA-256, 32 bytes). */
export function deriveSubkey(secret: Uint8Array, label: string): Uint8Array {
  if (secret.length === 0) throw new Error('keys: the secret is empty');
  return new Uint8Array(hkdfSync('sha256', secret, SALT, label, KEY_BYTES));
}

/** Derives every named subkey once, at start; the services get the one key each needs, never the secret. */
export function deriveServerKeys(serverSecret: Uint8Array): ServerKeys {
  const keys = {} as Record<KeyName, Uint8Array>;
  for (const [name, label] of Object.entries(KEY_LABELS) as [KeyName, string][]) keys[name] = deriveSubkey(serverSecret, label);
  return Object.freeze(keys);
}

/** The v1 secret-box label; only ever used to open what v1 sealed (secret-box.ts), never to seal. */
const LEGACY_V1_BOX_LABEL = 'latchkey secret-box key v1';

export interface AtRestKeys {
  /** Seals and opens v2 boxes. */
  current: Uint8Array;
  /** Opens v1 boxes (sealed before v2), so an upgrade loses nothing; they are re-sealed at start. */
  legacyV1: Uint8Array;
}

/**
 * The keys for secrets at rest. With LATCHKEY_ENCRYPTION_KEY set, that key (not the server
 * secret, which lives in the database) is the input: v2 uses its HKDF subkey, v1 boxes were
 * sealed under its SHA-256. Without it, v2 uses the server secret's subkey and v1 boxes were
 * sealed under HMAC(server secret, fixed v1 label) — the derivation that a username equal to
 * that label could reproduce, which is why it now only opens.
 */
export function deriveAtRestKeys(serverKeys: ServerKeys, serverSecret: Uint8Array, encryptionKey: string | undefined): AtRestKeys {
  if (encryptionKey) {
    const material = new TextEncoder().encode(encryptionKey);
    return { current: deriveSubkey(material, KEY_LABELS.encryptionAtRest), legacyV1: new Uint8Array(createHash('sha256').update(material).digest()) };
  }
  return { current: serverKeys.encryptionAtRest, legacyV1: new Uint8Array(createHmac('sha256', serverSecret).update(LEGACY_V1_BOX_LABEL).digest()) };
}

/**
 * The secret-box keys for token signing keys at rest: the `tokenSigningKeys` subkey of
 * LATCHKEY_ENCRYPTION_KEY when set (then a reader of the database cannot forge tokens), else of the
 * server secret. There is no v1 for these boxes; `legacyV1` is the same key and opens nothing older.
 */
export function deriveSigningKeyBoxKeys(serverKeys: ServerKeys, encryptionKey: string | undefined): AtRestKeys {
  const current = encryptionKey ? deriveSubkey(new TextEncoder().encode(encryptionKey), KEY_LABELS.tokenSigningKeys) : serverKeys.tokenSigningKeys;
  return { current, legacyV1: current };
}

/**
 * The secret-box keys for webhook endpoint secrets at rest: the `webhookSecrets` subkey of
 * LATCHKEY_ENCRYPTION_KEY when set, else of the server secret (as for signing keys, no v1).
 */
export function deriveWebhookSecretBoxKeys(serverKeys: ServerKeys, encryptionKey: string | undefined): AtRestKeys {
  const current = encryptionKey ? deriveSubkey(new TextEncoder().encode(encryptionKey), KEY_LABELS.webhookSecrets) : serverKeys.webhookSecrets;
  return { current, legacyV1: current };
}
