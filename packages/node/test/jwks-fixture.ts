import { createServer, type Server } from 'node:http';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK } from 'jose';

export interface SigningKey {
  kid: string;
  privateKey: CryptoKey;
  publicJwk: JWK;
}

export async function newKey(kid: string): Promise<SigningKey> {
  const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
  return { kid, privateKey, publicJwk: { ...(await exportJWK(publicKey)), kid, alg: 'ES256', use: 'sig' } };
}

/**
 * A Latchkey stand-in on 127.0.0.1: serves `/.well-known/jwks.json` from `keys` (change it to
 * rotate), counts the fetches, and can be told to fail.
 */
export async function startIssuer(keys: SigningKey[]): Promise<{
  issuer: string;
  keys: SigningKey[];
  fetches: number;
  failWith: number | undefined;
  close(): Promise<void>;
}> {
  const state = {
    issuer: '',
    keys,
    fetches: 0,
    failWith: undefined as number | undefined,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  const server: Server = createServer((request, response) => {
    if (request.url !== '/.well-known/jwks.json') return response.writeHead(404).end();
    state.fetches++;
    if (state.failWith) return response.writeHead(state.failWith).end('down');
    response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: state.keys.map((k) => k.publicJwk) }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  state.issuer = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  return state;
}

export const AUDIENCE = 'shop-backend';

/** A token as Latchkey issues it (the contract in the README), with any claim or header overridden. */
export async function sign(
  key: SigningKey,
  input: { issuer: string; typ?: string; claims?: Record<string, unknown>; header?: Record<string, unknown>; iat?: number; exp?: number },
): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  const iat = input.iat ?? now;
  return new SignJWT({
    iss: input.issuer,
    aud: AUDIENCE,
    sub: 'shop-42',
    latchkey_uid: '6f1c2e0e-1111-4c5e-9a1b-000000000042',
    auth_time: iat - 5,
    amr: ['passkey'],
    acr: 'aal2',
    jti: crypto.randomUUID(),
    iat,
    exp: input.exp ?? iat + 120,
    ...input.claims,
  })
    .setProtectedHeader({ alg: 'ES256', typ: input.typ ?? 'latchkey-login+jwt', kid: key.kid, ...input.header })
    .sign(key.privateKey);
}
