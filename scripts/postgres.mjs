// A throwaway PostgreSQL cluster for the test suite: initdb in a temporary folder, a free port on
// 127.0.0.1, trust auth, no fsync; removed again when the suite ends.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { log } from './ensure-node.mjs';

function findBinDir() {
  const base = '/usr/lib/postgresql';
  if (existsSync(base)) {
    const versions = readdirSync(base).filter((v) => existsSync(join(base, v, 'bin', 'initdb'))).sort((a, b) => Number(b) - Number(a));
    if (versions.length > 0) return join(base, versions[0], 'bin');
  }
  const which = spawnSync('sh', ['-c', 'command -v initdb'], { encoding: 'utf8' });
  if (which.status === 0 && which.stdout.trim()) return join(which.stdout.trim(), '..');
  return undefined;
}

function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}

const isRoot = process.getuid?.() === 0;

/**
 * Starts a cluster. `durableCommits`: keep synchronous_commit on (a fault test counts on every
 * acknowledged commit being in the WAL); the suite's shared cluster turns it off for speed.
 */
export async function startPostgres({ durableCommits = false } = {}) {
  let bin = findBinDir();
  if (!bin && isRoot) {
    log('PostgreSQL is not installed; installing Debian\'s postgresql package (apt-get)…');
    execFileSync('sh', ['-c', 'apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null'], { stdio: 'inherit' });
    bin = findBinDir();
  }
  if (!bin) {
    throw new Error('PostgreSQL 15+ is needed for the PostgreSQL half of the suite: `sudo apt-get install postgresql` (or run with TEST_DIALECTS=sqlite)');
  }
  const dir = mkdtempSync('/tmp/latchkey-pg-');
  if (isRoot) chownSync(dir, Number(execFileSync('id', ['-u', 'postgres']).toString()), Number(execFileSync('id', ['-g', 'postgres']).toString()));
  // PostgreSQL refuses to run as root, so as root the cluster belongs to the postgres user.
  const run = (cmd, args) =>
    isRoot ? execFileSync('runuser', ['-u', 'postgres', '--', cmd, ...args], { stdio: 'pipe' }) : execFileSync(cmd, args, { stdio: 'pipe' });
  const port = await freePort();
  run(join(bin, 'initdb'), ['-D', join(dir, 'data'), '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-sync']);
  const serverOptions = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off${durableCommits ? '' : ' -c synchronous_commit=off'} -c full_page_writes=off -c max_connections=300`;
  run(join(bin, 'pg_ctl'), ['-D', join(dir, 'data'), '-l', join(dir, 'server.log'), '-w', '-t', '60', '-o', serverOptions, 'start']);
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
  const data = join(dir, 'data');
  return {
    url,
    dir,
    /**
     * `pg_ctl <action>` without blocking the event loop (fault tests keep traffic flowing meanwhile):
     * 'restart' and 'stop' with `-m fast` (clients see "terminating connection due to administrator
     * command"), 'start' on the same port and settings.
     */
    control(action) {
      const args = ['-D', data, '-l', join(dir, 'server.log'), '-w', '-t', '60', ...(action === 'start' ? ['-o', serverOptions] : ['-m', 'fast']), action];
      const [cmd, argv] = isRoot ? ['runuser', ['-u', 'postgres', '--', join(bin, 'pg_ctl'), ...args]] : [join(bin, 'pg_ctl'), args];
      return new Promise((resolve, reject) => {
        const child = spawn(cmd, argv, { stdio: 'ignore' });
        child.on('error', reject);
        child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`pg_ctl ${action} exited with ${code}`))));
      });
    },
    stop() {
      try {
        run(join(bin, 'pg_ctl'), ['-D', join(dir, 'data'), '-m', 'immediate', '-w', 'stop']);
      } catch {
        // already stopped
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
