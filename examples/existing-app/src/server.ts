// An existing web app — its own users table, its own password login, its own session cookie — that
// adds passkeys through Latchkey:
//   1. after a password login, the backend asks Latchkey for an append token for this user
//      (management API, API key with scope append_tokens:issue) and the account page renders
//      <latchkey-passkey-append append-token="…">;
//   2. next time, <latchkey-auth> signs in with the passkey against Latchkey, the page asks Latchkey
//      for a signed login result for this app's audience and posts it here; the backend verifies it
//      (signature, issuer, audience, expiry, single use), maps `sub` (our user id, the externalId)
//      to our own user and opens *our own* session.
// See README.md. Run: node src/server.ts (Node 22.18+ / 24: the TypeScript types are stripped).
import { createHash, randomBytes, scrypt, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { DatabaseSync } from 'node:sqlite';
import { promisify } from 'node:util';
// In your app: from '@latchkey/node'. The example imports the workspace's source so that it runs
// without building the package first.
import { createManagementClient, createVerifier, LatchkeyApiError, LatchkeyTokenError, type ReplayStore } from '../../../packages/node/src/index.ts';

export interface AppOptions {
  /** Where this app is reached, e.g. http://localhost:3000 (cookies, Origin check, CSP). */
  origin: string;
  /** The Latchkey server as the browser and this backend reach it, e.g. http://localhost:8080. */
  latchkeyUrl: string;
  /** Latchkey's token issuer (default: latchkeyUrl, i.e. the first of its LATCHKEY_ORIGINS). */
  latchkeyIssuer?: string;
  /** An API key with scope append_tokens:issue (lk_live_…). */
  apiKey: string;
  /** The audience Latchkey signs this app's login results for (in its LATCHKEY_TOKEN_AUDIENCES). */
  audience: string;
  /** The SQLite file of this app's own users and sessions (':memory:' for a throwaway). */
  databasePath: string;
  port: number;
  host?: string;
}

interface User {
  id: number;
  username: string;
  display_name: string;
}

const scryptAsync = promisify(scrypt) as (password: string, salt: Buffer, length: number) => Promise<Buffer>;
const SESSION_COOKIE = 'app_session';
const SESSION_TTL_MS = 8 * 3600_000;
const PUBLIC = new URL('../public/', import.meta.url);

async function hashPassword(password: string, salt = randomBytes(16)): Promise<string> {
  return `${salt.toString('base64url')}.${(await scryptAsync(password, salt, 32)).toString('base64url')}`;
}

async function passwordMatches(password: string, stored: string): Promise<boolean> {
  const [salt = '', hash = ''] = stored.split('.');
  const expected = Buffer.from(hash, 'base64url');
  const actual = await scryptAsync(password, Buffer.from(salt, 'base64url'), 32);
  return expected.length === actual.length && timingSafeEqual(expected, actual);
}

const sha256 = (value: string) => createHash('sha256').update(value).digest('base64url');
const escapeHtml = (value: string) => value.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** This app's own storage: users with password hashes, sessions (only the token's hash), used login results. */
function openDatabase(path: string) {
  const db = new DatabaseSync(path);
  db.exec(`
    CREATE TABLE IF NOT EXISTS users (
      id INTEGER PRIMARY KEY, username TEXT NOT NULL UNIQUE, display_name TEXT NOT NULL, password_hash TEXT NOT NULL);
    CREATE TABLE IF NOT EXISTS sessions (
      token_hash TEXT PRIMARY KEY, user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
      how TEXT NOT NULL, expires_at INTEGER NOT NULL);
    CREATE TABLE IF NOT EXISTS used_login_results (jti TEXT PRIMARY KEY, expires_at INTEGER NOT NULL);`);
  return db;
}

