/**
 * Can an attacker tell a registered username from an unregistered one by the time
 * `POST /api/v1/passkeys/authentication/options {"username"}` takes? (SEC-20, WebAuthn L3 §14.6.2.)
 *
 * Starts a real server on 127.0.0.1 (SQLite, or PostgreSQL with --pg=<admin url>), signs up
 * accounts, then asks for options for known, unknown and invalid usernames in random interleaved
 * order over one keep-alive connection, and reports per class the median, p10/p90 and mean, the
 * difference of medians, and the probability that a random "known" request is slower than a random
 * "unknown" one (0.5 = the two cannot be told apart; a timing oracle drifts towards 0 or 1).
 *
 * Usage: npm run bench:timing [-- --n=2000 --users=50]   (loopback only, bounded by --n)
 */
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import { newAuthenticator, signUp } from '../packages/server/test/helpers/flows.ts';
import { startTestServer, TEST_ORIGIN } from '../packages/server/test/helpers/test-server.ts';

const args = Object.fromEntries(process.argv.slice(2).map((a) => /^--([^=]+)=(.*)$/.exec(a)?.slice(1) ?? [a, 'true']));
const N = Math.min(Number(args.n ?? 2000), 20_000);
const USERS = Math.min(Number(args.users ?? 50), 1000);

type Kind = 'known' | 'unknown' | 'invalid';

const server = await startTestServer('sqlite');
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
const { port } = new URL(server.url);

function optionsFor(username: string): Promise<{ status: number; ms: number; shape: string }> {
  const body = JSON.stringify({ username });
  const started = process.hrtime.bigint();
  return new Promise((resolve, reject) => {
    const request = http.request(
      {
        host: '127.0.0.1',
        port,
        path: '/api/v1/passkeys/authentication/options',
        method: 'POST',
        agent,
        headers: { 'content-type': 'application/json', origin: TEST_ORIGIN, 'content-length': Buffer.byteLength(body) },
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (c: Buffer) => chunks.push(c));
        response.on('end', () => {
          const ms = Number(process.hrtime.bigint() - started) / 1e6;
          const json = JSON.parse(Buffer.concat(chunks).toString()) as Record<string, unknown>;
          resolve({ status: response.statusCode ?? 0, ms, shape: Object.keys(json).sort().join(',') });
        });
      },
    );
    request.on('error', reject);
    request.end(body);
  });
}

try {
  process.stderr.write(`timing: signing up ${USERS} accounts…\n`);
  const known: string[] = [];
  for (let i = 0; i < USERS; i++) {
    const username = `timing-${i}-${randomBytes(3).toString('hex')}`;
    await signUp(server.client(), newAuthenticator(), username);
    known.push(username);
  }
  const samples: Record<Kind, number[]> = { known: [], unknown: [], invalid: [] };
  const statuses = new Set<string>();
  const pick = (): Kind => (['known', 'unknown', 'invalid'] as const)[Math.floor(Math.random() * 3)] as Kind;
  const usernameOf = (kind: Kind) =>
    kind === 'known' ? (known[Math.floor(Math.random() * known.length)] as string) : kind === 'unknown' ? `nobody-${randomBytes(4).toString('hex')}` : `not valid ${randomBytes(2).toString('hex')}`;
  for (let i = 0; i < 300; i++) await optionsFor(usernameOf(pick())); // warm-up, not counted
  process.stderr.write(`timing: ${N} interleaved requests…\n`);
  for (let i = 0; i < N; i++) {
    const kind = pick();
    const result = await optionsFor(usernameOf(kind));
    samples[kind].push(result.ms);
    statuses.add(`${result.status} ${result.shape}`);
  }

  const sorted = (xs: number[]) => [...xs].sort((a, b) => a - b);
  const quantile = (xs: number[], q: number) => sorted(xs)[Math.min(xs.length - 1, Math.floor(q * xs.length))] ?? Number.NaN;
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  /** P(a random x from `a` > a random y from `b`), ties counted half: the Mann-Whitney AUC. */
  function probabilitySlower(a: number[], b: number[]): number {
    const all = [...a.map((v) => ({ v, a: true })), ...b.map((v) => ({ v, a: false }))].sort((x, y) => x.v - y.v);
    let rankSum = 0;
    for (let i = 0; i < all.length; ) {
      let j = i;
      while (j < all.length && all[j]?.v === all[i]?.v) j++;
      const rank = (i + j + 1) / 2;
      for (let k = i; k < j; k++) if (all[k]?.a) rankSum += rank;
      i = j;
    }
    return (rankSum - (a.length * (a.length + 1)) / 2) / (a.length * b.length);
  }
  const µs = (ms: number) => `${(ms * 1000).toFixed(0)} µs`;
  console.log(`\nidentifier-first options, ${N} requests over one keep-alive connection, SQLite, ${USERS} accounts`);
  console.log('| usernames | n | median | p10 | p90 | mean |');
  console.log('| --- | ---: | ---: | ---: | ---: | ---: |');
  for (const kind of ['known', 'unknown', 'invalid'] as const) {
    const xs = samples[kind];
    console.log(`| ${kind} | ${xs.length} | ${µs(quantile(xs, 0.5))} | ${µs(quantile(xs, 0.1))} | ${µs(quantile(xs, 0.9))} | ${µs(mean(xs))} |`);
  }
  for (const other of ['unknown', 'invalid'] as const) {
    const diff = quantile(samples.known, 0.5) - quantile(samples[other], 0.5);
    console.log(
      `known vs ${other}: median difference ${µs(diff)}; P(known slower than ${other}) = ${probabilitySlower(samples.known, samples[other]).toFixed(3)} (0.5 = indistinguishable)`,
    );
  }
  console.log(`status and body keys seen: ${[...statuses].join(' | ')}`);
} finally {
  agent.destroy();
  await server.close();
}
