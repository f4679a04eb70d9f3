import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Counter, Histogram, Registry } from 'prom-client';
import { foldCounter, foldHistogram, pendingCounter, pendingHistogram, type PendingCounter, type PendingHistogram } from './metrics.pending.ts';

const BUCKETS = [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1];
/** Below, on and above bounds, above the largest, zero. */
const VALUES = [0, 0.00004, 0.00005, 0.00006, 0.0003, 0.001, 0.0011, 0.02, 0.25, 0.9999, 1, 1.5, 42];

function assertSameExposition(actual: string, expected: string, message: string): void {
  const lines = (text: string) => text.split('\n').sort();
  const [a, e] = [lines(actual), lines(expected)];
  assert.equal(a.length, e.length, message);
  a.forEach((line, i) => {
    const other = e[i] as string;
    if (line === other) return;
    const [name, value] = [line.slice(0, line.lastIndexOf(' ')), Number(line.slice(line.lastIndexOf(' ') + 1))];
    assert.ok(name.includes('_sum{') && name === other.slice(0, other.lastIndexOf(' ')), `${message}: ${line} ≠ ${other}`);
    const want = Number(other.slice(other.lastIndexOf(' ') + 1));
    assert.ok(Math.abs(value - want) <= 1e-9 * Math.abs(want), `${message}: ${line} ≠ ${other}`);
  });
}

/** The same metrics twice: fed through prom-client's own calls, and through the pending series. */
function pair() {
  const direct = new Registry();
  const viaPending = new Registry();
  const histograms: PendingHistogram[] = [];
  const counters: PendingCounter[] = [];
  const make = (registry: Registry, fold: boolean) => ({
    histogram: new Histogram({
      name: 'x_duration_seconds',
      help: 'h',
      labelNames: ['route', 'method'],
      buckets: BUCKETS,
      registers: [registry],
      ...(fold ? { collect: function (this: Histogram) { foldHistogram(this, histograms); } } : {}),
    }),
    counter: new Counter({
      name: 'x_total',
      help: 'c',
      labelNames: ['route', 'outcome'],
      registers: [registry],
      ...(fold ? { collect: function (this: Counter) { foldCounter(this, counters); } } : {}),
    }),
  });
  return { direct: make(direct, false), pending: make(viaPending, true), directRegistry: direct, pendingRegistry: viaPending, histograms, counters };
}

test('a scrape of pending series folded into prom-client reads exactly as if every observation had gone to prom-client, scrape after scrape', async () => {
  const p = pair();
  const a = pendingHistogram(BUCKETS, { route: '/a', method: 'POST' });
  const b = pendingHistogram(BUCKETS, { route: '/b', method: 'GET' });
  const ok = pendingCounter({ route: '/a', outcome: 'success' });
  const never = pendingCounter({ route: '/never', outcome: 'success' });
  p.histograms.push(a, b);
  p.counters.push(ok, never);
  const directA = p.direct.histogram.labels({ route: '/a', method: 'POST' });
  const directB = p.direct.histogram.labels({ route: '/b', method: 'GET' });

  // Nothing observed yet: no series at all (as prom-client, which makes a series on its first use).
  assert.equal(await p.pendingRegistry.metrics(), await p.directRegistry.metrics());
  for (let round = 0; round < 3; round++) {
    for (const v of VALUES) {
      a.observe(v * (round + 1));
      directA.observe(v * (round + 1));
    }
    if (round !== 1) {
      b.observe(0.003);
      directB.observe(0.003);
    }
    for (let i = 0; i <= round; i++) {
      ok.inc();
      p.direct.counter.inc({ route: '/a', outcome: 'success' });
    }
    // A series prom-client moves directly, beside the folded ones (a failure with its code).
    p.pending.counter.inc({ route: '/a', outcome: 'failure' });
    p.direct.counter.inc({ route: '/a', outcome: 'failure' });
    const expected = await p.directRegistry.metrics();
    const actual = await p.pendingRegistry.metrics();
    // Series may come in another order (a folded one is made at the scrape); the lines are the same,
    // but for the last digits of a sum (added per scrape, not one by one).
    assertSameExposition(actual, expected, `round ${round}`);
    assert.match(actual, /x_duration_seconds_bucket\{le="\+Inf",route="\/a",method="POST"\} \d+/);
    assert.ok(!actual.includes('/never'), 'a series that never moved is not shown');
  }
});

test('a non-finite duration is not counted (prom-client refused it)', async () => {
  const p = pair();
  const a = pendingHistogram(BUCKETS, { route: '/a', method: 'POST' });
  p.histograms.push(a);
  a.observe(Number.NaN);
  a.observe(Number.POSITIVE_INFINITY);
  a.observe(0.002);
  p.direct.histogram.observe({ route: '/a', method: 'POST' }, 0.002);
  assertSameExposition(await p.pendingRegistry.metrics(), await p.directRegistry.metrics(), 'NaN');
});
