import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer, request as httpRequest } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { buildImage, ensureTools, podmanGlobal, ULIMITS } from '../../../../scripts/container.mjs';
import { authenticate, newAuthenticator, signUp } from '../helpers/flows.ts';
import { TestClient } from '../helpers/test-client.ts';
import { createTestDatabase, dialects, freePort, TEST_ORIGIN, TEST_RP_ID } from '../helpers/test-server.ts';

/**
 * The container image, built from the repository's Dockerfile with Debian's podman on a base
 * image made locally (scripts/container.mjs; no registry is reachable here), and run the way
 * production would: read-only root filesystem, data volume, unprivileged user, HEALTHCHECK.
 * Sign-up and sign-in go through the running containers over HTTP. With PostgreSQL, two nodes
 * share the database behind a round-robin proxy (what compose.yaml sets up with Caddy), so every
 * ceremony's options and verify land on different nodes.
 *
 * Slow (a first run on a machine builds the base image, ~2 min; later runs reuse it and the
 * dependency layer). LATCHKEY_SKIP_CONTAINER_TEST=1 skips it.
 */
const skip = process.env.LATCHKEY_SKIP_CONTAINER_TEST
  ? 'LATCHKEY_SKIP_CONTAINER_TEST is set'
  : process.platform !== 'linux'
    ? 'needs Linux and podman'
    : false;

const run = (...args: string[]) => execFileSync('podman', [...podmanGlobal(), ...args], { stdio: ['ignore', 'pipe', 'pipe'] }).toString().trim();
const suffix = randomBytes(4).toString('hex');
const containers: string[] = [];
const volumes: string[] = [];
let image = '';

function startContainer(name: string, port: number, env: Record<string, string>, volume?: string): string {
  containers.push(name);
  const args = ['run', '--detach', '--name', name, '--network', 'host', '--read-only', ...ULIMITS];
  if (volume) args.push('--volume', `${volume}:/data`);
  for (const [key, value] of Object.entries({ LATCHKEY_PORT: String(port), LATCHKEY_HOST: '127.0.0.1', LATCHKEY_RP_ID: TEST_RP_ID, LATCHKEY_ORIGINS: TEST_ORIGIN, ...env })) {
    args.push('--env', `${key}=${value}`);
  }
  run(...args, image);
  return name;
}

