/**
 * The statistics of an A/B test of passkey UX, as pure functions: a conversion rate with its
 * Wilson score interval, the difference of a variant against the control with Newcombe's
 * interval (the "hybrid score" method built from the two Wilson intervals), the two-sided
 * p-value of the pooled two-proportion z-test, and the sample size each arm needs before a
 * verdict is given at all. References: Wilson (1927); Newcombe, Statistics in Medicine 17 (1998),
 * method 10; Fleiss, Statistical Methods for Rates and Proportions, §4.
 */

/** Two-sided 95 %: the z of every interval we show. */
export const Z_95 = 1.959963984540054;
/** One-sided 80 % power. */
export const Z_POWER_80 = 0.8416212335729143;

export interface Interval {
  low: number;
  high: number;
}

/** Wilson score interval of `successes` out of `trials` (0..1); [0, 1] with no trials. */
export function wilson(successes: number, trials: number, z = Z_95): Interval {
  if (trials <= 0) return { low: 0, high: 1 };
  const p = successes / trials;
  const z2 = z * z;
  const centre = p + z2 / (2 * trials);
  const spread = z * Math.sqrt((p * (1 - p)) / trials + z2 / (4 * trials * trials));
  const denominator = 1 + z2 / trials;
  return { low: Math.max(0, (centre - spread) / denominator), high: Math.min(1, (centre + spread) / denominator) };
}

/**
 * Newcombe's interval for p_variant − p_control. Unlike the plain normal (Wald) interval it stays
 * inside [−1, 1] and behaves with rates near 0 or 1, which is where passkey prompts often are.
 */
export function differenceInterval(variant: { successes: number; trials: number }, control: { successes: number; trials: number }, z = Z_95): Interval {
  const p1 = variant.trials > 0 ? variant.successes / variant.trials : 0;
  const p2 = control.trials > 0 ? control.successes / control.trials : 0;
  const w1 = wilson(variant.successes, variant.trials, z);
  const w2 = wilson(control.successes, control.trials, z);
  const d = p1 - p2;
  return {
    low: d - Math.sqrt((p1 - w1.low) ** 2 + (w2.high - p2) ** 2),
    high: d + Math.sqrt((w1.high - p1) ** 2 + (p2 - w2.low) ** 2),
  };
}

/** Standard normal CDF (Abramowitz & Stegun 7.1.26 for erf; absolute error below 1.5e-7). */
export function normalCdf(x: number): number {
  const t = 1 / (1 + 0.3275911 * (Math.abs(x) / Math.SQRT2));
  const poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
  const erf = 1 - poly * Math.exp(-(x * x) / 2);
  return x >= 0 ? (1 + erf) / 2 : (1 - erf) / 2;
}

/** Two-sided p-value of the pooled two-proportion z-test; 1 when it cannot be computed. */
export function twoProportionPValue(a: { successes: number; trials: number }, b: { successes: number; trials: number }): number {
  if (a.trials === 0 || b.trials === 0) return 1;
  const pooled = (a.successes + b.successes) / (a.trials + b.trials);
  const se = Math.sqrt(pooled * (1 - pooled) * (1 / a.trials + 1 / b.trials));
  if (se === 0) return 1;
  const z = Math.abs(a.successes / a.trials - b.successes / b.trials) / se;
  return Math.min(1, 2 * (1 - normalCdf(z)));
}

/**
 * Exposures each arm needs to detect an absolute lift of `minimumDetectableEffect` over a
 * `baselineRate`, two-sided at `z` with 80 % power (Fleiss, without continuity correction).
 */
export function sampleSizePerArm(baselineRate: number, minimumDetectableEffect: number, z = Z_95): number {
  const p1 = baselineRate;
  const p2 = Math.min(0.999, baselineRate + minimumDetectableEffect);
  const mean = (p1 + p2) / 2;
  const numerator = z * Math.sqrt(2 * mean * (1 - mean)) + Z_POWER_80 * Math.sqrt(p1 * (1 - p1) + p2 * (1 - p2));
  return Math.ceil((numerator * numerator) / ((p2 - p1) * (p2 - p1)));
}

