/**
 * The comparison point for the bench: a passkey server the way a tutorial writes one.
 * Fastify + @simplewebauthn/server + node:sqlite (WAL), a prepared statement per step inside
 * each handler, a challenge row per options call keyed by the challenge, sessions as a random
 * token row. Same endpoints and request/response shapes as Latchkey's v1 contract (so one load
 * generator drives both), and honest: it checks origin, RP ID, challenge (single use, expiry,
 * ceremony type, the client binding header), signature and counter.
 *
 * What it does NOT do that Latchkey does: audit rows, rate limiting, strict clientDataJSON
 * parsing, username normalization, hashing session tokens, security headers, OpenAPI, worker
 * threads, transactions (each statement autocommits, as in most tutorials).
 *
 * Env: BASELINE_PORT (8090), BASELINE_HOST (127.0.0.1), BASELINE_DB (/tmp/latchkey-baseline.db),
 * BASELINE_ORIGIN (http://localhost:<port>), BASELINE_RP_ID (localhost).
 */
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { DatabaseSync } from 'node:sqlite';
import Fastify from 'fastify';
import {
  generateAuthenticationOptions,
  generateRegistrationOptions,
  verifyAuthenticationResponse,
  verifyRegistrationResponse,
  type AuthenticationResponseJSON,
  type RegistrationResponseJSON,
} from '@simplewebauthn/server';

const port = Number(process.env.BASELINE_PORT ?? 8090);
const host = process.env.BASELINE_HOST ?? '127.0.0.1';
const dbPath = process.env.BASELINE_DB ?? '/tmp/latchkey-baseline.db';
const origin = process.env.BASELINE_ORIGIN ?? `http://localhost:${port}`;
const rpID = process.env.BASELINE_RP_ID ?? 'localhost';
const rpName = 'Baseline';
const CHALLENGE_TTL_MS = 5 * 60_000;
const SESSION_TTL_MS = 24 * 3600_000;

for (const suffix of ['', '-wal', '-shm']) rmSync(dbPath + suffix, { force: true });
const db = new DatabaseSync(dbPath);
db.exec('PRAGMA journal_mode = WAL');
// Same durability setting as Latchkey (WAL + NORMAL: no fsync per commit), so neither side
// wins by skipping or paying for fsyncs.
db.exec('PRAGMA synchronous = NORMAL');
db.exec(`
  CREATE TABLE IF NOT EXISTS users (
    id TEXT PRIMARY KEY, username TEXT UNIQUE NOT NULL, display_name TEXT NOT NULL, user_handle TEXT UNIQUE NOT NULL, created_at INTEGER NOT NULL);
  CREATE TABLE IF NOT EXISTS credentials (
    id TEXT PRIMARY KEY, user_id TEXT NOT NULL REFERENCES users(id), public_key BLOB NOT NULL, counter INTEGER NOT NULL,
    transports TEXT NOT NULL, device_type TEXT NOT NULL, backed_up INTEGER NOT NULL, aaguid TEXT NOT NULL,
    created_at INTEGER NOT NULL, last_used_at INTEGER);
  CREATE INDEX IF NOT EXISTS credentials_user ON credentials(user_id);
  CREATE TABLE IF NOT EXISTS challenges (
    challenge TEXT PRIMARY KEY, type TEXT NOT NULL, binding TEXT NOT NULL, username TEXT, display_name TEXT, user_handle TEXT, expires_at INTEGER NOT NULL);
  CREATE TABLE IF NOT EXISTS sessions (
    token TEXT PRIMARY KEY, user_id TEXT NOT NULL REFERENCES users(id), created_at INTEGER NOT NULL, expires_at INTEGER NOT NULL);
`);

const app = Fastify({ logger: false });

class HttpError extends Error {
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.status = status;
  }
}
app.setErrorHandler((error: Error & { status?: number; statusCode?: number }, _request, reply) => {
  const status = error instanceof HttpError ? error.status : (error.statusCode ?? 500);
  reply.code(status).send({ error: error.message });
});

// Tutorials check the Origin header of state-changing requests too.
app.addHook('preHandler', async (request) => {
  if (request.method === 'POST' && request.headers.origin !== undefined && request.headers.origin !== origin) {
    throw new HttpError(403, 'origin not allowed');
  }
});

const newToken = () => randomBytes(32).toString('base64url');

