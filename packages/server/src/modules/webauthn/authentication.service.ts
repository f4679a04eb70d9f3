import type { AuthenticationResponseJSON } from '@simplewebauthn/server';
import { writeBatch, type BatchStep } from '../../db/prepared-query.ts';
import type { AppError } from '../../errors/app-error.ts';
import { CommonErrors } from '../../errors/common.errors.ts';
import { hmacSha256, toBase64Url } from '../../platform/encoding.ts';
import type { RequestContext } from '../../platform/request-context.ts';
import type { User } from '../accounts/accounts.module.ts';
import { replacedSessionEvent, stepUpAmr, type AuthenticatedSession, type SessionView } from '../sessions/sessions.module.ts';
import type { ChallengeAudience, ChallengeClaims } from './challenge-token.ts';
import { challengeError, signInChallengeProblem } from './challenges.ts';
import { verifyAssertionResponse } from './assertion-verification.ts';
import { crossOriginProblem, parseClientData } from './client-data.ts';
import { toPasskeyView, type PasskeyView } from './passkey-view.ts';
import type { WebauthnDeps } from './webauthn.deps.ts';
import { WebauthnErrors } from './webauthn.errors.ts';

/** WebAuthn L3 §5.5 PublicKeyCredentialRequestOptionsJSON. */
export interface RequestOptionsJSON {
  challenge: string;
  timeout: number;
  rpId: string;
  allowCredentials: { id: string; type: 'public-key'; transports?: string[] }[];
  userVerification: string;
}

/**
 * WebAuthn L3 §7.2 step 22 (SEC-10): the refusal was a signature counter that did not grow, a
 * possible cloned authenticator. The client sees `verification_failed` like any other refusal.
 */
export function isCloneSuspected(error: AppError): boolean {
  return error.internal?.startsWith('counter') === true;
}

/**
 * Identifier-first options are answered no sooner than this after the request arrived, known
 * username or not (SEC-20): well above the lookup's own time, so its difference cannot show.
 */
const IDENTIFIER_FIRST_FLOOR_MS = 2;

/** Resolves at `deadline` (performance.now() time), or at once when it has passed. */
function waitUntil(deadline: number): Promise<void> {
  const remaining = deadline - performance.now();
  return remaining > 0 ? new Promise((resolve) => setTimeout(resolve, Math.ceil(remaining))) : Promise.resolve();
}

const FAKE_TRANSPORTS = [['internal'], ['hybrid', 'internal'], ['internal'], ['usb', 'nfc']];

