import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { SoftAuthenticator } from '../../../testkit/src/index.ts';
import { authenticate, newAuthenticator, paths } from './flows.ts';
import type { TestClient } from './test-client.ts';
import type { TestServer } from './test-server.ts';

const CLI = fileURLToPath(new URL('../../src/cli.ts', import.meta.url));

/** Runs `latchkey <args>` as an operator would (a child process), against the given database. */
export function runCli(databaseUrl: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { env: { PATH: process.env.PATH ?? '', LATCHKEY_DATABASE_URL: databaseUrl }, timeout: 60_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

/** The append token of an enrolment URL (`…/admin/enroll#token=lk_append_…`) in some text. */
export function enrollTokenIn(text: string): string {
  const match = /\/admin\/enroll#token=(lk_append_[A-Za-z0-9_-]{43})/.exec(text);
  assert.ok(match?.[1], `an enrolment URL in: ${text}`);
  return match[1];
}

/** Registers a passkey with an append token, as the console's enrolment page does; no session. */
export async function enrollWithToken(client: TestClient, authenticator: SoftAuthenticator, appendToken: string): Promise<void> {
  const options = await client.post(`${paths.REG}/options`, { appendToken });
  assert.equal(options.status, 200, options.text);
  const verify = await client.post(`${paths.REG}/verify`, await authenticator.createCredential(options.body));
  assert.equal(verify.status, 200, verify.text);
}

/** Signs a client in with a passkey (its cookie jar then holds the session). */
export async function signIn(client: TestClient, authenticator: SoftAuthenticator, username?: string): Promise<void> {
  const { verify } = await authenticate(client, authenticator, username ? { username } : {});
  assert.equal(verify.status, 200, verify.text);
}

/**
 * A staff member made through the API by an admin client (`POST /staff`), enrolled with the
 * returned URL and signed in: a browser with the console open.
 */
export async function makeStaff(
  server: TestServer,
  admin: TestClient,
  username: string,
  role: 'admin' | 'support' | 'auditor',
  options: { userVerified?: boolean } = {},
): Promise<{ client: TestClient; authenticator: SoftAuthenticator; userId: string }> {
  const added = await admin.post('/api/admin/v1/staff', { username, role, reason: 'test setup' });
  assert.equal(added.status, 201, added.text);
  const authenticator = newAuthenticator({ userVerified: options.userVerified ?? true });
  const client = server.client();
  await enrollWithToken(client, authenticator, enrollTokenIn(added.body.enrollUrl));
  await signIn(client, authenticator);
  return { client, authenticator, userId: added.body.member.userId };
}
