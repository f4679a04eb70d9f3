import type { Kysely } from 'kysely';
import type { Database } from '../../db/database.ts';
import type { BoundStatement } from '../../db/prepared-query.ts';
import type { Clock } from '../../platform/clock.ts';
import { FallbackErrors } from './fallback.errors.ts';
import type { FallbackRepository } from './fallback.repository.ts';

/**
 * Per-account, per-factor consecutive-failure counters (SEC-34, NIST SP 800-63B-4 §3.2.2):
 * `freeFailures` tries, then a delay doubling from 1 s up to `maxDelaySeconds`, and at
 * `hardLimit` (≤ 100) the factor stops working until it is cleared by a success elsewhere.
 * Counters are keyed by what the attacker names (the username or e-mail key), so an unknown one
 * counts exactly like a known one; resending a code never resets them; a success clears them.
 * E-mail codes, which anyone who knows the address can ask for, use `beginShared`: delays per
 * client, and one address-wide lock. Log lines never carry a counter key.
 */
export function createLockout(deps: {
  db: Kysely<Database>;
  clock: Clock;
  repository: FallbackRepository;
  freeFailures: number;
  maxDelaySeconds: number;
  hardLimit: number;
}) {
  function delaySeconds(count: number): number {
    if (count < deps.freeFailures) return 0;
    return Math.min(deps.maxDelaySeconds, 2 ** Math.min(30, count - deps.freeFailures));
  }
  const locked = (count: number, detail = 'This method is locked after too many failures; sign in with a passkey or recover the account.') =>
    FallbackErrors.too_many_attempts({ headers: { 'retry-after': String(deps.maxDelaySeconds) }, detail, internal: `locked at ${count} failures` });
  const concurrent = () =>
    FallbackErrors.too_many_attempts({ headers: { 'retry-after': '1' }, detail: 'Another attempt is being checked; try again in a second', internal: 'concurrent attempt' });

  /**
   * Throws 429 too_many_attempts with Retry-After while the key is delayed or locked; returns the
   * count. With `hardLimit: false` only the delay applies (a per-client counter, whose lock is the
   * address-wide one).
   */
  async function check(key: string, options: { hardLimit: boolean } = { hardLimit: true }): Promise<number> {
      const row = await deps.repository.findCounter(deps.db, key);
      if (!row) return 0;
      const count = Number(row.count);
      if (options.hardLimit && count >= deps.hardLimit) throw locked(count);
      const waitMs = Number(row.last_failure_at) + delaySeconds(count) * 1000 - deps.clock.now();
      if (waitMs > 0) {
        const seconds = Math.ceil(waitMs / 1000);
        throw FallbackErrors.too_many_attempts({ headers: { 'retry-after': String(seconds) }, detail: `Try again in ${seconds} seconds` });
      }
      return count;
  }

  return {
    delaySeconds,
    check,
    /**
     * Starts one guess at a factor: checks the delay and the lock, then counts the guess as a
     * failure before it is verified (compare-and-set), so parallel guesses cannot all slip in
     * under one check. The caller reports the outcome: `failed()` (already counted) or
     * `succeeded()` (clears the counter). A guess that dies half-way stays counted.
     */
    async begin(key: string): Promise<{ failed(): Promise<number>; succeeded(): Promise<void> }> {
      const seen = await check(key);
      if (!(await deps.repository.claimAttempt(deps.db, key, seen, deps.clock.now()))) throw concurrent();
      return {
        failed: async () => seen + 1,
        succeeded: () => deps.repository.clearCounter(deps.db, key),
      };
    },
    /**
     * One guess at a factor that anyone can aim at an account (an e-mailed code: whoever knows
     * the address can ask for one and guess): the progressive delay counts per client
     * (`clientKey`, e.g. address + ceremony binding), so a stranger's wrong guesses slow only the
     * stranger; the address-wide counter (`sharedKey`) only locks, at the hard limit (NIST: at
     * most 100), well above where a client's delays begin. A passkey sign-in (`clearUser`) or
     * support (`latchkey unlock-email`) lifts that lock; a success clears both counters.
     */
    async beginShared(input: { clientKey: string; sharedKey: string; lockedDetail: string }): Promise<{ failed(): Promise<number>; succeeded(): Promise<void> }> {
      const shared = await deps.repository.findCounter(deps.db, input.sharedKey);
      if (shared && Number(shared.count) >= deps.hardLimit) throw locked(Number(shared.count), input.lockedDetail);
      const seen = await check(input.clientKey, { hardLimit: false });
      const now = deps.clock.now();
      if (!(await deps.repository.claimAttempt(deps.db, input.clientKey, seen, now))) throw concurrent();
      // Counted below the limit or not at all, in one statement: parallel clients cannot overshoot it.
      const sharedCount = await deps.repository.countFailureBelow(deps.db, input.sharedKey, deps.hardLimit, now);
      if (sharedCount === undefined) throw locked(deps.hardLimit, input.lockedDetail);
      return {
        failed: async () => seen + 1,
        succeeded: async () => {
          await deps.repository.clearCounter(deps.db, input.clientKey);
          await deps.repository.clearCounter(deps.db, input.sharedKey);
        },
      };
    },

    /**
     * Support lifts every lock and delay on one account's fallback methods (issue 13): what was
     * counted, by method, in the caller's transaction. The address-wide e-mail-code lock (NIST:
     * at most 100 failures) and each client's delays on that address go too.
     */
    async liftUser(db: Kysely<Database>, userId: string): Promise<LiftedLock[]> {
      const counters = await deps.repository.liftableCountersOfUser(db, userId);
      await deps.repository.deleteCounters(db, counters.map((c) => c.key));
      const now = deps.clock.now();
      return counters.map((c) => {
        const method: LiftedLock['method'] = c.key.startsWith('pwd:') ? 'password' : c.key.startsWith('totp:') ? 'totp' : c.key.startsWith('recovery:') ? 'recovery_code' : 'email_code';
        const scope: LiftedLock['scope'] = method === 'email_code' && c.key.split(':').length > 2 ? 'client' : 'account';
        const locked = (scope === 'account' && c.count >= deps.hardLimit) || c.lastFailureAt + delaySeconds(c.count) * 1000 > now;
        return { method, scope, failures: c.count, locked };
      });
    },

    /**
     * What support sees of an account's counters: per factor, the consecutive failures, whether
     * it is locked (hard limit) or delayed, and until when. Only factors with a counter appear.
     */
    async stateOfUser(userId: string): Promise<LockoutState[]> {
      const rows = await deps.repository.countersOfUser(deps.db, userId);
      const now = deps.clock.now();
      return rows.map((r) => {
        const count = Number(r.count);
        const factor: LockoutState['factor'] = r.key.startsWith('totp:') ? 'totp' : r.key.startsWith('recovery:') ? 'recovery_code' : r.key.startsWith('pwd:') ? 'password' : 'email_code';
        const delayedUntil = Number(r.last_failure_at) + delaySeconds(count) * 1000;
        return {
          factor,
          failures: count,
          locked: count >= deps.hardLimit,
          lastFailureAt: Number(r.last_failure_at),
          delayedUntil: count < deps.hardLimit && delayedUntil > now ? delayedUntil : null,
        };
      });
    },

    /** Counts a failure without a guess in flight (the unit tests set up counts with it). */
    async fail(key: string): Promise<number> {
      return deps.repository.countFailure(deps.db, key, deps.clock.now());
    },
    /** Every factor's counter of one account, after it proved itself with a passkey: one statement. */
    async clearUser(userId: string): Promise<void> {
      await deps.repository.clearCountersOfUser(userId).execute(deps.db);
    },

    /** What `clearUser` runs, for a sign-in's `writeBatch`: success clears the counters in the same commit. */
    clearUserStatement(userId: string): BoundStatement {
      return deps.repository.clearCountersOfUser(userId);
    },
  };
}

export type Lockout = ReturnType<typeof createLockout>;

/** One counter support lifted: which method, whether address-wide or one client's, and whether it was holding the user back. */
export interface LiftedLock {
  method: 'password' | 'email_code' | 'totp' | 'recovery_code';
  scope: 'account' | 'client';
  failures: number;
  locked: boolean;
}

/** One factor's failure counter as support sees it (`stateOfUser`). */
export interface LockoutState {
  factor: 'password' | 'totp' | 'recovery_code' | 'email_code';
  failures: number;
  /** At the hard limit: the factor does not work until a passkey sign-in or support lifts it. */
  locked: boolean;
  lastFailureAt: number;
  /** While the progressive delay runs (epoch ms); null when not delayed. */
  delayedUntil: number | null;
}
