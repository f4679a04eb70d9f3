/**
 * The floor under every login ceremony: one ES256 signature check. Measures, single thread,
 *   - `crypto.verify` (sync, OpenSSL) with a prepared KeyObject over a 37+32-byte message
 *     (authenticator data + SHA-256 of clientDataJSON, what WebAuthn signs);
 *   - `crypto.subtle.verify` awaited one at a time (what @simplewebauthn/server uses: it goes
 *     through libuv's thread pool, so it has hand-off costs on top of the maths).
 * Output: one JSON object on stdout. Usage: node bench/raw-verify.ts [--seconds=1.5]
 */
import { createPublicKey, generateKeyPairSync, randomBytes, sign, verify, webcrypto } from 'node:crypto';
import { performance } from 'node:perf_hooks';

const seconds = Number(/--seconds=([\d.]+)/.exec(process.argv.slice(2).join(' '))?.[1] ?? 1.5);
const MAX_OPS = 2_000_000;

const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const message = randomBytes(37 + 32);
const derSignature = sign('sha256', message, privateKey);
const spki = publicKey.export({ format: 'der', type: 'spki' });
const key = createPublicKey({ key: spki, format: 'der', type: 'spki' });

function timed(fn: () => void): number {
  // Warm-up, then count for `seconds`, checking the clock every 100 ops.
  for (let i = 0; i < 500; i++) fn();
  let ops = 0;
  const start = performance.now();
  const end = start + seconds * 1000;
  while (ops < MAX_OPS) {
    for (let i = 0; i < 100; i++) fn();
    ops += 100;
    if (performance.now() >= end) break;
  }
  return ops / ((performance.now() - start) / 1000);
}

const syncPerSecond = timed(() => {
  if (!verify('sha256', message, key, derSignature)) throw new Error('signature did not verify');
});

// WebCrypto wants the raw (r || s) form of an ECDSA signature.
const subtleKey = await webcrypto.subtle.importKey('spki', spki, { name: 'ECDSA', namedCurve: 'P-256' }, false, ['verify']);
const rawSignature = sign('sha256', message, { key: privateKey, dsaEncoding: 'ieee-p1363' });
const ecdsa = { name: 'ECDSA', hash: 'SHA-256' };
for (let i = 0; i < 200; i++) await webcrypto.subtle.verify(ecdsa, subtleKey, rawSignature, message);
let subtleOps = 0;
const subtleStart = performance.now();
const subtleEnd = subtleStart + seconds * 1000;
while (subtleOps < MAX_OPS && performance.now() < subtleEnd) {
  if (!(await webcrypto.subtle.verify(ecdsa, subtleKey, rawSignature, message))) throw new Error('signature did not verify');
  subtleOps++;
}
const subtlePerSecond = subtleOps / ((performance.now() - subtleStart) / 1000);

process.stdout.write(
  `${JSON.stringify({ es256VerifyPerSecond: Math.round(syncPerSecond), es256SubtleVerifyPerSecond: Math.round(subtlePerSecond), messageBytes: message.length })}\n`,
);
