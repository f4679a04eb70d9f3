// Builds the installable packages (run by `npm pack` through their prepack scripts):
//   @latchkey/sdk       packages/sdk/dist: JavaScript and type declarations
//   @latchkey/elements  packages/elements/dist: JavaScript and declarations of the elements and of
//                       the SDK sources they import, and dist/latchkey.js, the one-file browser
//                       bundle (Lit included) that the server serves as /latchkey.js, to self-host
//   @latchkey/node      packages/node/dist: JavaScript and declarations (jose is its one dependency)
//   node scripts/build-packages.mjs [sdk] [elements] [node]
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, log } from './ensure-node.mjs';

const TSC = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');

/** The sources import each other as `./x.ts`; published declarations must say `./x.js`. */
function rewriteDeclarations(dir) {
  for (const entry of readdirSync(dir)) {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) rewriteDeclarations(path);
    else if (entry.endsWith('.d.ts')) {
      const text = readFileSync(path, 'utf8');
      writeFileSync(path, text.replace(/((?:from|import)\s*\(?\s*['"])(\.{1,2}\/[^'"]+)\.ts(['"])/g, '$1$2.js$3'));
    }
  }
}

export async function buildPackage(name) {
  const dir = join(ROOT, 'packages', name);
  log(`Building @latchkey/${name} (packages/${name}/dist)…`);
  rmSync(join(dir, 'dist'), { recursive: true, force: true });
  execFileSync(process.execPath, [TSC, '-p', join(dir, 'tsconfig.build.json')], { cwd: ROOT, stdio: 'inherit' });
  rewriteDeclarations(join(dir, 'dist'));
  if (name === 'elements') {
    // The same options as the server's /latchkey.js (packages/server/src/http/static-pages.ts).
    const esbuild = await import('esbuild');
    await esbuild.build({
      entryPoints: [join(dir, 'src', 'index.ts')],
      outfile: join(dir, 'dist', 'latchkey.js'),
      bundle: true,
      format: 'esm',
      minify: true,
      target: 'es2022',
      legalComments: 'none',
      logLevel: 'warning',
    });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const names = process.argv.slice(2);
  for (const name of names.length > 0 ? names : ['sdk', 'elements', 'node']) await buildPackage(name);
}
