import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';

const DEMO_DIR = fileURLToPath(new URL('../../../../examples/demo/public/', import.meta.url));
const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
};

/**
 * Serves the demo site at `/` (examples/demo/public). Files are read once at start: the set is
 * small and fixed, and no request path ever reaches the file system.
 */
export async function installStaticPages(app: FastifyInstance): Promise<void> {
  if (!existsSync(DEMO_DIR)) return;
  for (const file of readdirSync(DEMO_DIR, { recursive: true }) as string[]) {
    const type = TYPES[extname(file)];
    if (!type) continue;
    const body = readFileSync(join(DEMO_DIR, file));
    const path = file === 'index.html' ? '/' : `/${file.split('\\').join('/')}`;
    app.get(path, { schema: { hide: true } }, async (_request, reply) => reply.type(type).header('cache-control', 'no-cache').send(body));
  }
}
