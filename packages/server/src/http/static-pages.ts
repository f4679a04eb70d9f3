import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import { CommonErrors } from '../errors/common.errors.ts';

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

/** The bundle under its versioned name: `/latchkey.<first 16 hex digits of its SHA-256>.js`, and its SRI value. */
interface VersionedBundle {
  bytes: Buffer;
  path: string;
  integrity: string;
}

async function versionedBundle(): Promise<VersionedBundle> {
  const bytes = Buffer.from(await bundleElements());
  return {
    bytes,
    path: `/latchkey.${createHash('sha256').update(bytes).digest('hex').slice(0, 16)}.js`,
    integrity: `sha384-${createHash('sha384').update(bytes).digest('base64')}`,
  };
}

/**
 * Serves the elements bundle at `/latchkey.js` (revalidated on every use) and at its versioned
 * URL `/latchkey.<hash>.js` (cached for a year, immutable: a new build has a new URL), and the demo
 * site at `/` (examples/demo/public; off in production unless enabled), whose pages load the
 * versioned URL with Subresource Integrity. Files are read once at start: the set is small and
 * fixed, and no request path ever reaches the file system.
 */
export async function installStaticPages(app: FastifyInstance, options: { demo: boolean }): Promise<void> {
  const hasBundle = existsSync(ELEMENTS_ENTRY) || existsSync(PREBUILT_BUNDLE);
  let versioned: Promise<VersionedBundle> | undefined;
  const bundle = () => {
    versioned ??= versionedBundle().catch((error: unknown) => {
      versioned = undefined; // a later request may try again
      throw error;
    });
    return versioned;
  };
  if (hasBundle) {
    app.get('/latchkey.js', { schema: { hide: true } }, async (_request, reply) => {
      const { bytes, path } = await bundle();
      return (
        reply
          .type(TYPES['.js']!)
          .header('cache-control', 'no-cache')
          .header('link', `<${path}>; rel="canonical"`)
          // Public code, loaded as a module script by pages on other origins (which needs CORS).
          .header('access-control-allow-origin', '*')
          .send(bytes)
      );
    });
    app.get<{ Params: { version: string } }>('/latchkey.:version.js', { schema: { hide: true } }, async (request, reply) => {
      const { bytes, path } = await bundle();
      if (path !== `/latchkey.${request.params.version}.js`) throw CommonErrors.not_found({ detail: `No such version of the elements bundle; the current one is ${path}` });
      return reply
        .type(TYPES['.js']!)
        .header('cache-control', 'public, max-age=31536000, immutable')
        .header('access-control-allow-origin', '*')
        .send(bytes);
    });
  }
  if (!options.demo || !existsSync(DEMO_DIR)) return;
  for (const file of readdirSync(DEMO_DIR, { recursive: true }) as string[]) {
    const type = TYPES[extname(file)];
    if (!type) continue;
    const raw = readFileSync(join(DEMO_DIR, file));
    const path = file === 'index.html' ? '/' : `/${file.split('\\').join('/')}`;
    // Pages load the versioned bundle with SRI; scripts import it by its versioned URL (the same
    // module, fetched once). Made on first request, as the bundle may be built lazily.
    let body: Promise<Buffer> | undefined;
    const rewrite = async (): Promise<Buffer> => {
      if (!hasBundle || (type !== TYPES['.html'] && type !== TYPES['.js'])) return raw;
      const { path: url, integrity } = await bundle();
      let text = raw.toString('utf8').replaceAll("'/latchkey.js'", `'${url}'`);
      if (type === TYPES['.html']) {
        text = text.replace('</head>', `  <script type="module" src="${url}" integrity="${integrity}" crossorigin="anonymous"></script>\n</head>`);
      }
      return Buffer.from(text);
    };
    app.get(path, { schema: { hide: true } }, async (_request, reply) => {
      body ??= rewrite().catch((error: unknown) => {
        body = undefined;
        throw error;
      });
      return reply.type(type).header('cache-control', 'no-cache').send(await body);
    });
  }
}
