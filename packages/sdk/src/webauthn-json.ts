// WebAuthn Level 3 JSON forms <-> browser objects. Uses the browser's own helpers
// (PublicKeyCredential.parseCreationOptionsFromJSON / parseRequestOptionsFromJSON / toJSON(),
// WebAuthn L3 §5.1.8-§5.1.10) where present and an own base64url conversion where not.

/** Binary values in the JSON forms are base64url without padding (api-contract.md). */
export function base64UrlToBytes(value: string): Uint8Array<ArrayBuffer> {
  const base64 = value.replace(/-/g, '+').replace(/_/g, '/');
  const binary = atob(base64 + '='.repeat((4 - (base64.length % 4)) % 4));
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

export function bytesToBase64Url(value: ArrayBuffer | ArrayBufferView): string {
  const bytes = value instanceof ArrayBuffer ? new Uint8Array(value) : new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
  let binary = '';
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

type Json = Record<string, unknown>;
interface CredentialDescriptorJSON {
  id: string;
  type: string;
  transports?: string[];
}

interface PublicKeyCredentialStatics {
  parseCreationOptionsFromJSON?: (options: unknown) => PublicKeyCredentialCreationOptions;
  parseRequestOptionsFromJSON?: (options: unknown) => PublicKeyCredentialRequestOptions;
}

function statics(): PublicKeyCredentialStatics | undefined {
  return typeof PublicKeyCredential === 'undefined' ? undefined : (PublicKeyCredential as unknown as PublicKeyCredentialStatics);
}

function descriptors(list: unknown): PublicKeyCredentialDescriptor[] | undefined {
  if (!Array.isArray(list)) return undefined;
  return (list as CredentialDescriptorJSON[]).map((d) => ({
    ...d,
    type: 'public-key',
    id: base64UrlToBytes(d.id),
    transports: d.transports as AuthenticatorTransport[] | undefined,
  }));
}

/** `PublicKeyCredentialCreationOptionsJSON` from the server -> options for `navigator.credentials.create`. */
export function parseCreationOptions(json: Json): PublicKeyCredentialCreationOptions {
  const native = statics()?.parseCreationOptionsFromJSON;
  if (native) return native.call(PublicKeyCredential, json);
  const user = json.user as Json;
  const options = {
    ...json,
    challenge: base64UrlToBytes(json.challenge as string),
    user: { ...user, id: base64UrlToBytes(user.id as string) },
  } as unknown as PublicKeyCredentialCreationOptions;
  const exclude = descriptors(json.excludeCredentials);
  if (exclude) options.excludeCredentials = exclude;
  return options;
}

/** `PublicKeyCredentialRequestOptionsJSON` from the server -> options for `navigator.credentials.get`. */
export function parseRequestOptions(json: Json): PublicKeyCredentialRequestOptions {
  const native = statics()?.parseRequestOptionsFromJSON;
  if (native) return native.call(PublicKeyCredential, json);
  const options = { ...json, challenge: base64UrlToBytes(json.challenge as string) } as unknown as PublicKeyCredentialRequestOptions;
  const allow = descriptors(json.allowCredentials);
  if (allow) options.allowCredentials = allow;
  return options;
}

interface AttestationLike {
  clientDataJSON: ArrayBuffer;
  attestationObject: ArrayBuffer;
  getTransports?: () => string[];
  getPublicKey?: () => ArrayBuffer | null;
  getPublicKeyAlgorithm?: () => number;
  getAuthenticatorData?: () => ArrayBuffer;
}
interface AssertionLike {
  clientDataJSON: ArrayBuffer;
  authenticatorData: ArrayBuffer;
  signature: ArrayBuffer;
  userHandle: ArrayBuffer | null;
}

/**
 * A credential from `create()`/`get()` -> `RegistrationResponseJSON` / `AuthenticationResponseJSON`,
 * what `PublicKeyCredential.toJSON()` returns (WebAuthn L3 §5.1.8).
 */
export function credentialToJSON(credential: PublicKeyCredential): Json {
  const withToJson = credential as unknown as { toJSON?: () => Json };
  if (typeof withToJson.toJSON === 'function') return withToJson.toJSON();
  const response = credential.response as unknown as Partial<AttestationLike & AssertionLike>;
  const common = {
    id: credential.id,
    rawId: bytesToBase64Url(credential.rawId),
    type: credential.type,
    authenticatorAttachment: credential.authenticatorAttachment ?? undefined,
    clientExtensionResults: credential.getClientExtensionResults(),
  };
  if (response.attestationObject) {
    const publicKey = response.getPublicKey?.();
    return {
      ...common,
      response: {
        clientDataJSON: bytesToBase64Url(response.clientDataJSON!),
        attestationObject: bytesToBase64Url(response.attestationObject),
        transports: response.getTransports?.() ?? [],
        ...(response.getAuthenticatorData ? { authenticatorData: bytesToBase64Url(response.getAuthenticatorData()) } : {}),
        ...(publicKey ? { publicKey: bytesToBase64Url(publicKey) } : {}),
        ...(response.getPublicKeyAlgorithm ? { publicKeyAlgorithm: response.getPublicKeyAlgorithm() } : {}),
      },
    };
  }
  return {
    ...common,
    response: {
      clientDataJSON: bytesToBase64Url(response.clientDataJSON!),
      authenticatorData: bytesToBase64Url(response.authenticatorData!),
      signature: bytesToBase64Url(response.signature!),
      ...(response.userHandle ? { userHandle: bytesToBase64Url(response.userHandle) } : {}),
    },
  };
}

/** What this browser can do, from `PublicKeyCredential.getClientCapabilities()` (WebAuthn L3 §5.1.7) and older probes. */
export interface ClientCapabilities {
  webauthn: boolean;
  conditionalGet: boolean;
  conditionalCreate: boolean;
  platformAuthenticator: boolean;
  hybrid: boolean;
}

export async function clientCapabilities(): Promise<ClientCapabilities> {
  const none = { webauthn: false, conditionalGet: false, conditionalCreate: false, platformAuthenticator: false, hybrid: false };
  if (typeof PublicKeyCredential === 'undefined' || typeof navigator === 'undefined' || !navigator.credentials) return none;
  const pkc = PublicKeyCredential as unknown as {
    getClientCapabilities?: () => Promise<Record<string, boolean>>;
    isConditionalMediationAvailable?: () => Promise<boolean>;
    isUserVerifyingPlatformAuthenticatorAvailable?: () => Promise<boolean>;
  };
  const caps = (await pkc.getClientCapabilities?.().catch(() => undefined)) ?? {};
  const conditionalGet = caps.conditionalGet ?? (await pkc.isConditionalMediationAvailable?.().catch(() => false)) ?? false;
  const platform =
    caps.userVerifyingPlatformAuthenticator ?? (await pkc.isUserVerifyingPlatformAuthenticatorAvailable?.().catch(() => false)) ?? false;
  return { webauthn: true, conditionalGet, conditionalCreate: caps.conditionalCreate ?? false, platformAuthenticator: platform, hybrid: caps.hybridTransport ?? false };
}
