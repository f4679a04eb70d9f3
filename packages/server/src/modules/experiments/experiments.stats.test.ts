import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { analyse, differenceInterval, sampleSizePerArm, twoProportionPValue, wilson, zForAlpha } from './experiments.stats.ts';
import { assign, bucketOf, pickVariant } from './experiments.assignment.ts';

const close = (actual: number, expected: number, tolerance = 5e-4) => assert.ok(Math.abs(actual - expected) <= tolerance, `${actual} is not ${expected} ± ${tolerance}`);

describe('experiment statistics (hand-computed and published values)', () => {
  it('Wilson interval: 0/10 is [0, 0.2775], 50/100 is [0.4038, 0.5962]', () => {
    const none = wilson(0, 10);
    close(none.low, 0);
    close(none.high, 0.2775);
    const half = wilson(50, 100);
    close(half.low, 0.4038);
    close(half.high, 0.5962);
    assert.deepEqual(wilson(0, 0), { low: 0, high: 1 });
  });

  it("Newcombe's interval for 56/70 − 48/80 is [0.0524, 0.3339] (Newcombe 1998, method 10)", () => {
    const d = differenceInterval({ successes: 56, trials: 70 }, { successes: 48, trials: 80 });
    close(d.low, 0.0524);
    close(d.high, 0.3339);
  });

  it('pooled z-test: 56/70 vs 48/80 gives p ≈ 0.0080; equal rates give p = 1', () => {
    close(twoProportionPValue({ successes: 56, trials: 70 }, { successes: 48, trials: 80 }), 0.008, 5e-4);
    close(twoProportionPValue({ successes: 10, trials: 100 }, { successes: 10, trials: 100 }), 1, 1e-6);
  });

  it('sample size: 10 % → 15 % at 95 %/80 % needs 686 per arm; z for 2.5 % two-sided is 2.2414', () => {
    assert.equal(sampleSizePerArm(0.1, 0.05), 686);
    close(zForAlpha(0.05), 1.96, 1e-3);
    close(zForAlpha(0.025), 2.2414, 1e-3);
  });

  it('no verdict before every arm has its sample, whatever the early numbers look like', () => {
    const result = analyse(
      [
        { variant: 'control', exposures: 100, conversions: 5 },
        { variant: 'bold', exposures: 100, conversions: 40 },
      ],
      { control: 'control', baselineRate: 0.1, minimumDetectableEffect: 0.05 },
    );
    assert.equal(result.requiredPerArm, 686);
    assert.equal(result.enoughData, false);
    assert.equal(result.arms[1]?.verdict, 'not_enough_data');
    assert.equal(result.recommendation, null);
  });

  it('with enough data: a better variant wins, an equal one is no_difference and the control is recommended', () => {
    const plan = { control: 'control', baselineRate: 0.1, minimumDetectableEffect: 0.05 };
    const win = analyse(
      [
        { variant: 'control', exposures: 1000, conversions: 100 },
        { variant: 'bold', exposures: 1000, conversions: 160 },
      ],
      plan,
    );
    assert.equal(win.arms[1]?.verdict, 'better');
    assert.deepEqual(win.recommendation, { variant: 'bold', why: 'better_than_control' });
    const flat = analyse(
      [
        { variant: 'control', exposures: 1000, conversions: 100 },
        { variant: 'bold', exposures: 1000, conversions: 108 },
      ],
      plan,
    );
    assert.equal(flat.arms[1]?.verdict, 'no_difference');
    assert.deepEqual(flat.recommendation, { variant: 'control', why: 'no_variant_better' });
  });

  it('three arms compare at a Bonferroni-corrected level (2.5 % each), which needs a larger sample', () => {
    const two = analyse([{ variant: 'control', exposures: 0, conversions: 0 }, { variant: 'a', exposures: 0, conversions: 0 }], { control: 'control', baselineRate: 0.1, minimumDetectableEffect: 0.05 });
    const three = analyse(
      [{ variant: 'control', exposures: 0, conversions: 0 }, { variant: 'a', exposures: 0, conversions: 0 }, { variant: 'b', exposures: 0, conversions: 0 }],
      { control: 'control', baselineRate: 0.1, minimumDetectableEffect: 0.05 },
    );
    assert.ok(three.requiredPerArm > two.requiredPerArm, `${three.requiredPerArm} > ${two.requiredPerArm}`);
  });
});

describe('experiment assignment', () => {
  const key = new Uint8Array(32).fill(7);
  const experiment = { id: 'exp-1', trafficPercent: 100, variants: [{ key: 'control', weight: 1 }, { key: 'bold', weight: 1 }] };

  it('is sticky: the same subject gets the same arm every time, another experiment reshuffles', () => {
    for (let i = 0; i < 50; i++) assert.equal(assign(key, experiment, `user-${i}`), assign(key, experiment, `user-${i}`));
    const moved = Array.from({ length: 200 }, (_, i) => assign(key, experiment, `u${i}`) !== assign(key, { ...experiment, id: 'exp-2' }, `u${i}`)).filter(Boolean).length;
    assert.ok(moved > 60 && moved < 140, `${moved} of 200 changed arm between experiments`);
  });

  it('splits by weight: 1:1 over 10,000 subjects is 50 % ± 2 %, 1:3 is 25 % ± 2 %', () => {
    const count = (variants: typeof experiment.variants) => Array.from({ length: 10_000 }, (_, i) => assign(key, { ...experiment, variants }, `s${i}`)).filter((v) => v === 'control').length;
    const even = count(experiment.variants);
    assert.ok(Math.abs(even - 5000) < 200, `${even}`);
    const quarter = count([{ key: 'control', weight: 1 }, { key: 'bold', weight: 3 }]);
    assert.ok(Math.abs(quarter - 2500) < 200, `${quarter}`);
  });

  it('a 20 % traffic share enrols about 2,000 of 10,000 subjects, the same ones every time', () => {
    const enrolled = () => Array.from({ length: 10_000 }, (_, i) => assign(key, { ...experiment, trafficPercent: 20 }, `s${i}`)).map((v) => (v === undefined ? 0 : 1)).join('');
    const first = enrolled();
    assert.equal(first, enrolled());
    const n = [...first].filter((c) => c === '1').length;
    assert.ok(Math.abs(n - 2000) < 150, `${n}`);
  });

  it('buckets are in [0, 1) and the last variant catches the top edge', () => {
    const b = bucketOf(key, 'e', 'variant', 's');
    assert.ok(b >= 0 && b < 1);
    assert.equal(pickVariant(0.999999999, [{ key: 'a', weight: 1 }, { key: 'b', weight: 2 }]), 'b');
    assert.equal(pickVariant(0, [{ key: 'a', weight: 1 }, { key: 'b', weight: 2 }]), 'a');
  });
});
