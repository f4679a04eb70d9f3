/**
 * The savings projection (README, "Savings model"): pure functions, tested in savings.test.ts.
 *
 * 1. Trend: a least-squares line through the last 30 daily values of the adoption rate and of the
 *    login rate (days without data left out), read at the middle of each future month and capped
 *    to [0, 1]. Fewer than two days with data: the mean (or 0 with none) is held flat.
 * 2. Coverage: c₀ = share of active users with a passkey now; each month the users without one
 *    are offered a passkey with probability `offerReach` and accept at the month's adoption rate:
 *    cₘ = cₘ₋₁ + (1 − cₘ₋₁) · reach · aₘ.
 * 3. Passkey sign-ins in month m = S · cₘ · lₘ, with S the sign-ins of the last 30 days (held flat).
 *    Each replaces a fallback sign-in: a one-time code with probability `codeShare` (measured:
 *    e-mail-code sign-ins ÷ fallback sign-ins; 1 when there were none), split into SMS and e-mail
 *    by `smsShare`; a password otherwise, which needs a reset with probability `passwordResetRate`.
 * 4. Money: messages × cost per message, resets × cost per reset, summed up to 12, 24, 36 months.
 */

export interface Trend {
  intercept: number;
  slope: number;
  /** Days with data the line was fitted to. */
  points: number;
}

/** Least-squares line through (index, value) of the non-null values. */
export function linearTrend(series: readonly (number | null)[]): Trend {
  const points = series.flatMap((y, x) => (y === null ? [] : [[x, y] as const]));
  const n = points.length;
  if (n === 0) return { intercept: 0, slope: 0, points: 0 };
  const meanX = points.reduce((s, [x]) => s + x, 0) / n;
  const meanY = points.reduce((s, [, y]) => s + y, 0) / n;
  if (n === 1) return { intercept: meanY, slope: 0, points: 1 };
  let sxy = 0;
  let sxx = 0;
  for (const [x, y] of points) {
    sxy += (x - meanX) * (y - meanY);
    sxx += (x - meanX) ** 2;
  }
  const slope = sxx === 0 ? 0 : sxy / sxx;
  return { intercept: meanY - slope * meanX, slope, points: n };
}

export function trendAt(trend: Trend, x: number): number {
  return Math.min(1, Math.max(0, trend.intercept + trend.slope * x));
}

export interface SavingsCosts {
  currency: string;
  smsCost: number;
  emailCost: number;
  passwordResetCost: number;
  /** Share of one-time codes sent by SMS (the rest by e-mail). */
  smsShare: number;
  /** Password sign-ins that end in a reset. */
  passwordResetRate: number;
  /** Share of users without a passkey offered one in a month. */
  offerReach: number;
}

export interface SavingsInput {
  /** Daily adoption rates of the last `window` days, oldest first (null: no offers that day). */
  adoptionDaily: readonly (number | null)[];
  loginDaily: readonly (number | null)[];
  /** All sign-ins in the window (S). */
  signIns: number;
  /** Share of active users with a passkey now (c₀). */
  passkeyUserShare: number;
  /** One-time-code share of fallback sign-ins. */
  codeShare: number;
  costs: SavingsCosts;
}

export interface SavingsHorizon {
  months: number;
  passkeySignIns: number;
  smsAvoided: number;
  emailsAvoided: number;
  passwordResetsAvoided: number;
  /** Share of users with a passkey at the end of the horizon. */
  passkeyUserShare: number;
  cost: { sms: number; email: number; passwordResets: number; total: number; currency: string };
}

export const HORIZONS = [12, 24, 36] as const;
const MONTH_DAYS = 30;

const round2 = (n: number) => Math.round(n * 100) / 100;

export function projectSavings(input: SavingsInput): { adoptionTrend: Trend; loginTrend: Trend; horizons: SavingsHorizon[] } {
  const adoptionTrend = linearTrend(input.adoptionDaily);
  const loginTrend = linearTrend(input.loginDaily);
  const { costs } = input;
  const last = Math.max(input.adoptionDaily.length, input.loginDaily.length) - 1;
  let coverage = Math.min(1, Math.max(0, input.passkeyUserShare));
  let passkeySignIns = 0;
  const horizons: SavingsHorizon[] = [];
  for (let month = 1; month <= HORIZONS[HORIZONS.length - 1]!; month++) {
    const x = last + (month - 0.5) * MONTH_DAYS;
    coverage += (1 - coverage) * costs.offerReach * trendAt(adoptionTrend, x);
    passkeySignIns += input.signIns * coverage * trendAt(loginTrend, x);
    if ((HORIZONS as readonly number[]).includes(month)) {
      const codes = passkeySignIns * input.codeShare;
      const smsAvoided = codes * costs.smsShare;
      const emailsAvoided = codes - smsAvoided;
      const passwordResetsAvoided = passkeySignIns * (1 - input.codeShare) * costs.passwordResetRate;
      const sms = smsAvoided * costs.smsCost;
      const email = emailsAvoided * costs.emailCost;
      const passwordResets = passwordResetsAvoided * costs.passwordResetCost;
      horizons.push({
        months: month,
        passkeySignIns: Math.round(passkeySignIns),
        smsAvoided: Math.round(smsAvoided),
        emailsAvoided: Math.round(emailsAvoided),
        passwordResetsAvoided: Math.round(passwordResetsAvoided),
        passkeyUserShare: Math.round(coverage * 10_000) / 10_000,
        cost: { sms: round2(sms), email: round2(email), passwordResets: round2(passwordResets), total: round2(sms + email + passwordResets), currency: costs.currency },
      });
    }
  }
  return { adoptionTrend, loginTrend, horizons };
}
