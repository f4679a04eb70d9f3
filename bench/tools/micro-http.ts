/**
 * Per-request server CPU of the two cheapest endpoints, Latchkey vs the baseline, each server
 * pinned to core 0 and driven from core 1 by 50 keep-alive connections:
 *   - GET /healthz (one `SELECT 1`): the fixed cost of the HTTP stack and global hooks;
 *   - POST /api/v1/passkeys/authentication/options {}: a random challenge and a JSON answer (Latchkey
 *     writes nothing; the baseline inserts a challenge row).
 * Usage: node bench/tools/micro-http.ts [--seconds=4]
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildServer } from '../../scripts/build-server.mjs';
import { SERVER_NODE_FLAGS } from '../../scripts/server-node-flags.mjs';

const serverEntry = buildServer();

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const seconds = Number(/--seconds=([\d.]+)/.exec(process.argv.join(' '))?.[1] ?? 4);
const CONCURRENCY = 50;
const dir = mkdtempSync('/tmp/latchkey-micro-http-');

const cpuMs = (pid: number) => {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) * 10;
};
const freePort = () =>
  new Promise<number>((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => resolve(typeof a === 'object' && a ? a.port : 0));
    });
  });

function call(agent: Agent, port: number, method: string, path: string, origin: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const body = method === 'POST' ? '{}' : undefined;
    const req = request(
      { host: '127.0.0.1', port, method, path, agent, headers: body ? { 'content-type': 'application/json', origin, 'content-length': '2' } : { origin } },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

async function measure(pid: number, port: number, origin: string, method: string, path: string) {
  const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY });
  const run = async (ms: number) => {
    const end = performance.now() + ms;
    let n = 0;
    let bad = 0;
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (performance.now() < end && n < 2_000_000) {
          if ((await call(agent, port, method, path, origin)) !== 200) bad++;
          n++;
        }
      }),
    );
    return { n, bad };
  };
  await run(1500); // warm-up
  const c0 = cpuMs(pid);
  const t0 = performance.now();
  const { n, bad } = await run(seconds * 1000);
  const wall = performance.now() - t0;
  agent.destroy();
  return { requestsPerSecond: Math.round(n / (wall / 1000)), serverCpuUsPerRequest: Math.round(((cpuMs(pid) - c0) * 1000) / n), non200: bad };
}

const out: Record<string, unknown> = {};
try {
  for (const target of ['latchkey', 'baseline'] as const) {
    const port = await freePort();
    const origin = `http://localhost:${port}`;
    const env: Record<string, string> = { ...(process.env as Record<string, string>) };
    const argv =
      target === 'latchkey'
        ? [process.execPath, ...SERVER_NODE_FLAGS, serverEntry]
        : [process.execPath, '--no-warnings', 'bench/baseline/server.ts'];
    Object.assign(
      env,
      target === 'latchkey'
        ? { LATCHKEY_PORT: String(port), LATCHKEY_DATABASE_URL: `sqlite:${join(dir, 'l.db')}`, LATCHKEY_ORIGINS: origin, LATCHKEY_LOG_LEVEL: 'warn', LATCHKEY_VERIFY_WORKERS: '0', LATCHKEY_AUTH_PER_IP_PER_HOUR: '1000000' }
        : { BASELINE_PORT: String(port), BASELINE_DB: join(dir, 'b.db'), BASELINE_ORIGIN: origin },
    );
    const server = spawn('taskset', ['-c', '0', ...argv], { cwd: root, env, stdio: 'inherit' });
    try {
      for (let i = 0; i < 300; i++) {
        try {
          if ((await call(new Agent(), port, 'GET', '/healthz', origin)) === 200) break;
        } catch {
          // not up yet
        }
        await new Promise((r) => setTimeout(r, 100));
      }
      out[target] = {
        healthz: await measure(server.pid as number, port, origin, 'GET', '/healthz'),
        authenticationOptions: await measure(server.pid as number, port, origin, 'POST', '/api/v1/passkeys/authentication/options'),
      };
    } finally {
      server.kill('SIGTERM');
      await new Promise((r) => server.on('exit', r));
    }
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
process.stdout.write(`${JSON.stringify(out)}\n`);
