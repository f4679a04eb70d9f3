import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { durationBucket, factsOf, family, reportDay, type AnalyticsEvent } from './analytics.facts.ts';
import { countsOf, funnelOf, kpisOf, quantileOfHistogram, rate } from './kpis.ts';
import { linearTrend, projectSavings, trendAt, type SavingsCosts } from './savings.ts';

const rows = (entries: [string, string, number][]) => countsOf(entries.map(([metric, detail, count]) => ({ metric, detail, count })));

describe('KPI arithmetic', () => {
  test('rates: null without a denominator, capped at 1', () => {
    for (const [n, d, expected] of [[1, 2, 0.5], [0, 0, null], [3, 0, null], [5, 4, 1], [0, 7, 0]] as const) assert.equal(rate(n, d), expected, `${n}/${d}`);
  });

  test('quantiles of the duration histogram, interpolated inside a bucket', () => {
    const cases: [Record<number, number>, number, number | null][] = [
      [{}, 0.5, null],
      [{ 3: 10 }, 0.5, 875], // (750, 1000]: 750 + 5/10 · 250
      [{ 3: 1, 4: 1 }, 0.5, 1000],
      [{ 3: 1, 4: 1 }, 0.9, 1400], // 1000 + 0.8 · 500
      [{ 0: 4 }, 0.5, 125],
      [{ 15: 3 }, 0.9, 120_000], // the open last bucket: its lower bound
    ];
    for (const [buckets, q, expected] of cases) assert.equal(quantileOfHistogram(new Map(Object.entries(buckets).map(([k, v]) => [Number(k), v])), q), expected, JSON.stringify(buckets));
  });

  test('the KPIs of one slice of counts', () => {
    const k = kpisOf(rows([
      ['adoption.offered', '', 8], ['adoption.created', '', 2], ['adoption.offered_incapable', '', 1],
      ['login.prompt', '', 10], ['funnel.authentication.completed', '', 7], ['funnel.authentication.cancelled', 'NotAllowedError', 2], ['funnel.authentication.timed_out', '', 1],
      ['funnel.authentication.error', 'SecurityError', 1],
      ['active.users', '', 20], ['active.users_with_passkey', '', 5],
      ['signin.success', 'passkey', 6], ['signin.success', 'email_code', 3], ['signin.success', 'password', 1], ['signin.failure', 'passkey', 2], ['signin.failure', 'email_code', 3],
      ['email_code.sent', 'sign_in', 4], ['email_code.sent', 'verify_email', 9], ['recovery.started', '', 2], ['recovery.completed', '', 1], ['passkey.created', '', 3],
    ]));
    assert.deepEqual(k.adoption, { offered: 8, created: 2, rate: 0.25, offeredToIncapable: 1 });
    assert.deepEqual(k.login, { prompts: 10, succeeded: 7, aborted: 3, failed: 1, rate: 0.7, medianMs: null, p90Ms: null });
    assert.equal(k.passkeyUserShare, 0.25);
    assert.deepEqual(k.signIns, { total: 10, passkey: 6, emailCode: 3, password: 1, failed: 5, passkeyShare: 0.6, successRate: 10 / 15 });
    assert.deepEqual(k.fallback, { signIns: 4, share: 0.4, emailCodesSent: 4 });
    assert.deepEqual(k.recovery, { started: 2, completed: 1 });
    assert.equal(k.passkeysCreated, 3);
  });

  test('a funnel with its drop-off, most first', () => {
    const f = funnelOf(rows([
      ['funnel.registration.offered', '', 10], ['funnel.registration.started', '', 8], ['funnel.registration.completed', '', 4],
      ['funnel.registration.cancelled', 'NotAllowedError', 2], ['funnel.registration.error', 'InvalidStateError', 1], ['funnel.registration.error', 'SecurityError', 3],
    ]), 'registration');
    assert.deepEqual(f, {
      ceremony: 'registration', offered: 10, started: 8, completed: 4, cancelled: 2, timedOut: 0, failed: 4, completionRate: 0.5,
      dropOff: [
        { outcome: 'error', errorName: 'SecurityError', count: 3 },
        { outcome: 'cancelled', errorName: 'NotAllowedError', count: 2 },
        { outcome: 'error', errorName: 'InvalidStateError', count: 1 },
      ],
    });
  });
});

