import assert from 'node:assert/strict';
import type { TestResponse } from './test-client.ts';

/** A small deterministic PRNG (mulberry32), so a failing fuzz case can be replayed. */
export function prng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    int: (n: number) => Math.floor(next() * n),
    pick: <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)] as T,
  };
}
export type Rng = ReturnType<typeof prng>;

/** JSON values that break naive parsers and validators: wrong types, edge numbers, odd strings. */
export const WEIRD_VALUES: unknown[] = [
  null, true, false, 0, -1, 1.5, 2 ** 53, -(2 ** 63), '', ' ', 'A', '=', '====', '%00', '\u0000', '\uFEFF', '\uD800',
  'x'.repeat(5000), [], [null], {}, { a: 1 }, 'public-key', 'webauthn.get', 'webauthn.create', 'AAAA', '__proto__',
];

/** No stack trace, file path, framework or database error text in an answer. */
export function assertNoLeak(r: TestResponse, where: string): void {
  assert.equal(r.body?.stack, undefined, where);
  assert.doesNotMatch(r.text, /\bat [\w.<>]+ \(|node_modules|\.ts:\d+|\/work\/|FST_[A-Z_]+|SqliteError|SQLITE_|duplicate key value|relation "/, where);
}
