import type { RegistrationResponseJSON } from '@simplewebauthn/server';
import { AppError } from '../../errors/app-error.ts';
import { CommonErrors } from '../../errors/common.errors.ts';
import { toBase64Url } from '../../platform/encoding.ts';
import type { RequestContext } from '../../platform/request-context.ts';
import { AccountErrors, normalizeEmail, type NewAccount, type User } from '../accounts/accounts.module.ts';
import { stepUpAmr, type AuthenticatedSession, type SessionView } from '../sessions/sessions.module.ts';
import { bindingHash, challengeError, challengeProblem, newChallenge } from './challenges.ts';
import { parseClientData } from './client-data.ts';
import { toPasskeyView, type PasskeyView } from './passkey-view.ts';
import { verifyRegistrationResponse, type RegistrationInfo } from './registration-verification.ts';
import type { ParsedUserAgent } from '../../platform/user-agent.ts';
import { GENERIC_PROVIDER, type Provider } from '../passkey-names/passkey-names.ts';
import { SUPPORTED_ALGORITHMS, type WebauthnDeps } from './webauthn.deps.ts';
import { WebauthnErrors } from './webauthn.errors.ts';
import { AppendTokenErrors } from '../append-tokens/append-tokens.module.ts';

/** WebAuthn L3 §5.4 PublicKeyCredentialCreationOptionsJSON, as the browser takes it. */
export interface CreationOptionsJSON {
  rp: { name: string; id: string };
  user: { id: string; name: string; displayName: string };
  challenge: string;
  pubKeyCredParams: { type: 'public-key'; alg: number }[];
  timeout: number;
  excludeCredentials: { id: string; type: 'public-key'; transports?: string[] }[];
  authenticatorSelection: { residentKey: string; requireResidentKey: boolean; userVerification: string };
  attestation: string;
  extensions: { credProps: true };
}

/** `email`: an optional address given at sign-up, confirmed by a code once the account exists. */
type PendingUser = NewAccount & { userHandle: string; email?: string };

/**
 * A new passkey is named after its provider ("iCloud Keychain"); when the AAGUID is unknown,
 * after where it was made ("Chrome on macOS"), so two generic passkeys can be told apart.
 */
function passkeyName(provider: Provider, ua: ParsedUserAgent): string {
  if (provider !== GENERIC_PROVIDER) return provider.name;
  const browser = ua.browser?.replace(/ \d+$/, '');
  const os = ua.os?.replace(/ [\d.]+$/, '');
  return browser && os ? `${browser} on ${os}` : (browser ?? os ?? provider.name);
}

