/**
 * UTS #39 §5 mixed-script detection, at the "Highly Restrictive" level (§5.2): a username is
 * either single-script (its resolved script set, §5.1, is not empty), or every character belongs
 * to one of Latin + Han + Hiragana + Katakana, Latin + Han + Bopomofo, or Latin + Han + Hangul.
 * So "山田たろう" (Han + Hiragana = Japanese), "Tokyo東京とうきょうトウキョウ", "Lin林ㄌㄧㄣ" and
 * "Kim김金" pass, while "кnown" (Cyrillic к among Latin letters) and "pаypal" (Cyrillic а) do not.
 *
 * Characters are classified by Script_Extensions (the regex `\p{scx=…}` of the running Node);
 * Common and Inherited characters (digits, `.`, `_`, `-`, combining marks) fit any script.
 * Not implemented from §5.2: the Identifier Profile (which characters may appear at all) beyond
 * refusing unassigned code points; usernames.ts has its own character rules.
 */

/** ISO 15924 codes of Unicode's scripts (PropertyValueAliases.txt, Unicode 16), less Common, Inherited and Unknown. */
const SCRIPT_CODES = `Adlm Aghb Ahom Arab Armi Armn Avst Bali Bamu Bass Batk Beng Bhks Bopo Brah Brai Bugi Buhd Cakm
Cans Cari Cham Cher Chrs Copt Cpmn Cprt Cyrl Deva Diak Dogr Dsrt Dupl Egyp Elba Elym Ethi Gara Geor Glag Gong Gonm Goth
Gran Grek Gujr Gukh Guru Hang Hani Hano Hatr Hebr Hira Hluw Hmng Hmnp Hung Ital Java Kali Kana Kawi Khar Khmr Khoj
Kits Knda Krai Kthi Lana Laoo Latn Lepc Limb Lina Linb Lisu Lyci Lydi Mahj Maka Mand Mani Marc Medf Mend Merc Mero
Mlym Modi Mong Mroo Mtei Mult Mymr Nagm Nand Narb Nbat Newa Nkoo Nshu Ogam Olck Onao Orkh Orya Osge Osma Ougr Palm
Pauc Perm Phag Phli Phlp Phnx Plrd Prti Rjng Rohg Runr Samr Sarb Saur Sgnw Shaw Shrd Sidd Sind Sinh Sogd Sogo Sora
Soyo Sund Sunu Sylo Syrc Tagb Takr Tale Talu Taml Tang Tavt Telu Tfng Tglg Thaa Thai Tibt Tirh Tnsa Todr Toto Tutg
Ugar Vaii Vith Wara Wcho Xpeo Xsux Yezi Yiii Zanb`.split(/\s+/);

/** Only the scripts this Node's regex engine knows (newer codes are skipped on an older ICU). */
const SCRIPTS: { code: string; pattern: RegExp }[] = SCRIPT_CODES.flatMap((code) => {
  try {
    return [{ code, pattern: new RegExp(`^\\p{scx=${code}}$`, 'u') }];
  } catch {
    return [];
  }
});

const ANY_SCRIPT = /^[\p{scx=Zyyy}\p{scx=Zinh}]$/u;
const UNASSIGNED = /\p{Cn}/u;
const ASCII = /^[\x20-\x7e]*$/;

/** The "highly restrictive" script combinations besides a single script (UTS #39 §5.2). */
const COMBINATIONS: ReadonlySet<string>[] = [new Set(['Latn', 'Hani', 'Hira', 'Kana']), new Set(['Latn', 'Hani', 'Bopo']), new Set(['Latn', 'Hani', 'Hang'])];

/** Script_Extensions of one character, or undefined for Common/Inherited (they fit any script). */
function scriptsOf(char: string): string[] | undefined {
  if (ANY_SCRIPT.test(char)) return undefined;
  return SCRIPTS.filter((s) => s.pattern.test(char)).map((s) => s.code);
}

/** §5.1 augmentation: Han with Hiragana/Katakana is Japanese, with Bopomofo Hanb, with Hangul Korean. */
function augment(scripts: string[]): Set<string> {
  const set = new Set(scripts);
  if (set.has('Hani') || set.has('Hira') || set.has('Kana')) set.add('Jpan');
  if (set.has('Hani') || set.has('Bopo')) set.add('Hanb');
  if (set.has('Hani') || set.has('Hang')) set.add('Kore');
  return set;
}

/**
 * Undefined when `username` is at most "highly restrictive" (UTS #39 §5.2), else a problem
 * naming the scripts it mixes, e.g. "mixes scripts (Cyrl, Latn)".
 */
export function mixedScriptProblem(username: string): string | undefined {
  if (ASCII.test(username)) return undefined;
  if (UNASSIGNED.test(username)) return 'must not contain unassigned characters';
  const perChar: string[][] = [];
  const seen = new Set<string>();
  for (const char of new Set(username)) {
    const scripts = scriptsOf(char);
    if (scripts === undefined) continue;
    perChar.push(scripts);
    for (const s of scripts) seen.add(s);
  }
  // §5.1 resolved script set: the intersection of every character's augmented set.
  let resolved: Set<string> | undefined;
  for (const scripts of perChar) {
    const augmented = augment(scripts);
    resolved = resolved === undefined ? augmented : new Set([...resolved].filter((s) => augmented.has(s)));
    if (resolved.size === 0) break;
  }
  if (resolved === undefined || resolved.size > 0) return undefined;
  // §5.2 Highly Restrictive: covered by one of the combinations (each character has a script in it).
  if (COMBINATIONS.some((allowed) => perChar.every((scripts) => scripts.some((s) => allowed.has(s))))) return undefined;
  return `mixes scripts (${[...seen].sort().join(', ')}) in a way that can imitate another name`;
}
