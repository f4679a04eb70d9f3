import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { base64urlDecode, base64urlEncode, concatBytes, decodeCbor, encodeCbor, type CborValue, type RegistrationTamper } from '../../../testkit/src/index.ts';
import { newAuthenticator, paths, register } from '../helpers/flows.ts';
import { dialects, startTestServer, type TestServer } from '../helpers/test-server.ts';

/**
 * Registrations an outside conformance suite (FIDO server tests, WebAuthn L3 §7.1 and §8) expects
 * refused and @simplewebauthn/server accepts or refuses without a stable reason: the credential
 * key's shape for its kty, alg agreement, and the attestation statement's structure for its fmt.
 * Each is refused with a 4xx problem+json and a stable code, creates no account and sets no cookie.
 * The software authenticator (packages/testkit) breaks exactly one thing in an otherwise valid response.
 */
type Key = Map<CborValue, CborValue>;
const edit = (changes: [number, CborValue | undefined][]) => (key: Key) => {
  const copy = new Map(key);
  for (const [label, value] of changes) {
    if (value === undefined) copy.delete(label);
    else copy.set(label, value);
  }
  return copy;
};
const flipLastByte = (label: number) => (key: Key) => {
  const value = new Uint8Array(key.get(label) as Uint8Array);
  value[value.length - 1] = (value[value.length - 1] as number) ^ 1;
  return edit([[label, value]])(key);
};
/** An odd 1024-bit modulus (top bit set). */
const SHORT_MODULUS = concatBytes(Uint8Array.of(0xc1), new Uint8Array(126).fill(0x5a), Uint8Array.of(0x01));
const bytes = (n: number, fill = 1) => new Uint8Array(n).fill(fill);

interface Case {
  rule: string;
  alg?: -7 | -8 | -257;
  attestation?: 'none' | 'packed';
  tamper: RegistrationTamper;
  code: 'invalid_public_key' | 'invalid_attestation' | 'invalid_response';
}

const KEY_CASES: Case[] = [
  { rule: 'EC2: (x, y) not on P-256', tamper: { authData: { coseKey: flipLastByte(-3) } }, code: 'invalid_public_key' },
  { rule: 'EC2: x of 31 bytes', tamper: { authData: { coseKey: edit([[-2, bytes(31)]]) } }, code: 'invalid_public_key' },
  { rule: 'EC2: compressed point (y a sign bit)', tamper: { authData: { coseKey: edit([[-3, true]]) } }, code: 'invalid_public_key' },
  { rule: 'EC2: P-384 (crv 2) under ES256', tamper: { authData: { coseKey: edit([[-1, 2]]) } }, code: 'invalid_public_key' },
  { rule: 'EC2: crv missing', tamper: { authData: { coseKey: edit([[-1, undefined]]) } }, code: 'invalid_public_key' },
  { rule: 'EC2 key with RS256 alg (alg disagrees with kty)', tamper: { authData: { alg: -257 } }, code: 'invalid_public_key' },
  { rule: 'ES256 alg on kty 3 (RSA)', tamper: { authData: { coseKey: edit([[1, 3]]) } }, code: 'invalid_public_key' },
  { rule: 'kty 4 (symmetric)', tamper: { authData: { coseKey: edit([[1, 4]]) } }, code: 'invalid_public_key' },
  { rule: 'alg missing', tamper: { authData: { coseKey: edit([[3, undefined]]) } }, code: 'invalid_public_key' },
  { rule: 'alg not offered (ES384)', tamper: { authData: { alg: -35 } }, code: 'invalid_public_key' },
  { rule: 'private key parameter d present', tamper: { authData: { coseKey: edit([[-4, bytes(32)]]) } }, code: 'invalid_public_key' },
  { rule: 'OKP: X25519 (crv 4) under EdDSA', alg: -8, tamper: { authData: { coseKey: edit([[-1, 4]]) } }, code: 'invalid_public_key' },
  { rule: 'OKP: Ed25519 x of 31 bytes', alg: -8, tamper: { authData: { coseKey: edit([[-2, bytes(31)]]) } }, code: 'invalid_public_key' },
  { rule: 'OKP: Ed25519 x that is not a curve point', alg: -8, tamper: { authData: { coseKey: edit([[-2, Uint8Array.of(2, ...bytes(31, 0))]]) } }, code: 'invalid_public_key' },
  { rule: 'OKP key with ES256 alg', alg: -8, tamper: { authData: { alg: -7 } }, code: 'invalid_public_key' },
  { rule: 'RSA: 1024-bit modulus', alg: -257, tamper: { authData: { coseKey: edit([[-1, SHORT_MODULUS]]) } }, code: 'invalid_public_key' },
  { rule: 'RSA: exponent 3', alg: -257, tamper: { authData: { coseKey: edit([[-2, Uint8Array.of(3)]]) } }, code: 'invalid_public_key' },
  { rule: 'RSA: even exponent', alg: -257, tamper: { authData: { coseKey: edit([[-2, Uint8Array.of(1, 0, 2)]]) } }, code: 'invalid_public_key' },
  { rule: 'RSA: even modulus', alg: -257, tamper: { authData: { coseKey: flipLastByte(-1) } }, code: 'invalid_public_key' },
];