describe('facts of events', () => {
  const base: AnalyticsEvent = { seq: 1, at: Date.UTC(2026, 4, 10, 12), type: 'ceremony.reported', outcome: 'success', subjectUserId: null, credentialId: null, os: 'Mac OS 15.5', browser: 'Chrome 142', device: 'desktop', data: {} };
  const metrics = (data: Record<string, unknown>, type = 'ceremony.reported') => factsOf({ ...base, type, data }, { lateDays: 7 }).map((f) => `${f.day} ${f.metric} ${f.detail}`.trim());
  test('table of events and what they count', () => {
    const cases: [Record<string, unknown>, string, string[]][] = [
      [{ ceremony: 'append', mode: 'modal', outcome: 'offered', platformAuthenticator: true }, 'ceremony.reported', ['2026-05-10 funnel.append.offered', '2026-05-10 adoption.offered']],
      [{ ceremony: 'append', mode: 'modal', outcome: 'offered', platformAuthenticator: false }, 'ceremony.reported', ['2026-05-10 funnel.append.offered', '2026-05-10 adoption.offered_incapable']],
      [{ ceremony: 'append', mode: 'conditional', outcome: 'offered' }, 'ceremony.reported', []],
      [{ ceremony: 'append', mode: 'conditional', outcome: 'completed' }, 'ceremony.reported', ['2026-05-10 funnel.append.completed', '2026-05-10 adoption.created']],
      [{ ceremony: 'authentication', mode: 'modal', outcome: 'started' }, 'ceremony.reported', ['2026-05-10 funnel.authentication.started', '2026-05-10 login.prompt']],
      [{ ceremony: 'authentication', mode: 'conditional', outcome: 'completed', durationMs: 900 }, 'ceremony.reported', ['2026-05-10 funnel.authentication.completed', '2026-05-10 login.prompt', '2026-05-10 login.duration 3']],
      [{ ceremony: 'authentication', mode: 'modal', outcome: 'error', errorName: 'SecurityError', occurredAt: '2026-05-08T23:00:00Z' }, 'ceremony.reported', ['2026-05-08 funnel.authentication.error SecurityError']],
      [{ ceremony: 'bogus', mode: 'modal', outcome: 'offered' }, 'ceremony.reported', []],
      [{}, 'passkey.authenticated', ['2026-05-10 signin.success passkey']],
      [{ method: 'email_code' }, 'session.created', ['2026-05-10 signin.success email_code']],
      [{ method: 'password', scope: 'second_factor' }, 'session.created', []],
      [{}, 'session.created', []],
      [{ purpose: 'sign_in' }, 'email_code.sent', ['2026-05-10 email_code.sent sign_in']],
      [{}, 'account.recovered', ['2026-05-10 recovery.completed']],
      [{}, 'passkey.renamed', []],
    ];
    for (const [data, type, expected] of cases) assert.deepEqual(metrics(data, type), expected, `${type} ${JSON.stringify(data)}`);
  });
  test('the day of a report: occurredAt within the late window, else the day it arrived', () => {
    const at = Date.UTC(2026, 4, 10, 12);
    for (const [occurredAt, expected] of [
      [undefined, '2026-05-10'], ['2026-05-03T12:00:00Z', '2026-05-03'], ['2026-05-03T11:59:59Z', '2026-05-10'], ['2026-05-10T12:04:00Z', '2026-05-10'], ['2026-05-11T00:00:00Z', '2026-05-10'], ['nonsense', '2026-05-10'],
    ] as const) assert.equal(reportDay(at, occurredAt, 7), expected, String(occurredAt));
  });
  test('families and duration buckets', () => {
    assert.equal(family('Mac OS 10.15.7'), 'Mac OS');
    assert.equal(family('Mobile Safari 18'), 'Mobile Safari');
    assert.equal(family('Windows'), 'Windows');
    assert.equal(family(null), '');
    for (const [ms, bucket] of [[0, 0], [250, 0], [251, 1], [1000, 3], [1001, 4], [120_000, 14], [120_001, 15]] as const) assert.equal(durationBucket(ms), bucket, String(ms));
  });
});

