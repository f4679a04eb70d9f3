// Compiles packages/server/src to plain JavaScript in packages/server/dist (gitignored), which
// `npm start` and the benchmark run, and bundles the web components into dist/public/latchkey.js.
// Node could run the TypeScript directly (type stripping, as the tests do), but that keeps a
// WebAssembly transpiler in every server process (~28 MB more RSS at idle), and bundling inside
// the server loads esbuild there (~7 MB more at peak; bench/RESULTS.md). About two seconds.
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
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
  const publicDir = join(ROOT, 'packages', 'server', 'dist', 'public');
  mkdirSync(publicDir, { recursive: true });
  writeFileSync(join(publicDir, 'latchkey.js'), bundle);
  return SERVER_DIST_ENTRY;
}

if (import.meta.url === `file://${process.argv[1]}`) buildServer();