const cert = bytes(300, 0x30);
const STATEMENT_CASES: Case[] = [
  { rule: 'none: statement not empty', tamper: { attStmt: { sig: bytes(70) } }, code: 'invalid_attestation' },
  { rule: "packed self: alg differs from the credential key's", attestation: 'packed', tamper: { attStmtPatch: { alg: -257 } }, code: 'invalid_attestation' },
  { rule: 'packed self: EdDSA key claiming ES256', alg: -8, attestation: 'packed', tamper: { attStmtPatch: { alg: -7 } }, code: 'invalid_attestation' },
  { rule: 'packed: sig a text string', attestation: 'packed', tamper: { attStmtPatch: { sig: 'MEUCIQ' } }, code: 'invalid_attestation' },
  { rule: 'packed: alg missing', attestation: 'packed', tamper: { attStmtPatch: { alg: undefined } }, code: 'invalid_attestation' },
  { rule: 'packed: alg a text string', attestation: 'packed', tamper: { attStmtPatch: { alg: 'ES256' } }, code: 'invalid_attestation' },
  { rule: 'packed: ecdaaKeyId (ECDAA)', attestation: 'packed', tamper: { attStmtPatch: { ecdaaKeyId: bytes(32) } }, code: 'invalid_attestation' },
  { rule: 'packed: x5c empty', attestation: 'packed', tamper: { attStmtPatch: { x5c: [] } }, code: 'invalid_attestation' },
  { rule: 'packed: x5c not an array', attestation: 'packed', tamper: { attStmtPatch: { x5c: cert } }, code: 'invalid_attestation' },
  { rule: 'fido-u2f: two certificates in x5c', tamper: { fmt: 'fido-u2f', attStmt: { sig: bytes(70), x5c: [cert, cert] } }, code: 'invalid_attestation' },
  { rule: 'fido-u2f: sig missing', tamper: { fmt: 'fido-u2f', attStmt: { x5c: [cert] } }, code: 'invalid_attestation' },
  { rule: 'fido-u2f: EdDSA credential key', alg: -8, tamper: { fmt: 'fido-u2f', attStmt: { sig: bytes(70), x5c: [cert] } }, code: 'invalid_attestation' },
  {
    rule: 'tpm: ver not "2.0"',
    tamper: { fmt: 'tpm', attStmt: { ver: '1.2', alg: -257, x5c: [cert], sig: bytes(256), certInfo: bytes(100), pubArea: bytes(100) } },
    code: 'invalid_attestation',
  },
  { rule: 'tpm: pubArea missing', tamper: { fmt: 'tpm', attStmt: { ver: '2.0', alg: -257, x5c: [cert], sig: bytes(256), certInfo: bytes(100) } }, code: 'invalid_attestation' },
  { rule: 'android-key: x5c missing', tamper: { fmt: 'android-key', attStmt: { alg: -7, sig: bytes(70) } }, code: 'invalid_attestation' },
  { rule: 'android-safetynet: ver empty', tamper: { fmt: 'android-safetynet', attStmt: { ver: '', response: bytes(100) } }, code: 'invalid_attestation' },
  { rule: 'apple: x5c certificates not byte strings', tamper: { fmt: 'apple', attStmt: { x5c: ['MIIC'] } }, code: 'invalid_attestation' },
  { rule: 'unknown format', tamper: { fmt: 'packed2', attStmt: {} }, code: 'invalid_attestation' },
  { rule: 'format name of another case ("None")', tamper: { fmt: 'None', attStmt: {} }, code: 'invalid_attestation' },
];

