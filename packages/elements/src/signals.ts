// WebAuthn Signal API (WebAuthn L3 §5.1.10): tells the user's passkey provider which credentials
// the server still accepts, so deleted passkeys disappear from autofill and account pickers.
// Best effort: absent in most browsers, and a failure never matters to the user.

interface SignalApi {
  signalUnknownCredential?: (options: { rpId: string; credentialId: string }) => Promise<void>;
  signalAllAcceptedCredentials?: (options: { rpId: string; userId: string; allAcceptedCredentialIds: string[] }) => Promise<void>;
  signalCurrentUserDetails?: (options: { rpId: string; userId: string; name: string; displayName: string }) => Promise<void>;
}

function api(): SignalApi {
  return typeof PublicKeyCredential === 'undefined' ? {} : (PublicKeyCredential as unknown as SignalApi);
}

function quietly(call: (() => Promise<void>) | undefined): void {
  call?.().catch(() => undefined);
}

export function signalUnknownCredential(rpId: string, credentialId: string): void {
  const { signalUnknownCredential: signal } = api();
  quietly(signal && (() => signal.call(PublicKeyCredential, { rpId, credentialId })));
}

export function signalAllAcceptedCredentials(rpId: string, userId: string, allAcceptedCredentialIds: string[]): void {
  const { signalAllAcceptedCredentials: signal } = api();
  quietly(signal && (() => signal.call(PublicKeyCredential, { rpId, userId, allAcceptedCredentialIds })));
}

export function signalCurrentUserDetails(rpId: string, userId: string, name: string, displayName: string): void {
  const { signalCurrentUserDetails: signal } = api();
  quietly(signal && (() => signal.call(PublicKeyCredential, { rpId, userId, name, displayName })));
}
