// The SDK's own WebAuthn JSON conversion, used where the browser lacks the Level 3 helpers.
// Node has no PublicKeyCredential, so these run the fallback paths.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bytesToBase64Url, clientCapabilities, credentialToJSON, parseCreationOptions, parseRequestOptions } from '../src/index.ts';

const b64 = (bytes: number[]) => bytesToBase64Url(new Uint8Array(bytes));

test('creation options: challenge, user.id and excludeCredentials ids become bytes, the rest is kept', () => {
  const options = parseCreationOptions({
    challenge: b64([1, 2, 3]),
    rp: { id: 'localhost', name: 'Latchkey' },
    user: { id: b64([9, 9]), name: 'alice', displayName: 'Alice' },
    pubKeyCredParams: [{ type: 'public-key', alg: -7 }],
    excludeCredentials: [{ id: b64([7]), type: 'public-key', transports: ['internal'] }],
    timeout: 300000,
  });
  assert.deepEqual([...new Uint8Array(options.challenge as ArrayBuffer)], [1, 2, 3]);
  assert.deepEqual([...new Uint8Array(options.user.id as ArrayBuffer)], [9, 9]);
  assert.equal(options.user.name, 'alice');
  assert.deepEqual([...new Uint8Array(options.excludeCredentials![0]!.id as ArrayBuffer)], [7]);
  assert.deepEqual(options.excludeCredentials![0]!.transports, ['internal']);
  assert.equal(options.timeout, 300000);
});

test('request options: challenge and allowCredentials ids become bytes; absent lists stay absent', () => {
  const discoverable = parseRequestOptions({ challenge: b64([4, 5]), rpId: 'localhost', userVerification: 'preferred' });
  assert.deepEqual([...new Uint8Array(discoverable.challenge as ArrayBuffer)], [4, 5]);
  assert.equal(discoverable.allowCredentials, undefined);
  const identifierFirst = parseRequestOptions({ challenge: b64([4]), allowCredentials: [{ id: b64([8, 8]), type: 'public-key' }] });
  assert.deepEqual([...new Uint8Array(identifierFirst.allowCredentials![0]!.id as ArrayBuffer)], [8, 8]);
});

test('credentials without toJSON() become RegistrationResponseJSON / AuthenticationResponseJSON', () => {
  const buffer = (bytes: number[]) => new Uint8Array(bytes).buffer;
  const base = { id: b64([1]), rawId: buffer([1]), type: 'public-key', authenticatorAttachment: 'platform', getClientExtensionResults: () => ({ credProps: { rk: true } }) };
  const registration = credentialToJSON({
    ...base,
    response: { clientDataJSON: buffer([2]), attestationObject: buffer([3]), getTransports: () => ['internal', 'hybrid'], getPublicKeyAlgorithm: () => -7 },
  } as unknown as PublicKeyCredential);
  assert.deepEqual(registration, {
    id: b64([1]),
    rawId: b64([1]),
    type: 'public-key',
    authenticatorAttachment: 'platform',
    clientExtensionResults: { credProps: { rk: true } },
    response: { clientDataJSON: b64([2]), attestationObject: b64([3]), transports: ['internal', 'hybrid'], publicKeyAlgorithm: -7 },
  });
  const assertion = credentialToJSON({
    ...base,
    response: { clientDataJSON: buffer([2]), authenticatorData: buffer([5]), signature: buffer([6]), userHandle: buffer([7]) },
  } as unknown as PublicKeyCredential);
  assert.deepEqual(assertion.response, { clientDataJSON: b64([2]), authenticatorData: b64([5]), signature: b64([6]), userHandle: b64([7]) });
});

test('without WebAuthn (Node) every capability is false', async () => {
  assert.deepEqual(await clientCapabilities(), { webauthn: false, conditionalGet: false, conditionalCreate: false, platformAuthenticator: false, hybrid: false });
});
