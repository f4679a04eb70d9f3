import type { Kysely } from 'kysely';
import type { Database } from '../../db/database.ts';
import type { Clock } from '../../platform/clock.ts';
import { hmacSha256, toBase64Url } from '../../platform/encoding.ts';
import type { Random } from '../../platform/random.ts';
import type { RequestContext } from '../../platform/request-context.ts';
import type { ParsedUserAgent } from '../../platform/user-agent.ts';
import type { AuditService } from '../audit/audit.module.ts';
import { family, type RolloutFeature, type RolloutService, type RolloutSubject } from '../rollout/rollout.module.ts';
import type { PasskeyFactsOfUser } from '../webauthn/webauthn.module.ts';
import { decide, ecosystemOf, type Decision, type Decisions, type RolloutPhases } from './intelligence.rules.ts';
import { createIntelligenceRepository, type DeviceSignal } from './intelligence.repository.ts';

/** What the client reports about itself (the elements fill it from the browser's own answers). */
export interface ClientReport {
  webauthn: boolean;
  platformAuthenticator?: boolean | undefined;
  conditionalMediation?: boolean | undefined;
  hybridTransport?: boolean | undefined;
  /** PublicKeyCredential.getClientCapabilities(), as returned. */
  capabilities?: Record<string, boolean> | undefined;
}

export interface DecisionRequest {
  client: ClientReport;
  deviceId?: string | undefined;
  /** Identifier-first: the username typed so far. Ignored when signed in. */
  identifier?: string | undefined;
  sessionUserId: string | null;
  userAgent: string | null;
}

export type DecisionsWithVariant = Omit<Decisions, 'appendPrompt'> & { appendPrompt: Decision & { variant: string } };

/**
 * The seam for A/B experiments (issue 14 item 3): which variant of a feature a subject sees.
 * Undefined means "default"; until experiments exist, nobody has another.
 */
export type VariantFor = (feature: RolloutFeature, subject: { userId: string | null; deviceKey: string | null }) => string | undefined | Promise<string | undefined>;

export interface IntelligenceConfig {
  autoHealAfterFailures: number;
  failureWindowDays: number;
  declineCooldownDays: number;
  /** Off: an identifier is ignored (the passkey button is decided as for a visitor). */
  identifierHints: boolean;
}

export interface IntelligenceService {
  decide(request: DecisionRequest): Promise<DecisionsWithVariant>;
  /** A "not now" to the append prompt, with its audit row, in one commit. */
  recordDecline(context: RequestContext, input: { userId: string; deviceId?: string | undefined }): Promise<void>;
  /** Telemetry hook: a ceremony outcome a device reported, in the caller's transaction. */
  recordCeremony(
    trx: Kysely<Database>,
    input: { deviceId: string; ceremony: 'registration' | 'authentication'; outcome: string; credentialId?: string | undefined; userId: string | null; userAgent: string | null },
  ): Promise<void>;
  recentDevices(since: number, limit: number): Promise<{ deviceKey: string; os: string | null; browser: string | null; platform: string | null }[]>;
  sweep(): Promise<number>;
}

const DAY_MS = 86_400_000;
const SIGNAL_RETENTION_DAYS = 90;
const FAILED = new Set(['cancelled', 'timed_out', 'error']);

/** Failures since the last success on this device (signals newest first). */
export function failuresSinceSuccess(signals: readonly DeviceSignal[]): number {
  let n = 0;
  for (const s of signals) {
    if (s.kind === 'success') break;
    if (s.kind === 'failure') n += 1;
  }
  return n;
}

