import type { Provider } from '../passkey-names/passkey-names.ts';
import type { CredentialSummary } from './webauthn.repository.ts';

/** The public Passkey shape of the v1 contract (plus the provider's icons for passkey lists). */
export interface PasskeyView {
  id: string;
  name: string;
  aaguid: string;
  provider: string;
  providerIcon: { light: string | null; dark: string | null };
  deviceType: 'singleDevice' | 'multiDevice';
  backedUp: boolean;
  transports: string[];
  createdAt: string;
  lastUsedAt: string | null;
}

export function toPasskeyView(row: CredentialSummary, providerOf: (aaguid: string) => Provider): PasskeyView {
  const provider = providerOf(row.aaguid);
  return {
    id: row.id,
    name: row.name,
    aaguid: row.aaguid,
    provider: provider.name,
    providerIcon: { light: provider.iconLight, dark: provider.iconDark },
    deviceType: row.device_type,
    backedUp: row.backed_up === 1,
    transports: JSON.parse(row.transports) as string[],
    createdAt: new Date(row.created_at).toISOString(),
    lastUsedAt: row.last_used_at === null ? null : new Date(row.last_used_at).toISOString(),
  };
}
