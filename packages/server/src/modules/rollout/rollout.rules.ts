import { createHmac } from 'node:crypto';

/** The features a rule can gate (issue 14 item 2). */
export const ROLLOUT_FEATURES = ['passkey_button', 'autofill', 'append_prompt', 'passkey_first_signup'] as const;
export type RolloutFeature = (typeof ROLLOUT_FEATURES)[number];

export function isRolloutFeature(value: string): value is RolloutFeature {
  return (ROLLOUT_FEATURES as readonly string[]).includes(value);
}

export const PLATFORMS = ['desktop', 'mobile', 'tablet'] as const;
export type Platform = (typeof PLATFORMS)[number];

/** A rule as stored and as the management API shows it. Empty filter lists mean "any". */
export interface RolloutRule {
  feature: RolloutFeature;
  /** 0 to 100 (two decimals): the share of buckets that get the feature. */
  percentage: number;
  /** Whose id is bucketed: the user's (falls back to the device's when no user is known) or the device's. */
  bucketBy: 'user' | 'device';
  /** OS families, lower case without spaces or versions: `ios`, `macos`, `android`, `windows`, `linux`, `chromeos`. */
  operatingSystems: string[];
  /** Browser families, the same way: `chrome`, `safari`, `firefox`, `edge`, `samsunginternet`... */
  browsers: string[];
  platforms: Platform[];
  /** User segments (users.segment); a rule with segments excludes users without one of them. */
  segments: string[];
  /** User ids or external ids that always get the feature (unless the kill switch is on). */
  allow: string[];
  /** User ids or external ids that never get it. */
  deny: string[];
  /** On: nobody gets the feature, whatever else the rule says. */
  killSwitch: boolean;
  updatedAt: number;
  updatedBy: string | null;
}

/** Who asks: the device always, the user when one is known (signed in, or an identifier that has passkeys). */
export interface RolloutSubject {
  deviceId?: string | undefined;
  user?: { id: string; externalId: string | null; segment: string | null } | undefined;
  os: string | null;
  browser: string | null;
  platform: string | null;
}

export type RolloutReason = 'no_rule' | 'kill_switch' | 'denied' | 'allowed' | 'os' | 'browser' | 'platform' | 'segment' | 'percentage' | 'included';

export interface RolloutOutcome {
  included: boolean;
  reason: RolloutReason;
}

/** 10,000 buckets: a percentage with two decimals is a whole number of them. */
export const BUCKETS = 10_000;

/**
 * Per-feature bucketing key: HMAC(rollout subkey, feature). A subject falls in the same bucket of a
 * feature every time (nobody flips back and forth), and buckets of two features are independent.
 */
export function featureSalt(rolloutKey: Uint8Array, feature: RolloutFeature): Buffer {
  return createHmac('sha256', rolloutKey).update(`rollout-bucket:${feature}`).digest();
}

/** The bucket (0 … 9,999) of an id under a feature's salt: the first 4 bytes of HMAC(salt, id), modulo 10,000. */
export function bucketOf(salt: Uint8Array, id: string): number {
  const digest = createHmac('sha256', salt).update(id).digest();
  return digest.readUInt32BE(0) % BUCKETS;
}

/** `percentage` 20 includes buckets 0 … 1,999: raising it only ever adds subjects, lowering only removes. */
export function inPercentage(bucket: number, percentage: number): boolean {
  return bucket < Math.round(percentage * 100);
}

/** `Mac OS 10.15.7` → `macos`, `Mobile Safari 17` → `mobilesafari`; null stays null. */
export function family(name: string | null): string | null {
  if (!name) return null;
  const bare = name.replace(/\s+[\d.]+\S*$/, '').toLowerCase().replace(/[^a-z0-9]/g, '');
  if (bare === 'macos' || bare === 'macosx' || bare === 'mac') return 'macos';
  if (bare === 'mobilesafari') return 'safari';
  if (bare === 'chromeos' || bare === 'cros') return 'chromeos';
  if (bare === 'mobilechrome' || bare === 'chromeheadless' || bare === 'chromium') return 'chrome';
  return bare || null;
}

/**
 * Whether a subject gets a feature. Pure: the caller passes the rule (undefined: no rule, everyone
 * gets it — today's behaviour), the salt of the feature and the subject.
 *
 * Order: kill switch, deny list, allow list, OS, browser, platform, segment, percentage. With
 * `userCriteria: 'skip'` the user-dependent steps (lists, segment, a user-bucketed percentage)
 * are not applied: what a device may see before anyone knows who the user is (see
 * intelligence.rules.ts: no answer may depend on an identifier without passkeys).
 */
export function evaluateRule(
  rule: RolloutRule | undefined,
  salt: Uint8Array,
  subject: RolloutSubject,
  options: { userCriteria?: 'apply' | 'skip' } = {},
): RolloutOutcome {
  if (!rule) return { included: true, reason: 'no_rule' };
  if (rule.killSwitch) return { included: false, reason: 'kill_switch' };
  const skipUser = options.userCriteria === 'skip';
  const user = skipUser ? undefined : subject.user;
  if (user && (rule.deny.includes(user.id) || (user.externalId !== null && rule.deny.includes(user.externalId)))) return { included: false, reason: 'denied' };
  if (user && (rule.allow.includes(user.id) || (user.externalId !== null && rule.allow.includes(user.externalId)))) return { included: true, reason: 'allowed' };
  if (rule.operatingSystems.length > 0 && !rule.operatingSystems.includes(family(subject.os) ?? '')) return { included: false, reason: 'os' };
  if (rule.browsers.length > 0 && !rule.browsers.includes(family(subject.browser) ?? '')) return { included: false, reason: 'browser' };
  if (rule.platforms.length > 0 && !(rule.platforms as string[]).includes(subject.platform ?? '')) return { included: false, reason: 'platform' };
  if (!skipUser && rule.segments.length > 0 && !(user?.segment && rule.segments.includes(user.segment))) return { included: false, reason: 'segment' };
  if (rule.percentage >= 100) return { included: true, reason: 'included' };
  const bucketId = rule.bucketBy === 'user' ? (user?.id ?? (skipUser ? undefined : subject.deviceId)) : subject.deviceId;
  // Skipping user criteria with a user-bucketed rule: the percentage is decided once the user is known.
  if (bucketId === undefined) return skipUser && rule.bucketBy === 'user' ? { included: true, reason: 'included' } : { included: false, reason: 'percentage' };
  return inPercentage(bucketOf(salt, bucketId), rule.percentage) ? { included: true, reason: 'included' } : { included: false, reason: 'percentage' };
}

/** A rule that changes nothing: 100 %, no filters, kill switch off (what a feature without a stored rule behaves like). */
export function openRule(feature: RolloutFeature, now: number): RolloutRule {
  return {
    feature,
    percentage: 100,
    bucketBy: 'user',
    operatingSystems: [],
    browsers: [],
    platforms: [],
    segments: [],
    allow: [],
    deny: [],
    killSwitch: false,
    updatedAt: now,
    updatedBy: null,
  };
}
