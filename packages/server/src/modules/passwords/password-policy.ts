import { readFileSync } from 'node:fs';

/** SEC-43: longer inputs are refused before any hashing. */
export const PASSWORD_MAX_BYTES = 1024;
/** NIST SP 800-63B-4 §3.1.1.2: verifiers accept at least 64 characters. */
export const PASSWORD_MAX_CODE_POINTS = 256;

let blocklist: ReadonlySet<string> | undefined;

/** The bundled list of common passwords (data/common-passwords.txt; see data/README.md for how it was made). */
export function commonPasswords(): ReadonlySet<string> {
  blocklist ??= new Set(
    readFileSync(new URL('../../../data/common-passwords.txt', import.meta.url), 'utf8')
      .split('\n')
      .map((l) => l.trim())
      .filter(Boolean),
  );
  return blocklist;
}

/** NFKC, as NIST asks, so the same password typed on two keyboards is one password. */
export function normalizePassword(password: string): string {
  return password.normalize('NFKC');
}

/**
 * NIST SP 800-63B-4 §3.1.1.2 (SEC-41): a length floor counted in code points, a generous ceiling,
 * a blocklist of common passwords and of context words (the username, the service name), and no
 * composition rules, hints or forced rotation. Returns why a password is refused, or undefined.
 */
export function passwordProblem(password: string, input: { minLength: number; contextWords: string[] }): string | undefined {
  const normalized = normalizePassword(password);
  const length = [...normalized].length;
  if (length < input.minLength) return `must be at least ${input.minLength} characters`;
  if (length > PASSWORD_MAX_CODE_POINTS) return `must be at most ${PASSWORD_MAX_CODE_POINTS} characters`;
  const folded = normalized.toLowerCase();
  if (commonPasswords().has(folded)) return 'is one of the most common passwords';
  if (new Set(folded).size <= 2) return 'repeats one or two characters';
  for (const word of input.contextWords) {
    const w = word.normalize('NFKC').toLowerCase();
    // The part that is not the username must itself be long enough to count as a password.
    if (w.length >= 3 && folded.includes(w) && [...folded].length - [...w].length < input.minLength) return 'is too close to your username or this service\'s name';
  }
  return undefined;
}
