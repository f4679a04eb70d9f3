import type { KeyObject } from 'node:crypto';
import type { CborValue } from './cbor.ts';
import type { CoseAlg } from './keys.ts';

// ---------------------------------------------------------------------------------------------
// Configuration and state
// ---------------------------------------------------------------------------------------------

/** How the authenticator is set up. Everything except `origin` has a default. */
export interface SoftAuthenticatorOptions {
  /** The page origin the "browser" is on, e.g. `'http://localhost:8080'`; written to `clientDataJSON.origin`. */
  origin: string;
  /**
   * RP ID used when the server's options do not name one (`rp.id` / `rpId`). Defaults to the
   * origin's hostname. Its SHA-256 is the authenticator data `rpIdHash`.
   */
  rpId?: string;
  /**
   * Preferred algorithm, default -7 (ES256). If creation options don't offer it in
   * `pubKeyCredParams`, the first offered algorithm we support is used, else `NotSupportedError`.
   */
  alg?: CoseAlg;
  /** `'none'` (default) or `'packed'` self attestation (no x5c; signed by the credential key). */
  attestation?: 'none' | 'packed';
  /** AAGUID as a UUID string, default all-zero. */
  aaguid?: string;
  /** UV flag, default true. */
  userVerified?: boolean;
  /** BE flag (backup eligible, i.e. a synced passkey), default false. */
  backupEligible?: boolean;
  /** BS flag (currently backed up), default false. */
  backupState?: boolean;
  /**
   * Signature counter behaviour: `'increment'` (default; 0 at registration, then +1 before each
   * assertion) or `'zero'` (always 0, like synced passkeys).
   */
  counter?: 'increment' | 'zero';
  /** Transports reported in the registration response, default `['internal']`. */
  transports?: string[];
  /** `authenticatorAttachment` reported in responses, default `'platform'`. */
  attachment?: 'platform' | 'cross-platform';
}

/** A credential held by a {@link SoftAuthenticator} (a resident/discoverable key). */
export interface StoredCredential {
  /** Credential id, base64url. */
  id: string;
  /** Credential id bytes. */
  rawId: Uint8Array;
  /** Key algorithm. */
  alg: CoseAlg;
  /** The user handle (`user.id` from the creation options), base64url. */
  userHandle: string;
  /** RP ID the credential is scoped to. */
  rpId: string;
  /** Current signature counter (the value last reported). */
  signCount: number;
  /** The private key, created once. */
  privateKey: KeyObject;
  /** COSE_Key encoding of the public key, as it appears in the attested credential data. */
  cosePublicKey: Uint8Array;
}

// ---------------------------------------------------------------------------------------------
// WebAuthn L3 JSON forms (structurally compatible with @simplewebauthn/server's types)
// ---------------------------------------------------------------------------------------------

/** `PublicKeyCredentialDescriptorJSON`. */
export interface CredentialDescriptorJSON {
  id: string;
  type: string;
  transports?: readonly string[];
}

/** `PublicKeyCredentialCreationOptionsJSON`, as a server sends it (base64url binary fields). */
export interface CreationOptionsJSON {
  rp: { id?: string; name: string };
  user: { id: string; name: string; displayName: string };
  challenge: string;
  pubKeyCredParams: readonly { type: string; alg: number }[];
  timeout?: number;
  excludeCredentials?: readonly CredentialDescriptorJSON[];
  authenticatorSelection?: {
    authenticatorAttachment?: string;
    residentKey?: string;
    requireResidentKey?: boolean;
    userVerification?: string;
  };
  hints?: readonly string[];
  attestation?: string;
  attestationFormats?: readonly string[];
  extensions?: object;
}

/** `PublicKeyCredentialRequestOptionsJSON`, as a server sends it. */
export interface RequestOptionsJSON {
  challenge: string;
  timeout?: number;
  rpId?: string;
  allowCredentials?: readonly CredentialDescriptorJSON[];
  userVerification?: string;
  hints?: readonly string[];
  extensions?: object;
}

/** `AuthenticationExtensionsClientOutputsJSON` (only `credProps` is ever produced). */
export interface ClientExtensionResultsJSON {
  credProps?: { rk?: boolean };
}

/** `AuthenticatorAttestationResponseJSON`. */
export interface AttestationResponseJSON {
  clientDataJSON: string;
  attestationObject: string;
  authenticatorData: string;
  transports: string[];
  publicKeyAlgorithm: number;
  /** DER SubjectPublicKeyInfo, base64url. */
  publicKey: string;
}

