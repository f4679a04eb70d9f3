import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { siemMappingTable } from './siem.docs.ts';

test('the README OCSF mapping table is the one generated from the mapping', () => {
  const readme = readFileSync(new URL('../../../../../README.md', import.meta.url), 'utf8');
  assert.ok(
    readme.includes(siemMappingTable()),
    'README.md is out of date: paste the output of `node packages/server/src/modules/siem/siem.docs.ts` into its "Sending events to a SIEM" section',
  );
});
