import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';

const DEMO_DIR = fileURLToPath(new URL('../../../../examples/demo/public/', import.meta.url));
const ELEMENTS_ENTRY = fileURLToPath(new URL('../../../elements/src/index.ts', import.meta.url));

/** What `npm run build` writes next to the compiled server (scripts/build-server.mjs); absent when running from src. */
const PREBUILT_BUNDLE = fileURLToPath(new URL('../public/latchkey.js', import.meta.url));

/**
 * The web components and SDK as one browser script. `npm start` builds it before the server
 * starts (so the server process never loads esbuild: ~7 MB less peak RSS under load); run from
 * src (the tests), it is bundled in memory by esbuild the first time it is asked for. Either way
 * it is kept for the life of the process, and no build output is committed.
 */
let elementsBundle: Promise<Uint8Array> | undefined;
export function bundleElements(): Promise<Uint8Array> {
  if (!elementsBundle && existsSync(PREBUILT_BUNDLE)) elementsBundle = Promise.resolve(new Uint8Array(readFileSync(PREBUILT_BUNDLE)));
  elementsBundle ??= import('esbuild')
    .then((esbuild) =>
      esbuild
        .build({
          entryPoints: [ELEMENTS_ENTRY],
          bundle: true,
          format: 'esm',
          minify: true,
          target: 'es2022',
          write: false,
          legalComments: 'none',
          logLevel: 'silent',
        })
        // esbuild keeps its service process alive for more builds; there will be none.
        .finally(() => esbuild.stop()),
    )
    .then((result) => result.outputFiles[0]!.contents)
    .catch((error: unknown) => {
      elementsBundle = undefined; // a later request may try again
      throw error;
    });
  return elementsBundle;
}
const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
};

/**
 * Serves the demo site at `/` (examples/demo/public; off in production unless enabled) and the elements bundle at `/latchkey.js`. Files are read once at start: the set is
 * small and fixed, and no request path ever reaches the file system.
 */
export async function installStaticPages(app: FastifyInstance, options: { demo: boolean }): Promise<void> {
  if (existsSync(ELEMENTS_ENTRY)) {
    app.get('/latchkey.js', { schema: { hide: true } }, async (_request, reply) =>
      reply
        .type(TYPES['.js']!)
        .header('cache-control', 'no-cache')
        // Public code, loaded as a module script by pages on other origins (which needs CORS).
        .header('access-control-allow-origin', '*')
        .send(Buffer.from(await bundleElements())),
    );
  }
  if (!options.demo || !existsSync(DEMO_DIR)) return;
  for (const file of readdirSync(DEMO_DIR, { recursive: true }) as string[]) {
    const type = TYPES[extname(file)];
    if (!type) continue;
    const body = readFileSync(join(DEMO_DIR, file));
    const path = file === 'index.html' ? '/' : `/${file.split('\\').join('/')}`;
    app.get(path, { schema: { hide: true } }, async (_request, reply) => reply.type(type).header('cache-control', 'no-cache').send(body));
  }
}
