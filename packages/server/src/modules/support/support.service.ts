import type { Kysely } from 'kysely';
import type { Database } from '../../db/database.ts';
import { CommonErrors } from '../../errors/common.errors.ts';
import type { DirectoryUser, UserDirectory } from '../accounts/accounts.module.ts';
import { searchAuditEvents, type AuditRecord } from '../audit/audit.module.ts';
import type { LockoutState } from '../fallback/fallback.module.ts';
import { decodeCursor, encodeCursor } from '../management/management.module.ts';
import type { DeviceSession } from '../sessions/sessions.module.ts';
import type { PasskeyView } from '../webauthn/webauthn.module.ts';
import { explainEvent, type Language, type LocalizedExplanation } from './explanations.ts';
import { eventTitle } from './titles.ts';

export interface TimelineItem {
  id: string;
  at: number;
  type: string;
  outcome: 'success' | 'failure' | 'info';
  title: string;
  actor: { kind: string | null; id: string | null };
  device: { browser: string | null; os: string | null; platform: string | null } | null;
  ip: string | null;
  credentialId: string | null;
  code: string | null;
  reason: string | null;
  explanation: LocalizedExplanation | null;
  data: Record<string, unknown> | null;
}

export interface UserOverview {
  user: DirectoryUser;
  passkeys: PasskeyView[];
  sessions: DeviceSession[];
  recoveryCodesLeft: number;
  emailVerified: boolean;
  fallbacks: { password: boolean; totp: boolean; emailCode: boolean; recoveryCodes: boolean };
  lockouts: LockoutState[];
}

export interface SupportService {
  timeline(userId: string, input: { cursor?: string; limit: number; language: Language }): Promise<{ items: TimelineItem[]; nextCursor: string | null }>;
  overview(userId: string): Promise<UserOverview>;
}

/** Client reports that say something began rather than ended well or badly. */
const INFO_CLIENT_OUTCOMES = new Set(['offered', 'started']);

/** What support sees of one audit event: a title, the device, and for a failure what it means and what to tell the user. */
export function toTimelineItem(e: AuditRecord, language: Language): TimelineItem {
  const clientOutcome = e.type === 'ceremony.reported' ? e.data?.outcome : undefined;
  const outcome = typeof clientOutcome === 'string' && INFO_CLIENT_OUTCOMES.has(clientOutcome) ? 'info' : e.type === 'email_code.sent' ? 'info' : e.outcome;
  const explanation = explainEvent({ type: e.type, outcome: e.outcome, errorCode: e.errorCode, reason: e.reason, data: e.data }, language) ?? null;
  return {
    id: e.id,
    at: e.at,
    type: e.type,
    outcome,
    title: eventTitle(e.type, e.data, language),
    actor: e.actor,
    device: e.browser || e.os || e.device ? { browser: e.browser, os: e.os, platform: e.device } : null,
    ip: e.ip,
    credentialId: e.credentialId,
    code: e.errorCode ?? (typeof e.data?.errorName === 'string' ? e.data.errorName : null),
    reason: e.reason,
    explanation,
    data: e.data,
  };
}

/**
 * The support console's view of one user (issue 13): the timeline of every audit event about
 * them, and an overview of how they can sign in. Reads only; other modules answer through the
 * narrow callbacks given here.
 */
export function createSupportService(deps: {
  db: Kysely<Database>;
  directory: UserDirectory;
  listPasskeys(userId: string): Promise<PasskeyView[]>;
  listSessions(userId: string): Promise<DeviceSession[]>;
  recoveryCodesLeft(userId: string): Promise<number>;
  hasPassword(userId: string): Promise<boolean>;
  hasTotp(userId: string): Promise<boolean>;
  /** Whether e-mail codes are a sign-in method on this server. */
  emailCodesEnabled: boolean;
  lockoutState(userId: string): Promise<LockoutState[]>;
}): SupportService {
  const { db, directory } = deps;
  async function existing(userId: string): Promise<DirectoryUser> {
    const user = await directory.findById(db, userId);
    if (!user) throw CommonErrors.not_found({ detail: 'No such user' });
    return user;
  }
  return {
    async timeline(userId, input) {
      await existing(userId);
      const before = input.cursor === undefined ? undefined : decodeCursor(input.cursor);
      // Every event about the user: their own, client reports of their sessions, and what staff
      // or API keys did to the account (the actor differs, the subject is the user).
      const rows = await searchAuditEvents(db, { subjectUserId: userId, limit: input.limit + 1, ...(before ? { before } : {}) });
      const items = rows.slice(0, input.limit);
      const last = items.at(-1);
      return { items: items.map((e) => toTimelineItem(e, input.language)), nextCursor: rows.length > input.limit && last ? encodeCursor(last.at, last.id) : null };
    },

    async overview(userId) {
      const user = await existing(userId);
      const [passkeys, sessions, recoveryCodesLeft, password, totp, lockouts] = await Promise.all([
        deps.listPasskeys(userId),
        deps.listSessions(userId),
        deps.recoveryCodesLeft(userId),
        deps.hasPassword(userId),
        deps.hasTotp(userId),
        deps.lockoutState(userId),
      ]);
      // Only verified addresses are stored (an unverified one waits in its e-mail code).
      const emailVerified = user.email !== null;
      return {
        user,
        passkeys,
        sessions,
        recoveryCodesLeft,
        emailVerified,
        fallbacks: { password, totp, emailCode: deps.emailCodesEnabled && emailVerified, recoveryCodes: recoveryCodesLeft > 0 },
        lockouts,
      };
    },
  };
}