/** FIDO Resp-3 F-8 to F-12: authenticator data that does not carry exactly the attested credential (and extensions). */
const AUTH_DATA_CASES: Case[] = [
  { rule: 'authData: AT flag not set though attested data follows', tamper: { authData: { flags: 0x05 } }, code: 'invalid_response' },
  { rule: 'authData: bytes left over after the credential key', tamper: { authData: { trailing: Uint8Array.of(0xa0) } }, code: 'invalid_response' },
  { rule: 'authData: ED flag set without extensions', tamper: { authData: { flags: 0xc5 } }, code: 'invalid_response' },
  { rule: 'authData: AT set but no credential public key', tamper: { authData: { publicKey: new Uint8Array(0) } }, code: 'invalid_response' },
];

/** Re-encodes a valid attestation object with one CBOR-level defect. */
function reencoded(defect: 'duplicate key' | 'indefinite map' | 'trailing bytes'): (attestationObject: Uint8Array) => Uint8Array {
  return (attestationObject) => {
    const map = decodeCbor(attestationObject) as Map<string, CborValue>;
    const entries = [...map.entries()].map(([k, v]) => concatBytes(encodeCbor(k), encodeCbor(v)));
    if (defect === 'duplicate key') return concatBytes(Uint8Array.of(0xa4), ...entries, encodeCbor('fmt'), encodeCbor('none'));
    if (defect === 'indefinite map') return concatBytes(Uint8Array.of(0xbf), ...entries, Uint8Array.of(0xff));
    return concatBytes(attestationObject, Uint8Array.of(0));
  };
}
const CBOR_CASES: { rule: string; defect: Parameters<typeof reencoded>[0] }[] = [
  { rule: 'attestation object with a duplicate map key', defect: 'duplicate key' },
  { rule: 'attestation object as an indefinite-length map', defect: 'indefinite map' },
  { rule: 'bytes after the attestation object', defect: 'trailing bytes' },
];

async function expectRefused(server: TestServer, verify: { status: number; body: { code: string }; text: string; headers: Headers }, code: string) {
  assert.equal(verify.status, 400, verify.text);
  assert.equal(verify.body.code, code, verify.text);
  assert.match(verify.headers.get('content-type') ?? '', /^application\/problem\+json/);
  assert.equal(verify.headers.getSetCookie().filter((c) => /latchkey_session=/.test(c)).length, 0, 'no session cookie');
  assert.ok(server);
}

