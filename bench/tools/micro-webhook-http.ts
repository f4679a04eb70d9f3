/**
 * CPU per webhook POST of the webhook HTTP client alone (packages/server/src/modules/webhooks/webhooks.http.ts),
 * against a receiver in a process of its own (bench/tools/webhook-receiver.ts), 200 in flight at a time.
 * With --old=<another checkout> the two clients alternate, round by round, in this one process.
 *
 * Usage: node bench/tools/micro-webhook-http.ts [--old=/work/wt/before] [--rounds=20] [--posts=4000]
 * Only 127.0.0.1.
 */
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllowlist } from '../../packages/server/src/modules/webhooks/webhooks.address.ts';
import { createWebhookHttpClient, type WebhookHttpClient } from '../../packages/server/src/modules/webhooks/webhooks.http.ts';

const args = Object.fromEntries(process.argv.slice(2).map((a) => a.replace(/^--/, '').split('=') as [string, string]));
const rounds = Number(args.rounds ?? 20);
const posts = Number(args.posts ?? 4000);
const here = dirname(fileURLToPath(import.meta.url));
const receiver = spawn(process.execPath, [join(here, 'webhook-receiver.ts')], { stdio: ['ignore', 'pipe', 'inherit'] });
const port = await new Promise<number>((done) => receiver.stdout?.once('data', (d) => done(Number(String(d).trim()))));
const allow = parseAllowlist(['127.0.0.1']);
if (!allow.ok) throw new Error(allow.problem);
const options = { timeoutMs: 5000, allowlist: allow.allowlist, clock: { now: () => Date.now() } };
const clients: [string, WebhookHttpClient][] = [['this', createWebhookHttpClient(options)]];
if (args.old) {
  const old = (await import(join(args.old, 'packages/server/src/modules/webhooks/webhooks.http.ts'))) as { createWebhookHttpClient: typeof createWebhookHttpClient };
  clients.unshift(['old', old.createWebhookHttpClient(options)]);
}
const body = JSON.stringify({ type: 'signin.succeeded', timestamp: new Date().toISOString(), data: { eventId: '0193a1c2-4a10-7c02-8e11-2f3a4b5c6d7e', userId: '5b0c7d1e-0000-4000-8000-000000000000' } });
const headers = { 'content-type': 'application/json', 'user-agent': 'Latchkey-Webhooks/1', 'webhook-id': 'msg_0193a1c2', 'webhook-timestamp': '1796300000', 'webhook-signature': `v1,${'a'.repeat(43)}=` };
const samples = new Map<string, number[]>();
for (let round = 0; round < rounds; round++) {
  const [label, client] = clients[round % clients.length]!;
  const cpu = process.cpuUsage();
  for (let i = 0; i < posts; i += 200) await Promise.all(Array.from({ length: 200 }, () => client.post(`http://127.0.0.1:${port}/hooks`, headers, body)));
  const used = process.cpuUsage(cpu);
  samples.set(label, [...(samples.get(label) ?? []), (used.user + used.system) / posts]);
}
for (const [label, xs] of samples) {
  const sorted = [...xs].sort((a, b) => a - b);
  console.log(`${label}: median ${sorted[sorted.length >> 1]?.toFixed(1)} µs CPU per POST (min ${sorted[0]?.toFixed(1)}, max ${sorted.at(-1)?.toFixed(1)}, ${xs.length} rounds of ${posts})`);
}
for (const [, client] of clients) await client.close();
receiver.kill();
