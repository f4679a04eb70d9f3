// `npm run build`: compiles packages/server/src to plain JavaScript in packages/server/dist
// (gitignored), which `npm start`, the container image and the benchmark run, and bundles the web
// components into dist/public/latchkey.js and the support console into dist/public/console.js. Node could run the TypeScript directly (type
// stripping, as the tests do), but that keeps a WebAssembly transpiler in every server process
// (~28 MB more RSS at idle), and bundling inside the server loads esbuild there (~7 MB more at
// peak; bench/RESULTS.md). About two seconds.
//
// dist/build.json records a hash of every input (sourceHash()): `npm start` compares it with the
// sources and rebuilds when they changed, so a stale build is never run by accident.
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { ROOT, ensureDependencies, ensureModernNode, log } from './ensure-node.mjs';

const DIST = join(ROOT, 'packages', 'server', 'dist');
export const SERVER_DIST_ENTRY = join(DIST, 'main.js');
const STAMP = join(DIST, 'build.json');

/** Files and folders whose content makes the build; tests are left out. */
const INPUTS = [
  'packages/server/src',
  'packages/server/tsconfig.build.json',
  'packages/elements/src',
  'packages/sdk/src',
  'packages/console/src',
  'tsconfig.base.json',
  'package-lock.json',
  'scripts/build-server.mjs',
];

function* files(path) {
  if (!existsSync(path)) return;
  if (!statSync(path).isDirectory()) {
    yield path;
    return;
  }
  for (const entry of readdirSync(path, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
    const child = join(path, entry.name);
    if (entry.isDirectory()) yield* files(child);
    else if (!entry.name.endsWith('.test.ts')) yield child;
  }
}

/** SHA-256 over the names and contents of every build input (a few hundred files, ~20 ms). */
export function sourceHash() {
  const hash = createHash('sha256');
  for (const input of INPUTS) {
    for (const file of files(join(ROOT, input))) {
      hash.update(relative(ROOT, file)).update('\0').update(readFileSync(file)).update('\0');
    }
  }
  return hash.digest('hex');
}

/**
 * Whether packages/server/dist is missing, stale (built from other sources) or current. A checkout
 * without sources (e.g. the container image, which holds only dist) is always current.
 */
export function buildState() {
  if (!existsSync(SERVER_DIST_ENTRY) || !existsSync(STAMP)) return 'missing';
  if (!existsSync(join(ROOT, 'packages', 'server', 'src'))) return 'current';
  try {
    return JSON.parse(readFileSync(STAMP, 'utf8')).sourceHash === sourceHash() ? 'current' : 'stale';
  } catch {
    return 'missing';
  }
}

export function buildServer() {
  log('Compiling the server to JavaScript (packages/server/dist)…');
  const hash = sourceHash();
  // Files of deleted sources must not linger in dist.
  rmSync(DIST, { recursive: true, force: true });
  execFileSync(process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join('packages', 'server', 'tsconfig.build.json')], {
    cwd: ROOT,
    stdio: 'inherit',
  });
  // The same bundle the server would make in memory (its own code and options), made here in a
  // short-lived process (it imports the TypeScript source).
  const bundle = execFileSync(
    process.execPath,
    [
      '--input-type=module',
      '-e',
      `const { bundleElements } = await import(${JSON.stringify(join(ROOT, 'packages', 'server', 'src', 'http', 'static-pages.ts'))});
       process.stdout.write(Buffer.from(await bundleElements()));`,
    ],
    { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 64 * 1024 * 1024 },
  );
  const consoleBundle = execFileSync(
    process.execPath,
    [
      '--input-type=module',
      '-e',
      `const { bundleConsole } = await import(${JSON.stringify(join(ROOT, 'packages', 'server', 'src', 'http', 'console-pages.ts'))});
       process.stdout.write(Buffer.from(await bundleConsole()));`,
    ],
    { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 64 * 1024 * 1024 },
  );
  const publicDir = join(DIST, 'public');
  mkdirSync(publicDir, { recursive: true });
  writeFileSync(join(publicDir, 'latchkey.js'), bundle);
  writeFileSync(join(publicDir, 'console.js'), consoleBundle);
  // Last: a build interrupted before this line has no stamp and counts as missing.
  writeFileSync(STAMP, `${JSON.stringify({ sourceHash: hash, builtAt: new Date().toISOString(), node: process.version }, null, 2)}\n`);
  return SERVER_DIST_ENTRY;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  ensureModernNode();
  ensureDependencies();
  buildServer();
}
