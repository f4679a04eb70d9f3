import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createPublicKey } from 'node:crypto';
import {
  generateAuthenticationOptions,
  generateRegistrationOptions,
  verifyAuthenticationResponse,
  verifyRegistrationResponse,
  type AuthenticationResponseJSON as SwaAuthenticationResponseJSON,
  type PublicKeyCredentialCreationOptionsJSON,
  type RegistrationResponseJSON as SwaRegistrationResponseJSON,
  type WebAuthnCredential,
} from '@simplewebauthn/server';
import {
  AuthDataFlag,
  SoftAuthenticator,
  base64url,
  decodeCbor,
  encodeCbor,
  sha256,
  type AssertionTamper,
  type CoseAlg,
  type RegistrationTamper,
  type SoftAuthenticatorOptions,
} from './index.ts';

const ORIGIN = 'http://localhost:8080';
const RP_ID = 'localhost';

// Compile-time check: our JSON types are assignable to @simplewebauthn/server's.
const _regCompat: (r: import('./index.ts').RegistrationResponseJSON) => SwaRegistrationResponseJSON = (r) => r;
const _authCompat: (r: import('./index.ts').AuthenticationResponseJSON) => SwaAuthenticationResponseJSON = (r) => r;
void _regCompat;
void _authCompat;

function newAuthenticator(opts: Partial<SoftAuthenticatorOptions> = {}): SoftAuthenticator {
  return new SoftAuthenticator({ origin: ORIGIN, ...opts });
}

async function registrationOptions(extra: Partial<Parameters<typeof generateRegistrationOptions>[0]> = {}): Promise<PublicKeyCredentialCreationOptionsJSON> {
  return generateRegistrationOptions({ rpName: 'Latchkey', rpID: RP_ID, userName: 'alice', ...extra });
}

async function register(authenticator: SoftAuthenticator, tamper?: RegistrationTamper, requireUserVerification = true) {
  const options = await registrationOptions();
  const response = await authenticator.createCredential(options, tamper);
  const verification = await verifyRegistrationResponse({
    response,
    expectedChallenge: options.challenge,
    expectedOrigin: ORIGIN,
    expectedRPID: RP_ID,
    requireUserVerification,
    supportedAlgorithmIDs: [-7, -8, -257],
  });
  return { options, response, verification };
}

async function registeredCredential(authenticator: SoftAuthenticator): Promise<WebAuthnCredential> {
  const { verification } = await register(authenticator);
  assert.ok(verification.verified);
  return verification.registrationInfo.credential;
}

async function authenticate(
  authenticator: SoftAuthenticator,
  credential: WebAuthnCredential,
  tamper?: AssertionTamper & { credentialId?: string },
  requireUserVerification = true,
) {
  const options = await generateAuthenticationOptions({ rpID: RP_ID, allowCredentials: [{ id: credential.id }] });
  const response = await authenticator.getAssertion(options, tamper);
  const verification = await verifyAuthenticationResponse({
    response,
    expectedChallenge: options.challenge,
    expectedOrigin: ORIGIN,
    expectedRPID: RP_ID,
    credential,
    requireUserVerification,
  });
  return { options, response, verification };
}

