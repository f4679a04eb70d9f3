import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { freePort, TEST_ORIGIN, TEST_RP_ID } from './test-server.ts';
import { SERVER_NODE_FLAGS } from '../../../../scripts/server-node-flags.mjs';

const MAIN = fileURLToPath(new URL('../../src/main.ts', import.meta.url));

export interface ServerProcess {
  /** http://127.0.0.1:<port> */
  url: string;
  process: ChildProcess;
  /** Everything it wrote to stdout and stderr so far. */
  output(): string;
  /** SIGKILL, when still running. */
  kill(): void;
}

/**
 * A Latchkey server in a process of its own, as `npm start` runs it (the TypeScript entry, no
 * verify workers to spare the CPU), on 127.0.0.1; for fault tests that restart databases or kill
 * processes. `env` adds to or overrides the LATCHKEY_* settings (LATCHKEY_DATABASE_URL is needed).
 */
export async function startServerProcess(env: Record<string, string>, options: { startTimeoutMs?: number } = {}): Promise<ServerProcess> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  let output = '';
  const child = spawn(process.execPath, [...SERVER_NODE_FLAGS, MAIN], {
    env: {
      PATH: process.env.PATH ?? '',
      LATCHKEY_PORT: String(port),
      LATCHKEY_HOST: '127.0.0.1',
      LATCHKEY_ORIGINS: TEST_ORIGIN,
      LATCHKEY_RP_ID: TEST_RP_ID,
      LATCHKEY_VERIFY_WORKERS: '0',
      LATCHKEY_SIGNUP_PER_IP_PER_HOUR: '100000',
      LATCHKEY_AUTH_PER_IP_PER_HOUR: '100000',
      LATCHKEY_LOG_LEVEL: 'warn',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout?.on('data', (d) => (output += d));
  child.stderr?.on('data', (d) => (output += d));
  const deadline = Date.now() + (options.startTimeoutMs ?? 20_000);
  for (;;) {
    try {
      if ((await fetch(`${url}/healthz`)).ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline || child.exitCode !== null) {
      if (child.exitCode === null) child.kill('SIGKILL');
      throw new Error(`a Latchkey process did not start:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url,
    process: child,
    output: () => output,
    kill: () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    },
  };
}
