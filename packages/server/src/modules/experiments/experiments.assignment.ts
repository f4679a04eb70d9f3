import { createHmac } from 'node:crypto';

export interface WeightedVariant {
  key: string;
  /** Relative weight, a positive integer (e.g. 50/50, or 1/1/1). */
  weight: number;
}

/**
 * A number in [0, 1) fixed by the key, the experiment and the subject: the first 48 bits of an
 * HMAC. Keyed, so nobody outside can compute which arm a user is in; fixed, so a user keeps their
 * arm on every device, node and restart without a row being written before they are exposed.
 */
export function bucketOf(key: Uint8Array, experimentId: string, purpose: 'traffic' | 'variant', subject: string): number {
  const mac = createHmac('sha256', key).update(`${experimentId}\u0000${purpose}\u0000${subject}`).digest();
  return mac.readUIntBE(0, 6) / 2 ** 48;
}

/** The variant a bucket falls into, by cumulative weight (order as configured). */
export function pickVariant(bucket: number, variants: readonly WeightedVariant[]): string {
  const total = variants.reduce((sum, v) => sum + v.weight, 0);
  let edge = 0;
  for (const variant of variants) {
    edge += variant.weight / total;
    if (bucket < edge) return variant.key;
  }
  // Rounding at the top edge: the last variant.
  return variants[variants.length - 1]?.key ?? 'control';
}

/**
 * The arm of `subject` in an experiment, or undefined when the subject is outside its traffic
 * share (those get the product's default and are not counted). Two independent buckets, so
 * changing the traffic share of a draft never reshuffles who is in which arm.
 */
export function assign(key: Uint8Array, experiment: { id: string; trafficPercent: number; variants: readonly WeightedVariant[] }, subject: string): string | undefined {
  if (bucketOf(key, experiment.id, 'traffic', subject) * 100 >= experiment.trafficPercent) return undefined;
  return pickVariant(bucketOf(key, experiment.id, 'variant', subject), experiment.variants);
}