/** z for a two-sided level `alpha` (bisection on normalCdf; alpha in (0, 1)). */
export function zForAlpha(alpha: number): number {
  let low = 0;
  let high = 10;
  for (let i = 0; i < 60; i++) {
    const mid = (low + high) / 2;
    if (2 * (1 - normalCdf(mid)) > alpha) low = mid;
    else high = mid;
  }
  return (low + high) / 2;
}

export interface ArmCounts {
  variant: string;
  exposures: number;
  conversions: number;
}

export type ArmVerdict = 'control' | 'better' | 'worse' | 'no_difference' | 'not_enough_data';

export interface ArmResult extends ArmCounts {
  rate: number;
  interval: Interval;
  /** Against the control; absent for the control itself. */
  difference?: { value: number; interval: Interval; pValue: number };
  verdict: ArmVerdict;
}

export interface ExperimentResult {
  /** Exposures every arm needs before any verdict. */
  requiredPerArm: number;
  /** Whether every arm has them. */
  enoughData: boolean;
  arms: ArmResult[];
  /** The arm to roll out: the best arm that is significantly better than the control, else the control once data is enough, else null. */
  recommendation: { variant: string; why: 'better_than_control' | 'no_variant_better' } | null;
}

/** At least this many exposures per arm whatever the power calculation says (the intervals need it). */
export const MIN_EXPOSURES_PER_ARM = 30;

/**
 * The verdict of an experiment. Variants are compared with the control at a Bonferroni-corrected
 * level (5 % split over the comparisons), and nothing is called before every arm has the
 * planned sample: peeking at a running test inflates false positives, so early numbers are
 * shown but labelled "not enough data yet".
 */
export function analyse(arms: readonly ArmCounts[], plan: { control: string; baselineRate: number; minimumDetectableEffect: number }): ExperimentResult {
  const comparisons = Math.max(1, arms.length - 1);
  const z = comparisons === 1 ? Z_95 : zForAlpha(0.05 / comparisons);
  const requiredPerArm = Math.max(MIN_EXPOSURES_PER_ARM, sampleSizePerArm(plan.baselineRate, plan.minimumDetectableEffect, z));
  const enoughData = arms.length > 0 && arms.every((arm) => arm.exposures >= requiredPerArm);
  const control = arms.find((arm) => arm.variant === plan.control) ?? { variant: plan.control, exposures: 0, conversions: 0 };
  const controlCounts = { successes: control.conversions, trials: control.exposures };
  const results: ArmResult[] = arms.map((arm) => {
    const counts = { successes: arm.conversions, trials: arm.exposures };
    const base = { ...arm, rate: arm.exposures > 0 ? arm.conversions / arm.exposures : 0, interval: wilson(arm.conversions, arm.exposures, z) };
    if (arm.variant === plan.control) return { ...base, verdict: 'control' as const };
    const interval = differenceInterval(counts, controlCounts, z);
    const difference = { value: base.rate - (control.exposures > 0 ? control.conversions / control.exposures : 0), interval, pValue: twoProportionPValue(counts, controlCounts) };
    const verdict: ArmVerdict = !enoughData ? 'not_enough_data' : interval.low > 0 ? 'better' : interval.high < 0 ? 'worse' : 'no_difference';
    return { ...base, difference, verdict };
  });
  let recommendation: ExperimentResult['recommendation'] = null;
  if (enoughData) {
    const winners = results.filter((arm) => arm.verdict === 'better').sort((a, b) => b.rate - a.rate);
    recommendation = winners[0] ? { variant: winners[0].variant, why: 'better_than_control' } : { variant: plan.control, why: 'no_variant_better' };
  }
  return { requiredPerArm, enoughData, arms: results, recommendation };
}
