import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { bucketOf, evaluateRule, family, featureSalt, inPercentage, openRule, type RolloutRule, type RolloutSubject } from './rollout.rules.ts';

const ZERO_SALT = new Uint8Array(32);

describe('rollout bucketing', () => {
  test('the bucket is the first 4 bytes of HMAC-SHA-256(salt, id) modulo 10,000 (values from `openssl dgst -sha256 -mac HMAC`)', () => {
    // printf user-1 | openssl dgst -sha256 -mac HMAC -macopt hexkey:00…00 → 0db11465… ; 0x0db11465 % 10000 = 8901
    assert.equal(bucketOf(ZERO_SALT, 'user-1'), 8901);
    assert.equal(bucketOf(ZERO_SALT, 'user-2'), 5793); // fd6af761…
    assert.equal(bucketOf(ZERO_SALT, 'device-a'), 1489); // 9cdc6ce1…
  });

  test('a percentage covers buckets below percentage × 100, with two decimals', () => {
    const table: [bucket: number, percentage: number, inside: boolean][] = [
      [0, 0, false],
      [0, 0.01, true],
      [1489, 14.89, false],
      [1489, 14.9, true],
      [8901, 89, false],
      [8901, 90, true],
      [9999, 99.99, false],
      [9999, 100, true],
    ];
    for (const [bucket, percentage, inside] of table) assert.equal(inPercentage(bucket, percentage), inside, `${bucket} in ${percentage}%`);
  });

  test('features have independent salts, and the same id stays in its bucket', () => {
    const key = new Uint8Array(32).fill(7);
    const a = featureSalt(key, 'passkey_button');
    const b = featureSalt(key, 'append_prompt');
    assert.notDeepEqual(a, b);
    assert.equal(bucketOf(a, 'u'), bucketOf(a, 'u'));
  });

  test('20 % of 1,000 ids is 200 ± 40, and raising to 50 % keeps every one of them', () => {
    const salt = featureSalt(new Uint8Array(32).fill(1), 'passkey_button');
    const ids = Array.from({ length: 1000 }, (_, i) => `user-${i}`);
    const at20 = ids.filter((id) => inPercentage(bucketOf(salt, id), 20));
    const at50 = new Set(ids.filter((id) => inPercentage(bucketOf(salt, id), 50)));
    assert.ok(Math.abs(at20.length - 200) <= 40, `${at20.length}`);
    assert.ok(at20.every((id) => at50.has(id)));
  });

  test('OS and browser families drop versions and spaces', () => {
    const table: [string | null, string | null][] = [
      ['Mac OS 10.15.7', 'macos'],
      ['macOS 15', 'macos'],
      ['iOS 18.1', 'ios'],
      ['Windows 10', 'windows'],
      ['Chrome OS 14541.0.0', 'chromeos'],
      ['Mobile Safari 17', 'safari'],
      ['Chrome Headless 130', 'chrome'],
      ['Samsung Internet 25', 'samsunginternet'],
      ['Linux', 'linux'],
      [null, null],
    ];
    for (const [input, expected] of table) assert.equal(family(input), expected, String(input));
  });
});

