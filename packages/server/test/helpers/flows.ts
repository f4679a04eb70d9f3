import { SoftAuthenticator, type SoftAuthenticatorOptions, type RegistrationTamper, type AssertionTamper } from '../../../testkit/src/index.ts';
import assert from 'node:assert/strict';
import { TestClient, type TestResponse } from './test-client.ts';
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

const STEP_UP = '/api/v1/session/step-up';

/**
 * A bearer client as the SDK's `auth: 'bearer'` is one: no Origin, no cookie jar sent, the ceremony
 * bound by the `Latchkey-Ceremony` header alone, the session token as `Authorization: Bearer`.
 */
export class BearerClient {
  readonly http: TestClient;
  constructor(baseUrl: string, token?: string) {
    this.http = new TestClient(baseUrl, null);
    this.http.bearer = token;
  }
  get token(): string | undefined {
    return this.http.bearer;
  }
  set token(value: string | undefined) {
    this.http.bearer = value;
  }
  post(path: string, body: unknown = {}, binding?: string | null): Promise<TestResponse> {
    return this.http.post(path, body, { noCookies: true, headers: binding ? { 'latchkey-ceremony': binding } : {} });
  }
  get(path: string): Promise<TestResponse> {
    return this.http.get(path, { noCookies: true });
  }
}

/** A passkey step-up (or a second factor by passkey) as a bearer client: options, then verify with the header. */
export async function bearerStepUp(client: BearerClient, authenticator: SoftAuthenticator): Promise<TestResponse> {
  const options = await client.post(`${STEP_UP}/options`, {});
  if (options.status !== 200) throw new Error(`step-up options failed: ${options.status} ${options.text}`);
  return client.post(`${STEP_UP}/verify`, await authenticator.getAssertion(options.body), options.headers.get('latchkey-ceremony'));
}

/**
 * SEC-24: an answer that raised a session's assurance (step-up, second factor, end of recovery)
 * gave the session a new token, the way a sign-in hands out the first one: a new HttpOnly session
 * cookie, and the token in the body only for a bearer client. The token the session had before is
 * dead at once; the new one works. Returns the new token.
 */
export async function assertNewToken(baseUrl: string, answer: TestResponse, old: string, client: 'cookie' | 'bearer'): Promise<string> {
  assert.equal(answer.status, 200, answer.text);
  const cookie = answer.headers.getSetCookie().find((line) => /^(__Host-)?latchkey_session=/.test(line));
  assert.ok(cookie, 'the answer sets a new session cookie');
  assert.match(cookie, /;\s*HttpOnly/i, 'HttpOnly');
  const fromCookie = (cookie.split(';')[0] as string).replace(/^(__Host-)?latchkey_session=/, '');
  assert.notEqual(fromCookie, old, 'the cookie carries a different token');
  let token = fromCookie;
  if (client === 'cookie') {
    assert.equal(answer.body.session.token, undefined, 'no token in the body for a cookie client');
  } else {
    assert.match(answer.body.session.token ?? '', /^[A-Za-z0-9_-]{43}$/, 'a bearer client gets the new token in the body');
    assert.notEqual(answer.body.session.token, old);
    assert.equal(answer.body.session.token, fromCookie);
    token = answer.body.session.token;
  }
  const withCookie = (value: string) => fetch(`${baseUrl}/api/v1/session`, { headers: { cookie: `latchkey_session=${value}` } });
  const withBearer = (value: string) => fetch(`${baseUrl}/api/v1/session`, { headers: { authorization: `Bearer ${value}` } });
  const probe = client === 'cookie' ? withCookie : withBearer;
  assert.equal((await probe(old)).status, 401, 'the old token stopped working');
  assert.equal((await probe(token)).status, 200, 'the new token works');
  return token;
}