export function createIntelligenceService(deps: {
  db: Kysely<Database>;
  clock: Clock;
  random: Random;
  audit: AuditService;
  rollout: RolloutService;
  parseUserAgent: (ua: string | null) => ParsedUserAgent;
  providerOf: (aaguid: string) => { name: string };
  /** accounts: the uniqueness key of a username (or a tag that matches nobody). */
  lookupKeyOf: (username: string) => string;
  /** webauthn: a user and the facts of their passkeys. */
  passkeyFacts: (by: { usernameKey: string } | { userId: string }, trx?: Kysely<Database>) => Promise<PasskeyFactsOfUser | undefined>;
  /** HKDF subkey `deviceIds`: device ids are stored and bucketed as HMACs under it. */
  deviceIdKey: Uint8Array;
  variantFor?: VariantFor | undefined;
  config: IntelligenceConfig;
}): IntelligenceService {
  const repository = createIntelligenceRepository();
  const deviceKeyOf = (deviceId: string) => toBase64Url(hmacSha256(deps.deviceIdKey, `device:${deviceId}`)).slice(0, 32);
  const variantFor: VariantFor = deps.variantFor ?? (() => undefined);
  const describe = (ua: string | null) => {
    const parsed = deps.parseUserAgent(ua);
    return { os: family(parsed.os), browser: family(parsed.browser), platform: parsed.device };
  };

  return {
    async decide(request) {
      const now = deps.clock.now();
      const ua = describe(request.userAgent);
      const deviceKey = request.deviceId ? deviceKeyOf(request.deviceId) : null;
      const caps = request.client.capabilities ?? {};
      const device = {
        webauthn: request.client.webauthn,
        platformAuthenticator: request.client.webauthn && (request.client.platformAuthenticator ?? caps.userVerifyingPlatformAuthenticator ?? caps.passkeyPlatformAuthenticator ?? false),
        conditionalMediation: request.client.webauthn && (request.client.conditionalMediation ?? caps.conditionalGet ?? false),
        hybrid: request.client.webauthn && (request.client.hybridTransport ?? caps.hybridTransport ?? false),
        os: ua.os,
        browser: ua.browser,
      };
      const signedIn = request.sessionUserId !== null;
      const identifier = !signedIn && deps.config.identifierHints && request.identifier ? request.identifier : undefined;
      // The same queries whatever the identifier: one user+passkeys read (no row for an unknown
      // username), one device read, one decline read.
      const [subject, signals, declined] = await Promise.all([
        request.sessionUserId !== null
          ? deps.passkeyFacts({ userId: request.sessionUserId })
          : identifier !== undefined
            ? deps.passkeyFacts({ usernameKey: deps.lookupKeyOf(identifier) })
            : Promise.resolve(undefined),
        deviceKey ? repository.recent(deps.db, deviceKey, now - deps.config.failureWindowDays * DAY_MS) : Promise.resolve([]),
        request.sessionUserId !== null ? repository.declinedSince(deps.db, request.sessionUserId, now - deps.config.declineCooldownDays * DAY_MS) : Promise.resolve(false),
      ]);
      const passkeys = (subject?.passkeys ?? []).map((p) => ({
        id: p.id,
        synced: p.backedUp,
        ecosystem: ecosystemOf({ provider: deps.providerOf(p.aaguid).name, transports: p.transports, createdOs: family(p.createdOs) }),
      }));
      const usedHere = new Set(signals.flatMap((s) => (s.kind === 'success' && s.credentialId ? [s.credentialId] : [])));

      const base: RolloutSubject = { ...(deviceKey ? { deviceId: deviceKey } : {}), os: ua.os, browser: ua.browser, platform: ua.platform };
      const sessionUser = signedIn ? subject?.user : undefined;
      // The identifier's user counts for the passkey button only once it has passkeys (intelligence.rules.ts).
      const buttonUser = signedIn ? sessionUser : passkeys.length > 0 ? subject?.user : undefined;
      const phases = (feature: RolloutFeature, user: RolloutSubject['user']): RolloutPhases => ({
        device: deps.rollout.evaluate(feature, base, { userCriteria: 'skip' }),
        user: deps.rollout.evaluate(feature, { ...base, user }),
      });
      const decisions = decide({
        device,
        signedIn,
        subjectKnown: signedIn || identifier !== undefined,
        passkeys,
        usedHere,
        recentFailures: failuresSinceSuccess(signals),
        declinedRecently: declined,
        rollout: {
          passkey_button: phases('passkey_button', buttonUser),
          autofill: phases('autofill', sessionUser),
          append_prompt: phases('append_prompt', sessionUser),
          passkey_first_signup: phases('passkey_first_signup', sessionUser),
        },
        autoHealAfter: deps.config.autoHealAfterFailures,
      });
      const variant = (decisions.appendPrompt.offer ? await variantFor('append_prompt', { userId: request.sessionUserId, deviceKey }) : undefined) ?? 'default';
      return { ...decisions, appendPrompt: { ...decisions.appendPrompt, variant } };
    },

    async recordDecline(context, input) {
      const now = deps.clock.now();
      const ua = describe(context.userAgent);
      await deps.db.transaction().execute(async (trx) => {
        await repository.insert(trx, {
          id: deps.random.uuid(),
          device_key: input.deviceId ? deviceKeyOf(input.deviceId) : `user:${input.userId}`,
          kind: 'declined',
          ceremony: null,
          user_id: input.userId,
          credential_id: null,
          os: ua.os,
          browser: ua.browser,
          platform: ua.platform,
          created_at: now,
        });
        await deps.audit.record(trx, context, { type: 'passkey.append_declined', outcome: 'success', subjectUserId: input.userId });
      });
    },

    async recordCeremony(trx, input) {
      const kind = input.outcome === 'completed' ? 'success' : FAILED.has(input.outcome) ? 'failure' : undefined;
      if (!kind) return;
      // A credential id is kept only when it is one of the signed-in user's own passkeys.
      let credentialId: string | null = null;
      if (kind === 'success' && input.credentialId && input.userId) {
        // In the caller's transaction: on SQLite a second connection would wait for it.
        const facts = await deps.passkeyFacts({ userId: input.userId }, trx);
        if (facts?.passkeys.some((p) => p.id === input.credentialId)) credentialId = input.credentialId;
      }
      const ua = describe(input.userAgent);
      await repository.insert(trx, {
        id: deps.random.uuid(),
        device_key: deviceKeyOf(input.deviceId),
        kind,
        ceremony: input.ceremony,
        user_id: input.userId,
        credential_id: credentialId,
        os: ua.os,
        browser: ua.browser,
        platform: ua.platform,
        created_at: deps.clock.now(),
      });
    },

    recentDevices: (since, limit) => repository.recentDevices(deps.db, since, limit),
    sweep: () => repository.sweep(deps.db, deps.clock.now() - SIGNAL_RETENTION_DAYS * DAY_MS),
  };
}
