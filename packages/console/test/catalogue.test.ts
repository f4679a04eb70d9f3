// The console's routes and string catalogues (no browser needed; e2e/console.test.ts drives the UI).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { de } from '../src/i18n/de.ts';
import { en } from '../src/i18n/en.ts';
import { format, initialLang, translator } from '../src/i18n/index.ts';
import { parseRoute, userPath } from '../src/router.ts';

const placeholders = (text: string) => [...text.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();

test('English and German have the same keys, no empty string, and the same placeholders in each', () => {
  assert.deepEqual(Object.keys(de).sort(), Object.keys(en).sort());
  for (const [key, text] of Object.entries(en)) {
    const german = de[key as keyof typeof de];
    assert.ok(text.trim() && german.trim(), key);
    assert.deepEqual(placeholders(german), placeholders(text), `${key}: ${text} / ${german}`);
  }
});

test('the German catalogue is translated, not copied (names and codes excepted)', () => {
  const same = Object.keys(en).filter((key) => en[key as keyof typeof en] === de[key as keyof typeof de]);
  const allowed = ['signedInAs', 'role_admin', 'role_support', 'passkeys', 'aaguid', 'backupFlags', 'browser', 'code', 'outcome_info', 'status', 'keyName', 'detail', 'email', 'navWebhooks', 'millis'];
  assert.deepEqual(same.filter((key) => !allowed.includes(key)), []);
});

test('placeholders are filled; the language is the remembered one, else German browsers get German', () => {
  assert.equal(format('{n} users found', { n: 3 }), '3 users found');
  assert.equal(format('{missing} stays', {}), '{missing} stays');
  assert.equal(initialLang('de', 'en-US'), 'de');
  assert.equal(initialLang(null, 'de-AT'), 'de');
  assert.equal(initialLang('fr', 'fr-FR'), 'en');
  assert.equal(translator('de').f('resultCount', { n: 2 }), '2 Nutzer gefunden');
  assert.equal(translator('en').dateTime(null), 'never');
});

test('client-side routes under /admin', () => {
  assert.deepEqual(parseRoute('/admin'), { name: 'find' });
  assert.deepEqual(parseRoute('/admin/'), { name: 'find' });
  assert.deepEqual(parseRoute(userPath('a/b c')), { name: 'user', id: 'a/b c' });
  assert.deepEqual(parseRoute('/admin/users/%E0%A4%A'), { name: 'not-found' });
  for (const name of ['audit', 'staff', 'api-keys', 'webhooks', 'settings', 'enroll', 'adoption', 'rollout', 'experiments'] as const) assert.deepEqual(parseRoute(`/admin/${name}`), { name });
  assert.deepEqual(parseRoute('/admin/users'), { name: 'not-found' });
  assert.deepEqual(parseRoute('/administrator'), { name: 'not-found' });
});
