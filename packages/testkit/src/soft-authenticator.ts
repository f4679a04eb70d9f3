import { randomBytes } from 'node:crypto';
import { encodeAttestedCredentialData, encodeAuthenticatorData, flagsByte } from './authenticator-data.ts';
import { base64urlEncode, base64urlNormalize } from './base64url.ts';
import { concatBytes, sha256, uuidToBytes } from './bytes.ts';
import { decodeCbor, encodeCbor, type CborValue } from './cbor.ts';
import { buildClientDataJSON } from './client-data.ts';
import { WebAuthnError } from './errors.ts';
import { encodeCosePublicKey, generateCredentialKeyPair, isSupportedAlg, keyTypeFor, signData, spkiDer, type CoseAlg } from './keys.ts';
import { isRpIdValidForHost } from './rp-id.ts';
import type {
  AssertionTamper,
  AuthDataTamper,
  AuthenticationResponseJSON,
  ClientExtensionResultsJSON,
  CreationOptionsJSON,
  CredentialDescriptorJSON,
  RegistrationResponseJSON,
  RegistrationTamper,
  RequestOptionsJSON,
  SoftAuthenticatorOptions,
  StoredCredential,
} from './types.ts';

const CREDENTIAL_ID_BYTES = 32;

function copyCredential(c: StoredCredential): StoredCredential {
  return {
    id: c.id,
    rawId: new Uint8Array(c.rawId),
    alg: c.alg,
    userHandle: c.userHandle,
    rpId: c.rpId,
    signCount: c.signCount,
    privateKey: c.privateKey,
    cosePublicKey: new Uint8Array(c.cosePublicKey),
  };
}

function wantsCredProps(extensions: object | undefined): boolean {
  return extensions !== undefined && (extensions as { credProps?: unknown }).credProps === true;
}

/**
 * A software WebAuthn authenticator plus the browser-side glue (`navigator.credentials.create/get`
 * followed by `toJSON()`). It takes the JSON options a server hands out and returns the JSON a
 * browser would post back, with real keys and real signatures — plus tamper hooks that break
 * any single field while keeping everything else (including signatures) valid.
 *
 * Signing is synchronous with `KeyObject`s created once per credential, so assertions are cheap
 * enough for load generation.
 *
 * @example
 * const authenticator = new SoftAuthenticator({ origin: 'http://localhost:8080' });
 * const attestation = await authenticator.createCredential(creationOptionsJSON);
 * const assertion = await authenticator.getAssertion(requestOptionsJSON);
 * const broken = await authenticator.getAssertion(requestOptionsJSON, { signature: 'bogus' });
 */
export class SoftAuthenticator {
  /** The origin written into clientDataJSON. */
  readonly origin: string;
  /** RP ID used when the server's options don't name one. */
  readonly rpId: string;
  readonly #host: string;
  readonly #explicitRpId: string | undefined;
  readonly #alg: CoseAlg;
  readonly #attestation: 'none' | 'packed';
  readonly #aaguid: Uint8Array;
  readonly #uv: boolean;
  readonly #be: boolean;
  readonly #bs: boolean;
  readonly #counter: 'increment' | 'zero';
  readonly #transports: string[];
  readonly #attachment: 'platform' | 'cross-platform';
  readonly #creds = new Map<string, StoredCredential>();
  readonly #rpIdHashes = new Map<string, Uint8Array>();

  constructor(opts: SoftAuthenticatorOptions) {
    let url: URL;
    try {
      url = new URL(opts.origin);
    } catch {
      throw new TypeError(`SoftAuthenticator: origin is not a URL: ${opts.origin}`);
    }
    if (opts.alg !== undefined && !isSupportedAlg(opts.alg)) throw new TypeError(`SoftAuthenticator: unsupported alg ${String(opts.alg)}`);
    this.origin = opts.origin;
    this.#host = url.hostname;
    this.#explicitRpId = opts.rpId;
    this.rpId = opts.rpId ?? url.hostname;
    this.#alg = opts.alg ?? -7;
    this.#attestation = opts.attestation ?? 'none';
    this.#aaguid = opts.aaguid === undefined ? new Uint8Array(16) : uuidToBytes(opts.aaguid);
    this.#uv = opts.userVerified ?? true;
    this.#be = opts.backupEligible ?? false;
    this.#bs = opts.backupState ?? false;
    this.#counter = opts.counter ?? 'increment';
    this.#transports = [...(opts.transports ?? ['internal'])];
    this.#attachment = opts.attachment ?? 'platform';
  }