describe('SoftAuthenticator against @simplewebauthn/server', () => {
  for (const alg of [-7, -8, -257] as const satisfies readonly CoseAlg[]) {
    for (const attestation of ['none', 'packed'] as const) {
      test(`registers and authenticates: alg ${alg}, attestation ${attestation}`, async () => {
        const authenticator = newAuthenticator({ alg, attestation });
        const { response, verification } = await register(authenticator);
        assert.equal(verification.verified, true);
        assert.ok(verification.verified);
        const info = verification.registrationInfo;
        assert.equal(info.fmt, attestation);
        assert.equal(info.aaguid, '00000000-0000-0000-0000-000000000000');
        assert.equal(info.credentialDeviceType, 'singleDevice');
        assert.equal(info.credentialBackedUp, false);
        assert.equal(info.userVerified, true);
        assert.equal(info.credential.counter, 0);
        assert.deepEqual(info.credential.transports, ['internal']);

        // JSON shape
        assert.equal(response.id, response.rawId);
        assert.equal(response.type, 'public-key');
        assert.equal(response.authenticatorAttachment, 'platform');
        assert.equal(response.response.publicKeyAlgorithm, alg);
        assert.deepEqual(response.clientExtensionResults, { credProps: { rk: true } });
        assert.equal(base64url.decode(response.id).byteLength, 32);
        const stored = authenticator.credentials;
        assert.equal(stored.length, 1);
        assert.equal(stored[0]?.id, response.id);
        assert.equal(stored[0]?.alg, alg);
        assert.deepEqual(new Uint8Array(info.credential.publicKey), stored[0]?.cosePublicKey);
        // publicKey is SPKI DER for the same key
        const spki = createPublicKey({ key: Buffer.from(base64url.decode(response.response.publicKey)), format: 'der', type: 'spki' });
        assert.equal(spki.asymmetricKeyType, alg === -7 ? 'ec' : alg === -8 ? 'ed25519' : 'rsa');
        assert.equal(spki.equals(createPublicKey(stored[0]!.privateKey)), true);
        // authenticatorData mirrors the attestation object's authData
        const attObj = decodeCbor(base64url.decode(response.response.attestationObject));
        assert.ok(attObj instanceof Map);
        assert.deepEqual(attObj.get('authData'), base64url.decode(response.response.authenticatorData));
        assert.deepEqual([...attObj.keys()], ['fmt', 'attStmt', 'authData']);

        const credential = info.credential;
        const first = await authenticate(authenticator, credential);
        assert.equal(first.verification.verified, true);
        assert.equal(first.verification.authenticationInfo.newCounter, 1);
        assert.equal(first.response.response.userHandle, stored[0]?.userHandle);
        credential.counter = first.verification.authenticationInfo.newCounter;
        const second = await authenticate(authenticator, credential);
        assert.equal(second.verification.verified, true);
        assert.equal(second.verification.authenticationInfo.newCounter, 2);
        assert.equal(authenticator.credentials[0]?.signCount, 2);
      });
    }
  }

  test("counter 'zero' always reports 0 and still verifies", async () => {
    const authenticator = newAuthenticator({ counter: 'zero' });
    const credential = await registeredCredential(authenticator);
    for (let i = 0; i < 3; i++) {
      const { verification } = await authenticate(authenticator, credential);
      assert.equal(verification.verified, true);
      assert.equal(verification.authenticationInfo.newCounter, 0);
    }
  });

  test('BE/BS flags map to credentialDeviceType / credentialBackedUp', async () => {
    const cases = [
      { opts: {}, type: 'singleDevice', backedUp: false },
      { opts: { backupEligible: true }, type: 'multiDevice', backedUp: false },
      { opts: { backupEligible: true, backupState: true }, type: 'multiDevice', backedUp: true },
    ] as const;
    for (const c of cases) {
      const authenticator = newAuthenticator(c.opts);
      const { verification } = await register(authenticator);
      assert.ok(verification.verified);
      assert.equal(verification.registrationInfo.credentialDeviceType, c.type);
      assert.equal(verification.registrationInfo.credentialBackedUp, c.backedUp);
      const auth = await authenticate(authenticator, verification.registrationInfo.credential);
      assert.equal(auth.verification.authenticationInfo.credentialDeviceType, c.type);
      assert.equal(auth.verification.authenticationInfo.credentialBackedUp, c.backedUp);
    }
  });

  test('userVerified: false clears UV', async () => {
    const authenticator = newAuthenticator({ userVerified: false });
    await assert.rejects(register(authenticator), /User verification was required/);
    const { verification } = await register(authenticator, undefined, false);
    assert.ok(verification.verified);
    assert.equal(verification.registrationInfo.userVerified, false);
    const credential = verification.registrationInfo.credential;
    await assert.rejects(authenticate(authenticator, credential), /User verification required/);
    const ok = await authenticate(authenticator, credential, undefined, false);
    assert.equal(ok.verification.verified, true);
    assert.equal(ok.verification.authenticationInfo.userVerified, false);
  });

  test('aaguid and transports options are reported', async () => {
    const aaguid = 'fbfc3007-154e-4ecc-8c0b-6e020557d7bd';
    const authenticator = newAuthenticator({ aaguid, transports: ['usb', 'nfc'], attachment: 'cross-platform' });
    const { response, verification } = await register(authenticator);
    assert.ok(verification.verified);
    assert.equal(verification.registrationInfo.aaguid, aaguid);
    assert.deepEqual(response.response.transports, ['usb', 'nfc']);
    assert.equal(response.authenticatorAttachment, 'cross-platform');
  });
});

