// Compiles packages/server/src to plain JavaScript in packages/server/dist (gitignored), which
// `npm start` and the benchmark run. Node could run the TypeScript directly (type stripping, as the
// tests do), but that keeps a WebAssembly transpiler in every server process: ~28 MB more RSS at
// idle (bench/RESULTS.md). tsc takes about two seconds.
import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, log } from './ensure-node.mjs';

export const SERVER_DIST_ENTRY = join(ROOT, 'packages', 'server', 'dist', 'main.js');

export function buildServer() {
  log('Compiling the server to JavaScript (packages/server/dist)…');
  // Files of deleted sources must not linger in dist.
  rmSync(join(ROOT, 'packages', 'server', 'dist'), { recursive: true, force: true });
  execFileSync(process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join('packages', 'server', 'tsconfig.build.json')], {
    cwd: ROOT,
    stdio: 'inherit',
  });
  return SERVER_DIST_ENTRY;
}

if (import.meta.url === `file://${process.argv[1]}`) buildServer();
