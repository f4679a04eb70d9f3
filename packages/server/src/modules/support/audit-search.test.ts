import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { csvCell } from './audit-search.service.ts';

describe('csvCell', () => {
  test('cells a spreadsheet would run as a formula get a leading apostrophe', () => {
    for (const evil of ['=1+1', '+1', '-2+3', '@SUM(A1)', '\t=1', '\r=1']) assert.equal(csvCell(evil).replace(/^"|"$/g, '').startsWith("'"), true, JSON.stringify(evil));
    assert.equal(csvCell('=HYPERLINK("http://x")'), `"'=HYPERLINK(""http://x"")"`);
  });
  test('quotes only where RFC 4180 needs them; null is empty', () => {
    assert.equal(csvCell('plain'), 'plain');
    assert.equal(csvCell('a,b'), '"a,b"');
    assert.equal(csvCell('line\nbreak'), '"line\nbreak"');
    assert.equal(csvCell('say "hi"'), '"say ""hi"""');
    assert.equal(csvCell(null), '');
  });
});
