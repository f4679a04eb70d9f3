/**
 * Typo tolerance for the user search (issue 13): every string one edit away from the typed
 * prefix (a substitution, an insertion, a deletion or a swap of neighbours, Damerau-Levenshtein
 * distance 1), each then looked up as an indexed prefix range. "jhon" → "john" finds
 * "john.smith"; "jonh", "jon", "joohn" and "jahn" find it too. Bounded: letters from a fixed
 * alphabet of what usernames mostly hold plus the query's own characters, and only for queries
 * of MIN to MAX characters, so a keystroke costs at most a few hundred index probes.
 */

export const FUZZY_MIN_LENGTH = 3;
export const FUZZY_MAX_LENGTH = 16;

const ALPHABET = [...'abcdefghijklmnopqrstuvwxyz0123456789._-@'];

/** The distinct one-edit variants of `prefix` (without `prefix` itself), shortest first. */
export function editVariants(prefix: string): string[] {
  const chars = [...prefix];
  const n = chars.length;
  if (n < FUZZY_MIN_LENGTH || n > FUZZY_MAX_LENGTH) return [];
  const alphabet = [...new Set([...ALPHABET, ...chars])];
  const out = new Set<string>();
  const join = (parts: string[]) => parts.join('');
  for (let i = 0; i < n; i++) out.add(join([...chars.slice(0, i), ...chars.slice(i + 1)]));
  for (let i = 0; i + 1 < n; i++) {
    if (chars[i] === chars[i + 1]) continue;
    const swapped = [...chars];
    [swapped[i], swapped[i + 1]] = [chars[i + 1] as string, chars[i] as string];
    out.add(join(swapped));
  }
  for (let i = 0; i < n; i++) {
    for (const c of alphabet) if (c !== chars[i]) out.add(join([...chars.slice(0, i), c, ...chars.slice(i + 1)]));
  }
  // An insertion at the very end only lengthens the prefix: every name it finds the prefix finds.
  for (let i = 0; i < n; i++) for (const c of alphabet) out.add(join([...chars.slice(0, i), c, ...chars.slice(i)]));
  out.delete(prefix);
  return [...out].sort((a, b) => a.length - b.length);
}

/**
 * Prefixes covering the same names with fewer probes: a variant that starts with another
 * variant (or with the query) finds nothing new, so it is dropped.
 */
export function minimalPrefixes(prefixes: readonly string[], query: string): string[] {
  const sorted = [...new Set(prefixes)].sort();
  const kept: string[] = [];
  for (const p of sorted) {
    const last = kept.at(-1);
    if (p.startsWith(query)) continue;
    if (last !== undefined && p.startsWith(last)) continue;
    kept.push(p);
  }
  return kept;
}
