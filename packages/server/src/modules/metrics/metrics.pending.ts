import type { Counter, Histogram } from 'prom-client';

/**
 * Series moved on the hot path (every SQL statement, every request), kept as plain numbers and
 * added to their prom-client metric when it is collected, i.e. at each scrape. prom-client's own
 * `observe`/`inc` build a labels object, check the labels and hash them into a string on every
 * call (~1-2 µs; ~16 calls per login); these cost a loop over the buckets and a few additions. A
 * scrape shows exactly what it showed when every call went to prom-client
 * (metrics.pending.test.ts compares both, line by line).
 */

type Labels = Record<string, string>;

/** One histogram series: observations per bucket since the last scrape. */
export interface PendingHistogram {
  readonly labels: Labels;
  readonly bounds: readonly number[];
  observe(seconds: number): void;
  /** What was observed since the last call, and starts again from nothing. */
  take(): { counts: Float64Array; sum: number; count: number } | undefined;
}

/** One counter series: increments since the last scrape. */
export interface PendingCounter {
  readonly labels: Labels;
  inc(): void;
  /** The increments since the last call (0: none), and starts again from 0. */
  take(): number;
}

export function pendingHistogram(bounds: readonly number[], labels: Labels): PendingHistogram {
  // Per bucket, not cumulative; the last slot is above the largest bound (counted in +Inf only).
  let counts = new Float64Array(bounds.length + 1);
  let sum = 0;
  let count = 0;
  return {
    labels,
    bounds,
    observe(seconds) {
      // prom-client refuses a non-finite value (it threw); a duration never is one.
      if (!Number.isFinite(seconds)) return;
      let i = 0;
      while (i < bounds.length && seconds > (bounds[i] as number)) i++;
      counts[i] = (counts[i] as number) + 1;
      sum += seconds;
      count += 1;
    },
    take() {
      if (count === 0) return undefined;
      const taken = { counts, sum, count };
      counts = new Float64Array(bounds.length + 1);
      sum = 0;
      count = 0;
      return taken;
    },
  };
}

export function pendingCounter(labels: Labels): PendingCounter {
  let value = 0;
  return {
    labels,
    inc() {
      value += 1;
    },
    take() {
      const taken = value;
      value = 0;
      return taken;
    },
  };
}

/** A labelled series as prom-client 15 keeps it in a Histogram (lib/histogram.js, the values of `hashMap`). */
interface PromHistogramSeries {
  labels: Labels;
  bucketValues: Record<number, number>;
  sum: number;
  count: number;
}

const sameLabels = (a: Labels, b: Labels) => Object.keys(a).length === Object.keys(b).length && Object.keys(b).every((k) => a[k] === b[k]);

/**
 * Adds what `series` observed since the last scrape to `histogram` (call it from the histogram's
 * `collect`). prom-client has no public way to add many observations at once, so this adds to the
 * series it keeps (made by the public `zero` when missing); a prom-client that keeps them otherwise
 * makes this throw (the scrape fails) rather than report wrong numbers, and fails metrics.pending.test.ts.
 */
export function foldHistogram(histogram: Histogram, series: readonly PendingHistogram[]): void {
  const kept = () => Object.values((histogram as unknown as { hashMap?: Record<string, PromHistogramSeries> }).hashMap ?? {});
  for (const pending of series) {
    const taken = pending.take();
    if (!taken) continue;
    let target = kept().find((s) => sameLabels(s.labels, pending.labels));
    if (!target) {
      histogram.zero(pending.labels);
      target = kept().find((s) => sameLabels(s.labels, pending.labels));
    }
    if (!target || typeof target.bucketValues !== 'object' || typeof target.sum !== 'number' || typeof target.count !== 'number') {
      throw new Error('metrics: prom-client keeps histogram series in a way this Latchkey does not know (see metrics.pending.ts)');
    }
    const buckets = target.bucketValues;
    pending.bounds.forEach((bound, i) => {
      if (typeof buckets[bound] !== 'number') throw new Error(`metrics: prom-client histogram has no bucket ${bound}`);
      buckets[bound] += taken.counts[i] as number;
    });
    target.sum += taken.sum;
    target.count += taken.count;
  }
}

/** Adds what `series` counted since the last scrape to `counter` (public `inc`; a series that never moved stays absent, as before). */
export function foldCounter(counter: Counter, series: readonly PendingCounter[]): void {
  for (const pending of series) {
    const taken = pending.take();
    if (taken > 0) counter.inc(pending.labels, taken);
  }
}
