/**
 * Usernames after PRECIS UsernameCasePreserved (RFC 8265 §3.4): width-mapped, NFC, no spaces,
 * controls or bidi overrides. Uniqueness uses a case-folded NFKC key, so `Alice`, `alice` and
 * `Ａlice` are one account (SEC-19). Display names follow the Nickname profile (RFC 8266).
 */
import { skeleton } from './confusables.ts';

export const USERNAME_MAX = 64;
export const DISPLAY_NAME_MAX = 64;

export type NormalizeResult = { ok: true; username: string; key: string } | { ok: false; problem: string };

const FULLWIDTH = /[\uFF01-\uFF5E]/g;
const FORBIDDEN = /[\p{Cc}\p{Cf}\p{Co}\p{Cs}\p{Zl}\p{Zp}\u2028\u2029]/u;
const SPACE = /\p{Zs}|\s/u;

function widthMap(text: string): string {
  return text.replace(FULLWIDTH, (c) => String.fromCharCode(c.charCodeAt(0) - 0xfee0)).replace(/\u3000/g, ' ');
}

/** Case folding close to Unicode full folding: ß and ẞ fold to "ss", final sigma to sigma. */
export function caseFold(text: string): string {
  return text.toUpperCase().toLowerCase().replace(/ß/g, 'ss');
}

export function normalizeUsername(input: string): NormalizeResult {
  const username = widthMap(input.trim()).normalize('NFC');
  const length = [...username].length;
  if (length === 0) return { ok: false, problem: 'must not be empty' };
  if (length > USERNAME_MAX) return { ok: false, problem: `must be at most ${USERNAME_MAX} characters` };
  if (FORBIDDEN.test(username)) return { ok: false, problem: 'must not contain control, format or bidirectional characters' };
  if (SPACE.test(username)) return { ok: false, problem: 'must not contain spaces' };
  return { ok: true, username, key: caseFold(username.normalize('NFKC')).normalize('NFC') };
}

/**
 * The look-alike key of a username (UTS #39 skeleton, case-insensitive like the account key):
 * skeleton, case-fold, skeleton again, so "КОРА" (Cyrillic) matches "kopa", "user1" matches
 * "userl" and "paypa1" matches "PayPal". Sign-up refuses a name whose key another account has.
 * Computed from the name as typed (its case decides which letters it can imitate).
 */
export function usernameSkeleton(username: string): string {
  return skeleton(caseFold(skeleton(username)));
}

export function normalizeDisplayName(input: string): { ok: true; displayName: string } | { ok: false; problem: string } {
  const displayName = input.replace(/\s+/gu, ' ').trim().normalize('NFKC');
  const length = [...displayName].length;
  if (length === 0) return { ok: false, problem: 'must not be empty' };
  if (length > DISPLAY_NAME_MAX) return { ok: false, problem: `must be at most ${DISPLAY_NAME_MAX} characters` };
  if (FORBIDDEN.test(displayName)) return { ok: false, problem: 'must not contain control, format or bidirectional characters' };
  return { ok: true, displayName };
}

const EMAIL_SHAPED = /^[^@\s]+@[^@\s]+\.[^@\s]+$/;
export function isEmailShaped(username: string): boolean {
  return EMAIL_SHAPED.test(username);
}

export const EMAIL_MAX = 254;

/**
 * E-mail addresses: trimmed and NFC for display; the uniqueness and lookup key is lower-cased
 * (providers treat local parts case-insensitively in practice). Shape only, no DNS.
 */
export function normalizeEmail(input: string): { ok: true; address: string; key: string } | { ok: false; problem: string } {
  const address = input.trim().normalize('NFC');
  if (address.length === 0 || address.length > EMAIL_MAX) return { ok: false, problem: `must be 1 to ${EMAIL_MAX} characters` };
  if (FORBIDDEN.test(address) || !EMAIL_SHAPED.test(address)) return { ok: false, problem: 'must be an address like name@example.com' };
  return { ok: true, address, key: address.toLowerCase() };
}
