// custom-elements.json is generated from the elements' JSDoc (events, slots, parts, custom
// properties): `npm run manifest -w packages/elements`. This test fails when it is out of date.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const ELEMENTS = fileURLToPath(new URL('../', import.meta.url));

test('custom-elements.json matches the sources', () => {
  const cli = createRequire(import.meta.url).resolve('@custom-elements-manifest/analyzer/cem.js');
  const out = mkdtempSync(join(tmpdir(), 'latchkey-cem-'));
  // The analyzer points package.json's "customElements" at its outdir: put the file back afterwards.
  const packageJson = readFileSync(join(ELEMENTS, 'package.json'), 'utf8');
  try {
    execFileSync(process.execPath, [cli, 'analyze', '--litelement', '--globs', 'src/latchkey-*.ts', '--outdir', relative(ELEMENTS, out)], { cwd: ELEMENTS, stdio: 'pipe', timeout: 60_000 });
    const fresh = JSON.parse(readFileSync(join(out, 'custom-elements.json'), 'utf8'));
    const committed = JSON.parse(readFileSync(join(ELEMENTS, 'custom-elements.json'), 'utf8'));
    assert.equal(JSON.parse(packageJson).customElements, 'custom-elements.json');
    assert.deepEqual(committed, fresh, 'custom-elements.json is out of date: run `npm run manifest -w packages/elements`');
    const tags = fresh.modules.flatMap((m: { declarations?: { tagName?: string }[] }) => (m.declarations ?? []).map((d) => d.tagName).filter(Boolean));
    assert.deepEqual(tags.sort(), ['latchkey-auth', 'latchkey-email', 'latchkey-email-code', 'latchkey-passkey-append', 'latchkey-passkeys', 'latchkey-recovery-codes']);
    const auth = fresh.modules.flatMap((m: { declarations?: { tagName?: string; events?: { name: string }[] }[] }) => m.declarations ?? []).find((d: { tagName?: string }) => d.tagName === 'latchkey-auth');
    for (const event of ['latchkey-signed-in', 'latchkey-signed-up', 'latchkey-error', 'latchkey-fallback']) {
      assert.ok(auth.events.some((e: { name: string }) => e.name === event), `${event} is documented`);
    }
  } finally {
    writeFileSync(join(ELEMENTS, 'package.json'), packageJson);
    rmSync(out, { recursive: true, force: true });
  }
});
