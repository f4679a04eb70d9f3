import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { createTestDatabase, dialects, freePort } from '../helpers/test-server.ts';
import { SERVER_NODE_FLAGS } from '../../../../scripts/server-node-flags.mjs';

/**
 * What a new user sees when starting Latchkey (issue 10, item 5): the address to open is the first
 * allowed origin (http://localhost:<port>, never http://127.0.0.1 that WebAuthn refuses for the RP
 * ID localhost); log lines are for reading at a terminal and JSON otherwise; a bad RP ID stops the
 * start with a message that names LATCHKEY_RP_ID and says what an RP ID is.
 */
const MAIN = fileURLToPath(new URL('../../src/main.ts', import.meta.url));
const ANSI = /\x1b\[[0-9;]*m/g;

interface Run { output: string; code: number | null }

/** Runs the server as `npm start` does, under a pseudo-terminal (`script`, util-linux) or with stdout a pipe; stops it once `until` is seen. */
async function runServer(env: Record<string, string>, options: { tty: boolean; until?: RegExp }): Promise<Run> {
  const command = [process.execPath, ...SERVER_NODE_FLAGS, MAIN];
  const child = options.tty
    ? spawn('script', ['-qefc', `exec ${command.map((a) => `'${a}'`).join(' ')}`, '/dev/null'], { env: { PATH: process.env.PATH ?? '', TERM: 'xterm', ...env }, stdio: ['pipe', 'pipe', 'pipe'], detached: true })
    : spawn(command[0] as string, command.slice(1), { env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let output = '';
  let stopping = false;
  child.stdout?.on('data', (d) => {
    output += d;
    // Stop once ready, as a person would: Ctrl-C at the terminal (SIGINT from the pty), SIGTERM otherwise.
    if (stopping || !options.until?.test(output.replace(ANSI, ''))) return;
    stopping = true;
    if (options.tty) child.stdin?.write('\x03');
    else child.kill('SIGTERM');
  });
  child.stderr?.on('data', (d) => (output += d));
  const timer = setTimeout(() => child.pid && process.kill(-child.pid, 'SIGKILL'), 30_000);
  const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
  clearTimeout(timer);
  return { output: output.replace(/\r/g, ''), code };
}

for (const dialect of dialects) {
  describe(`startup diagnostics (${dialect})`, () => {
    let database: Awaited<ReturnType<typeof createTestDatabase>>;
    let env: Record<string, string>;
    let port: number;
    before(async () => {
      database = await createTestDatabase(dialect);
      port = await freePort();
      // No LATCHKEY_ORIGINS and no LATCHKEY_RP_ID: what a new user gets from `npm start`.
      env = { LATCHKEY_DATABASE_URL: database.url, LATCHKEY_PORT: String(port), LATCHKEY_VERIFY_WORKERS: '0' };
    });
    after(() => database.drop());

    const ready = /Latchkey is ready/;

    test('at a terminal: readable lines, and the address to open is the allowed origin, not 127.0.0.1', async () => {
      const { output, code } = await runServer(env, { tty: true, until: ready });
      assert.equal(code, 0, output);
      const plain = output.replace(ANSI, '');
      assert.match(plain, new RegExp(`^\\d\\d:\\d\\d:\\d\\d INFO  Latchkey is ready: open http://localhost:${port}/ `, 'm'), plain);
      assert.doesNotMatch(plain, /http:\/\/127\.0\.0\.1/, 'no address that WebAuthn would refuse');
      assert.doesNotMatch(plain, /^\{"level"/m, 'no JSON at a terminal');
      assert.match(plain, /^\d\d:\d\d:\d\d INFO {2}stopped exitCode=0$/m);
      assert.match(output, /\x1b\[32mINFO /, 'levels are coloured');
    });

    test('to a pipe: one JSON object per line, the address in `url`', async () => {
      const { output, code } = await runServer(env, { tty: false, until: ready });
      assert.equal(code, 0, output);
      const lines = output.trim().split('\n').map((line) => JSON.parse(line) as { msg: string; url?: string; level: number });
      const line = lines.find((l) => ready.test(l.msg));
      assert.ok(line, output);
      assert.equal(line.url, `http://localhost:${port}/`);
      assert.match(line.msg, new RegExp(`^Latchkey is ready: open http://localhost:${port}/ \\(listening on 127\\.0\\.0\\.1:${port}\\)$`));
      assert.ok(!lines.some((l) => /http:\/\/127\.0\.0\.1/.test(l.msg)), 'no "Server listening at http://127.0.0.1" line');
    });

    test('with origins configured, the first one is the address to open', async () => {
      const { output } = await runServer({ ...env, LATCHKEY_RP_ID: 'example.com', LATCHKEY_ORIGINS: 'https://app.example.com,https://example.com' }, { tty: false, until: ready });
      assert.match(output, /"url":"https:\/\/app\.example\.com\/"/);
    });

    test('an RP ID given as a URL stops the start with the fix, naming LATCHKEY_RP_ID', async () => {
      const { output, code } = await runServer({ ...env, LATCHKEY_RP_ID: 'https://example.com', LATCHKEY_ORIGINS: 'https://example.com' }, { tty: false });
      assert.equal(code, 78, output);
      assert.match(output, /^latchkey: Invalid configuration:\n {2}- LATCHKEY_RP_ID: "https:\/\/example\.com" is a URL, not an RP ID: use "example\.com" \(the RP ID \(LATCHKEY_RP_ID\) is a domain name such as example\.com, without scheme, port or path; every origin in LATCHKEY_ORIGINS must be that domain or one of its subdomains/);
    });

    test('an IP address as RP ID is refused: WebAuthn allows none', async () => {
      const { output, code } = await runServer({ ...env, LATCHKEY_RP_ID: '127.0.0.1', LATCHKEY_ORIGINS: 'http://127.0.0.1:8080' }, { tty: false });
      assert.equal(code, 78, output);
      assert.match(output, /LATCHKEY_RP_ID: "127\.0\.0\.1" is an IP address, which WebAuthn does not allow as an RP ID: use a domain name \(localhost for local development\)/);
    });
  });
}