describe('registration tampers', () => {
  test('wrong challenge / origin / type in clientDataJSON', async () => {
    const authenticator = newAuthenticator({ attestation: 'packed' });
    await assert.rejects(register(authenticator, { clientData: { challenge: 'AAAA' } }), /Unexpected registration response challenge/);
    await assert.rejects(register(authenticator, { clientData: { origin: 'https://evil.example' } }), /Unexpected registration response origin/);
    await assert.rejects(register(authenticator, { clientData: { type: 'webauthn.get' } }), /Unexpected registration response type/);
    await assert.rejects(register(authenticator, { clientData: { raw: '{not json' } }), SyntaxError);
  });

  test('authData tampers: rpIdHash, UP, trailing bytes', async () => {
    const authenticator = newAuthenticator({ attestation: 'packed' });
    await assert.rejects(register(authenticator, { authData: { rpIdHash: sha256('evil.example') } }), /Unexpected RP ID hash/);
    await assert.rejects(register(authenticator, { authData: { up: false } }), /User presence was required/);
    await assert.rejects(register(authenticator, { authData: { trailing: Uint8Array.of(0, 1, 2) } }), /Leftover bytes/);
  });

  test('packed signature covers the tampered authData, so other checks still pass', async () => {
    const authenticator = newAuthenticator({ attestation: 'packed' });
    const { verification } = await register(authenticator, { authData: { be: true, signCount: 7 } });
    assert.ok(verification.verified);
    assert.equal(verification.registrationInfo.credentialDeviceType, 'multiDevice');
    assert.equal(verification.registrationInfo.credential.counter, 7);
  });

  test('fmt, attStmt and attestationObject replacement', async () => {
    const authenticator = newAuthenticator({ attestation: 'packed' });
    await assert.rejects(register(authenticator, { fmt: 'bogus' }), /Unsupported Attestation Format: bogus/);
    await assert.rejects(register(authenticator, { fmt: 'none' }), /None attestation had unexpected attestation statement/);
    await assert.rejects(register(authenticator, { attStmt: { alg: -7, sig: new Uint8Array(70) } }));
    await assert.rejects(register(authenticator, { attestationObject: encodeCbor({ fmt: 'none', attStmt: {} }) }));
  });

  test('coseKey rewrites the key in authData; the library stores it as given (a server must check its shape)', async () => {
    const authenticator = newAuthenticator();
    const { response, verification } = await register(authenticator, {
      authData: { coseKey: (key) => new Map([...key, [-1, 2]]) },
    });
    assert.ok(verification.verified, 'the library does not look at crv');
    const authData = base64url.decode(response.response.authenticatorData);
    const coseKey = decodeCbor(authData.subarray(55 + 32));
    assert.ok(coseKey instanceof Map);
    assert.equal(coseKey.get(-1), 2);
    assert.equal(coseKey.get(1), 2);
  });

  test('attStmtPatch changes the signed statement: alg claims, mistyped or removed members', async () => {
    const authenticator = newAuthenticator({ attestation: 'packed' });
    const read = (r: { response: { attestationObject: string } }) =>
      (decodeCbor(base64url.decode(r.response.attestationObject)) as Map<string, unknown>).get('attStmt') as Map<string, unknown>;
    const options = await registrationOptions();
    const claimed = read(await authenticator.createCredential(options, { attStmtPatch: { alg: -257 } }));
    assert.equal(claimed.get('alg'), -257);
    assert.ok(claimed.get('sig') instanceof Uint8Array, 'the real signature stays');
    const removed = read(await authenticator.createCredential(options, { attStmtPatch: { alg: undefined, sig: 'text' } }));
    assert.equal(removed.has('alg'), false);
    assert.equal(removed.get('sig'), 'text');
  });

  test('claimed COSE alg and custom credential id end up in authData', async () => {
    const authenticator = newAuthenticator();
    const longId = new Uint8Array(1024).fill(7);
    const options = await registrationOptions();
    const response = await authenticator.createCredential(options, { authData: { alg: -257, credentialId: longId } });
    assert.equal(response.id, base64url.encode(longId));
    assert.equal(response.response.publicKeyAlgorithm, -257);
    const authData = base64url.decode(response.response.authenticatorData);
    assert.equal(authData[32]! & AuthDataFlag.AT, AuthDataFlag.AT);
    const idLen = new DataView(authData.buffer, authData.byteOffset).getUint16(53);
    assert.equal(idLen, 1024);
    const coseKey = decodeCbor(authData.subarray(55 + 1024));
    assert.ok(coseKey instanceof Map);
    assert.equal(coseKey.get(1), 2); // still an EC2 key...
    assert.equal(coseKey.get(3), -257); // ...claiming RS256
    // the stored credential keeps the honest key
    assert.equal(authenticator.exportCredential(response.id).alg, -7);
  });

  test('excludeCredentials with a held id throws InvalidStateError', async () => {
    const authenticator = newAuthenticator();
    const first = await authenticator.createCredential(await registrationOptions());
    const options = await registrationOptions({ excludeCredentials: [{ id: first.id }] });
    await assert.rejects(authenticator.createCredential(options), { name: 'InvalidStateError' });
    // another authenticator does not hold it
    await newAuthenticator().createCredential(options);
  });

  test('algorithm negotiation', async () => {
    const base = await registrationOptions();
    const rsaOnly = { ...base, pubKeyCredParams: [{ type: 'public-key', alg: -257 }] };
    const r = await newAuthenticator({ alg: -7 }).createCredential(rsaOnly);
    assert.equal(r.response.publicKeyAlgorithm, -257);
    const pick = { ...base, pubKeyCredParams: [{ type: 'public-key', alg: -35 }, { type: 'public-key', alg: -8 }, { type: 'public-key', alg: -7 }] };
    assert.equal((await newAuthenticator({ alg: -257 }).createCredential(pick)).response.publicKeyAlgorithm, -8);
    const unsupported = { ...base, pubKeyCredParams: [{ type: 'public-key', alg: -35 }] };
    await assert.rejects(newAuthenticator().createCredential(unsupported), { name: 'NotSupportedError' });
  });

  test('RP ID: registrable suffix accepted, foreign RP ID rejected with SecurityError', async () => {
    const authenticator = new SoftAuthenticator({ origin: 'https://login.example.com' });
    assert.equal(authenticator.rpId, 'login.example.com');
    const options = await generateRegistrationOptions({ rpName: 'x', rpID: 'example.com', userName: 'bob' });
    const response = await authenticator.createCredential(options);
    const v = await verifyRegistrationResponse({
      response,
      expectedChallenge: options.challenge,
      expectedOrigin: 'https://login.example.com',
      expectedRPID: 'example.com',
    });
    assert.equal(v.verified, true);
    const evil = await generateRegistrationOptions({ rpName: 'x', rpID: 'evil.com', userName: 'bob' });
    await assert.rejects(authenticator.createCredential(evil), { name: 'SecurityError' });
  });
});