/** `RegistrationResponseJSON` — what `PublicKeyCredential.toJSON()` returns after `create()`. */
export interface RegistrationResponseJSON {
  id: string;
  rawId: string;
  type: 'public-key';
  response: AttestationResponseJSON;
  clientExtensionResults: ClientExtensionResultsJSON;
  authenticatorAttachment: 'platform' | 'cross-platform';
}

/** `AuthenticatorAssertionResponseJSON`. */
export interface AssertionResponseJSON {
  clientDataJSON: string;
  authenticatorData: string;
  signature: string;
  userHandle?: string;
}

/** `AuthenticationResponseJSON` — what `PublicKeyCredential.toJSON()` returns after `get()`. */
export interface AuthenticationResponseJSON {
  id: string;
  rawId: string;
  type: 'public-key';
  response: AssertionResponseJSON;
  clientExtensionResults: ClientExtensionResultsJSON;
  authenticatorAttachment: 'platform' | 'cross-platform';
}

// ---------------------------------------------------------------------------------------------
// Tamper hooks
// ---------------------------------------------------------------------------------------------

/**
 * Overrides for `clientDataJSON` members. A member set to a value replaces the real one; a
 * member present with the value `undefined` (e.g. `{ challenge: undefined }`) is left out.
 */
export interface ClientDataTamper {
  type?: string;
  challenge?: string;
  origin?: string;
  crossOrigin?: boolean;
  topOrigin?: string;
  /** Extra members merged in last (they may also overwrite the standard ones). */
  extra?: Record<string, unknown>;
  /** Replace the whole clientDataJSON bytes (a string is UTF-8 encoded): BOM, duplicate keys, invalid JSON... */
  raw?: string | Uint8Array;
}

/** Overrides for authenticator data. The signature is computed over the tampered bytes. */
export interface AuthDataTamper {
  /** Replaces SHA-256(rpId). */
  rpIdHash?: Uint8Array;
  up?: boolean;
  uv?: boolean;
  be?: boolean;
  bs?: boolean;
  /** Replaces the whole flags byte (applied after the individual flag overrides). */
  flags?: number;
  /** Reported counter (the stored counter still advances as normal). */
  signCount?: number;
  /** Pre-encoded CBOR extension outputs; appended and the ED flag set. */
  extensions?: Uint8Array;
  /** Bytes appended after the authenticator data (leftover bytes). */
  trailing?: Uint8Array;
}

/** Ways to break a registration response. */
export interface RegistrationTamper {
  clientData?: ClientDataTamper;
  authData?: AuthDataTamper & {
    /** Credential id written into authData, the response `id`/`rawId`, and stored (e.g. 1024 bytes, or an id that already exists). */
    credentialId?: Uint8Array;
    /** COSE `alg` to claim in the public key instead of the real one (the key material stays real). */
    alg?: number;
    /** Replaces the whole COSE public key bytes. */
    publicKey?: Uint8Array;
    /**
     * Rewrites the real COSE public key: gets it decoded (a `Map` of COSE labels) and returns
     * what to encode instead, e.g. an off-curve point, a short key or a private `d`. Packed self
     * attestation is still signed by the real private key over the tampered authenticator data.
     */
    coseKey?: (key: Map<CborValue, CborValue>) => CborValue;
    /** Replaces the 16 AAGUID bytes. */
    aaguid?: Uint8Array;
  };
  /** Replaces the attestation statement map (`attStmt`). */
  attStmt?: CborValue;
  /**
   * Merged into the statement the authenticator made (after signing): `{ alg: -257 }` makes a
   * packed self attestation claim another algorithm, `{ sig: 'text' }` mistypes the signature; a
   * member set to `undefined` is removed.
   */
  attStmtPatch?: { readonly [member: string]: CborValue };
  /** Replaces the attestation format string, keeping the statement. */
  fmt?: string;
  /** Replaces the whole attestationObject bytes. */
  attestationObject?: Uint8Array;
}

/** Ways to break an authentication response. */
export interface AssertionTamper {
  clientData?: ClientDataTamper;
  authData?: AuthDataTamper;
  /** `'bogus'`: a well-formed signature over different data; bytes: used verbatim. */
  signature?: 'bogus' | Uint8Array;
  /** Replaces the user handle (base64url); `null` leaves it out. */
  userHandle?: string | null;
  /** Claims another credential id (as both `id` and `rawId`) while signing with the selected key. */
  id?: string;
}
