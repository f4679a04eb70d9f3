import type { Kysely } from 'kysely';
import type { Database } from '../../db/database.ts';
import type { Clock } from '../../platform/clock.ts';
import type { RequestContext } from '../../platform/request-context.ts';
import type { AuditService } from '../audit/audit.module.ts';
import { RolloutErrors } from './rollout.errors.ts';
import { createRolloutRepository } from './rollout.repository.ts';
import {
  evaluateRule,
  family,
  featureSalt,
  isRolloutFeature,
  openRule,
  PLATFORMS,
  ROLLOUT_FEATURES,
  type Platform,
  type RolloutFeature,
  type RolloutOutcome,
  type RolloutRule,
  type RolloutSubject,
} from './rollout.rules.ts';

/** What a client may set; absent fields keep the stored value (PATCH) or the open default (PUT). */
export interface RolloutRuleInput {
  percentage?: number | undefined;
  bucketBy?: 'user' | 'device' | undefined;
  operatingSystems?: string[] | undefined;
  browsers?: string[] | undefined;
  platforms?: string[] | undefined;
  segments?: string[] | undefined;
  allow?: string[] | undefined;
  deny?: string[] | undefined;
  killSwitch?: boolean | undefined;
}

export interface RolloutPreview {
  feature: RolloutFeature;
  /** Users the rule's user criteria reach (lists, segment, and the percentage when bucketed by user). */
  users: { total: number; reached: number; share: number; truncated: boolean };
  /** Devices seen in the last `windowDays` (device signals) the device criteria reach (OS, browser, platform, a device percentage). */
  devices: { windowDays: number; total: number; reached: number; share: number };
}

export interface RecentDevice {
  deviceKey: string;
  os: string | null;
  browser: string | null;
  platform: string | null;
}

export interface RolloutService {
  /** From the in-memory snapshot: no I/O, microseconds. */
  evaluate(feature: RolloutFeature, subject: RolloutSubject, options?: { userCriteria?: 'apply' | 'skip' }): RolloutOutcome;
  /** The version of the snapshot evaluations use. */
  version(): number;
  list(): Promise<RolloutRule[]>;
  get(feature: string): Promise<RolloutRule>;
  put(feature: string, input: RolloutRuleInput, mode: 'replace' | 'merge', context: RequestContext): Promise<RolloutRule>;
  remove(feature: string, context: RequestContext): Promise<void>;
  preview(feature: string, candidate: RolloutRuleInput | undefined): Promise<RolloutPreview>;
  /** Reloads the snapshot if the version row moved; true when it did. */
  refresh(): Promise<boolean>;
  start(onError: (err: unknown) => void): void;
  stop(): void;
}

const SEGMENT = /^[A-Za-z0-9_.-]{1,64}$/;
const LIST_MAX = 1000;
const PREVIEW_MAX_USERS = 1_000_000;
const PREVIEW_PAGE = 5000;
const PREVIEW_DEVICE_DAYS = 30;

function checkList(name: string, values: string[] | undefined, normalize: (v: string) => string | null): string[] | undefined {
  if (values === undefined) return undefined;
  if (values.length > LIST_MAX) throw RolloutErrors.rollout_rule_invalid({ detail: `/${name}: at most ${LIST_MAX} entries` });
  const out: string[] = [];
  for (const raw of values) {
    const value = normalize(raw.trim());
    if (!value) throw RolloutErrors.rollout_rule_invalid({ detail: `/${name}: "${raw.slice(0, 40)}" is not valid` });
    if (!out.includes(value)) out.push(value);
  }
  return out;
}

