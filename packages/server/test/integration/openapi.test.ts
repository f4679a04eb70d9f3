import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { dialects, startTestServer, type TestServer } from '../helpers/test-server.ts';

/**
 * `/openapi.json` is for tools: it passes Redocly's recommended lint rules, every operation has
 * an explicit, unique camelCase operationId and an explicit security requirement, and
 * openapi-typescript makes types from it that compile (issue 10, item 6).
 */
const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('../../../../', import.meta.url));
const REDOCLY = join(ROOT, 'node_modules/@redocly/cli/bin/cli.js');
const OPENAPI_TS = join(ROOT, 'packages/server/node_modules/openapi-typescript/bin/cli.js');
const TSC = join(ROOT, 'node_modules/.bin/tsc');
const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options'];

interface Operation { operationId?: string; security?: Record<string, string[]>[]; responses: Record<string, unknown> }
type Document = { paths: Record<string, Record<string, Operation>>; security?: unknown; servers?: unknown[]; info: { license?: { name: string } } };

function operations(doc: Document): { path: string; method: string; op: Operation }[] {
  return Object.entries(doc.paths).flatMap(([path, item]) =>
    Object.entries(item).filter(([method]) => METHODS.includes(method)).map(([method, op]) => ({ path, method, op })));
}

for (const dialect of dialects) {
  describe(`OpenAPI document (${dialect})`, () => {
    let server: TestServer;
    let doc: Document;
    let dir: string;
    before(async () => {
      server = await startTestServer(dialect);
      const r = await fetch(`${server.url}/openapi.json`);
      assert.equal(r.status, 200);
      doc = (await r.json()) as Document;
      dir = await mkdtemp(join(tmpdir(), 'latchkey-openapi-'));
      await writeFile(join(dir, 'openapi.json'), JSON.stringify(doc));
    });
    after(async () => {
      await server.close();
      await rm(dir, { recursive: true, force: true });
    });

    test('every operation has an explicit, stable camelCase operationId, unique in the document', () => {
      const seen = new Map<string, string>();
      for (const { path, method, op } of operations(doc)) {
        const where = `${method.toUpperCase()} ${path}`;
        assert.ok(op.operationId, `${where} has no operationId`);
        assert.match(op.operationId, /^[a-z][a-zA-Z0-9]*$/, `${where}: operationId ${op.operationId} is not camelCase`);
        assert.equal(seen.get(op.operationId), undefined, `${op.operationId} is used by ${seen.get(op.operationId)} and ${where}`);
        seen.set(op.operationId, where);
      }
      // Names clients are generated with: renaming one breaks them.
      assert.equal(seen.get('createRegistrationOptions'), 'POST /api/v1/passkeys/registration/options');
      assert.equal(seen.get('verifyAuthentication'), 'POST /api/v1/passkeys/authentication/verify');
      assert.equal(seen.get('getSession'), 'GET /api/v1/session');
      assert.equal(seen.get('getUser'), 'GET /api/admin/v1/users/{id}');
    });

    test('public operations say security: [], signed-in ones the session schemes, the management API its key', () => {
      const by = (id: string) => operations(doc).find((o) => o.op.operationId === id)?.op.security;
      assert.deepEqual(by('createAuthenticationOptions'), []);
      assert.deepEqual(by('getHealth'), []);
      assert.deepEqual(by('listPasskeys'), [{ cookie: [] }, { bearer: [] }]);
      assert.deepEqual(by('createRegistrationOptions'), [{}, { cookie: [] }, { bearer: [] }], 'sign-up signed out, add a passkey signed in');
      assert.deepEqual(by('listUsers'), [{ apiKey: ['users:read'] }, { bearer: ['users:read'] }, { cookie: ['users:read'] }], 'a key or a staff session holding the scope');
      for (const { path, method, op } of operations(doc)) assert.ok(Array.isArray(op.security), `${method.toUpperCase()} ${path} has no security`);
      assert.equal(doc.info.license?.name, 'Apache-2.0');
      assert.ok(doc.servers && doc.servers.length > 0);
    });

    if (dialect !== dialects[0]) return; // the tools below see the same document on every database

    test("Redocly's recommended rules find nothing", async () => {
      const { stdout } = await run(process.execPath, [REDOCLY, 'lint', '--extends', 'recommended', '--format', 'json', join(dir, 'openapi.json')], {
        cwd: dir,
        env: { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true' },
      }).catch((err: { stdout?: string }) => ({ stdout: err.stdout ?? '' }));
      const { problems } = JSON.parse(stdout) as { problems: { ruleId: string; severity: string; message: string }[] };
      assert.deepEqual(problems.map((p) => `${p.severity} ${p.ruleId}: ${p.message}`), []);
    });

    test('openapi-typescript makes types from it that a client can compile against', async () => {
      await run(process.execPath, [OPENAPI_TS, join(dir, 'openapi.json'), '--output', join(dir, 'api.d.ts')], { cwd: dir });
      await writeFile(
        join(dir, 'client.ts'),
        `import type { components, operations, paths } from './api.js';
type SessionOk = paths['/api/v1/session']['get']['responses'][200]['content']['application/json'];
export const user: SessionOk['user'] = { id: 'u1', username: 'ada', displayName: 'Ada' };
export const amr: SessionOk['session']['amr'] = ['passkey'];
type SignUp = NonNullable<paths['/api/v1/passkeys/registration/options']['post']['requestBody']>['content']['application/json'];
export const signUp: SignUp = { username: 'ada' };
type Rename = operations['renamePasskey'];
export const rename: Rename['parameters']['path'] = { id: 'cred' };
export const problem: components['schemas']['Problem']['code'] = 'unauthorized';
// @ts-expect-error a session answer has no password
export const wrong: SessionOk['user'] = { id: 'u1', username: 'ada', displayName: 'Ada', password: 'x' };
`,
      );
      const result = await run(TSC, ['--noEmit', '--strict', '--target', 'es2022', '--module', 'esnext', '--moduleResolution', 'bundler', '--types', '', 'client.ts'], { cwd: dir })
        .then(() => '')
        .catch((err: { stdout?: string; stderr?: string }) => `${err.stdout ?? ''}${err.stderr ?? ''}`);
      assert.equal(result, '', 'tsc found errors in code written against the generated types');
    });
  });
}
