import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import { CommonErrors } from '../errors/common.errors.ts';

const CONSOLE_ENTRY = fileURLToPath(new URL('../../../console/src/index.ts', import.meta.url));
/** What `npm run build` writes next to the compiled server (scripts/build-server.mjs); absent when running from src. */
const PREBUILT_CONSOLE = fileURLToPath(new URL('../public/console.js', import.meta.url));

/**
 * Bundles the console (packages/console, Lit included) into one minified ES module. The console
 * imports `@latchkey/sdk` by name; the `@latchkey/source` export condition points it at the SDK's
 * TypeScript sources.
 */
export async function bundleConsole(): Promise<Uint8Array> {
  const esbuild = await import('esbuild');
  try {
    const result = await esbuild.build({
      entryPoints: [CONSOLE_ENTRY],
      bundle: true,
      format: 'esm',
      minify: true,
      target: 'es2022',
      conditions: ['@latchkey/source'],
      write: false,
      legalComments: 'none',
      logLevel: 'silent',
    });
    return result.outputFiles[0]!.contents;
  } finally {
    // esbuild keeps its service process alive for more builds; there will be none.
    await esbuild.stop();
  }
}

/** The page every console route answers with; the app routes on the client. */
function consoleHtml(script: { path: string; integrity: string }): string {
  return `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <meta name="color-scheme" content="light dark">
  <meta name="robots" content="noindex">
  <title>Latchkey console</title>
  <link rel="icon" href="data:,">
  <script type="module" src="${script.path}" integrity="${script.integrity}" crossorigin="anonymous"></script>
</head>
<body>
  <latchkey-console></latchkey-console>
  <noscript>The Latchkey console needs JavaScript.</noscript>
</body>
</html>
`;
}

/**
 * Serves the support console: `/admin` and every path under it (client-side routes, including
 * `/admin/enroll#token=…`) answer with one small HTML page, which loads the console bundle from
 * its versioned URL `/admin/console.<first 16 hex digits of its SHA-256>.js` (cached for a year,
 * immutable) with Subresource Integrity. No inline script or style: the page runs under the same
 * CSP as every other HTML answer (security-headers.ts). The bundle is read from the build output
 * when there is one, else made by esbuild on first use and kept for the life of this app.
 */
export async function installConsolePages(app: FastifyInstance): Promise<void> {
  if (!existsSync(CONSOLE_ENTRY) && !existsSync(PREBUILT_CONSOLE)) return;
  let built: Promise<{ bytes: Buffer; path: string; html: Buffer }> | undefined;
  const bundle = () => {
    built ??= (existsSync(PREBUILT_CONSOLE) ? Promise.resolve(new Uint8Array(readFileSync(PREBUILT_CONSOLE))) : bundleConsole())
      .then((raw) => {
        const bytes = Buffer.from(raw);
        const path = `/admin/console.${createHash('sha256').update(bytes).digest('hex').slice(0, 16)}.js`;
        const integrity = `sha384-${createHash('sha384').update(bytes).digest('base64')}`;
        return { bytes, path, html: Buffer.from(consoleHtml({ path, integrity })) };
      })
      .catch((error: unknown) => {
        built = undefined; // a later request may try again
        throw error;
      });
    return built;
  };
  const page = async (_request: unknown, reply: import('fastify').FastifyReply) => {
    const { html } = await bundle();
    return reply.type('text/html; charset=utf-8').header('cache-control', 'no-cache').send(html);
  };
  app.get('/admin', { schema: { hide: true } }, page);
  app.get('/admin/*', { schema: { hide: true } }, page);
  app.get<{ Params: { version: string } }>('/admin/console.:version.js', { schema: { hide: true } }, async (request, reply) => {
    const { bytes, path } = await bundle();
    if (path !== `/admin/console.${request.params.version}.js`) throw CommonErrors.not_found({ detail: `No such version of the console bundle; the current one is ${path}` });
    return reply.type('text/javascript; charset=utf-8').header('cache-control', 'public, max-age=31536000, immutable').send(bytes);
  });
}
