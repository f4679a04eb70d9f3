// A guided tour of the v1 contract against a running server, with a software authenticator playing
// the browser:   npm start   (in one terminal), then   node scripts/run.mjs scripts/walkthrough.ts
// Options: LATCHKEY_URL, the server's address (default http://localhost:<LATCHKEY_PORT or 8080>, i.e.
// where `npm start` listens); WALKTHROUGH_USER (default a random name). The URL's origin must be one of
// the server's LATCHKEY_ORIGINS (the default origin is http://localhost:<port>).
import { SoftAuthenticator } from '../packages/testkit/src/index.ts';

const base = (process.env.LATCHKEY_URL || `http://localhost:${process.env.LATCHKEY_PORT || 8080}`).replace(/\/+$/, '');
const origin = new URL(base).origin.replace('127.0.0.1', 'localhost');
const username = process.env.WALKTHROUGH_USER ?? `walker-${Math.random().toString(36).slice(2, 8)}`;
const authenticator = new SoftAuthenticator({ origin, rpId: new URL(origin).hostname });

async function call(method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
  const response = await fetch(base + path, {
    method,
    headers: { origin, ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  const json = text ? JSON.parse(text) : undefined;
  process.stdout.write(`\n\x1b[1m${method} ${path}\x1b[0m -> ${response.status}\n${text ? `${JSON.stringify(json, null, 2).slice(0, 900)}\n` : ''}`);
  if (response.status >= 400) throw new Error(`${method} ${path} failed with ${response.status}`);
  return { json, ceremony: response.headers.get('latchkey-ceremony') ?? '' };
}

const signUp = await call('POST', '/api/v1/passkeys/registration/options', { username });
const created = await authenticator.createCredential(signUp.json);
const registered = await call('POST', '/api/v1/passkeys/registration/verify', created, { 'latchkey-ceremony': signUp.ceremony });
const bearer = { authorization: `Bearer ${registered.json.session.token}` };
await call('GET', '/api/v1/session', undefined, bearer);
await call('DELETE', '/api/v1/session', undefined, bearer);

const signIn = await call('POST', '/api/v1/passkeys/authentication/options', {});
const assertion = await authenticator.getAssertion(signIn.json);
const signedIn = await call('POST', '/api/v1/passkeys/authentication/verify', assertion, { 'latchkey-ceremony': signIn.ceremony });
const auth = { authorization: `Bearer ${signedIn.json.session.token}` };
const list = await call('GET', '/api/v1/passkeys', undefined, auth);
await call('PATCH', `/api/v1/passkeys/${list.json.passkeys[0].id}`, { name: 'My laptop' }, auth);
process.stdout.write(`\nDone: ${username} signed up and signed in with a passkey.\n`);