describe('rollout rule evaluation', () => {
  const rule = (over: Partial<RolloutRule>): RolloutRule => ({ ...openRule('passkey_button', 0), ...over });
  const user = { id: 'user-1', externalId: 'ext-1', segment: 'beta' };
  const mac: RolloutSubject = { deviceId: 'device-a', user, os: 'Mac OS 10.15.7', browser: 'Chrome 130', platform: 'desktop' };
  const anon: RolloutSubject = { deviceId: 'device-a', os: 'Android 14', browser: 'Chrome 130', platform: 'mobile' };

  // Buckets under the zero salt (above): user-1 8901, device-a 1489.
  const table: [name: string, rule: RolloutRule | undefined, subject: RolloutSubject, options: { userCriteria?: 'apply' | 'skip' }, expected: [boolean, string]][] = [
    ['no rule: everyone', undefined, mac, {}, [true, 'no_rule']],
    ['kill switch beats the allow list', rule({ killSwitch: true, allow: ['user-1'] }), mac, {}, [false, 'kill_switch']],
    ['deny by user id', rule({ deny: ['user-1'] }), mac, {}, [false, 'denied']],
    ['deny by external id', rule({ deny: ['ext-1'] }), mac, {}, [false, 'denied']],
    ['deny beats allow', rule({ deny: ['ext-1'], allow: ['user-1'] }), mac, {}, [false, 'denied']],
    ['allow beats 0 % and filters', rule({ percentage: 0, operatingSystems: ['ios'], allow: ['ext-1'] }), mac, {}, [true, 'allowed']],
    ['OS filter in', rule({ operatingSystems: ['ios', 'macos'] }), mac, {}, [true, 'included']],
    ['OS filter out', rule({ operatingSystems: ['ios'] }), mac, {}, [false, 'os']],
    ['browser filter out', rule({ browsers: ['safari'] }), mac, {}, [false, 'browser']],
    ['platform filter out', rule({ platforms: ['mobile'] }), mac, {}, [false, 'platform']],
    ['segment in', rule({ segments: ['beta'] }), mac, {}, [true, 'included']],
    ['segment out', rule({ segments: ['staff'] }), mac, {}, [false, 'segment']],
    ['segment with nobody known: out', rule({ segments: ['beta'] }), anon, {}, [false, 'segment']],
    ['user bucket 8901 in 90 %', rule({ percentage: 90 }), mac, {}, [true, 'included']],
    ['user bucket 8901 out of 89 %', rule({ percentage: 89 }), mac, {}, [false, 'percentage']],
    ['device bucket 1489 in 14.9 %', rule({ percentage: 14.9, bucketBy: 'device' }), mac, {}, [true, 'included']],
    ['device bucket 1489 out of 14.89 %', rule({ percentage: 14.89, bucketBy: 'device' }), mac, {}, [false, 'percentage']],
    ['user-bucketed without a user: the device bucket', rule({ percentage: 14.9 }), anon, {}, [true, 'included']],
    ['user-bucketed, no user, no device: out', rule({ percentage: 50 }), { os: null, browser: null, platform: null }, {}, [false, 'percentage']],
    ['skip user criteria: deny list not applied', rule({ deny: ['user-1'] }), mac, { userCriteria: 'skip' }, [true, 'included']],
    ['skip user criteria: segment not applied', rule({ segments: ['staff'] }), mac, { userCriteria: 'skip' }, [true, 'included']],
    ['skip user criteria: user percentage left for later', rule({ percentage: 1 }), mac, { userCriteria: 'skip' }, [true, 'included']],
    ['skip user criteria: device filters still apply', rule({ operatingSystems: ['ios'] }), mac, { userCriteria: 'skip' }, [false, 'os']],
    ['skip user criteria: device percentage still applies', rule({ percentage: 14.89, bucketBy: 'device' }), mac, { userCriteria: 'skip' }, [false, 'percentage']],
  ];
  for (const [name, r, subject, options, [included, reason]] of table) {
    test(name, () => assert.deepEqual(evaluateRule(r, ZERO_SALT, subject, options), { included, reason }));
  }

  test('one evaluation takes microseconds (printed, not asserted)', () => {
    const r = rule({ percentage: 37.5, operatingSystems: ['macos', 'ios'], browsers: ['chrome', 'safari'], segments: ['beta'], deny: ['x', 'y'] });
    const n = 200_000;
    const started = performance.now();
    for (let i = 0; i < n; i++) evaluateRule(r, ZERO_SALT, { ...mac, user: { ...user, id: `user-${i}` } });
    const us = ((performance.now() - started) * 1000) / n;
    console.log(`# rollout evaluateRule: ${us.toFixed(2)} µs per evaluation (${n} evaluations, HMAC bucketing included)`);
  });
});