export async function startApp(options: AppOptions): Promise<{ url: string; server: Server; addUser(username: string, displayName: string, password: string): Promise<number>; close(): Promise<void> }> {
  const db = openDatabase(options.databasePath);
  const secure = options.origin.startsWith('https:');
  const latchkey = createManagementClient({ baseUrl: options.latchkeyUrl, apiKey: options.apiKey });
  // Single use across restarts: the jti goes into our own table (INSERT OR IGNORE: true only the first time).
  const replayStore: ReplayStore = {
    async consume(jti, expiresAt) {
      db.prepare('DELETE FROM used_login_results WHERE expires_at < ?').run(Date.now());
      return db.prepare('INSERT OR IGNORE INTO used_login_results (jti, expires_at) VALUES (?, ?)').run(jti, expiresAt.getTime()).changes === 1;
    },
  };
  const issuer = options.latchkeyIssuer ?? options.latchkeyUrl;
  const verifier = createVerifier({ issuer, audience: options.audience, jwksUrl: `${options.latchkeyUrl}/.well-known/jwks.json`, replayStore });
  const templates = {
    login: readFileSync(new URL('login.html', PUBLIC), 'utf8'),
    account: readFileSync(new URL('account.html', PUBLIC), 'utf8'),
  };
  const assets: Record<string, [string, string]> = {
    '/app.js': ['text/javascript; charset=utf-8', readFileSync(new URL('app.js', PUBLIC), 'utf8')],
    '/style.css': ['text/css; charset=utf-8', readFileSync(new URL('style.css', PUBLIC), 'utf8')],
  };

  async function addUser(username: string, displayName: string, password: string): Promise<number> {
    const result = db.prepare('INSERT INTO users (username, display_name, password_hash) VALUES (?, ?, ?)').run(username, displayName, await hashPassword(password));
    return Number(result.lastInsertRowid);
  }

  function openSession(response: ServerResponse, userId: number, how: 'password' | 'passkey'): void {
    const token = randomBytes(32).toString('base64url');
    db.prepare('INSERT INTO sessions (token_hash, user_id, how, expires_at) VALUES (?, ?, ?, ?)').run(sha256(token), userId, how, Date.now() + SESSION_TTL_MS);
    response.setHeader('set-cookie', `${SESSION_COOKIE}=${token}; Path=/; HttpOnly; SameSite=Lax; Max-Age=${SESSION_TTL_MS / 1000}${secure ? '; Secure' : ''}`);
  }

  function sessionToken(request: IncomingMessage): string | undefined {
    for (const part of (request.headers.cookie ?? '').split(';')) {
      const [name, value] = part.trim().split('=');
      if (name === SESSION_COOKIE && value) return value;
    }
    return undefined;
  }

  function currentUser(request: IncomingMessage): (User & { how: string }) | undefined {
    const token = sessionToken(request);
    if (!token) return undefined;
    return db
      .prepare('SELECT users.id, users.username, users.display_name, sessions.how FROM sessions JOIN users ON users.id = sessions.user_id WHERE token_hash = ? AND expires_at > ?')
      .get(sha256(token), Date.now()) as (User & { how: string }) | undefined;
  }

  /** `{{name}}` is the escaped value; `{{#name}}…{{/name}}` is kept only when the value is not empty. */
  function render(template: string, values: Record<string, string>): string {
    return template
      .replace(/\{\{#(\w+)\}\}([\s\S]*?)\{\{\/\1\}\}/g, (_, key: string, inner: string) => (values[key] ? inner : ''))
      .replace(/\{\{(\w+)\}\}/g, (_, key: string) => escapeHtml(values[key] ?? ''));
  }

  function send(response: ServerResponse, status: number, type: string, body: string): void {
    response.writeHead(status, { 'content-type': type }).end(body);
  }

  function redirect(response: ServerResponse, location: string): void {
    response.writeHead(303, { location }).end();
  }

  async function readBody(request: IncomingMessage): Promise<string> {
    let body = '';
    for await (const chunk of request) {
      body += chunk;
      if (body.length > 16_384) throw new Error('body too large');
    }
    return body;
  }

  function loginPage(response: ServerResponse, status: number, error: string): void {
    send(response, status, 'text/html; charset=utf-8', render(templates.login, { latchkeyUrl: options.latchkeyUrl, audience: options.audience, error }));
  }

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const { pathname } = new URL(request.url ?? '/', options.origin);
    // CSP is this app's business: scripts from itself and Latchkey's /latchkey.js, fetches to both.
    response.setHeader(
      'content-security-policy',
      `default-src 'self'; script-src 'self' ${options.latchkeyUrl}; connect-src 'self' ${options.latchkeyUrl}; style-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'self'; frame-ancestors 'none'`,
    );
    response.setHeader('x-content-type-options', 'nosniff');
    response.setHeader('cache-control', 'no-store');
    // Our own CSRF rule: a state-changing request must come from our own origin.
    if (request.method === 'POST' && request.headers.origin !== options.origin) return send(response, 403, 'text/plain', 'Cross-origin request refused');

    const asset = assets[pathname];
    if (request.method === 'GET' && asset) return send(response, 200, asset[0], asset[1]);

    if (request.method === 'GET' && pathname === '/') {
      if (currentUser(request)) return redirect(response, '/account');
      return loginPage(response, 200, '');
    }

    if (request.method === 'POST' && pathname === '/login') {
      const form = new URLSearchParams(await readBody(request));
      const row = db.prepare('SELECT id, password_hash FROM users WHERE username = ?').get(form.get('username') ?? '') as { id: number; password_hash: string } | undefined;
      const ok = await passwordMatches(form.get('password') ?? '', row?.password_hash ?? (await hashPassword('dummy')));
      if (!row || !ok) return loginPage(response, 401, 'Wrong username or password.');
      openSession(response, row.id, 'password');
      return redirect(response, '/account');
    }

    // Step 2: the page posts the login result Latchkey signed for our audience.
    if (request.method === 'POST' && pathname === '/login/passkey') {
      if (!request.headers['content-type']?.startsWith('application/json')) return send(response, 415, 'text/plain', 'JSON only');
      let loginResult: unknown;
      try {
        loginResult = (JSON.parse(await readBody(request)) as { loginResult?: unknown }).loginResult;
      } catch {
        loginResult = undefined;
      }
      if (typeof loginResult !== 'string') return send(response, 400, 'application/json', JSON.stringify({ error: 'malformed' }));
      try {
        const identity = await verifier.verifyLoginResult(loginResult); // once: a replay throws `replayed`
        // `sub` is the externalId we gave Latchkey when we asked for the append token: our user id.
        const user = db.prepare('SELECT id FROM users WHERE id = ?').get(Number(identity.sub)) as { id: number } | undefined;
        if (!user || String(user.id) !== identity.sub) return send(response, 401, 'application/json', JSON.stringify({ error: 'unknown_user' }));
        openSession(response, user.id, 'passkey');
        return send(response, 200, 'application/json', JSON.stringify({ ok: true }));
      } catch (error) {
        if (error instanceof LatchkeyTokenError && error.code !== 'jwks_unavailable') {
          return send(response, 401, 'application/json', JSON.stringify({ error: error.code }));
        }
        throw error;
      }
    }

    if (request.method === 'POST' && pathname === '/logout') {
      const token = sessionToken(request);
      if (token) db.prepare('DELETE FROM sessions WHERE token_hash = ?').run(sha256(token));
      response.setHeader('set-cookie', `${SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0${secure ? '; Secure' : ''}`);
      return redirect(response, '/');
    }

    if (request.method === 'GET' && pathname === '/account') {
      const user = currentUser(request);
      if (!user) return redirect(response, '/');
      // Step 1 (after a password sign-in): a one-time append token for this user, so the page can add
      // a passkey without any Latchkey sign-in. Latchkey creates its user on first use, linked by
      // externalId = our user id.
      let appendToken = '';
      let notice = '';
      if (user.how === 'password') {
        try {
          appendToken = (await latchkey.appendTokens.create({ externalId: String(user.id), username: user.username, displayName: user.display_name })).token;
        } catch (error) {
          if (!(error instanceof LatchkeyApiError)) throw error;
          notice = `Passkeys are not available right now (${error.code}).`;
        }
      }
      return send(
        response,
        200,
        'text/html; charset=utf-8',
        render(templates.account, {
          latchkeyUrl: options.latchkeyUrl,
          displayName: user.display_name,
          username: user.username,
          how: user.how === 'passkey' ? 'a passkey' : 'your password',
          passkeyLogin: user.how === 'passkey' ? 'yes' : '',
          appendToken,
          notice,
        }),
      );
    }

    send(response, 404, 'text/plain', 'Not found');
  }

  const server = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      console.error(error);
      if (!response.headersSent) send(response, 500, 'text/plain', 'Something went wrong');
      else response.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(options.port, options.host ?? '127.0.0.1', resolve));
  return {
    url: options.origin,
    server,
    addUser,
    close: async () => {
      await new Promise((resolve) => server.close(resolve));
      db.close();
    },
  };
}

if (import.meta.main) {
  const env = (name: string, fallback?: string): string => {
    const value = process.env[name] ?? fallback;
    if (value === undefined) throw new Error(`Set ${name} (see examples/existing-app/README.md)`);
    return value;
  };
  const port = Number(env('APP_PORT', '3000'));
  const app = await startApp({
    origin: env('APP_ORIGIN', `http://localhost:${port}`),
    latchkeyUrl: env('LATCHKEY_URL', 'http://localhost:8080'),
    latchkeyIssuer: env('LATCHKEY_ISSUER', env('LATCHKEY_URL', 'http://localhost:8080')),
    apiKey: env('LATCHKEY_API_KEY'),
    audience: env('APP_AUDIENCE', 'existing-app'),
    databasePath: env('APP_DATABASE', 'existing-app.db'),
    port,
  });
  // A demo user to sign in with (this app's own table, this app's own password rules).
  try {
    await app.addUser('alice', 'Alice Example', env('APP_DEMO_PASSWORD', 'correct horse battery staple'));
  } catch {
    // already there
  }
  console.log(`Existing app on ${app.url} (sign in as alice); Latchkey at ${env('LATCHKEY_URL', 'http://localhost:8080')}`);
}