/** Checks and normalises an input onto a base rule (pure). */
export function applyRuleInput(base: RolloutRule, input: RolloutRuleInput, now: number, updatedBy: string | null): RolloutRule {
  if (input.percentage !== undefined) {
    const p = input.percentage;
    if (!(p >= 0 && p <= 100) || Math.abs(Math.round(p * 100) - p * 100) > 1e-6) {
      throw RolloutErrors.rollout_rule_invalid({ detail: '/percentage: 0 to 100 with at most two decimals' });
    }
  }
  const platforms = checkList('platforms', input.platforms, (v) => ((PLATFORMS as readonly string[]).includes(v.toLowerCase()) ? v.toLowerCase() : null));
  const id = (v: string) => (v.length > 0 && v.length <= 255 ? v : null);
  return {
    feature: base.feature,
    percentage: input.percentage ?? base.percentage,
    bucketBy: input.bucketBy ?? base.bucketBy,
    operatingSystems: checkList('operatingSystems', input.operatingSystems, (v) => (v.length <= 64 ? family(v) : null)) ?? base.operatingSystems,
    browsers: checkList('browsers', input.browsers, (v) => (v.length <= 64 ? family(v) : null)) ?? base.browsers,
    platforms: (platforms as Platform[] | undefined) ?? base.platforms,
    segments: checkList('segments', input.segments, (v) => (SEGMENT.test(v) ? v : null)) ?? base.segments,
    allow: checkList('allow', input.allow, id) ?? base.allow,
    deny: checkList('deny', input.deny, id) ?? base.deny,
    killSwitch: input.killSwitch ?? base.killSwitch,
    updatedAt: now,
    updatedBy,
  };
}

/**
 * Gradual rollout (issue 14 item 2): one rule per feature, stored in the database, evaluated from
 * an in-memory snapshot. Every change bumps `rollout_state.version` in its own commit (with its
 * audit row); every node polls that one row every `refreshIntervalMs` and reloads the rules when it
 * moved, so a kill switch is seen everywhere within one interval plus one query.
 */
