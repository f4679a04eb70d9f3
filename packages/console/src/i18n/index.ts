import { de } from './de.ts';
import { en, type Strings } from './en.ts';

export type { Strings };
export type Lang = 'en' | 'de';
export type StringKey = keyof Strings;

/** One catalogue per language; everything the console shows comes from these two. */
export const CATALOGUES: Record<Lang, Strings> = { en, de };

/** Where the chosen language is remembered. */
export const LANG_KEY = 'latchkey-console-lang';

/** `{name}` placeholders filled in; unknown ones are left as written. */
export function format(template: string, values: Record<string, string | number> = {}): string {
  return template.replace(/\{(\w+)\}/g, (whole, name: string) => (name in values ? String(values[name]) : whole));
}

/** The remembered language, else the browser's if German, else English. */
export function initialLang(stored: string | null, browser: string): Lang {
  if (stored === 'en' || stored === 'de') return stored;
  return browser.toLowerCase().startsWith('de') ? 'de' : 'en';
}

/** Strings and formatters of one language, handed to every page. */
export interface Translator {
  lang: Lang;
  t: Strings;
  f(key: StringKey, values?: Record<string, string | number>): string;
  dateTime(value: string | number | null | undefined): string;
}

export function translator(lang: Lang): Translator {
  const t = CATALOGUES[lang];
  const dates = new Intl.DateTimeFormat(lang === 'de' ? 'de-DE' : 'en-GB', { dateStyle: 'medium', timeStyle: 'short' });
  return {
    lang,
    t,
    f: (key, values) => format(t[key], values),
    dateTime: (value) => {
      if (value === null || value === undefined || value === '') return t.never;
      const date = new Date(value);
      return Number.isNaN(date.getTime()) ? String(value) : dates.format(date);
    },
  };
}