export function createRegistrationService(deps: WebauthnDeps) {
  const { config } = deps;
  const ttlMs = config.webauthn.challengeTtlSeconds * 1000;
  const requireUserVerification = config.webauthn.userVerification === 'required';

  function options(user: { handle: string; name: string; displayName: string }, challenge: string, exclude: { id: string; transports: string }[]): CreationOptionsJSON {
    return {
      rp: { name: config.rp.name, id: config.rp.id },
      user: { id: user.handle, name: user.name, displayName: user.displayName },
      challenge,
      pubKeyCredParams: SUPPORTED_ALGORITHMS.map((alg) => ({ type: 'public-key' as const, alg })),
      timeout: ttlMs,
      // SEC-17: every passkey of the user, so the same authenticator is not registered twice.
      excludeCredentials: exclude.map((c) => ({ id: c.id, type: 'public-key' as const, transports: JSON.parse(c.transports) as string[] })),
      authenticatorSelection: {
        residentKey: config.webauthn.residentKey,
        requireResidentKey: config.webauthn.residentKey === 'required',
        userVerification: config.webauthn.userVerification,
      },
      attestation: config.webauthn.attestation,
      extensions: { credProps: true },
    };
  }

  async function failure(context: RequestContext, error: AppError, userId: string | null, credentialId: string | null): Promise<never> {
    await deps.audit.record(deps.db, context, {
      type: 'passkey.registration_failed',
      outcome: 'failure',
      subjectUserId: userId,
      credentialId,
      errorCode: error.code,
      reason: error.internal ?? error.detail ?? error.title,
    });
    throw error;
  }

  /**
   * A verify that names no ceremony of ours (unparseable clientDataJSON, unknown challenge) is
   * counted, not written: anyone can send them by the thousand (issue 9). The audit log gets one
   * summary row a minute (AuditService.tally).
   */
  function junk(context: RequestContext, error: AppError): never {
    deps.audit.tally(context, 'passkey.registration_failures_summarized', error.code);
    throw error;
  }

  return {
    /** Sign-up of a new account: checks the username, makes a random user handle, stores the challenge. */
    async startSignUp(input: { username: string; displayName?: string | undefined; email?: string | undefined; binding: string }): Promise<CreationOptionsJSON> {
      if (!config.signup.enabled) throw AccountErrors.signup_disabled();
      const account = deps.accounts.prepareNewAccount(input);
      let email: string | undefined;
      if (input.email !== undefined) {
        const normalized = normalizeEmail(input.email);
        if (!normalized.ok) throw AccountErrors.email_invalid({ detail: `email ${normalized.problem}` });
        email = normalized.address;
      }
      await deps.accounts.assertUsernameAvailable(account);
      // SEC-18: 64 random bytes, no personal data; the username never becomes user.id.
      const pending: PendingUser = { ...account, userHandle: toBase64Url(deps.random.bytes(64)), ...(email ? { email } : {}) };
      const challenge = newChallenge(deps.random.bytes);
      await deps.repository.insertChallenge(deps.db, {
        challenge,
        ceremony: 'registration',
        user_id: null,
        pending_user: JSON.stringify(pending),
        allowed_credentials: null,
        binding_hash: bindingHash(input.binding),
        expires_at: deps.clock.now() + ttlMs,
        append_token_id: null,
      });
      return options({ handle: pending.userHandle, name: pending.username, displayName: pending.displayName }, challenge, []);
    },

    /** Another passkey for the signed-in user. */
    async startAppend(input: { user: AuthenticatedSession['user']; binding: string }): Promise<CreationOptionsJSON> {
      const challenge = newChallenge(deps.random.bytes);
      const [existing] = await Promise.all([
        deps.repository.listDescriptors(deps.db, input.user.id),
        deps.repository.insertChallenge(deps.db, {
          challenge,
          ceremony: 'registration',
          user_id: input.user.id,
          pending_user: null,
          allowed_credentials: null,
          binding_hash: bindingHash(input.binding),
          expires_at: deps.clock.now() + ttlMs,
          append_token_id: null,
        }),
      ]);
      return options({ handle: input.user.userHandle, name: input.user.username, displayName: input.user.displayName }, challenge, existing);
    },

    /**
     * Another passkey for the user an append token was issued for (issue 11 item 3), without a
     * session. The token is bound to this challenge (a later start takes it over, so one token
     * never runs two ceremonies); it is used up only when the verify succeeds.
     */
    async startAppendWithToken(input: { appendToken: string; binding: string; context: RequestContext }): Promise<CreationOptionsJSON> {
      const challenge = newChallenge(deps.random.bytes);
      const bound = await deps.appendTokens.bindToChallenge(input.appendToken, challenge);
      if (!bound) {
        // Anyone can send made-up tokens: counted in the minute summary, not a row each (issue 9).
        return junk(input.context, AppendTokenErrors.append_token_invalid({ internal: 'append token unknown, used or expired at registration options' }));
      }
      const user = await deps.accounts.findById(bound.userId);
      if (!user) throw AppendTokenErrors.append_token_invalid({ internal: 'the token\'s user no longer exists' });
      if (user.status !== 'active') throw AppendTokenErrors.user_disabled();
      const [existing] = await Promise.all([
        deps.repository.listDescriptors(deps.db, user.id),
        deps.repository.insertChallenge(deps.db, {
          challenge,
          ceremony: 'registration',
          user_id: user.id,
          pending_user: null,
          allowed_credentials: null,
          binding_hash: bindingHash(input.binding),
          expires_at: deps.clock.now() + ttlMs,
          append_token_id: bound.id,
        }),
      ]);
      return options({ handle: user.userHandle, name: user.username, displayName: user.displayName }, challenge, existing);
    },

    /**
     * WebAuthn L3 §7.1 around the library: consume the challenge first (single use even on
     * failure), check what the library leaves to us, verify, then create account, passkey,
     * session and audit rows in one transaction.
     */
    async finish(input: {
      response: RegistrationResponseJSON;
      binding: string | undefined;
      session: AuthenticatedSession | undefined;
      context: RequestContext;
    }): Promise<{ user: User; passkey: PasskeyView; session?: SessionView & { token?: string }; pendingEmail?: string }> {
      const { response, context } = input;
      const parsed = parseClientData(response.response?.clientDataJSON);
      if (!parsed.ok) return junk(context, WebauthnErrors.invalid_response({ detail: parsed.problem }));
      const clientData = parsed.clientData;

      const challenge = await deps.repository.consumeChallenge(deps.db, clientData.challenge);
      if (!challenge) return junk(context, challengeError('unknown or already used challenge'));
      const now = deps.clock.now();
      const problem = challengeProblem(challenge, { ceremony: 'registration', binding: input.binding, now });
      if (problem) return failure(context, challengeError(problem), challenge.user_id, null);

      const pending = challenge.pending_user ? (JSON.parse(challenge.pending_user) as PendingUser) : undefined;
      // Sign-up never happens inside a session of any scope: it would open a second session beside
      // it (and a recovery session must not be able to finish anything but its own recovery).
      if (pending && input.session) {
        return failure(context, AccountErrors.signed_in({ internal: 'sign-up finished by a request that carries a session' }), input.session.user.id, null);
      }
      let existingUser: User | undefined;
      // An append token stands in for the session: the ceremony is the token's, whoever calls.
      const appendTokenId = challenge.append_token_id;
      if (challenge.user_id && appendTokenId) {
        existingUser = await deps.accounts.findById(challenge.user_id);
        if (!existingUser) return failure(context, challengeError('user no longer exists'), null, null);
        if (existingUser.status !== 'active') return failure(context, AppendTokenErrors.user_disabled(), existingUser.id, null);
      } else if (challenge.user_id) {
        // Passkey append: the verify call must come from the same signed-in user that asked.
        if (input.session?.user.id !== challenge.user_id) {
          return failure(context, CommonErrors.unauthorized({ internal: 'append finished without the session that started it' }), challenge.user_id, null);
        }
        existingUser = await deps.accounts.findById(challenge.user_id);
        if (!existingUser) return failure(context, challengeError('user no longer exists'), null, null);
      }

      // WebAuthn L3 §7.1 from step 5: client data, our checks of the key and statement, the library.
      let info: RegistrationInfo;
      try {
        info = await verifyRegistrationResponse(deps.verifier, response, {
          challenge: challenge.challenge,
          origins: config.rp.origins,
          rpId: config.rp.id,
          topOrigins: config.rp.topOrigins,
          requireUserVerification,
          algorithms: SUPPORTED_ALGORITHMS,
        });
      } catch (error) {
        if (!(error instanceof AppError)) throw error;
        return failure(context, error, challenge.user_id, error.code === 'invalid_response' ? null : response.id);
      }

      const ua = deps.parseUserAgent(context.userAgent);
      const provider = deps.providerOf(info.aaguid);
      const transports = (response.response.transports ?? []).filter((t): t is string => typeof t === 'string').slice(0, 8);
      // SEC-39: a recovery ends only with a passkey registered to the recovering user themself.
      const recovering =
        existingUser && !appendTokenId && input.session?.session.scope === 'recovery' && input.session.user.id === existingUser.id ? input.session : undefined;
      try {
        const result = await deps.db.transaction().execute(async (trx) => {
          // Used up in the commit that adds the passkey, and only if still bound to this ceremony.
          if (appendTokenId && !(await deps.appendTokens.consume(trx, appendTokenId, challenge.challenge))) {
            throw AppendTokenErrors.append_token_invalid({ internal: 'append token used, expired or taken over by another ceremony before verify' });
          }
          const user = existingUser ?? (await deps.accounts.create(trx, pending as PendingUser));
          const row = {
            id: info.credential.id,
            user_id: user.id,
            public_key: info.credential.publicKey,
            sign_count: info.credential.counter,
            aaguid: info.aaguid,
            transports: JSON.stringify(transports),
            device_type: info.credentialDeviceType,
            backed_up: info.credentialBackedUp ? 1 : 0,
            attestation_fmt: info.fmt,
            uv_initialized: info.userVerified ? 1 : 0,
            name: passkeyName(provider, ua),
            created_at: now,
            // Used when it opens a session on its own strength: a sign-up, or the passkey that
            // ends a recovery. A passkey added beside others has not signed anybody in yet.
            last_used_at: !existingUser || recovering ? now : null,
            created_os: ua.os,
            created_browser: ua.browser,
          };
          if (!(await deps.repository.insertCredential(trx, row))) throw WebauthnErrors.credential_exists({ internal: 'credential ID already registered' });
          if (!existingUser) {
            await deps.audit.record(trx, context, { type: 'account.created', outcome: 'success', subjectUserId: user.id });
          }
          await deps.audit.record(trx, appendTokenId ? { ...context, actor: { kind: 'append_token', id: appendTokenId } } : context, {
            type: 'passkey.registered',
            outcome: 'success',
            subjectUserId: user.id,
            credentialId: row.id,
            data: {
              aaguid: row.aaguid,
              fmt: row.attestation_fmt,
              deviceType: row.device_type,
              backedUp: info.credentialBackedUp,
              userVerified: info.userVerified,
              ...(appendTokenId ? { appendTokenId } : {}),
            },
          });
          let session: (SessionView & { token?: string }) | undefined;
          if (recovering && user.id === recovering.user.id) {
            // SEC-39: the new passkey ends the recovery: every other session is signed out and
            // this one becomes a full session on the strength of the passkey just made.
            const revoked = await deps.sessions.revokeOthers(trx, user.id, recovering.session.id);
            // A new token with the raised session (SEC-24): the recovery token stops working.
            const token = await deps.sessions.recordStepUp(trx, recovering.session, { userVerified: info.userVerified, scope: 'full' });
            if (!token) throw CommonErrors.unauthorized({ internal: 'recovery session ended before its passkey was registered' });
            await deps.audit.record(trx, context, {
              type: 'account.recovered',
              outcome: 'success',
              subjectUserId: user.id,
              credentialId: row.id,
              sessionId: recovering.session.id,
              data: { sessionsRevoked: revoked.length },
            });
            session = { ...recovering.session, token, scope: 'full', secondFactor: null, amr: stepUpAmr(recovering.session.amr), userVerified: info.userVerified, authTime: now };
          }
          if (!existingUser) {
            session = await deps.sessions.create(trx, { userId: user.id, amr: ['passkey'], userVerified: info.userVerified, context });
            await deps.audit.record(trx, context, { type: 'session.created', outcome: 'success', subjectUserId: user.id, sessionId: session.id, credentialId: row.id, data: { method: 'passkey', userVerified: info.userVerified } });
          }
          return { user, passkey: toPasskeyView(row, deps.providerOf), ...(session ? { session } : {}) };
        });
        if (!existingUser && pending?.email) return { ...result, pendingEmail: pending.email };
        // SEC-33: mail after the commit, never inside the transaction.
        if (existingUser) {
          deps.notifier.notify(existingUser.id, recovering ? 'account_recovered' : 'passkey_added', { at: now, detail: result.passkey.name });
        }
        return result;
      } catch (error) {
        if (error instanceof AppError) return failure(context, error, challenge.user_id, response.id);
        throw error;
      }
    },
  };
}

export type RegistrationService = ReturnType<typeof createRegistrationService>;
