import assert from 'node:assert/strict';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { sourceHash } from '../../../../scripts/build-server.mjs';
import { authenticate, newAuthenticator, register, signUp } from '../helpers/flows.ts';
import { TestClient } from '../helpers/test-client.ts';
import { createTestDatabase, dialects, freePort, TEST_ORIGIN, TEST_RP_ID } from '../helpers/test-server.ts';

const ROOT = fileURLToPath(new URL('../../../../', import.meta.url));

/**
 * What the README starts: `npm start` in the repository, which runs the server compiled by
 * `npm run build` (packages/server/dist, built when missing or stale), not the TypeScript the
 * other tests load. Checks that the build is complete — worker scripts, data files, the demo and
 * the prebuilt /latchkey.js are all found from dist — with a verify worker; that npm's child is the
 * server itself (no shell or Node-version wrapper in between to swallow signals); and that SIGTERM
 * sent to npm, even with sign-ups in flight, frees the port within seconds and leaves every
 * acknowledged sign-up in a consistent database.
 */
for (const dialect of dialects) {
  describe(`npm start, the compiled server (${dialect})`, () => {
    let database: Awaited<ReturnType<typeof createTestDatabase>>;
    let npm: ChildProcess;
    let exited: Promise<{ code: number | null; at: number }>;
    let port: number;
    let url: string;
    let output = '';

    before(async () => {
      database = await createTestDatabase(dialect);
      port = await freePort();
      url = `http://127.0.0.1:${port}`;
      npm = spawn('npm', ['start'], {
        cwd: ROOT,
        env: {
          PATH: process.env.PATH ?? '',
          HOME: process.env.HOME ?? '/tmp',
          LATCHKEY_PORT: String(port),
          LATCHKEY_HOST: '127.0.0.1',
          LATCHKEY_DATABASE_URL: database.url,
          LATCHKEY_ORIGINS: TEST_ORIGIN,
          LATCHKEY_RP_ID: TEST_RP_ID,
          LATCHKEY_VERIFY_WORKERS: '1',
          LATCHKEY_SIGNUP_PER_IP_PER_HOUR: '100000',
          LATCHKEY_LOG_LEVEL: 'info',
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      npm.stdout?.on('data', (d) => (output += d));
      npm.stderr?.on('data', (d) => (output += d));
      exited = new Promise((resolve) => npm.on('exit', (code) => resolve({ code, at: Date.now() })));
      // The first start of a fresh checkout compiles the server (a few seconds on a busy machine).
      const deadline = Date.now() + 90_000;
      for (;;) {
        try {
          if ((await fetch(`${url}/healthz`)).ok) break;
        } catch {
          // not listening yet
        }
        if (Date.now() > deadline || npm.exitCode !== null) throw new Error(`npm start did not start the server:\n${output}`);
        await new Promise((r) => setTimeout(r, 200));
      }
    });

    after(async () => {
      if (npm.exitCode === null) npm.kill('SIGKILL');
      for (const pid of childrenOf(npm.pid!)) process.kill(pid, 'SIGKILL');
      await database.drop();
    });

    test("npm's one child is the compiled server itself", () => {
      const children = childrenOf(npm.pid!);
      assert.equal(children.length, 1, `npm runs one process: ${children.map(commandLine).join(' | ')}`);
      const command = commandLine(children[0]!);
      assert.match(command, /packages\/server\/dist\/main\.js/, command);
      assert.deepEqual(childrenOf(children[0]!), [], 'the server has no child processes (verify workers are threads)');
    });

    test('signs up and signs in (verification on a worker thread)', async () => {
      const authenticator = newAuthenticator();
      const account = await signUp(new TestClient(url, TEST_ORIGIN), authenticator, 'compiled');
      const { verify } = await authenticate(new TestClient(url, TEST_ORIGIN), authenticator);
      assert.equal(verify.status, 200, verify.text);
      assert.equal(verify.body.user.id, account.user.id);
    });

    test('serves the demo, the API reference, the prebuilt /latchkey.js and the prebuilt support console', async () => {
      const page = await fetch(`${url}/`);
      assert.equal(page.status, 200);
      assert.match(await page.text(), /<latchkey-auth/);
      assert.equal((await fetch(`${url}/docs/`)).status, 200);
      const bundle = await fetch(`${url}/latchkey.js`);
      assert.equal(bundle.status, 200);
      assert.match(bundle.headers.get('content-type') ?? '', /javascript/);
      assert.match(await bundle.text(), /customElements\.define/);
      // The support console, from the build's dist/public/console.js (the server never bundles it).
      const admin = await (await fetch(`${url}/admin/users/x`)).text();
      const src = /src="(\/admin\/console\.[0-9a-f]{16}\.js)"/.exec(admin)?.[1];
      assert.ok(src, admin);
      const consoleBundle = await fetch(`${url}${src}`);
      assert.equal(consoleBundle.status, 200);
      assert.match(await consoleBundle.text(), /latchkey-console/);
    });

    test('SIGTERM to npm under load: every request answered or refused, port free and data intact within seconds', async () => {
      const acknowledged: string[] = [];
      const outcomes: string[] = [];
      let stop = false;
      let signalled = 0;
      // 12 clients sign up one user after another until the server goes away.
      const client = async (n: number) => {
        for (let i = 0; !stop; i++) {
          const username = `load-${n}-${i}`;
          try {
            const { verify } = await register(new TestClient(url, TEST_ORIGIN), newAuthenticator(), { username });
            outcomes.push(String(verify.status));
            if (verify.status === 200) acknowledged.push(username);
            else if (verify.status !== 503) throw new Error(`sign-up answered ${verify.status}: ${verify.text}`);
          } catch (error) {
            // Refused after the listener closed (options or verify): fine, as long as it is quick.
            const { cause } = error as { cause?: { code?: string; message?: string } };
            const reason = `${(error as Error).message} ${cause?.code ?? ''} ${cause?.message ?? ''}`;
            if (!signalled) throw error;
            outcomes.push(reason);
            // A connection refused, or closed before the server read the request (the race of
            // any keep-alive client with a closing server): the request was not processed.
            if (/ECONNREFUSED|ECONNRESET|UND_ERR_SOCKET|failed: 503/.test(reason)) return;
            throw error;
          }
        }
      };
      const load = Promise.all(Array.from({ length: 12 }, (_, n) => client(n)));
      while (acknowledged.length < 24) await new Promise((r) => setTimeout(r, 20));
      signalled = Date.now();
      npm.kill('SIGTERM');
      const hung = setTimeout(() => (stop = true), 15_000);
      const { code, at } = await exited;
      await Promise.race([load, new Promise((_, reject) => setTimeout(() => reject(new Error('requests hung after SIGTERM')), 15_000))]);
      stop = true;
      clearTimeout(hung);

      assert.equal(code, 0, `npm start exits 0 after a clean shutdown:\n${output.slice(-3000)}`);
      assert.ok(at - signalled < 8_000, `stopped ${at - signalled} ms after SIGTERM`);
      assert.deepEqual(childrenOf(npm.pid!), [], 'no process is left behind');
      assert.ok(await portIsFree(port), `port ${port} is free`);
      assert.match(output, /"msg":"shutting down: finishing in-flight requests"/);
      assert.match(output, /"exitCode":0,"msg":"stopped"/);
      assert.doesNotMatch(output, /"level":(50|60)/, 'no error was logged');

      if (dialect === 'sqlite') {
        const file = database.url.slice('sqlite:'.length);
        assert.equal(existsSync(`${file}-wal`), false, 'the database was closed (its WAL checkpointed and removed)');
      }
      const stored = await usernames(database.url);
      for (const username of acknowledged) assert.ok(stored.has(username), `acknowledged sign-up ${username} is stored`);
      assert.ok(acknowledged.length >= 24);
    });
  });
}

describe('npm start and the build', () => {
  const stamp = join(ROOT, 'packages', 'server', 'dist', 'build.json');
  // A bad port stops the server right after the build check (exit 78), so nothing listens.
  const start = () => spawnSync('npm', ['start'], { cwd: ROOT, env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', LATCHKEY_PORT: 'none' }, encoding: 'utf8' });

  test('Ctrl-C (SIGINT to the whole process group, so twice: from the terminal and from npm) still drains and exits 0', async () => {
    const database = await createTestDatabase('sqlite');
    const port = await freePort();
    let output = '';
    const npm = spawn('npm', ['start'], {
      cwd: ROOT,
      detached: true, // its own process group, like a terminal's foreground job
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', LATCHKEY_PORT: String(port), LATCHKEY_DATABASE_URL: database.url, LATCHKEY_VERIFY_WORKERS: '0' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    npm.stdout?.on('data', (d) => (output += d));
    npm.stderr?.on('data', (d) => (output += d));
    const exited = new Promise<number | null>((resolve) => npm.on('exit', (code) => resolve(code)));
    try {
      for (let i = 0; ; i++) {
        if (await fetch(`http://127.0.0.1:${port}/healthz`).then((r) => r.ok, () => false)) break;
        if (i > 300 || npm.exitCode !== null) throw new Error(`npm start did not start the server:\n${output}`);
        await new Promise((r) => setTimeout(r, 200));
      }
      process.kill(-npm.pid!, 'SIGINT');
      assert.equal(await exited, 0, output.slice(-2000));
      assert.match(output, /"signal":"SIGINT","msg":"shutting down: finishing in-flight requests"/);
      assert.match(output, /"exitCode":0,"msg":"stopped"/);
      assert.doesNotMatch(output, /second signal/);
      assert.ok(await portIsFree(port));
    } finally {
      if (npm.exitCode === null) process.kill(-npm.pid!, 'SIGKILL');
      await database.drop();
    }
  });

  test('a build older than the sources is rebuilt before the start; a current one is used as is', () => {
    if (!existsSync(stamp)) assert.equal(start().status, 78);
    writeFileSync(stamp, JSON.stringify({ ...JSON.parse(readFileSync(stamp, 'utf8')), sourceHash: 'from other sources' }));
    const stale = start();
    assert.equal(stale.status, 78, stale.stderr);
    assert.match(stale.stderr, /The sources changed since the last build/);
    assert.match(stale.stderr, /Compiling the server/);
    assert.match(stale.stderr, /LATCHKEY_PORT: must be integer/);
    assert.equal(JSON.parse(readFileSync(stamp, 'utf8')).sourceHash, sourceHash());

    const current = start();
    assert.equal(current.status, 78, current.stderr);
    assert.doesNotMatch(current.stderr, /Compiling the server/);
  });
});

/** Child PIDs of a process, from /proc (Linux). */
function childrenOf(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

function commandLine(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').trim();
  } catch {
    return `(${pid} gone)`;
  }
}

function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/** Every stored username, after checking the SQLite file's integrity. */
async function usernames(url: string): Promise<Set<string>> {
  if (url.startsWith('sqlite:')) {
    const db = new DatabaseSync(join(url.slice('sqlite:'.length)), { readOnly: true });
    try {
      assert.deepEqual(db.prepare('PRAGMA integrity_check').all().map((row) => row.integrity_check), ['ok']);
      return new Set(db.prepare('SELECT username FROM users').all().map((row) => String(row.username)));
    } finally {
      db.close();
    }
  }
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return new Set((await client.query<{ username: string }>('SELECT username FROM users')).rows.map((row) => row.username));
  } finally {
    await client.end();
  }
}
