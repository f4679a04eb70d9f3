import type { AuthenticationResponseJSON } from '@simplewebauthn/server';
import type { AppError } from '../../errors/app-error.ts';
import { hmacSha256, toBase64Url } from '../../platform/encoding.ts';
import type { RequestContext } from '../../platform/request-context.ts';
import type { User } from '../accounts/accounts.module.ts';
import { stepUpAmr, type AuthenticatedSession, type SessionView } from '../sessions/sessions.module.ts';
import { bindingHash, challengeError, challengeProblem, newChallenge } from './challenges.ts';
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

const FAKE_TRANSPORTS = [['internal'], ['hybrid', 'internal'], ['internal'], ['usb', 'nfc']];

export function createAuthenticationService(deps: WebauthnDeps) {
  const { config } = deps;
  const ttlMs = config.webauthn.challengeTtlSeconds * 1000;
  const requireUserVerification = config.webauthn.userVerification === 'required';

  /**
   * Imaginary credentials for a username with no account (WebAuthn L3 §14.6.2; SEC-20): derived
   * with the server secret, so the same username always gets the same answer and nobody can
   * tell it from a real account's.
   */
  function imaginaryCredentials(usernameKey: string): { id: string; transports: string }[] {
    const seed = hmacSha256(deps.serverSecret, `imaginary-credentials:${usernameKey}`);
    const count = 1 + ((seed[0] ?? 0) % 2);
    return Array.from({ length: count }, (_, i) => ({
      id: toBase64Url(hmacSha256(deps.serverSecret, `imaginary-credential:${i}:${usernameKey}`)),
      transports: JSON.stringify(FAKE_TRANSPORTS[(seed[1 + i] ?? 0) % FAKE_TRANSPORTS.length]),
    }));
  }

  async function failure(context: RequestContext, error: AppError, userId: string | null, credentialId: string | null): Promise<never> {
    await deps.audit.record(deps.db, context, {
      type: error.internal?.startsWith('counter') ? 'passkey.clone_suspected' : 'passkey.authentication_failed',
      outcome: 'failure',
      subjectUserId: userId,
      credentialId,
      errorCode: error.code,
      reason: error.internal ?? error.detail ?? error.title,
    });
    throw error;
  }

  /** Every reason a valid-looking assertion is refused gets the same public code (SEC-20). */
  const refuse = (reason: string, cause?: unknown) => WebauthnErrors.verification_failed({ internal: reason, cause });

  /** Stores the challenge with what it is bound to and answers with WebAuthn L3 §5.5 request options. */
  async function issueOptions(input: {
    ceremony: 'authentication' | 'step_up';
    userId: string | null;
    allow: { id: string; transports: string }[];
    restrictTo: { id: string }[] | null;
    binding: string;
    userVerification: string;
  }): Promise<RequestOptionsJSON> {
    const challenge = newChallenge(deps.random.bytes);
    await deps.repository.insertChallenge(deps.db, {
      challenge,
      ceremony: input.ceremony,
      user_id: input.userId,
      pending_user: null,
      allowed_credentials: input.restrictTo ? JSON.stringify(input.restrictTo.map((c) => c.id)) : null,
      binding_hash: bindingHash(input.binding),
      expires_at: deps.clock.now() + ttlMs,
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
      let userId: string | null = null;
      let allow: { id: string; transports: string }[] = [];
      if (input.username !== undefined) {
        // SEC-20: every path does the same work, measured by `npm run bench:timing`. An invalid
        // username is looked up too (under a key that cannot exist), the key for one is derived
        // for every username, and imaginary credentials are derived for real accounts too.
        const invalidKey = `invalid:${toBase64Url(hmacSha256(deps.serverSecret, input.username))}`;
        const key = deps.accounts.usernameKey(input.username) ?? invalidKey;
        const found = await deps.repository.findDescriptorsByUsernameKey(deps.db, key);
        const imaginary = imaginaryCredentials(key);
        if (found.userId && found.descriptors.length > 0) {
          userId = found.userId;
          allow = found.descriptors;
        } else {
          allow = imaginary;
        }
      }
      return issueOptions({
        ceremony: 'authentication',
        userId,
        allow,
        // Discoverable sign-in offers no list, so any of the user's passkeys may answer.
        restrictTo: input.username !== undefined ? allow : null,
        binding: input.binding,
        userVerification: config.webauthn.userVerification,
      });
    },

    /**
     * Step-up (SEC-31): options for the signed-in user's own passkeys with user verification
     * required; the verify refreshes the session's auth time instead of opening a new session.
     */
    async startStepUp(input: { user: AuthenticatedSession['user']; binding: string }): Promise<RequestOptionsJSON> {
      const descriptors = await deps.repository.listDescriptors(deps.db, input.user.id);
      return issueOptions({
        ceremony: 'step_up',
        userId: input.user.id,
        allow: descriptors,
        restrictTo: descriptors,
        binding: input.binding,
        userVerification: 'required',
      });
    },

    /**
     * WebAuthn L3 §7.2 around the library, then counter, session and audit in one transaction.
     * With `stepUp`, the assertion must come from the session's own user with UV, and the
     * existing session is refreshed (and returned without a token) instead of a new one opened.
     */
    async finish(input: {
      response: AuthenticationResponseJSON;
      binding: string | undefined;
      context: RequestContext;
      stepUp?: AuthenticatedSession;
    }): Promise<{ user: User; passkey: PasskeyView; session: SessionView & { token?: string } }> {
      const { response, context, stepUp } = input;
      const parsed = parseClientData(response.response?.clientDataJSON);
      if (!parsed.ok) return failure(context, WebauthnErrors.invalid_response({ detail: parsed.problem }), null, null);
      const clientData = parsed.clientData;

      const challenge = await deps.repository.consumeChallenge(deps.db, clientData.challenge);
      if (!challenge) return failure(context, challengeError('unknown or already used challenge'), null, null);
      const now = deps.clock.now();
      const problem = challengeProblem(challenge, { ceremony: stepUp ? 'step_up' : 'authentication', binding: input.binding, now });
      if (problem) return failure(context, challengeError(problem), challenge.user_id, null);
      if (stepUp && challenge.user_id !== stepUp.user.id) {
        return failure(context, challengeError('step-up finished by another session than the one that started it'), challenge.user_id, null);
      }

      if (typeof response.id !== 'string' || response.id !== response.rawId || response.id.length === 0 || response.id.length > 1400) {
        return failure(context, WebauthnErrors.invalid_response({ detail: 'id and rawId must be the same base64url credential ID' }), challenge.user_id, null);
      }
      const crossOrigin = crossOriginProblem(clientData, config.rp.topOrigins);
      if (crossOrigin) return failure(context, refuse(crossOrigin), challenge.user_id, response.id);

      // SEC-09: with allowCredentials, the credential must be one that was offered.
      if (challenge.allowed_credentials !== null && !(JSON.parse(challenge.allowed_credentials) as string[]).includes(response.id)) {
        return failure(context, refuse('credential was not in allowCredentials'), challenge.user_id, response.id);
      }
      const credential = await deps.repository.findForSignIn(deps.db, response.id);
      if (!credential) return failure(context, refuse('unknown credential'), challenge.user_id, response.id);
      // SEC-08 / WebAuthn L3 §7.2 step 6: the credential must belong to the user being signed in.
      if (challenge.user_id !== null && credential.user_id !== challenge.user_id) {
        return failure(context, refuse('credential belongs to another user than the one named'), challenge.user_id, response.id);
      }
      const userHandle = response.response.userHandle;
      if (challenge.user_id === null && !userHandle) {
        return failure(context, refuse('discoverable sign-in without userHandle'), credential.user_id, response.id);
      }
      if (userHandle && userHandle !== credential.user_handle) {
        return failure(context, refuse('userHandle does not own the credential'), credential.user_id, response.id);
      }
      if (credential.status !== 'active') return failure(context, refuse(`account is ${credential.status}`), credential.user_id, response.id);

      let verification: Awaited<ReturnType<typeof deps.verifier.verifyAuthentication>>;
      try {
        verification = await deps.verifier.verifyAuthentication({
          response,
          expectedChallenge: challenge.challenge,
          expectedOrigin: [...config.rp.origins],
          expectedRPID: config.rp.id,
          expectedType: 'webauthn.get',
          // SEC-31: a step-up must prove user verification whatever the sign-in policy.
          requireUserVerification: requireUserVerification || stepUp !== undefined,
          credential: {
            id: credential.id,
            publicKey: new Uint8Array(credential.public_key),
            counter: credential.sign_count,
            transports: JSON.parse(credential.transports) as never,
          },
        });
      } catch (error) {
        const message = (error as Error).message;
        const reason = /counter value/i.test(message) ? `counter did not increase: ${message}` : message;
        return failure(context, refuse(reason, error), credential.user_id, credential.id);
      }
      const info = verification.authenticationInfo;
      if (verification.verified !== true) return failure(context, refuse('library did not verify the response'), credential.user_id, credential.id);
      // SEC-11: BE is fixed at registration; a change means another authenticator or a forgery.
      const backupEligible = info.credentialDeviceType === 'multiDevice';
      if (backupEligible !== (credential.device_type === 'multiDevice')) {
        return failure(context, refuse('backup eligibility differs from registration'), credential.user_id, credential.id);
      }

      const user: User = {
        id: credential.user_id,
        username: credential.username,
        displayName: credential.display_name,
        userHandle: credential.user_handle,
        status: credential.status,
        createdAt: 0,
      };
      const outcome = await deps.db.transaction().execute(async (trx) => {
        const counted = await deps.repository.recordSignIn(trx, {
          id: credential.id,
          storedCount: credential.sign_count,
          newCount: info.newCounter,
          backedUp: info.credentialBackedUp,
          now,
        });
        if (!counted) return undefined;
        if (stepUp) {
          // A passkey after a password completes a two-factor sign-in (amr "mfa", AAL2).
          const secondFactor = stepUp.session.scope === 'second_factor';
          const amr = stepUpAmr(stepUp.session.amr, secondFactor);
          await deps.sessions.recordStepUp(trx, stepUp.session, { userVerified: info.userVerified, amr, scope: 'full' });
          await deps.audit.record(trx, context, {
            type: 'session.stepped_up',
            outcome: 'success',
            subjectUserId: user.id,
            credentialId: credential.id,
            sessionId: stepUp.session.id,
          });
          return { ...stepUp.session, scope: 'full' as const, amr, userVerified: info.userVerified, authTime: now };
        }
        const session = await deps.sessions.create(trx, { userId: user.id, amr: ['passkey'], userVerified: info.userVerified, context });
        await deps.audit.record(trx, context, {
          type: 'passkey.authenticated',
          outcome: 'success',
          subjectUserId: user.id,
          credentialId: credential.id,
          sessionId: session.id,
          data: { userVerified: info.userVerified, backedUp: info.credentialBackedUp, signCount: info.newCounter },
        });
        await deps.audit.record(trx, context, { type: 'session.created', outcome: 'success', subjectUserId: user.id, sessionId: session.id, credentialId: credential.id });
        return session;
      });
      // WebAuthn L3 §7.2 step 22 (SEC-10): a counter that did not grow — or a concurrent sign-in
      // with the same counter that won the compare-and-set — is a possible clone.
      if (!outcome) {
        return failure(context, refuse(`counter did not increase (stored ${credential.sign_count}, got ${info.newCounter})`), user.id, credential.id);
      }
      await deps.clearFailureCounters(user.id);
      const passkey = toPasskeyView(
        { ...credential, backed_up: info.credentialBackedUp ? 1 : 0, last_used_at: now },
        deps.providerOf,
      );
      return { user, passkey, session: outcome };
    },
  };
}

export type AuthenticationService = ReturnType<typeof createAuthenticationService>;