/** Runs the image's own HEALTHCHECK until it passes; returns how long that took. */
async function waitHealthy(name: string, startedAt: number): Promise<number> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const check = spawnSync('podman', [...podmanGlobal(), 'healthcheck', 'run', name], { stdio: 'pipe' });
    if (check.status === 0) return Date.now() - startedAt;
    if (Date.now() > deadline) throw new Error(`${name} never became healthy:\n${logs(name)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function logs(name: string): string {
  return spawnSync('podman', [...podmanGlobal(), 'logs', name], { stdio: 'pipe' }).output.join('');
}

describe('the container image', { skip }, () => {
  before(() => {
    ensureTools();
    const started = Date.now();
    image = buildImage(`localhost/latchkey:test-${suffix}`);
    const size = Number(run('image', 'inspect', '--format', '{{.Size}}', image));
    process.stderr.write(`# container image: built in ${((Date.now() - started) / 1000).toFixed(1)} s, ${(size / 1e6).toFixed(0)} MB\n`);
  });

  after(() => {
    for (const name of containers) spawnSync('podman', [...podmanGlobal(), 'rm', '--force', '--time', '0', name], { stdio: 'ignore' });
    for (const volume of volumes) spawnSync('podman', [...podmanGlobal(), 'volume', 'rm', '--force', volume], { stdio: 'ignore' });
    if (image) spawnSync('podman', [...podmanGlobal(), 'rmi', image], { stdio: 'ignore' });
  });

  test('has no dev dependencies, runs as uid 1000 and declares /data, the health check and port 8080', () => {
    const [inspected] = JSON.parse(run('image', 'inspect', image));
    const config = inspected.Config;
    assert.equal(config.User, '1000:1000');
    assert.ok('/data' in config.Volumes, JSON.stringify(config.Volumes));
    assert.ok('8080/tcp' in config.ExposedPorts);
    // podman shows the HEALTHCHECK beside Config, Docker inside it.
    assert.match((config.Healthcheck ?? inspected.Healthcheck).Test.join(' '), /\/healthz/);
    assert.ok(config.Env.includes('LATCHKEY_ENV=production'));
    const listing = run('run', '--rm', ...ULIMITS, '--entrypoint', 'sh', image, '-c', 'ls /app/node_modules; ls /app/packages/server; ls /app/node_modules/.bin 2>/dev/null | wc -l');
    for (const dev of ['typescript', '@biomejs', 'playwright-core', 'smtp-server', 'esbuild']) assert.ok(!listing.split('\n').includes(dev), `${dev} is not in the image`);
    assert.ok(listing.includes('fastify'));
    assert.ok(!listing.split('\n').includes('src'), 'no TypeScript sources in the image');
  });

  test('SQLite on a volume, read-only root: healthy, sign-up and sign-in, data kept across a restart, clean stop on SIGTERM', async () => {
    const volume = `latchkey-test-data-${suffix}`;
    volumes.push(volume);
    run('volume', 'create', volume);
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const startedAt = Date.now();
    const name = startContainer(`latchkey-test-sqlite-${suffix}`, port, {}, volume);
    const healthyAfter = await waitHealthy(name, startedAt);
    process.stderr.write(`# container start-up to healthy: ${healthyAfter} ms\n`);

    assert.equal(run('exec', name, 'id', '-u'), '1000');
    const authenticator = newAuthenticator();
    const account = await signUp(new TestClient(url, TEST_ORIGIN), authenticator, 'container');
    // Production defaults: no demo, no API reference; the bundle is there.
    assert.equal((await fetch(`${url}/`)).status, 404);
    assert.equal((await fetch(`${url}/docs`)).status, 404);
    assert.equal((await fetch(`${url}/latchkey.js`)).status, 200);
    // Nothing outside /data is writable.
    assert.notEqual(spawnSync('podman', [...podmanGlobal(), 'exec', name, 'touch', '/app/x'], { stdio: 'pipe' }).status, 0);

    const stopStarted = Date.now();
    run('stop', '--time', '10', name);
    const stoppedAfter = Date.now() - stopStarted;
    assert.equal(run('inspect', '--format', '{{.State.ExitCode}}', name), '0', logs(name));
    assert.ok(stoppedAfter < 8_000, `stopped in ${stoppedAfter} ms`);
    assert.match(logs(name), /"exitCode":0,"msg":"stopped"/);

    run('start', name);
    await waitHealthy(name, Date.now());
    const { verify } = await authenticate(new TestClient(url, TEST_ORIGIN), authenticator);
    assert.equal(verify.status, 200, verify.text);
    assert.equal(verify.body.user.id, account.user.id);
  });

  test('two nodes on one PostgreSQL behind a round-robin proxy: every ceremony crosses nodes', { skip: !dialects.includes('postgres') && 'PostgreSQL is not in TEST_DIALECTS' }, async () => {
    const database = await createTestDatabase('postgres');
    const ports = [await freePort(), await freePort()];
    try {
      const startedAt = Date.now();
      const nodes = ports.map((port, i) =>
        startContainer(`latchkey-test-pg${i}-${suffix}`, port, { LATCHKEY_DATABASE_URL: database.url, LATCHKEY_TRUST_PROXY: '127.0.0.1' }),
      );
      for (const node of nodes) await waitHealthy(node, startedAt);
      const hits = [0, 0];
      let next = 0;
      const proxy = createServer((req, res) => {
        const i = next++ % 2;
        hits[i]!++;
        const upstream = httpRequest({ host: '127.0.0.1', port: ports[i], path: req.url, method: req.method, headers: req.headers }, (answer) => {
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
        });
        upstream.on('error', () => res.writeHead(502).end());
        req.pipe(upstream);
      });
      await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
      const address = proxy.address();
      const url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
      try {
        const authenticator = newAuthenticator();
        const account = await signUp(new TestClient(url, TEST_ORIGIN), authenticator, 'two-nodes');
        for (let i = 0; i < 3; i++) {
          const { verify } = await authenticate(new TestClient(url, TEST_ORIGIN), authenticator);
          assert.equal(verify.status, 200, verify.text);
          assert.equal(verify.body.user.id, account.user.id);
        }
        assert.ok(hits[0]! >= 4 && hits[1]! >= 4, `both nodes answered: ${hits.join(' / ')}`);
      } finally {
        proxy.close();
      }
      for (const node of nodes) {
        run('stop', '--time', '10', node);
        assert.equal(run('inspect', '--format', '{{.State.ExitCode}}', node), '0', logs(node));
      }
    } finally {
      await database.drop();
    }
  });
});