  /**
   * The credentials this authenticator holds, oldest first (a snapshot array of the live
   * records: changing a record's `signCount` changes the authenticator's state).
   */
  get credentials(): StoredCredential[] {
    return [...this.#creds.values()];
  }

  /**
   * `navigator.credentials.create()` + `toJSON()`. Takes `PublicKeyCredentialCreationOptionsJSON`
   * (base64url `challenge`, `user.id`, `excludeCredentials[].id`) and returns `RegistrationResponseJSON`.
   * The new credential is stored (also when tampered).
   *
   * @throws `InvalidStateError` if an `excludeCredentials` id is held for this RP;
   *   `NotSupportedError` if no offered algorithm is supported;
   *   `SecurityError` if `rp.id` does not fit the origin (and isn't the configured `rpId`).
   */
  async createCredential(options: CreationOptionsJSON, tamper: RegistrationTamper = {}): Promise<RegistrationResponseJSON> {
    const rpId = this.#resolveRpId(options.rp.id);
    for (const descriptor of options.excludeCredentials ?? []) {
      const held = this.#creds.get(base64urlNormalize(descriptor.id));
      if (held && held.rpId === rpId) {
        throw new WebAuthnError('InvalidStateError', 'The authenticator already holds a credential listed in excludeCredentials');
      }
    }
    const alg = this.#pickAlg(options.pubKeyCredParams);
    const keys = await generateCredentialKeyPair(alg);
    const t = tamper.authData ?? {};

    const rawId = t.credentialId ? new Uint8Array(t.credentialId) : new Uint8Array(randomBytes(CREDENTIAL_ID_BYTES));
    const id = base64urlEncode(rawId);
    const cosePublicKey = encodeCosePublicKey(keys.publicKey, alg);
    const claimedAlg = t.alg ?? alg;
    let authDataKey = t.publicKey ?? (claimedAlg === alg ? cosePublicKey : encodeCosePublicKey(keys.publicKey, alg, claimedAlg));
    if (t.coseKey) authDataKey = encodeCbor(t.coseKey(decodeCbor(authDataKey) as Map<CborValue, CborValue>));
    const attested = encodeAttestedCredentialData(t.aaguid ?? this.#aaguid, rawId, authDataKey);
    const authData = this.#authData(rpId, t, 0, attested);

    const clientDataJSON = buildClientDataJSON(
      { type: 'webauthn.create', challenge: base64urlNormalize(options.challenge), origin: this.origin },
      tamper.clientData,
    );

    let attestationObject: Uint8Array;
    if (tamper.attestationObject) {
      attestationObject = tamper.attestationObject;
    } else {
      let attStmt: CborValue;
      if (tamper.attStmt !== undefined) attStmt = tamper.attStmt;
      else if (this.#attestation === 'packed') {
        attStmt = { alg, sig: signData(alg, keys.privateKey, concatBytes(authData, sha256(clientDataJSON))) };
      } else attStmt = {};
      if (tamper.attStmtPatch) {
        const patched: Record<string, CborValue> = { ...(attStmt as Record<string, CborValue>), ...tamper.attStmtPatch };
        for (const [member, value] of Object.entries(patched)) if (value === undefined) delete patched[member];
        attStmt = patched;
      }
      attestationObject = encodeCbor({ fmt: tamper.fmt ?? this.#attestation, attStmt, authData });
    }

    const credential: StoredCredential = {
      id,
      rawId,
      alg,
      userHandle: base64urlNormalize(options.user.id),
      rpId,
      signCount: 0,
      privateKey: keys.privateKey,
      cosePublicKey,
    };
    this.#store(credential);

    const clientExtensionResults: ClientExtensionResultsJSON = wantsCredProps(options.extensions) ? { credProps: { rk: true } } : {};
    return {
      id,
      rawId: id,
      type: 'public-key',
      response: {
        clientDataJSON: base64urlEncode(clientDataJSON),
        attestationObject: base64urlEncode(attestationObject),
        authenticatorData: base64urlEncode(authData),
        transports: [...this.#transports],
        publicKeyAlgorithm: claimedAlg,
        publicKey: base64urlEncode(spkiDer(keys.publicKey)),
      },
      clientExtensionResults,
      authenticatorAttachment: this.#attachment,
    };
  }

  /**
   * `navigator.credentials.get()` + `toJSON()`. Takes `PublicKeyCredentialRequestOptionsJSON` and
   * returns `AuthenticationResponseJSON` (with `userHandle`).
   *
   * Credential choice: `tamper.credentialId` if given (must be held; overrides `allowCredentials`);
   * else with a non-empty `allowCredentials` the first held credential (for this RP) it lists;
   * else the most recently created/imported credential for this RP (discoverable flow).
   * In `'increment'` mode the stored counter is advanced before signing, even for tampered calls.
   *
   * @throws `NotAllowedError` if no suitable credential is held; `SecurityError` for a bad `rpId`.
   */
  async getAssertion(options: RequestOptionsJSON, tamper: AssertionTamper & { credentialId?: string } = {}): Promise<AuthenticationResponseJSON> {
    const rpId = this.#resolveRpId(options.rpId);
    const cred = this.#select(rpId, options.allowCredentials, tamper.credentialId);
    let signCount = 0;
    if (this.#counter === 'increment') {
      cred.signCount = (cred.signCount + 1) >>> 0;
      signCount = cred.signCount;
    }
    const authData = this.#authData(rpId, tamper.authData ?? {}, signCount, undefined);
    const clientDataJSON = buildClientDataJSON(
      { type: 'webauthn.get', challenge: base64urlNormalize(options.challenge), origin: this.origin },
      tamper.clientData,
    );
    const signed = concatBytes(authData, sha256(clientDataJSON));
    let signature: Uint8Array;
    if (tamper.signature instanceof Uint8Array) signature = tamper.signature;
    else if (tamper.signature === 'bogus') signature = signData(cred.alg, cred.privateKey, concatBytes(signed, Uint8Array.of(0)));
    else signature = signData(cred.alg, cred.privateKey, signed);

    const userHandle = tamper.userHandle === undefined ? cred.userHandle : tamper.userHandle;
    const id = tamper.id ?? cred.id;
    return {
      id,
      rawId: id,
      type: 'public-key',
      response: {
        clientDataJSON: base64urlEncode(clientDataJSON),
        authenticatorData: base64urlEncode(authData),
        signature: base64urlEncode(signature),
        ...(userHandle === null ? {} : { userHandle }),
      },
      clientExtensionResults: {},
      authenticatorAttachment: this.#attachment,
    };
  }

  /** A copy of a held credential (sharing the immutable private `KeyObject`), e.g. to import into a clone. */
  exportCredential(id: string): StoredCredential {
    return copyCredential(this.#get(id));
  }

  /**
   * Stores a copy of `credential` (replacing one with the same id), making it the most recent
   * for discoverable assertions. Use with {@link SoftAuthenticator.exportCredential} to clone an authenticator.
   */
  importCredential(credential: StoredCredential): void {
    const keyType = credential.privateKey.asymmetricKeyType;
    if (credential.privateKey.type !== 'private' || keyType !== keyTypeFor(credential.alg)) {
      throw new TypeError(`importCredential: alg ${credential.alg} needs a private ${keyTypeFor(credential.alg)} key, got ${credential.privateKey.type} ${String(keyType)}`);
    }
    const copy = copyCredential(credential);
    copy.id = base64urlNormalize(copy.id);
    this.#store(copy);
  }

  /**
   * Sets a credential's stored counter. In `'increment'` mode the next assertion reports `n + 1`;
   * in `'zero'` mode assertions report 0 regardless.
   */
  setSignCount(id: string, n: number): void {
    this.#get(id).signCount = n >>> 0;
  }

  /** Forgets a credential (like the user deleting a passkey). Returns whether it was held. */
  deleteCredential(id: string): boolean {
    return this.#creds.delete(base64urlNormalize(id));
  }

  #get(id: string): StoredCredential {
    const cred = this.#creds.get(base64urlNormalize(id));
    if (!cred) throw new Error(`SoftAuthenticator: no credential with id ${id}`);
    return cred;
  }

  #store(credential: StoredCredential): void {
    this.#creds.delete(credential.id);
    this.#creds.set(credential.id, credential);
  }

  #resolveRpId(requested: string | undefined): string {
    if (requested === undefined) return this.rpId;
    if (requested !== this.#explicitRpId && !isRpIdValidForHost(requested, this.#host)) {
      throw new WebAuthnError('SecurityError', `RP ID "${requested}" is not valid for origin ${this.origin}`);
    }
    return requested;
  }

  #rpIdHash(rpId: string): Uint8Array {
    let hash = this.#rpIdHashes.get(rpId);
    if (!hash) {
      hash = sha256(rpId);
      this.#rpIdHashes.set(rpId, hash);
    }
    return hash;
  }

  #pickAlg(params: readonly { type: string; alg: number }[]): CoseAlg {
    const offered = params.filter((p) => p.type === 'public-key').map((p) => p.alg);
    if (params.length === 0 || offered.includes(this.#alg)) return this.#alg;
    const alg = offered.find(isSupportedAlg);
    if (alg === undefined) {
      throw new WebAuthnError('NotSupportedError', `None of the offered algorithms (${offered.join(', ')}) is supported`);
    }
    return alg;
  }

  #select(rpId: string, allow: readonly CredentialDescriptorJSON[] | undefined, forcedId: string | undefined): StoredCredential {
    if (forcedId !== undefined) {
      const cred = this.#creds.get(base64urlNormalize(forcedId));
      if (!cred) throw new WebAuthnError('NotAllowedError', `No held credential with id ${forcedId}`);
      return cred;
    }
    if (allow && allow.length > 0) {
      for (const descriptor of allow) {
        const cred = this.#creds.get(base64urlNormalize(descriptor.id));
        if (cred && cred.rpId === rpId) return cred;
      }
      throw new WebAuthnError('NotAllowedError', 'None of the allowed credentials is held by this authenticator');
    }
    let latest: StoredCredential | undefined;
    for (const cred of this.#creds.values()) if (cred.rpId === rpId) latest = cred;
    if (!latest) throw new WebAuthnError('NotAllowedError', `No discoverable credential for RP ID ${rpId}`);
    return latest;
  }

  #authData(rpId: string, t: AuthDataTamper, signCount: number, attested: Uint8Array | undefined): Uint8Array {
    let flags = flagsByte({
      up: t.up ?? true,
      uv: t.uv ?? this.#uv,
      be: t.be ?? this.#be,
      bs: t.bs ?? this.#bs,
      at: attested !== undefined,
      ed: t.extensions !== undefined,
    });
    if (t.flags !== undefined) flags = t.flags;
    return encodeAuthenticatorData({
      rpIdHash: t.rpIdHash ?? this.#rpIdHash(rpId),
      flags,
      signCount: t.signCount ?? signCount,
      ...(attested ? { attestedCredentialData: attested } : {}),
      ...(t.extensions ? { extensions: t.extensions } : {}),
      ...(t.trailing ? { trailing: t.trailing } : {}),
    });
  }
}
