// `npm test`: the whole suite. Brings Node 24, dependencies, PostgreSQL, Chromium and rsyslog if missing,
// runs every test file on SQLite and PostgreSQL, and cleans up after itself.
//   TEST_DIALECTS=sqlite npm test        only SQLite
//   npm test -- packages/server/test/integration/registration.test.ts   some files
//   LATCHKEY_SKIP_CONTAINER_TEST=1 npm test   without building and running the container image
//                                             (packages/server/test/container; needs root and podman)
import { execFileSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { ROOT, ensureDependencies, ensureModernNode, log } from './ensure-node.mjs';

ensureModernNode();
ensureDependencies();

const { startPostgres } = await import('./postgres.mjs');

const dialects = (process.env.TEST_DIALECTS ?? 'sqlite,postgres').split(',').map((d) => d.trim()).filter(Boolean);
const env = { ...process.env, TEST_DIALECTS: dialects.join(',') };

function ensureChromium() {
  if (process.env.LATCHKEY_CHROMIUM ?? existsSync('/usr/bin/chromium')) return;
  if (process.getuid?.() === 0) {
    log('Chromium is not installed; installing Debian\'s chromium package for the browser tests (apt-get)…');
    execFileSync('sh', ['-c', 'apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null'], { stdio: 'inherit' });
    return;
  }
  throw new Error('The browser tests need Chromium: `sudo apt-get install chromium` (or set LATCHKEY_CHROMIUM to a Chromium binary)');
}

// The SIEM tests send to a real syslog receiver: Debian's rsyslog with its OpenSSL TLS driver.
function ensureRsyslog() {
  const driver = ['/usr/lib/x86_64-linux-gnu/rsyslog/lmnsd_ossl.so', '/usr/lib/aarch64-linux-gnu/rsyslog/lmnsd_ossl.so'];
  if (existsSync('/usr/sbin/rsyslogd') && driver.some((p) => existsSync(p))) return;
  if (process.getuid?.() === 0) {
    log('rsyslog is not installed; installing Debian\'s rsyslog and rsyslog-openssl for the SIEM tests (apt-get)…');
    execFileSync('sh', ['-c', 'apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq rsyslog rsyslog-openssl >/dev/null'], { stdio: 'inherit' });
    return;
  }
  throw new Error('The SIEM tests need a real syslog receiver: `sudo apt-get install rsyslog rsyslog-openssl`');
}

let postgres;
const cleanup = () => postgres?.stop();
process.on('SIGINT', () => {
  cleanup();
  process.exit(130);
});

try {
  ensureChromium();
  ensureRsyslog();
  if (dialects.includes('postgres')) {
    log('Starting a throwaway PostgreSQL cluster…');
    postgres = await startPostgres();
    env.LATCHKEY_TEST_PG_URL = postgres.url;
    log(`PostgreSQL is up at ${postgres.url} (data in ${postgres.dir}).`);
  }
  const files = process.argv.slice(2);
  const patterns = files.length > 0 ? files : ['packages/*/src/**/*.test.ts', 'packages/*/test/**/*.test.ts', 'e2e/**/*.test.ts'];
  log(`Running tests on ${dialects.join(' and ')}…`);
  const code = await new Promise((resolve) => {
    const child = spawn(process.execPath, ['--test', '--test-concurrency=2', '--test-timeout=120000', ...patterns], { cwd: ROOT, env, stdio: 'inherit' });
    child.on('exit', (status) => resolve(status ?? 1));
  });
  cleanup();
  process.exit(code);
} catch (error) {
  cleanup();
  log(error instanceof Error ? error.message : String(error));
  process.exit(1);
}