describe('assertion tampers', () => {
  test('bogus signature is rejected (verified: false)', async () => {
    for (const alg of [-7, -8, -257] as const) {
      const authenticator = newAuthenticator({ alg });
      const credential = await registeredCredential(authenticator);
      const { verification } = await authenticate(authenticator, credential, { signature: 'bogus' });
      assert.equal(verification.verified, false, `alg ${alg}`);
    }
  });

  test('client data and authData tampers hit the intended check', async () => {
    const authenticator = newAuthenticator();
    const credential = await registeredCredential(authenticator);
    await assert.rejects(authenticate(authenticator, credential, { clientData: { challenge: 'AAAA' } }), /Unexpected authentication response challenge/);
    await assert.rejects(authenticate(authenticator, credential, { clientData: { origin: 'https://evil.example' } }), /Unexpected authentication response origin/);
    await assert.rejects(authenticate(authenticator, credential, { clientData: { type: 'webauthn.create' } }), /Unexpected authentication response type/);
    await assert.rejects(authenticate(authenticator, credential, { clientData: { topOrigin: 'https://top.example' } }), /Unexpected top origin/);
    await assert.rejects(authenticate(authenticator, credential, { authData: { rpIdHash: sha256('evil.example') } }), /Unexpected RP ID hash/);
    await assert.rejects(authenticate(authenticator, credential, { authData: { up: false } }), /User not present/);
    await assert.rejects(authenticate(authenticator, credential, { authData: { uv: false } }), /User verification required/);
    await assert.rejects(authenticate(authenticator, credential, { authData: { trailing: Uint8Array.of(1) } }), /Leftover bytes/);
    await assert.rejects(
      authenticate(authenticator, { ...credential, counter: 100 }, { authData: { signCount: 5 } }),
      /Response counter value 5 was lower than expected 100/,
    );
  });

  test('tampered fields are still signed: unrelated changes verify', async () => {
    const authenticator = newAuthenticator();
    const credential = await registeredCredential(authenticator);
    const extra = await authenticate(authenticator, credential, { clientData: { extra: { other_keys_can_be_added_here: 'x' } } });
    assert.equal(extra.verification.verified, true);
    const flags = await authenticate(authenticator, credential, { authData: { be: true, bs: true, signCount: 1000 } });
    assert.equal(flags.verification.verified, true);
    assert.equal(flags.verification.authenticationInfo.credentialBackedUp, true);
    assert.equal(flags.verification.authenticationInfo.newCounter, 1000);
  });

  test('clientData member omission and raw replacement', async () => {
    const authenticator = newAuthenticator();
    await authenticator.createCredential(await registrationOptions());
    const options = await generateAuthenticationOptions({ rpID: RP_ID });
    const omitted = await authenticator.getAssertion(options, { clientData: { crossOrigin: undefined, challenge: undefined } });
    const parsed: unknown = JSON.parse(Buffer.from(base64url.decode(omitted.response.clientDataJSON)).toString('utf8'));
    assert.deepEqual(parsed, { type: 'webauthn.get', origin: ORIGIN });
    const bom = await authenticator.getAssertion(options, { clientData: { raw: '\uFEFF{"type":"webauthn.get"}' } });
    assert.deepEqual([...base64url.decode(bom.response.clientDataJSON).subarray(0, 3)], [0xef, 0xbb, 0xbf]);
  });

  test('userHandle, id and raw signature overrides', async () => {
    const authenticator = newAuthenticator();
    const credential = await registeredCredential(authenticator);
    const options = await generateAuthenticationOptions({ rpID: RP_ID });
    const noHandle = await authenticator.getAssertion(options, { userHandle: null });
    assert.equal('userHandle' in noHandle.response, false);
    const otherHandle = await authenticator.getAssertion(options, { userHandle: 'b3RoZXI' });
    assert.equal(otherHandle.response.userHandle, 'b3RoZXI');
    const otherId = await authenticator.getAssertion(options, { id: 'AAAA' });
    assert.equal(otherId.id, 'AAAA');
    assert.equal(otherId.rawId, 'AAAA');
    const garbage = await authenticate(authenticator, credential, { signature: new Uint8Array(64) }).then(
      (r) => r.verification.verified,
      () => false,
    );
    assert.equal(garbage, false);
  });
});

