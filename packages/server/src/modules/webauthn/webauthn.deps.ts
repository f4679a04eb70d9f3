import type { Kysely } from 'kysely';
import type { Config } from '../../config/schema.ts';
import type { Database } from '../../db/database.ts';
import type { BoundStatement } from '../../db/prepared-query.ts';
import type { Clock } from '../../platform/clock.ts';
import type { Random } from '../../platform/random.ts';
import type { ParsedUserAgent } from '../../platform/user-agent.ts';
import type { AccountsService } from '../accounts/accounts.module.ts';
import type { AuditService } from '../audit/audit.module.ts';
import type { Provider } from '../passkey-names/passkey-names.ts';
import type { SessionsService } from '../sessions/sessions.module.ts';
import type { Notifier } from '../mail/mail.module.ts';
import type { ChallengeCodec } from './challenge-token.ts';
import type { Verifier } from './verifier.ts';
import type { WebauthnRepository } from './webauthn.repository.ts';

/** The two things registration needs of append tokens (modules/append-tokens), so that module stays a leaf. */
export interface AppendTokenGate {
  /** Binds a live token to the challenge it starts; undefined for an unknown, used or expired one. */
  bindToChallenge(token: string, challenge: string): Promise<{ id: string; userId: string } | undefined>;
  /** Uses the token for that ceremony, in the registration's transaction: true for exactly one caller. */
  consume(trx: Kysely<Database>, id: string, challenge: string): Promise<boolean>;
}

/** What the ceremony services are built from; assembled once in app.ts. */
export interface WebauthnDeps {
  db: Kysely<Database>;
  config: Readonly<Config>;
  clock: Clock;
  random: Random;
  verifier: Verifier;
  /** Seals and opens the self-contained sign-in challenges (challenge-token.ts). */
  challenges: ChallengeCodec;
  repository: WebauthnRepository;
  accounts: AccountsService;
  sessions: SessionsService;
  audit: AuditService;
  providerOf: (aaguid: string) => Provider;
  parseUserAgent: (ua: string | null) => ParsedUserAgent;
  /** The `imaginaryCredentials` subkey (platform/keys.ts): fake credential IDs of unknown usernames. */
  imaginaryCredentialsKey: Uint8Array;
  notifier: Notifier;
  appendTokens: AppendTokenGate;
  /** Whether the user could still sign in without a passkey (a verified e-mail with e-mail codes enabled; SEC-32). */
  hasOtherSignInMethod(userId: string): Promise<boolean>;
  /** A passkey proved the user: the statement that clears their fallback failure counters (SEC-34: success clears), run in the sign-in's batch. */
  clearFailureCounters(userId: string): BoundStatement;
}

/** The COSE algorithms offered, and so the only ones accepted (SEC-13): EdDSA, ES256, RS256. */
export const SUPPORTED_ALGORITHMS = [-8, -7, -257] as const;
