import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cryptoRandom, uuidV7 } from './random.ts';

const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

test('time-ordered UUIDs are RFC 9562 version 7 and sort by creation time', async () => {
  const first = cryptoRandom.timeOrderedUuid();
  await new Promise((resolve) => setTimeout(resolve, 2));
  const second = cryptoRandom.timeOrderedUuid();
  assert.match(first, UUID_V7);
  assert.match(second, UUID_V7);
  assert.ok(first < second, `${first} < ${second}`);
  const millis = Number.parseInt(second.replaceAll('-', '').slice(0, 12), 16);
  assert.ok(Math.abs(Date.now() - millis) < 1000, 'the first 48 bits are the current Unix time in ms');
});

test('the layout of a version 7 UUID: 48 bits of milliseconds, version, variant, random bits', () => {
  const id = uuidV7(0x0123_4567_89ab, new Uint8Array([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]));
  assert.equal(id, '01234567-89ab-7fff-bfff-ffffffffffff');
  const zeros = uuidV7(1, new Uint8Array(10));
  assert.equal(zeros, '00000000-0001-7000-8000-000000000000');
  const ids = new Set(Array.from({ length: 1000 }, () => cryptoRandom.timeOrderedUuid()));
  assert.equal(ids.size, 1000);
});
