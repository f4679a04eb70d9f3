import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const TSC = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');

/**
 * @latchkey/sdk, @latchkey/elements and @latchkey/node as a user gets them: `npm pack` (which builds them), then
 * `npm install` of the tarballs into a fresh project outside the monorepo, where the SDK is
 * imported and used from Node, both are type-checked from a consumer's TypeScript, and the
 * elements' self-hostable bundle is found.
 */
describe('the SDK, elements and node packages, installed from their tarballs', () => {
  const dir = mkdtempSync(join(tmpdir(), 'latchkey-consumer-'));
  const app = join(dir, 'app');

  before(() => {
    const packed = JSON.parse(
      execFileSync('npm', ['pack', '--json', '--pack-destination', dir, '--workspace', '@latchkey/sdk', '--workspace', '@latchkey/elements', '--workspace', '@latchkey/node'], {
        cwd: ROOT,
        stdio: ['ignore', 'pipe', 'inherit'],
      }).toString(),
    ) as Array<{ filename: string }>;
    mkdirSync(app);
    writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }));
    execFileSync('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error', ...packed.map((p) => join(dir, p.filename))], {
      cwd: app,
      stdio: ['ignore', 'inherit', 'inherit'],
    });
  });

  after(() => rmSync(dir, { recursive: true, force: true }));

  test('each tarball has JavaScript, declarations, a README and a version, and no sources or tests', () => {
    for (const name of ['sdk', 'elements', 'node']) {
      const pkg = JSON.parse(readFileSync(join(app, 'node_modules', '@latchkey', name, 'package.json'), 'utf8'));
      assert.match(pkg.version, /^\d+\.\d+\.\d+/);
      assert.ok(pkg.exports['.'].types && pkg.exports['.'].default, `${name} exports types and JavaScript`);
      const base = join(app, 'node_modules', '@latchkey', name);
      assert.ok(existsSync(join(base, 'README.md')), `${name} has a README`);
      assert.ok(existsSync(join(base, pkg.exports['.'].default)));
      assert.ok(existsSync(join(base, pkg.exports['.'].types)));
      assert.ok(!existsSync(join(base, 'src')) && !existsSync(join(base, 'test')), `${name} ships no sources or tests`);
    }
  });

  test('the SDK works from Node: a problem answer becomes a LatchkeyError with its code', () => {
    const script = `
      import { LatchkeyClient, LatchkeyError, bytesToBase64Url } from '@latchkey/sdk';
      const fetch = async () => new Response(JSON.stringify({ type: 'about:blank', title: 'Unauthorized', status: 401, code: 'session_required' }), { status: 401, headers: { 'content-type': 'application/problem+json' } });
      const client = new LatchkeyClient({ baseUrl: 'https://auth.example.com', auth: 'bearer', fetch });
      try { await client.listPasskeys(); } catch (e) { console.log(e instanceof LatchkeyError, e.status, e.code); }
      console.log(bytesToBase64Url(new Uint8Array([251, 255])));`;
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], { cwd: app }).toString().trim().split('\n');
    assert.deepEqual(out, ['true 401 session_required', '-_8']);
  });

  test('@latchkey/node works from Node: the verifier refuses alg none, the management client and the framework entry points load', () => {
    const script = `
      import { createVerifier, createManagementClient, LatchkeyTokenError, LatchkeyApiError } from '@latchkey/node';
      import { latchkeyExpress } from '@latchkey/node/express';
      import { latchkeyFastify } from '@latchkey/node/fastify';
      const verifier = createVerifier({ issuer: 'https://auth.example.com', audience: 'app' });
      const none = Buffer.from(JSON.stringify({ alg: 'none', typ: 'at+jwt' })).toString('base64url') + '.e30.';
      try { await verifier.verifyAccessToken(none); } catch (e) { console.log(e instanceof LatchkeyTokenError, e.code); }
      const fetch = async () => new Response(JSON.stringify({ status: 403, code: 'insufficient_scope', scope: 'users:read' }), { status: 403, headers: { 'content-type': 'application/problem+json' } });
      const client = createManagementClient({ baseUrl: 'https://auth.example.com', apiKey: 'lk_live_x', fetch });
      try { await client.users.get('u1'); } catch (e) { console.log(e instanceof LatchkeyApiError, e.status, e.code); }
      console.log(typeof latchkeyExpress, typeof latchkeyFastify);`;
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], { cwd: app }).toString().trim().split('\n');
    assert.deepEqual(out, ['true unsupported_alg', 'true 403 insufficient_scope', 'function function']);
  });

  test('the elements package resolves, and ships the self-contained browser bundle', () => {
    const script = `console.log(import.meta.resolve('@latchkey/elements')); console.log(import.meta.resolve('@latchkey/elements/latchkey.js'));`;
    const [main = '', bundle = ''] = execFileSync(process.execPath, ['--input-type=module', '-e', script], { cwd: app }).toString().trim().split('\n');
    assert.ok(existsSync(fileURLToPath(main)), main);
    const code = readFileSync(fileURLToPath(bundle), 'utf8');
    assert.match(code, /customElements\.define/);
    assert.doesNotMatch(code, /from\s*["']lit/, 'the bundle imports nothing (Lit is inside)');
  });

  test("a consumer's TypeScript type-checks against the declarations (strict, no skipLibCheck)", () => {
    writeFileSync(
      join(app, 'tsconfig.json'),
      JSON.stringify({ compilerOptions: { strict: true, module: 'nodenext', moduleResolution: 'nodenext', target: 'es2022', lib: ['es2022', 'dom'], types: [], noEmit: true, skipLibCheck: false }, files: ['consumer.ts'] }),
    );
    writeFileSync(
      join(app, 'consumer.ts'),
      `import { LatchkeyClient, LatchkeyError, type User } from '@latchkey/sdk';
import { LatchkeyAuth, LatchkeyPasskeys, en } from '@latchkey/elements';
import { createVerifier, createManagementClient, type LatchkeyIdentity, type LatchkeyTokenErrorCode } from '@latchkey/node';

const verifier = createVerifier({ issuer: 'https://auth.example.com', audience: 'app' });
export async function identify(jwt: string): Promise<string> {
  const identity: LatchkeyIdentity = await verifier.verifyLoginResult(jwt);
  return identity.acr === 'aal2' ? identity.sub : identity.userId;
}
export const code: LatchkeyTokenErrorCode = 'replayed';
export const management = createManagementClient({ baseUrl: 'https://auth.example.com', apiKey: 'lk_live_x' });
export const pending: Promise<{ token: string }> = management.appendTokens.create({ externalId: 'shop-1' });

const client = new LatchkeyClient({ baseUrl: 'https://auth.example.com' });
export async function who(): Promise<User | null> {
  try {
    return (await client.getSession())?.user ?? null;
  } catch (error) {
    if (error instanceof LatchkeyError && error.code === 'session_required') return null;
    throw error;
  }
}
const auth = document.querySelector('latchkey-auth');
export const isAuth: boolean = auth instanceof LatchkeyAuth;
export const list: typeof LatchkeyPasskeys = LatchkeyPasskeys;
export const strings: object = en;
// @ts-expect-error: the declarations are real types, not any
export const wrong: number = client;
`,
    );
    const result = spawnSync(process.execPath, [TSC, '-p', app], { cwd: app, encoding: 'utf8' });
    assert.equal(result.status, 0, `${result.stdout}${result.stderr}`);
  });
});
