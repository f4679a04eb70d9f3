/**
 * What one assertion check costs through @simplewebauthn/server (what both Latchkey and the
 * baseline run) against the bare minimum with node:crypto, single thread:
 *   - verifyAuthenticationResponse awaited one at a time, and 50 in flight (as under load);
 *   - the signature part alone: sha256(clientDataJSON) + crypto.verify over authData||hash with a
 *     KeyObject made once per credential (what a cache of parsed public keys would allow).
 * Run it pinned: taskset -c 0 node bench/tools/micro-verify.ts [--n=3000]
 */
import { createHash, createPublicKey, verify, type KeyObject } from 'node:crypto';
import { generateRegistrationOptions, verifyAuthenticationResponse, verifyRegistrationResponse } from '@simplewebauthn/server';
import { SoftAuthenticator, decodeCbor } from '../../packages/testkit/src/index.ts';

const N = Number(/--n=(\d+)/.exec(process.argv.join(' '))?.[1] ?? 3000);
const origin = 'http://localhost:8080';
const rpID = 'localhost';
const auth = new SoftAuthenticator({ origin, rpId: rpID, alg: -7 });
const regOptions = await generateRegistrationOptions({ rpName: 'x', rpID, userName: 'u', attestationType: 'none', supportedAlgorithmIDs: [-7] });
const registration = await verifyRegistrationResponse({
  response: (await auth.createCredential(regOptions as never)) as never,
  expectedChallenge: regOptions.challenge,
  expectedOrigin: origin,
  expectedRPID: rpID,
});
const credential = registration.registrationInfo!.credential;

const challenges = Array.from({ length: N }, (_, i) => Buffer.from(`challenge-${i}-${'x'.repeat(24)}`).toString('base64url'));
const assertions = await Promise.all(challenges.map((challenge) => auth.getAssertion({ challenge, rpId: rpID, allowCredentials: [], userVerification: 'preferred' } as never)));
const check = (i: number, counter: number) =>
  verifyAuthenticationResponse({
    response: assertions[i] as never,
    expectedChallenge: challenges[i] as string,
    expectedOrigin: origin,
    expectedRPID: rpID,
    credential: { id: credential.id, publicKey: credential.publicKey, counter },
    requireUserVerification: false,
  });

// The assertions carry counters 1..N; verify each with the counter before it.
const cpu = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};
for (let i = 0; i < 200; i++) await check(i, i); // warm-up
let t = performance.now();
let c = cpu();
for (let i = 0; i < N; i++) await check(i, i);
const sequentialUs = ((performance.now() - t) * 1000) / N;
const sequentialCpuUs = ((cpu() - c) * 1000) / N;

t = performance.now();
c = cpu();
for (let i = 0; i < N; i += 50) await Promise.all(Array.from({ length: Math.min(50, N - i) }, (_, k) => check(i + k, i + k)));
const concurrentUs = ((performance.now() - t) * 1000) / N;
const concurrentCpuUs = ((cpu() - c) * 1000) / N;

// Bare minimum: COSE -> KeyObject once, then per assertion a hash and a verify.
const cose = decodeCbor(credential.publicKey) as Map<number, Uint8Array>;
const key: KeyObject = createPublicKey({
  key: { kty: 'EC', crv: 'P-256', x: Buffer.from(cose.get(-2) as Uint8Array).toString('base64url'), y: Buffer.from(cose.get(-3) as Uint8Array).toString('base64url') },
  format: 'jwk',
});
const parts = assertions.map((a) => {
  const r = (a as unknown as { response: { authenticatorData: string; clientDataJSON: string; signature: string } }).response;
  return { authData: Buffer.from(r.authenticatorData, 'base64url'), clientDataJSON: Buffer.from(r.clientDataJSON, 'base64url'), signature: Buffer.from(r.signature, 'base64url') };
});
const bare = (i: number) => {
  const p = parts[i]!;
  const hash = createHash('sha256').update(p.clientDataJSON).digest();
  if (!verify('sha256', Buffer.concat([p.authData, hash]), key, p.signature)) throw new Error('bad signature');
};
for (let i = 0; i < 200; i++) bare(i);
t = performance.now();
c = cpu();
for (let i = 0; i < N; i++) bare(i);
const bareUs = ((performance.now() - t) * 1000) / N;
const bareCpuUs = ((cpu() - c) * 1000) / N;

const r = (x: number) => Math.round(x * 10) / 10;
process.stdout.write(
  `${JSON.stringify({
    n: N,
    simplewebauthnSequential: { wallUs: r(sequentialUs), cpuUs: r(sequentialCpuUs) },
    simplewebauthn50InFlight: { wallUs: r(concurrentUs), cpuUs: r(concurrentCpuUs) },
    nodeCryptoVerifyWithCachedKey: { wallUs: r(bareUs), cpuUs: r(bareCpuUs) },
  })}\n`,
);