export function createRolloutService(deps: {
  db: Kysely<Database>;
  clock: Clock;
  audit: AuditService;
  /** HKDF subkey `rolloutBucketing` (platform/keys.ts); each feature's salt is an HMAC of it. */
  bucketingKey: Uint8Array;
  refreshIntervalMs: number;
  /** Users a page at a time (the accounts module's door): `cursor` null for the first page, `next` null after the last. */
  usersPage: (cursor: string | null, limit: number) => Promise<{ users: { id: string; externalId: string | null; segment: string | null }[]; next: string | null }>;
  /** Devices seen since a time (the intelligence module's door), at most `limit`. */
  recentDevices: (since: number, limit: number) => Promise<RecentDevice[]>;
}): RolloutService {
  const repository = createRolloutRepository();
  const salts = new Map(ROLLOUT_FEATURES.map((f) => [f, featureSalt(deps.bucketingKey, f)]));
  const saltOf = (feature: RolloutFeature) => salts.get(feature) as Buffer;
  let snapshot: { version: number; rules: Map<RolloutFeature, RolloutRule> } = { version: -1, rules: new Map() };
  let timer: NodeJS.Timeout | undefined;
  let refreshing: Promise<boolean> | undefined;

  const featureOf = (feature: string): RolloutFeature => {
    if (!isRolloutFeature(feature)) throw RolloutErrors.rollout_feature_unknown();
    return feature;
  };
  const actorOf = (context: RequestContext) => (context.actor ? `${context.actor.kind}:${context.actor.id ?? ''}` : null);

  async function reload(): Promise<boolean> {
    const version = await repository.version(deps.db);
    if (version === snapshot.version) return false;
    const fresh = await repository.snapshot(deps.db);
    snapshot = { version: fresh.version, rules: new Map(fresh.rules.map((r) => [r.feature, r])) };
    return true;
  }

  // A reload already under way may have read the version before this node's own change committed.
  async function refreshAfterChange(): Promise<void> {
    await refreshing?.catch(() => false);
    await service.refresh();
  }

  const service: RolloutService = {
    evaluate(feature, subject, options) {
      return evaluateRule(snapshot.rules.get(feature), saltOf(feature), subject, options);
    },
    version: () => snapshot.version,

    async list() {
      const { rules } = await repository.snapshot(deps.db);
      const stored = new Map(rules.map((r) => [r.feature, r]));
      return ROLLOUT_FEATURES.map((f) => stored.get(f) ?? openRule(f, 0));
    },

    async get(feature) {
      const f = featureOf(feature);
      return (await repository.find(deps.db, f)) ?? openRule(f, 0);
    },

    async put(feature, input, mode, context) {
      const f = featureOf(feature);
      const now = deps.clock.now();
      const rule = await deps.db.transaction().execute(async (trx) => {
        const before = await repository.find(trx, f);
        const next = applyRuleInput(mode === 'merge' && before ? before : openRule(f, now), input, now, actorOf(context));
        await repository.put(trx, next);
        await deps.audit.record(trx, context, {
          type: 'rollout_rule.changed',
          outcome: 'success',
          data: { feature: f, before: before ? ruleData(before) : null, after: ruleData(next) },
        });
        return next;
      });
      await refreshAfterChange();
      return rule;
    },

    async remove(feature, context) {
      const f = featureOf(feature);
      const now = deps.clock.now();
      await deps.db.transaction().execute(async (trx) => {
        const before = await repository.find(trx, f);
        if (!before || !(await repository.delete(trx, f, now))) throw RolloutErrors.rollout_feature_unknown({ detail: `No rule is stored for ${f}` });
        await deps.audit.record(trx, context, { type: 'rollout_rule.changed', outcome: 'success', data: { feature: f, before: ruleData(before), after: null } });
      });
      await refreshAfterChange();
    },

    async preview(feature, candidate) {
      const f = featureOf(feature);
      const stored = (await repository.find(deps.db, f)) ?? openRule(f, 0);
      const rule = candidate ? applyRuleInput(stored, candidate, deps.clock.now(), null) : stored;
      const salt = saltOf(f);
      // Users: only what is known of a user (lists, segment, a user-bucketed percentage).
      const userRule: RolloutRule = { ...rule, operatingSystems: [], browsers: [], platforms: [], ...(rule.bucketBy === 'device' ? { percentage: 100 } : {}) };
      let total = 0;
      let reached = 0;
      let cursor: string | null = null;
      do {
        const page = await deps.usersPage(cursor, PREVIEW_PAGE);
        for (const user of page.users) {
          total += 1;
          if (evaluateRule(userRule, salt, { user, os: null, browser: null, platform: null }).included) reached += 1;
        }
        cursor = page.next;
      } while (cursor !== null && total < PREVIEW_MAX_USERS);
      const since = deps.clock.now() - PREVIEW_DEVICE_DAYS * 86_400_000;
      const devices = await deps.recentDevices(since, PREVIEW_MAX_USERS);
      const deviceReached = devices.filter((d) => evaluateRule(rule, salt, { deviceId: d.deviceKey, os: d.os, browser: d.browser, platform: d.platform }, { userCriteria: 'skip' }).included).length;
      const share = (n: number, of: number) => (of === 0 ? 0 : Math.round((n / of) * 10_000) / 10_000);
      return {
        feature: f,
        users: { total, reached, share: share(reached, total), truncated: total >= PREVIEW_MAX_USERS },
        devices: { windowDays: PREVIEW_DEVICE_DAYS, total: devices.length, reached: deviceReached, share: share(deviceReached, devices.length) },
      };
    },

    refresh() {
      // One reload at a time: a poll and a local change may ask together.
      refreshing ??= reload().finally(() => {
        refreshing = undefined;
      });
      return refreshing;
    },

    start(onError) {
      if (timer) return;
      timer = setInterval(() => {
        service.refresh().catch(onError);
      }, deps.refreshIntervalMs);
      timer.unref();
    },
    stop() {
      if (timer) clearInterval(timer);
      timer = undefined;
    },
  };
  return service;
}

/** What an audit row keeps of a rule (everything but the bookkeeping). */
function ruleData(rule: RolloutRule) {
  const { updatedAt: _at, updatedBy: _by, ...data } = rule;
  return data;
}
