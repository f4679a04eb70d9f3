import { PUBLISH_LEAD_MS } from './key-schedule.ts';
import type { SigningKeys, SigningKeyView } from './signing-keys.service.ts';

export const KEYS_USAGE = `  keys list        list the token signing keys (ES256) and their state
  keys rotate      make a new signing key: published in the JWKS now, signing ${PUBLISH_LEAD_MS / 60_000} minutes
                   later; the current one then retires and stays published until its tokens expired`;

const iso = (ms: number | null) => (ms === null ? '-' : new Date(ms).toISOString());

function describe(key: SigningKeyView): string {
  return [
    `${key.kid}  #${key.seq}  (${key.state})`,
    `    created:          ${iso(key.createdAt)}`,
    `    signs from:       ${iso(key.activatedAt)}`,
    `    retired:          ${iso(key.retiredAt)}`,
    `    published until:  ${key.publishedUntil === null ? 'while newest' : iso(key.publishedUntil)}`,
  ].join('\n');
}

/** `latchkey keys …`: the text to print, or undefined for a usage mistake. */
export async function runKeysCommand(args: string[], keys: SigningKeys): Promise<string | undefined> {
  const [sub, ...rest] = args;
  if (rest.length > 0) return undefined;
  if (sub === 'list') {
    const listed = await keys.list();
    return listed.length === 0 ? 'No signing keys yet: the server makes the first one when it starts.' : listed.map(describe).join('\n');
  }
  if (sub === 'rotate') {
    const made = await keys.rotate();
    return [
      `Made signing key ${made.kid}. It is in the JWKS now and signs from ${iso(made.activatedAt)};`,
      'the key signing now retires then and stays in the JWKS until the tokens it signed have expired.',
      '',
      describe(made),
    ].join('\n');
  }
  return undefined;
}
