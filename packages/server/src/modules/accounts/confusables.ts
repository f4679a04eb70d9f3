import { readFileSync } from 'node:fs';

/**
 * UTS #39 §4 confusable detection: skeleton(X) = NFD(map every character of NFD(X) to its
 * prototype) ... NFD. Two strings that look alike have the same skeleton ("раураl" with Cyrillic
 * р, а, у and "paypal"). The prototypes are data/confusables.txt, generated from ICU's copy of
 * Unicode's confusables.txt by scripts/make-confusables.py (data/README.md says which version).
 * A skeleton is only ever compared, never shown: "m" becomes "rn".
 */
const DATA = new URL('../../../data/confusables.txt', import.meta.url);

let prototypes: Map<number, string> | undefined;

/** Code point -> NFD of its prototype; parsed on first use (about 5,000 lines, ~2 ms). */
function table(): Map<number, string> {
  if (prototypes) return prototypes;
  const map = new Map<number, string>();
  for (const line of readFileSync(DATA, 'utf8').split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const [from, to] = line.split(' ; ');
    if (from === undefined || to === undefined) throw new Error(`data/confusables.txt: bad line ${JSON.stringify(line)}`);
    map.set(Number.parseInt(from, 16), String.fromCodePoint(...to.split(' ').map((hex) => Number.parseInt(hex, 16))));
  }
  prototypes = map;
  return map;
}

/** The UTS #39 skeleton of `text` (case-sensitive, as the standard defines it). */
export function skeleton(text: string): string {
  const map = table();
  let out = '';
  for (const char of text.normalize('NFD')) out += map.get(char.codePointAt(0) as number) ?? char;
  return out.normalize('NFD');
}
