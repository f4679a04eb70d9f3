// `npm run size`: the gzipped size of each element's browser bundle (esbuild, minified, the way
// the server serves /latchkey.js), of the SDK alone and of the support console. <latchkey-auth> must
// stay under 25 KB, the console under 46 KB (40 KB until issue 14's adoption, rollout and experiments
// pages and the complete webhooks page: +12 KB gzipped, of which ~4.7 KB are their strings in English
// and German; the next step down is loading each admin page as its own chunk).
//   node scripts/size.ts
import { gzipSync } from 'node:zlib';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

export const BUDGET_BYTES: Record<string, number> = { 'latchkey-auth': 25 * 1024, 'support console (/admin)': 46 * 1024 };

const ENTRIES: Record<string, string> = {
  'latchkey-auth': 'packages/elements/src/latchkey-auth.ts',
  'latchkey-passkeys': 'packages/elements/src/latchkey-passkeys.ts',
  'latchkey-passkey-append': 'packages/elements/src/latchkey-passkey-append.ts',
  'latchkey-email-code': 'packages/elements/src/latchkey-email-code.ts',
  'latchkey-recovery-codes': 'packages/elements/src/latchkey-recovery-codes.ts',
  'latchkey-email': 'packages/elements/src/latchkey-email.ts',
  'all elements + SDK (/latchkey.js)': 'packages/elements/src/index.ts',
  'sdk': 'packages/sdk/src/index.ts',
  'support console (/admin)': 'packages/console/src/index.ts',
};

export interface Measured {
  name: string;
  bytes: number;
  gzipped: number;
}

export async function measure(): Promise<Measured[]> {
  const root = fileURLToPath(new URL('../', import.meta.url));
  const results: Measured[] = [];
  for (const [name, entry] of Object.entries(ENTRIES)) {
    const output = await build({ entryPoints: [root + entry], bundle: true, format: 'esm', minify: true, target: 'es2022', conditions: ['@latchkey/source'], write: false, legalComments: 'none', logLevel: 'silent' });
    const code = output.outputFiles[0]!.contents;
    results.push({ name, bytes: code.length, gzipped: gzipSync(code, { level: 9 }).length });
  }
  return results;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  let over = false;
  for (const { name, bytes, gzipped } of await measure()) {
    const budget = BUDGET_BYTES[name];
    if (budget && gzipped > budget) over = true;
    console.log(`${name.padEnd(36)} ${(bytes / 1024).toFixed(1).padStart(6)} KB  ${(gzipped / 1024).toFixed(1).padStart(5)} KB gzipped${budget ? `  (budget ${budget / 1024} KB)` : ''}`);
  }
  process.exit(over ? 1 : 0);
}