describe('credential selection and state', () => {
  test('allowCredentials, discoverable and forced selection', async () => {
    const authenticator = newAuthenticator();
    const a = await authenticator.createCredential(await registrationOptions({ userName: 'a' }));
    const b = await authenticator.createCredential(await registrationOptions({ userName: 'b' }));
    const options = await generateAuthenticationOptions({ rpID: RP_ID });
    assert.equal((await authenticator.getAssertion(options)).id, b.id, 'discoverable: most recent');
    assert.equal((await authenticator.getAssertion({ ...options, allowCredentials: [{ id: 'AAAA', type: 'public-key' }, { id: a.id, type: 'public-key' }] })).id, a.id);
    assert.equal((await authenticator.getAssertion(options, { credentialId: a.id })).id, a.id);
    await assert.rejects(authenticator.getAssertion({ ...options, allowCredentials: [{ id: 'AAAA', type: 'public-key' }] }), { name: 'NotAllowedError' });
    await assert.rejects(authenticator.getAssertion(options, { credentialId: 'AAAA' }), { name: 'NotAllowedError' });
    await assert.rejects(newAuthenticator().getAssertion(options), { name: 'NotAllowedError' });
    // an RP ID with no credentials
    const other = new SoftAuthenticator({ origin: 'https://a.example.com' });
    await other.createCredential({ ...(await registrationOptions()), rp: { id: 'a.example.com', name: 'x' } });
    await assert.rejects(other.getAssertion({ challenge: 'AAAA', rpId: 'example.com' }), { name: 'NotAllowedError' });
    assert.ok(authenticator.deleteCredential(b.id));
    assert.equal((await authenticator.getAssertion(options)).id, a.id);
  });

  test('export/import clones a credential; the server sees the counter regress', async () => {
    const original = newAuthenticator();
    const credential = await registeredCredential(original);
    const clone = newAuthenticator();
    clone.importCredential(original.exportCredential(credential.id));
    assert.equal(clone.credentials.length, 1);

    const first = await authenticate(original, credential);
    assert.equal(first.verification.authenticationInfo.newCounter, 1);
    credential.counter = 1;
    await assert.rejects(authenticate(clone, credential), /Response counter value 1 was lower than expected 1/);

    clone.setSignCount(credential.id, 41);
    const jumped = await authenticate(clone, credential);
    assert.equal(jumped.verification.verified, true);
    assert.equal(jumped.verification.authenticationInfo.newCounter, 42);
  });

  test('exported credential is a copy', () => {
    const authenticator = newAuthenticator();
    return authenticator.createCredential({ rp: { name: 'x' }, user: { id: 'dXNlcg', name: 'u', displayName: 'u' }, challenge: 'AAAA', pubKeyCredParams: [] }).then((r) => {
      const exported = authenticator.exportCredential(r.id);
      exported.signCount = 99;
      assert.equal(authenticator.credentials[0]?.signCount, 0);
      assert.equal(exported.userHandle, 'dXNlcg');
      assert.equal(exported.rpId, 'localhost');
      assert.throws(() => authenticator.importCredential({ ...exported, alg: -8 }), TypeError);
    });
  });
});

describe('performance', () => {
  test('ES256 assertions are cheap (sync signing)', async () => {
    const authenticator = newAuthenticator();
    await authenticator.createCredential(await registrationOptions());
    const options = { challenge: base64url.encode(new Uint8Array(32).fill(1)), rpId: RP_ID };
    const n = 2000;
    const start = performance.now();
    for (let i = 0; i < n; i++) await authenticator.getAssertion(options);
    const perOp = (performance.now() - start) / n;
    // generous bound to stay robust on slow CI; typically ~0.05 ms
    assert.ok(perOp < 2, `getAssertion took ${perOp.toFixed(3)} ms per call`);
  });
});
