import assert from 'node:assert/strict';
import { test } from 'node:test';
import { serialPasses } from './passes.ts';

/** A pass that reads `source.committed` when it starts and waits for `open()` before it ends. */
function gatedPass() {
  const source = { committed: 0 };
  const seen: number[] = [];
  let release: (() => void) | undefined;
  const pass = async () => {
    const read = source.committed;
    seen.push(read);
    await new Promise<void>((resolve) => (release = resolve));
    return read;
  };
  /** Lets the pass under way end (after the ones queued behind it have had a chance to start). */
  const open = async () => {
    while (!release) await new Promise((r) => setImmediate(r));
    const r = release;
    release = undefined;
    r();
  };
  return { source, seen, pass, open };
}

test('a call during a pass gets a pass that starts after it, so it sees what was written meanwhile', async () => {
  const { source, seen, pass, open } = gatedPass();
  const passes = serialPasses(pass);
  const timer = passes.run();
  source.committed = 5; // written after the running pass read, before the caller asks
  const caller = passes.run();
  await open();
  assert.equal(await timer, 0, 'the running pass read before the write');
  await open();
  assert.equal(await caller, 5, 'the caller waited for a pass that saw its write');
  assert.deepEqual(seen, [0, 5], 'passes never overlapped');
});

test('every call during one pass shares the next pass: calls do not pile up', async () => {
  const { seen, pass, open } = gatedPass();
  const passes = serialPasses(pass);
  const first = passes.run();
  const during = [passes.run(), passes.run(), passes.run()];
  assert.equal(during[0], during[2], 'one promise for all of them');
  await open();
  await first;
  await open();
  await Promise.all(during);
  assert.equal(seen.length, 2);
  await passes.idle();
});

test("a failed pass fails its callers only; those waiting for the next still get it, and idle() waits for both", async () => {
  let calls = 0;
  let fail: ((e: Error) => void) | undefined;
  const passes = serialPasses(
    () =>
      new Promise<number>((resolve, reject) => {
        calls += 1;
        if (calls === 1) fail = reject;
        else resolve(calls);
      }),
  );
  const first = passes.run();
  const next = passes.run();
  let idle = false;
  const waiting = passes.idle().then(() => (idle = true));
  fail?.(new Error('database gone'));
  await assert.rejects(first, /database gone/);
  assert.equal(await next, 2);
  await waiting;
  assert.equal(idle, true);
  assert.equal(await passes.run(), 3, 'a later call starts a pass of its own at once');
});
