import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import express from 'express';
import Fastify from 'fastify';
import { createVerifier } from '../src/index.ts';
import { latchkeyExpress } from '../src/express.ts';
import { latchkeyFastify } from '../src/fastify.ts';
import { AUDIENCE, newKey, sign, startIssuer, type SigningKey } from './jwks-fixture.ts';

/** The same protected route in each framework: `GET /api/me` answers the identity, `GET /open` needs no token. */
const apps: Record<string, (verifier: ReturnType<typeof createVerifier>) => Promise<{ url: string; close(): Promise<void> }>> = {
  express: async (verifier) => {
    const app = express();
    app.get('/open', (_req, res) => {
      res.json({ open: true });
    });
    app.get('/api/me', latchkeyExpress({ verifier }), (req, res) => {
      res.json({ sub: req.latchkey?.sub, acr: req.latchkey?.acr });
    });
    const server = app.listen(0, '127.0.0.1');
    await new Promise<void>((resolve) => server.once('listening', () => resolve()));
    return {
      url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
      close: () => new Promise<void>((resolve) => server.close(() => resolve())),
    };
  },
  fastify: async (verifier) => {
    const app = Fastify();
    app.get('/open', async () => ({ open: true }));
    await app.register(async (api) => {
      await api.register(latchkeyFastify, { verifier });
      api.get('/api/me', async (request) => ({ sub: request.latchkey?.sub, acr: request.latchkey?.acr }));
    });
    const url = await app.listen({ port: 0, host: '127.0.0.1' });
    return { url, close: () => app.close() };
  },
};

for (const [framework, start] of Object.entries(apps)) {
  describe(`${framework}: access tokens on Authorization: Bearer`, () => {
    let issuer: Awaited<ReturnType<typeof startIssuer>>;
    let key: SigningKey;
    let app: Awaited<ReturnType<typeof start>>;
    before(async () => {
      key = await newKey('k1');
      issuer = await startIssuer([key]);
      app = await start(createVerifier({ issuer: issuer.issuer, audience: AUDIENCE }));
    });
    after(async () => {
      await app.close();
      await issuer.close();
    });
    const get = (path: string, token?: string) => fetch(`${app.url}${path}`, token ? { headers: { authorization: `Bearer ${token}` } } : {});

    test('a valid access token reaches the route with the identity on the request', async () => {
      const token = await sign(key, { issuer: issuer.issuer, typ: 'at+jwt', exp: Math.floor(Date.now() / 1000) + 900 });
      const response = await get('/api/me', token);
      assert.equal(response.status, 200);
      assert.deepEqual(await response.json(), { sub: 'shop-42', acr: 'aal2' });
      assert.equal((await get('/api/me', token)).status, 200, 'an access token is not single use');
      assert.equal((await get('/open')).status, 200, 'routes outside stay open');
    });

    test('no token, an expired one, a login result or a foreign one: 401 problem+json with the code', async () => {
      const now = Math.floor(Date.now() / 1000);
      const cases: [string | undefined, string][] = [
        [undefined, 'missing_token'],
        [await sign(key, { issuer: issuer.issuer, typ: 'at+jwt', iat: now - 1000, exp: now - 100 }), 'expired'],
        [await sign(key, { issuer: issuer.issuer }), 'wrong_type'],
        [await sign(await newKey('k1'), { issuer: issuer.issuer, typ: 'at+jwt' }), 'invalid_signature'],
        [await sign(key, { issuer: issuer.issuer, typ: 'at+jwt', claims: { aud: 'other' } }), 'wrong_audience'],
      ];
      for (const [token, code] of cases) {
        const response = await get('/api/me', token);
        assert.equal(response.status, 401, code);
        assert.match(response.headers.get('content-type') ?? '', /^application\/problem\+json/, code);
        assert.match(response.headers.get('www-authenticate') ?? '', /^Bearer error="invalid_token"/, code);
        const body = (await response.json()) as { code: string; status: number };
        assert.equal(body.code, code);
        assert.equal(body.status, 401);
      }
    });

    test('keys that cannot be fetched: 503 jwks_unavailable, not 401', async () => {
      const down = await startIssuer([key]);
      down.failWith = 502;
      const other = await start(createVerifier({ issuer: down.issuer, audience: AUDIENCE }));
      try {
        const response = await fetch(`${other.url}/api/me`, { headers: { authorization: `Bearer ${await sign(key, { issuer: down.issuer, typ: 'at+jwt' })}` } });
        assert.equal(response.status, 503);
        assert.equal(((await response.json()) as { code: string }).code, 'jwks_unavailable');
      } finally {
        await other.close();
        await down.close();
      }
    });
  });
}