export function createAuthenticationService(deps: WebauthnDeps) {
  const { config } = deps;
  const ttlMs = config.webauthn.challengeTtlSeconds * 1000;
  const requireUserVerification = config.webauthn.userVerification === 'required';

  /**
   * Imaginary credentials for a username with no account (WebAuthn L3 §14.6.2; SEC-20): derived
   * under their own subkey, so the same username always gets the same answer and nobody can
   * tell it from a real account's.
   */
  function imaginaryCredentials(usernameKey: string): { id: string; transports: string }[] {
    const seed = hmacSha256(deps.imaginaryCredentialsKey, `imaginary-credentials:${usernameKey}`);
    const count = 1 + ((seed[0] ?? 0) % 2);
    return Array.from({ length: count }, (_, i) => ({
      id: toBase64Url(hmacSha256(deps.imaginaryCredentialsKey, `imaginary-credential:${i}:${usernameKey}`)),
      transports: JSON.stringify(FAKE_TRANSPORTS[(seed[1 + i] ?? 0) % FAKE_TRANSPORTS.length]),
    }));
  }

  /**
   * Records the failure and, once the challenge is known to be ours, uses it up (SEC-01: a
   * challenge is consumed by any attempt), in one commit.
   */
  async function failure(
    context: RequestContext,
    error: AppError,
    userId: string | null,
    credentialId: string | null,
    challenge?: ChallengeClaims,
  ): Promise<never> {
    const steps: BatchStep[] = challenge ? [{ statement: deps.repository.markChallengeConsumed(challenge) }] : [];
    steps.push({
      statement: deps.audit.statement(context, {
        type: isCloneSuspected(error) ? 'passkey.clone_suspected' : 'passkey.authentication_failed',
        outcome: 'failure',
        subjectUserId: userId,
        credentialId,
        errorCode: error.code,
        reason: error.internal ?? error.detail ?? error.title,
      }),
    });
    await writeBatch(deps.db, steps);
    throw error;
  }

  /** Every reason a valid-looking assertion is refused gets the same public code (SEC-20). */
  const refuse = (reason: string, cause?: unknown) => WebauthnErrors.verification_failed({ internal: reason, cause });

  /**
   * WebAuthn L3 §5.5 request options, with a challenge that carries what it is bound to
   * (challenge-token.ts): nothing is written until the verify.
   */
  function issueOptions(input: {
    ceremony: 'authentication' | 'step_up';
    /** Whose passkeys may answer: anyone's (discoverable), one user's, or nobody's (an unknown username). */
    audience: ChallengeAudience;
    allow: { id: string; transports: string }[];
    binding: string;
    userVerification: string;
    /** A step-up's session: only it may answer. */
    sessionId?: string;
  }): RequestOptionsJSON {
    const challenge = deps.challenges.issue({
      nonce: deps.random.bytes(32),
      expiresAt: deps.clock.now() + ttlMs,
      ceremony: input.ceremony,
      audience: input.audience,
      binding: input.binding,
      ...(input.sessionId !== undefined ? { sessionId: input.sessionId } : {}),
    });
    return {
      challenge,
      timeout: ttlMs,
      rpId: config.rp.id,
      allowCredentials: input.allow.map((c) => ({ id: c.id, type: 'public-key' as const, transports: JSON.parse(c.transports) as string[] })),
      userVerification: input.userVerification,
    };
  }

  return {
    /** Discoverable (no username: conditional UI, passkey button) or identifier-first sign-in. */
    async start(input: { username?: string | undefined; binding: string }): Promise<RequestOptionsJSON> {
      let audience: ChallengeAudience = null;
      let allow: { id: string; transports: string }[] = [];
      if (input.username !== undefined) {
        // SEC-20: every path does the same work, measured by `npm run bench:timing`. An invalid
        // username is looked up too (under a key that cannot exist), the key for one is derived
        // for every username, and imaginary credentials are derived for real accounts too. The
        // database cannot help doing more for a username that has rows (its passkeys are read:
        // ~15 µs here), so the answer waits until a fixed time after the request began.
        const answerNotBefore = performance.now() + IDENTIFIER_FIRST_FLOOR_MS;
        const key = deps.accounts.lookupKeyOf(input.username);
        const found = await deps.repository.findDescriptorsByUsernameKey(deps.db, key);
        const imaginary = imaginaryCredentials(key);
        if (found.userId && found.descriptors.length > 0) {
          audience = { userId: found.userId };
          allow = found.descriptors;
        } else {
          audience = { unknownUsernameKey: key };
          allow = imaginary;
        }
        await waitUntil(answerNotBefore);
      }
      // Discoverable sign-in (no username) offers no list, so any passkey may answer; with a
      // username, only that account's passkeys (SEC-09), and none for a username without one.
      return issueOptions({
        ceremony: 'authentication',
        audience,
        allow,
        binding: input.binding,
        userVerification: config.webauthn.userVerification,
      });
    },

    /**
     * Step-up (SEC-31): options for the signed-in user's own passkeys with user verification
     * required; the verify refreshes the session's auth time instead of opening a new session.
     * The challenge is bound to the session that asks: another session of the same user cannot
     * use it.
     */
    async startStepUp(input: { found: AuthenticatedSession; binding: string }): Promise<RequestOptionsJSON> {
      const descriptors = await deps.repository.listDescriptors(deps.db, input.found.user.id);
      return issueOptions({
        ceremony: 'step_up',
        audience: { userId: input.found.user.id },
        allow: descriptors,
        binding: input.binding,
        userVerification: 'required',
        sessionId: input.found.session.id,
      });
    },

    /**
     * WebAuthn L3 §7.2 around the library, then counter, session and audit in one transaction.
     * With `stepUp`, the assertion must come from the session's own user with UV, and the
     * existing session is refreshed (and returned without a token) instead of a new one opened.
     * Without, `carried` (the live session the request came with, if any) ends in the same commit.
     */
    async finish(input: {
      response: AuthenticationResponseJSON;
      binding: string | undefined;
      context: RequestContext;
      stepUp?: AuthenticatedSession;
      carried?: AuthenticatedSession | undefined;
    }): Promise<{ user: User; passkey: PasskeyView; session: SessionView & { token?: string } }> {
      const { response, context, stepUp, carried } = input;
      const parsed = parseClientData(response.response?.clientDataJSON);
      if (!parsed.ok) return failure(context, WebauthnErrors.invalid_response({ detail: parsed.problem }), null, null);
      const clientData = parsed.clientData;

      const challenge = deps.challenges.open(clientData.challenge);
      if (!challenge) return failure(context, challengeError('unknown or already used challenge'), null, null);
      // The challenge names its user only by a keyed tag (SEC-20); a step-up's user is the session's.
      const knownUserId = stepUp?.user.id ?? null;
      // One read: the early refusal of a replay (the batch that signs in re-checks it atomically)
      // and the credential the assertion names, used below once the cheaper checks have passed.
      const idLooksValid = typeof response.id === 'string' && response.id.length > 0 && response.id.length <= 1400;
      const lookup = await deps.repository.lookUpSignIn(deps.db, { challenge, credentialId: idLooksValid ? response.id : '' });
      if (lookup.challengeUsed) {
        return failure(context, challengeError('unknown or already used challenge'), knownUserId, null);
      }
      // From here on, every failure uses the challenge up (SEC-01).
      const fail = (error: AppError, userId: string | null, credentialId: string | null) => failure(context, error, userId, credentialId, challenge);
      const now = deps.clock.now();
      const problem = signInChallengeProblem(challenge, { ceremony: stepUp ? 'step_up' : 'authentication', binding: input.binding, now });
      if (problem) return fail(challengeError(problem), knownUserId, null);
      if (stepUp && !(deps.challenges.isFor(challenge, stepUp.user.id) && deps.challenges.isForSession(challenge, stepUp.session.id))) {
        return fail(challengeError('step-up finished by another session than the one that started it'), knownUserId, null);
      }

      if (typeof response.id !== 'string' || response.id !== response.rawId || response.id.length === 0 || response.id.length > 1400) {
        return fail(WebauthnErrors.invalid_response({ detail: 'id and rawId must be the same base64url credential ID' }), knownUserId, null);
      }
      const crossOrigin = crossOriginProblem(clientData, config.rp.topOrigins);
      if (crossOrigin) return fail(refuse(crossOrigin), knownUserId, response.id);

      const { credential } = lookup;
      if (!credential) return fail(refuse('unknown credential'), knownUserId, response.id);
      // SEC-08/09, WebAuthn L3 §7.2 step 6: with a username (or a step-up), only that user's
      // passkeys were offered and may answer; for a username without an account, none.
      if (challenge.userTag !== null && !deps.challenges.isFor(challenge, credential.user_id)) {
        return fail(refuse('credential belongs to another user than the one named (or the username has no account)'), knownUserId, response.id);
      }
      // SEC-09: allowCredentials listed that user's passkeys when the options were made; one
      // registered since was not in it.
      if (challenge.userTag !== null && credential.created_at > challenge.expiresAt - ttlMs) {
        return fail(refuse('credential was not in allowCredentials (registered after the options were made)'), knownUserId, response.id);
      }
      const userHandle = response.response.userHandle;
      if (challenge.userTag === null && !userHandle) {
        return fail(refuse('discoverable sign-in without userHandle'), credential.user_id, response.id);
      }
      if (userHandle && userHandle !== credential.user_handle) {
        return fail(refuse('userHandle does not own the credential'), credential.user_id, response.id);
      }
      if (credential.status !== 'active') return fail(refuse(`account is ${credential.status}`), credential.user_id, response.id);

      const verified = await verifyAssertionResponse(deps.verifier, response, {
        challenge: clientData.challenge,
        origins: config.rp.origins,
        rpId: config.rp.id,
        // SEC-31: a step-up must prove user verification whatever the sign-in policy.
        requireUserVerification: requireUserVerification || stepUp !== undefined,
        credential: {
          id: credential.id,
          publicKey: new Uint8Array(credential.public_key),
          counter: credential.sign_count,
          transports: JSON.parse(credential.transports) as string[],
          deviceType: credential.device_type,
        },
      });
      if (!verified.ok) return fail(refuse(verified.reason, verified.cause), credential.user_id, credential.id);
      const info = verified.info;

      const user: User = {
        id: credential.user_id,
        username: credential.username,
        displayName: credential.display_name,
        userHandle: credential.user_handle,
        status: credential.status,
        createdAt: 0,
      };
      // One commit (SEC-01, SEC-10): the challenge used up and the counter moved, each a
      // compare-and-set that rolls the whole batch back when another request got there first;
      // then the session (or step-up), its audit rows, and the fallback failure counters cleared.
      const steps: BatchStep[] = [
        { statement: deps.repository.markChallengeConsumed(challenge), expectOne: true },
        {
          statement: deps.repository.recordSignIn({
            id: credential.id,
            storedCount: credential.sign_count,
            newCount: info.newCounter,
            backedUp: info.credentialBackedUp,
            now,
          }),
          expectOne: true,
        },
      ];
      let session: SessionView & { token?: string };
      if (stepUp) {
        // A passkey after a password completes a two-factor sign-in (amr "mfa", AAL2).
        // The route let through only a full session or one waiting for exactly this factor; the
        // update re-checks that atomically (another request may have finished or ended it).
        const secondFactor = stepUp.session.scope === 'second_factor';
        const amr = stepUpAmr(stepUp.session.amr, secondFactor);
        const raised = deps.sessions.stepUpStatement(stepUp.session, { userVerified: info.userVerified, amr, scope: 'full' });
        steps.push(
          { statement: raised.statement, expectOne: true },
          {
            statement: deps.audit.statement(context, {
              type: 'session.stepped_up',
              outcome: 'success',
              subjectUserId: user.id,
              credentialId: credential.id,
              sessionId: stepUp.session.id,
            }),
          },
        );
        session = { ...stepUp.session, token: raised.token, scope: 'full' as const, secondFactor: null, amr, userVerified: info.userVerified, authTime: now };
      } else {
        const opened = deps.sessions.open({ userId: user.id, amr: ['passkey'], userVerified: info.userVerified, context, replaces: carried?.session });
        session = opened.view;
        steps.push(
          ...opened.statements.map((statement) => ({ statement })),
          {
            statement: deps.audit.statement(context, {
              type: 'passkey.authenticated',
              outcome: 'success',
              subjectUserId: user.id,
              credentialId: credential.id,
              sessionId: session.id,
              data: { userVerified: info.userVerified, backedUp: info.credentialBackedUp, signCount: info.newCounter },
            }),
          },
          {
            statement: deps.audit.statement(context, {
              type: 'session.created',
              outcome: 'success',
              subjectUserId: user.id,
              sessionId: session.id,
              credentialId: credential.id,
              data: { method: 'passkey', userVerified: info.userVerified },
            }),
          },
        );
      }
      if (carried && !stepUp) {
        steps.push({
          statement: deps.audit.statement(context, replacedSessionEvent(carried, session.id)),
        });
      }
      steps.push({ statement: deps.clearFailureCounters(user.id) });
      const refused = await writeBatch(deps.db, steps);
      if (refused === 0) {
        // A concurrent verify of the same response committed first; the challenge is already used.
        return failure(context, challengeError('challenge used by a concurrent verify'), user.id, credential.id);
      }
      // WebAuthn L3 §7.2 step 22 (SEC-10): a counter that did not grow — or a concurrent sign-in
      // with the same counter that won the compare-and-set — is a possible clone.
      if (refused === 1) {
        return fail(refuse(`counter did not increase (stored ${credential.sign_count}, got ${info.newCounter})`), user.id, credential.id);
      }
      if (refused !== undefined) {
        // The step-up's session changed under it (signed out, or its second factor finished elsewhere).
        return fail(CommonErrors.unauthorized({ internal: 'session ended or changed during the step-up' }), user.id, credential.id);
      }
      const passkey = toPasskeyView(
        { ...credential, backed_up: info.credentialBackedUp ? 1 : 0, last_used_at: now },
        deps.providerOf,
      );
      return { user, passkey, session };
    },
  };
}

export type AuthenticationService = ReturnType<typeof createAuthenticationService>;
