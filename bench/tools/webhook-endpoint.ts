/**
 * For the benches: a local webhook receiver (bench/tools/webhook-receiver.ts, pinned to cpu 1 with
 * the load generator, so it takes no CPU from the server under test) and an endpoint on it
 * subscribed to `*`, made the way an operator would (an API key by the CLI, then the management
 * API). The server needs LATCHKEY_WEBHOOK_ALLOW_HTTP=true and LATCHKEY_WEBHOOK_ALLOWED_TARGETS=127.0.0.1
 * (WEBHOOK_BENCH_ENV). Only 127.0.0.1.
 */
import { execFileSync, spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

export const WEBHOOK_BENCH_ENV = { LATCHKEY_WEBHOOK_ALLOW_HTTP: 'true', LATCHKEY_WEBHOOK_ALLOWED_TARGETS: '127.0.0.1' };
/** Endpoint settings that take sign-ins, succeeded and failed, as one count a minute instead of a delivery each. */
export const SIGNINS_AS_SUMMARY = { signinSucceeded: { mode: 'summary' }, signinFailed: { mode: 'summary' } };

/**
 * `settings` are more members of the endpoint (e.g. `{ signinSucceeded: { mode: 'summary' } }`: sign-ins
 * counted once a minute instead of one delivery each).
 */
export async function startWebhooks(root: string, databaseUrl: string, port: number, settings: Record<string, unknown> = {}): Promise<{ count(): Promise<number>; stop(): Promise<void> }> {
  const receiver = spawn('taskset', ['-c', '1', process.execPath, join(here, 'bench', 'tools', 'webhook-receiver.ts')], { stdio: ['ignore', 'pipe', 'inherit'] });
  const receiverPort = await new Promise<number>((done) => receiver.stdout?.once('data', (d) => done(Number(String(d).trim()))));
  const cliOut = execFileSync(process.execPath, [join(root, 'packages', 'server', 'src', 'cli.ts'), 'api-keys', 'create', '--name', 'bench', '--scopes', 'webhooks:manage,webhooks:read'], {
    cwd: root,
    env: { PATH: process.env.PATH ?? '', LATCHKEY_DATABASE_URL: databaseUrl },
    encoding: 'utf8',
  });
  const key = /lk_live_[a-z2-7]{16}_[A-Za-z0-9_-]{43}/.exec(cliOut)?.[0];
  if (!key) throw new Error(`no API key in: ${cliOut}`);
  // A database kept from an earlier round still has that round's endpoint (its receiver gone):
  // one endpoint per run, or every login would count two deliveries and a retry queue.
  const admin = `http://127.0.0.1:${port}/api/admin/v1/webhook-endpoints`;
  const listed = (await (await fetch(admin, { headers: { authorization: `Bearer ${key}` } })).json()) as { endpoints: { id: string }[] };
  for (const { id } of listed.endpoints) await fetch(`${admin}/${id}`, { method: 'DELETE', headers: { authorization: `Bearer ${key}` } });
  const answer = await fetch(admin, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify({ url: `http://127.0.0.1:${receiverPort}/hooks`, eventTypes: ['*'], ...settings }),
  });
  if (answer.status !== 201) throw new Error(`webhook endpoint not created: ${answer.status} ${await answer.text()}`);
  return {
    count: async () => ((await (await fetch(`http://127.0.0.1:${receiverPort}/count`)).json()) as { received: number }).received,
    stop: async () => {
      if (receiver.exitCode !== null) return;
      const exited = new Promise((r) => receiver.once('exit', r));
      receiver.kill('SIGTERM');
      await exited;
    },
  };
}
