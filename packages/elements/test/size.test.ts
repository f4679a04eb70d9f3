// The size budget of the elements (issue 3: <latchkey-auth> under 25 KB gzipped). `npm run size` prints them all.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BUDGET_BYTES, measure } from '../../../scripts/size.ts';

test('every element bundle with a budget stays under it (gzipped)', async () => {
  const measured = await measure();
  for (const [name, budget] of Object.entries(BUDGET_BYTES)) {
    const entry = measured.find((m) => m.name === name);
    assert.ok(entry, `${name} was measured`);
    assert.ok(entry.gzipped < budget, `${name}: ${entry.gzipped} bytes gzipped, budget ${budget}`);
  }
});