for (const dialect of dialects) {
  describe(`registration conformance (${dialect})`, () => {
    let server: TestServer;
    let n = 0;
    before(async () => {
      server = await startTestServer(dialect);
    });
    after(() => server.close());

    for (const c of [...KEY_CASES, ...STATEMENT_CASES, ...AUTH_DATA_CASES]) {
      test(`${c.rule} -> 400 ${c.code}`, async () => {
        const username = `conf${n++}`;
        const authenticator = newAuthenticator({ alg: c.alg ?? -7, attestation: c.attestation ?? 'none' });
        const { verify } = await register(server.client(), authenticator, { username }, c.tamper);
        await expectRefused(server, verify, c.code);
        const again = await server.client().post(`${paths.REG}/options`, { username });
        assert.equal(again.status, 200, 'no account was created');
      });
    }

    for (const c of CBOR_CASES) {
      test(`${c.rule} -> 400 invalid_response`, async () => {
        const client = server.client();
        const options = await client.post(`${paths.REG}/options`, { username: `cbor${n++}` });
        const response = await newAuthenticator().createCredential(options.body);
        const broken = reencoded(c.defect)(base64urlDecode(response.response.attestationObject));
        const verify = await client.post(`${paths.REG}/verify`, { ...response, response: { ...response.response, attestationObject: base64urlEncode(broken) } });
        await expectRefused(server, verify, 'invalid_response');
      });
    }

    for (const alg of [-7, -8, -257] as const) {
      for (const attestation of ['none', 'packed'] as const) {
        test(`a well-formed ${alg} key with ${attestation} attestation is still accepted, and signs in`, async () => {
          const authenticator = newAuthenticator({ alg, attestation });
          const { verify } = await register(server.client(), authenticator, { username: `ok${alg}${attestation}` });
          assert.equal(verify.status, 200, verify.text);
        });
      }
    }

    test('base64url with "=" padding (older client libraries) signs up and signs in', async () => {
      const pad = (text: string) => `${text}${'='.repeat((4 - (text.length % 4)) % 4)}`;
      const client = server.client();
      const authenticator = newAuthenticator();
      const options = await client.post(`${paths.REG}/options`, { username: 'padded' });
      const created = await authenticator.createCredential(options.body);
      const payload = { ...created, response: { ...created.response, clientDataJSON: pad(created.response.clientDataJSON), attestationObject: pad(created.response.attestationObject) } };
      assert.ok(payload.response.clientDataJSON.endsWith('=') || payload.response.attestationObject.endsWith('='), 'at least one field padded');
      const signedUp = await client.post(`${paths.REG}/verify`, payload);
      assert.equal(signedUp.status, 200, signedUp.text);
      const request = await client.post(`${paths.AUTH}/options`, {});
      const assertion = await authenticator.getAssertion(request.body);
      const r = assertion.response;
      const padded = { ...assertion, response: { ...r, clientDataJSON: pad(r.clientDataJSON), authenticatorData: pad(r.authenticatorData), signature: pad(r.signature) } };
      const signedIn = await client.post(`${paths.AUTH}/verify`, padded);
      assert.equal(signedIn.status, 200, signedIn.text);
    });

    test('the refusal is audited with its code', async () => {
      const { verify } = await register(server.client(), newAuthenticator(), { username: 'audited' }, { authData: { coseKey: flipLastByte(-3) } });
      const requestId = verify.body.requestId as string;
      const row = await server.database.db.selectFrom('audit_events').selectAll().where('request_id', '=', requestId).executeTakeFirst();
      assert.equal(row?.type, 'passkey.registration_failed');
      assert.equal(row?.error_code, 'invalid_public_key');
    });
  });

  describe(`registration conformance with verification on worker threads (${dialect})`, () => {
    let server: TestServer;
    before(async () => {
      server = await startTestServer(dialect, { config: { server: { verifyWorkers: 1 } } });
    });
    after(() => server.close());

    test('the same checks run when the library runs on a worker', async () => {
      const offCurve = await register(server.client(), newAuthenticator(), { username: 'w1' }, { authData: { coseKey: flipLastByte(-3) } });
      await expectRefused(server, offCurve.verify, 'invalid_public_key');
      const selfAlg = await register(server.client(), newAuthenticator({ attestation: 'packed' }), { username: 'w2' }, { attStmtPatch: { alg: -257 } });
      await expectRefused(server, selfAlg.verify, 'invalid_attestation');
      const fine = await register(server.client(), newAuthenticator({ attestation: 'packed' }), { username: 'w3' });
      assert.equal(fine.verify.status, 200, fine.verify.text);
    });
  });
}

