import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { configurationTable } from './docs.ts';

test('the README configuration table is the one generated from the schema', () => {
  const readme = readFileSync(new URL('../../../../README.md', import.meta.url), 'utf8');
  assert.ok(
    readme.includes(configurationTable()),
    'README.md is out of date: paste the output of `node packages/server/src/config/docs.ts` into its Configuration section',
  );
});
