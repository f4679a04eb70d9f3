import { readFileSync } from 'node:fs';

export interface Provider {
  name: string;
  iconLight: string | null;
  iconDark: string | null;
}

export const GENERIC_PROVIDER: Provider = { name: 'Passkey', iconLight: null, iconDark: null };
const BUNDLED = new URL('../../../data/passkey-provider-aaguids.json', import.meta.url);

/**
 * Names a passkey's provider from its AAGUID, for display only (never a security decision).
 * The list is read once at start; a missing, unreadable or emptied list gives the generic name.
 */
export function loadProviderNames(file?: string, onProblem?: (message: string) => void): (aaguid: string) => Provider {
  const providers = new Map<string, Provider>();
  try {
    const parsed = JSON.parse(readFileSync(file ?? BUNDLED, 'utf8')) as Record<string, { name?: unknown; icon_light?: unknown; icon_dark?: unknown }>;
    for (const [aaguid, entry] of Object.entries(parsed)) {
      if (typeof entry?.name !== 'string' || entry.name.length === 0) continue;
      providers.set(aaguid.toLowerCase(), {
        name: entry.name,
        iconLight: typeof entry.icon_light === 'string' ? entry.icon_light : null,
        iconDark: typeof entry.icon_dark === 'string' ? entry.icon_dark : null,
      });
    }
  } catch (err) {
    onProblem?.(`passkey provider list ${file ?? 'bundled'} could not be read (${(err as Error).message}); passkeys get generic names`);
  }
  return (aaguid) => providers.get(aaguid.toLowerCase()) ?? GENERIC_PROVIDER;
}
