import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { FUZZY_MAX_LENGTH, editVariants, minimalPrefixes } from './fuzzy.ts';

describe('editVariants', () => {
  test('one swap, substitution, insertion or deletion of the typed prefix', () => {
    const v = new Set(editVariants('jhon'));
    assert.ok(v.has('john'), 'swap');
    assert.ok(v.has('jhn'), 'deletion');
    assert.ok(v.has('jhan'), 'substitution');
    assert.ok(v.has('jhoon'), 'insertion');
    assert.ok(!v.has('jhon'), 'not the query itself');
    assert.ok(!v.has('hjno'), 'two edits are not one');
  });
  test('"jonh", "jon" and "joohn" all reach "john"', () => {
    for (const typo of ['jonh', 'jon', 'joohn', 'jahn']) assert.ok(editVariants(typo).some((p) => 'john.smith'.startsWith(p)), typo);
  });
  test('bounded: nothing for very short or long queries, a few hundred at most otherwise', () => {
    assert.deepEqual(editVariants('jo'), []);
    assert.deepEqual(editVariants('x'.repeat(FUZZY_MAX_LENGTH + 1)), []);
    assert.ok(editVariants('abcdefghijklmnop').length < 1500);
  });
  test('minimalPrefixes drops what a shorter prefix or the query already covers', () => {
    assert.deepEqual(minimalPrefixes(['jhn', 'jhna', 'jhon', 'jhonx', 'john'], 'jhon'), ['jhn', 'john']);
  });
});
