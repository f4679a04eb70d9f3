import { SoftAuthenticator, type SoftAuthenticatorOptions, type RegistrationTamper, type AssertionTamper } from '../../../testkit/src/index.ts';
import type { TestClient, TestResponse } from './test-client.ts';
import { TEST_ORIGIN, TEST_RP_ID } from './test-server.ts';

/** A software authenticator that claims the test origin. */
export function newAuthenticator(options: Partial<SoftAuthenticatorOptions> = {}): SoftAuthenticator {
  return new SoftAuthenticator({ origin: TEST_ORIGIN, rpId: TEST_RP_ID, ...options });
}

const REG = '/api/v1/passkeys/registration';
const AUTH = '/api/v1/passkeys/authentication';

/** Options, then the authenticator's response (optionally tampered), then verify. Returns the verify answer. */
export async function register(
  client: TestClient,
  authenticator: SoftAuthenticator,
  body: { username?: string; displayName?: string; email?: string } = {},
  tamper?: RegistrationTamper,
): Promise<{ options: TestResponse; verify: TestResponse; response: unknown }> {
  const options = await client.post(`${REG}/options`, body);
  if (options.status !== 200) throw new Error(`registration options failed: ${options.status} ${options.text}`);
  const response = await authenticator.createCredential(options.body, tamper);
  const verify = await client.post(`${REG}/verify`, response);
  return { options, verify, response };
}

/**
 * The token of the session a response just issued: a cookie client (this one, with its jar)
 * finds it only in its session cookie, never in the body (issue 9).
 */
export function sessionTokenOf(client: TestClient): string {
  const token = client.cookies.get('latchkey_session') ?? client.cookies.get('__Host-latchkey_session');
  if (!token) throw new Error('no session cookie in the jar');
  return token;
}

/**
 * Sign-up that must succeed; returns the user, passkey and session of the 200 answer, with the
 * session's token taken from the cookie it set (the body has none for a cookie client).
 */
export async function signUp(client: TestClient, authenticator: SoftAuthenticator, username: string) {
  const { verify } = await register(client, authenticator, { username });
  if (verify.status !== 200) throw new Error(`sign-up failed: ${verify.status} ${verify.text}`);
  const body = verify.body as { user: { id: string; username: string }; passkey: { id: string }; session: Record<string, unknown> };
  if ('token' in body.session) throw new Error('a cookie client got the session token in the body');
  return { ...body, session: { ...body.session, token: sessionTokenOf(client) } };
}

export async function authenticate(
  client: TestClient,
  authenticator: SoftAuthenticator,
  body: { username?: string } = {},
  tamper?: AssertionTamper & { credentialId?: string },
): Promise<{ options: TestResponse; verify: TestResponse; response: unknown }> {
  const options = await client.post(`${AUTH}/options`, body);
  if (options.status !== 200) throw new Error(`authentication options failed: ${options.status} ${options.text}`);
  const response = await authenticator.getAssertion(options.body, tamper);
  const verify = await client.post(`${AUTH}/verify`, response);
  return { options, verify, response };
}

export const paths = { REG, AUTH };