describe('savings projection', () => {
  const costs: SavingsCosts = { currency: 'EUR', smsCost: 0.05, emailCost: 0.01, passwordResetCost: 10, smsShare: 0.5, passwordResetRate: 0.01, offerReach: 1 };
  test('linear trend: least squares, nulls left out, flat with one point, capped to [0, 1] when read', () => {
    const up = linearTrend([0.1, 0.2, 0.3]);
    assert.ok(Math.abs(up.intercept - 0.1) < 1e-12 && Math.abs(up.slope - 0.1) < 1e-12 && up.points === 3, JSON.stringify(up));
    assert.deepEqual(linearTrend([null, 0.4, null]), { intercept: 0.4, slope: 0, points: 1 });
    assert.deepEqual(linearTrend([]), { intercept: 0, slope: 0, points: 0 });
    const t = linearTrend([0.1, null, 0.3]);
    assert.ok(Math.abs(t.slope - 0.1) < 1e-12 && Math.abs(t.intercept - 0.1) < 1e-12);
    assert.equal(trendAt(linearTrend([0.1, 0.2, 0.3]), 44), 1);
    assert.equal(trendAt(linearTrend([0.3, 0.2, 0.1]), 44), 0);
  });
  test('flat rates: coverage cₘ = 1 − 0.8 · 0.5ᵐ, passkey sign-ins Σ 1000 · cₘ · 0.8 (hand-computed)', () => {
    const { horizons } = projectSavings({ adoptionDaily: Array(30).fill(0.5), loginDaily: Array(30).fill(0.8), signIns: 1000, passkeyUserShare: 0.2, codeShare: 1, costs });
    // Σₘ₌₁..₁₂ 800 · (1 − 0.8 · 0.5ᵐ) = 9600 − 640 · (1 − 0.5¹²) = 8960.15625
    assert.equal(horizons[0]!.passkeySignIns, 8960);
    assert.equal(horizons[0]!.smsAvoided, 4480);
    assert.equal(horizons[0]!.emailsAvoided, 4480);
    assert.equal(horizons[0]!.passwordResetsAvoided, 0);
    // 4480.08 SMS · 0.05 = 224.00; 4480.08 e-mails · 0.01 = 44.80
    assert.deepEqual(horizons[0]!.cost, { sms: 224, email: 44.8, passwordResets: 0, total: 268.8, currency: 'EUR' });
    // 24 months: 19200 − 640 · (1 − 0.5²⁴) ≈ 18560
    assert.equal(horizons[1]!.passkeySignIns, 18560);
    assert.equal(horizons[2]!.passkeyUserShare, 1);
  });
  test('password sign-ins avoided become resets avoided', () => {
    const { horizons } = projectSavings({ adoptionDaily: [0], loginDaily: [1], signIns: 1000, passkeyUserShare: 0.5, codeShare: 0.25, costs });
    // coverage stays 0.5: 500 passkey sign-ins a month; 12 months 6000; codes 1500, resets 6000 · 0.75 · 0.01 = 45
    assert.deepEqual({ ...horizons[0]!, cost: horizons[0]!.cost.total }, {
      months: 12, passkeySignIns: 6000, smsAvoided: 750, emailsAvoided: 750, passwordResetsAvoided: 45, passkeyUserShare: 0.5, cost: 750 * 0.05 + 750 * 0.01 + 450,
    });
  });
});