/** The challenge the client signed, read from clientDataJSON (the challenge row's key). */
function challengeOf(clientDataJSON: unknown): string {
  if (typeof clientDataJSON !== 'string') throw new HttpError(400, 'clientDataJSON missing');
  try {
    const { challenge } = JSON.parse(Buffer.from(clientDataJSON, 'base64url').toString('utf8')) as { challenge?: unknown };
    if (typeof challenge !== 'string') throw new Error('no challenge');
    return challenge;
  } catch {
    throw new HttpError(400, 'clientDataJSON is not valid');
  }
}

interface ChallengeRow {
  challenge: string;
  type: string;
  binding: string;
  username: string | null;
  display_name: string | null;
  user_handle: string | null;
  expires_at: number;
}

/** Looks the challenge up, deletes it (single use), checks type, binding and expiry. */
function takeChallenge(challenge: string, type: string, binding: unknown): ChallengeRow {
  const row = db.prepare('SELECT * FROM challenges WHERE challenge = ?').get(challenge) as ChallengeRow | undefined;
  if (!row) throw new HttpError(400, 'unknown challenge');
  db.prepare('DELETE FROM challenges WHERE challenge = ?').run(challenge);
  if (row.type !== type) throw new HttpError(400, 'wrong ceremony');
  if (row.binding !== binding) throw new HttpError(400, 'ceremony binding does not match');
  if (row.expires_at < Date.now()) throw new HttpError(400, 'challenge expired');
  return row;
}

function passkeyJson(c: { id: string; aaguid: string; device_type: string; backed_up: number; transports: string; created_at: number; last_used_at: number | null }) {
  return {
    id: c.id,
    name: 'Passkey',
    aaguid: c.aaguid,
    provider: null,
    deviceType: c.device_type,
    backedUp: c.backed_up === 1,
    transports: JSON.parse(c.transports) as string[],
    createdAt: new Date(c.created_at).toISOString(),
    lastUsedAt: c.last_used_at === null ? null : new Date(c.last_used_at).toISOString(),
  };
}

function createSession(userId: string) {
  const token = newToken();
  const now = Date.now();
  db.prepare('INSERT INTO sessions (token, user_id, created_at, expires_at) VALUES (?, ?, ?, ?)').run(token, userId, now, now + SESSION_TTL_MS);
  return { token, expiresAt: new Date(now + SESSION_TTL_MS).toISOString(), amr: ['passkey'] };
}

app.get('/healthz', async () => {
  db.prepare('SELECT 1').get();
  return { status: 'ok' };
});

app.post('/api/v1/passkeys/registration/options', async (request, reply) => {
  const { username, displayName } = (request.body ?? {}) as { username?: unknown; displayName?: unknown };
  if (typeof username !== 'string' || username.length === 0 || username.length > 64) throw new HttpError(400, 'username required');
  if (db.prepare('SELECT id FROM users WHERE username = ?').get(username)) throw new HttpError(409, 'username taken');
  const options = await generateRegistrationOptions({
    rpName,
    rpID,
    userName: username,
    userDisplayName: typeof displayName === 'string' ? displayName : username,
    attestationType: 'none',
    excludeCredentials: [],
    authenticatorSelection: { residentKey: 'required', userVerification: 'preferred' },
    supportedAlgorithmIDs: [-8, -7, -257],
  });
  const binding = newToken();
  db.prepare('INSERT INTO challenges (challenge, type, binding, username, display_name, user_handle, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?)').run(
    options.challenge,
    'registration',
    binding,
    username,
    options.user.displayName,
    options.user.id,
    Date.now() + CHALLENGE_TTL_MS,
  );
  reply.header('latchkey-ceremony', binding);
  return options;
});

app.post('/api/v1/passkeys/registration/verify', async (request) => {
  const body = request.body as RegistrationResponseJSON;
  const row = takeChallenge(challengeOf(body?.response?.clientDataJSON), 'registration', request.headers['latchkey-ceremony']);
  let verification: Awaited<ReturnType<typeof verifyRegistrationResponse>>;
  try {
    verification = await verifyRegistrationResponse({
      response: body,
      expectedChallenge: row.challenge,
      expectedOrigin: origin,
      expectedRPID: rpID,
      requireUserVerification: false,
    });
  } catch (error) {
    throw new HttpError(400, (error as Error).message);
  }
  if (!verification.verified) throw new HttpError(400, 'not verified');
  const info = verification.registrationInfo;
  const now = Date.now();
  const userId = crypto.randomUUID();
  try {
    db.prepare('INSERT INTO users (id, username, display_name, user_handle, created_at) VALUES (?, ?, ?, ?, ?)').run(
      userId,
      row.username,
      row.display_name,
      row.user_handle,
      now,
    );
  } catch {
    throw new HttpError(409, 'username taken');
  }
  const credential = {
    id: info.credential.id,
    aaguid: info.aaguid,
    device_type: info.credentialDeviceType,
    backed_up: info.credentialBackedUp ? 1 : 0,
    transports: JSON.stringify(body.response.transports ?? []),
    created_at: now,
    last_used_at: null,
  };
  db.prepare(
    'INSERT INTO credentials (id, user_id, public_key, counter, transports, device_type, backed_up, aaguid, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
  ).run(credential.id, userId, info.credential.publicKey, info.credential.counter, credential.transports, credential.device_type, credential.backed_up, credential.aaguid, now);
  return {
    user: { id: userId, username: row.username, displayName: row.display_name },
    passkey: passkeyJson(credential),
    session: createSession(userId),
  };
});

app.post('/api/v1/passkeys/authentication/options', async (_request, reply) => {
  const options = await generateAuthenticationOptions({ rpID, allowCredentials: [], userVerification: 'preferred' });
  const binding = newToken();
  db.prepare('INSERT INTO challenges (challenge, type, binding, expires_at) VALUES (?, ?, ?, ?)').run(
    options.challenge,
    'authentication',
    binding,
    Date.now() + CHALLENGE_TTL_MS,
  );
  reply.header('latchkey-ceremony', binding);
  return options;
});

interface CredentialRow {
  id: string;
  user_id: string;
  public_key: Uint8Array;
  counter: number;
  transports: string;
  device_type: string;
  backed_up: number;
  aaguid: string;
  created_at: number;
  last_used_at: number | null;
}

app.post('/api/v1/passkeys/authentication/verify', async (request) => {
  const body = request.body as AuthenticationResponseJSON;
  const row = takeChallenge(challengeOf(body?.response?.clientDataJSON), 'authentication', request.headers['latchkey-ceremony']);
  const credential = db.prepare('SELECT * FROM credentials WHERE id = ?').get(String(body.id)) as CredentialRow | undefined;
  if (!credential) throw new HttpError(400, 'unknown credential');
  const user = db.prepare('SELECT * FROM users WHERE id = ?').get(credential.user_id) as
    | { id: string; username: string; display_name: string; user_handle: string }
    | undefined;
  if (!user) throw new HttpError(400, 'unknown user');
  if (body.response.userHandle && body.response.userHandle !== user.user_handle) throw new HttpError(400, 'user handle mismatch');
  let verification: Awaited<ReturnType<typeof verifyAuthenticationResponse>>;
  try {
    verification = await verifyAuthenticationResponse({
      response: body,
      expectedChallenge: row.challenge,
      expectedOrigin: origin,
      expectedRPID: rpID,
      credential: {
        id: credential.id,
        publicKey: new Uint8Array(credential.public_key),
        counter: credential.counter,
        transports: JSON.parse(credential.transports) as never,
      },
      requireUserVerification: false,
    });
  } catch (error) {
    throw new HttpError(400, (error as Error).message);
  }
  if (!verification.verified) throw new HttpError(400, 'not verified');
  const info = verification.authenticationInfo;
  const now = Date.now();
  db.prepare('UPDATE credentials SET counter = ?, backed_up = ?, last_used_at = ? WHERE id = ?').run(
    info.newCounter,
    info.credentialBackedUp ? 1 : 0,
    now,
    credential.id,
  );
  return {
    user: { id: user.id, username: user.username, displayName: user.display_name },
    passkey: passkeyJson({ ...credential, backed_up: info.credentialBackedUp ? 1 : 0, last_used_at: now }),
    session: createSession(user.id),
  };
});

// Tutorials clean up expired challenges now and then.
setInterval(() => db.prepare('DELETE FROM challenges WHERE expires_at < ?').run(Date.now()), 60_000).unref();

const close = async () => {
  await app.close();
  db.close();
  process.exit(0);
};
process.on('SIGTERM', () => void close());
process.on('SIGINT', () => void close());

await app.listen({ host, port });
