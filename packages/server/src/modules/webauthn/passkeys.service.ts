import type { RequestContext } from '../../platform/request-context.ts';
import { toPasskeyView, type PasskeyView } from './passkey-view.ts';
import type { WebauthnDeps } from './webauthn.deps.ts';
import { CommonErrors } from '../../errors/common.errors.ts';
import { WebauthnErrors } from './webauthn.errors.ts';

export const PASSKEY_NAME_MAX = 64;

/** The signed-in user's own passkeys: list, rename, delete. Another user's passkey is a 404 (SEC-45). */
export function createPasskeysService(deps: WebauthnDeps) {
  return {
    /** The user a credential ID belongs to, if any (support search). */
    async ownerOf(credentialId: string): Promise<string | undefined> {
      return deps.repository.ownerOf(deps.db, credentialId);
    },

    async countByUsers(userIds: readonly string[]): Promise<Map<string, number>> {
      return deps.repository.countByUsers(deps.db, userIds);
    },

    async list(userId: string): Promise<PasskeyView[]> {
      const rows = await deps.repository.listByUser(deps.db, userId);
      return rows.map((row) => toPasskeyView(row, deps.providerOf));
    },

    async rename(input: { userId: string; id: string; name: string; context: RequestContext }): Promise<PasskeyView> {
      const name = input.name.replace(/[\p{Cc}\p{Cf}]/gu, '').replace(/\s+/gu, ' ').trim().normalize('NFC');
      if (name.length === 0 || [...name].length > PASSKEY_NAME_MAX) {
        throw CommonErrors.invalid_request({ detail: `/name: must be 1 to ${PASSKEY_NAME_MAX} characters` });
      }
      return deps.db.transaction().execute(async (trx) => {
        const row = await deps.repository.rename(trx, input.userId, input.id, name);
        if (!row) throw WebauthnErrors.passkey_not_found();
        await deps.audit.record(trx, input.context, { type: 'passkey.renamed', outcome: 'success', subjectUserId: input.userId, credentialId: input.id });
        return toPasskeyView(row, deps.providerOf);
      });
    },

    /**
     * SEC-32: the last passkey goes only when the user can still sign in another way (a verified
     * e-mail with e-mail codes enabled) or explicitly confirms leaving the account without one.
     */
    async delete(input: { userId: string; id: string; confirmLast: boolean; context: RequestContext }): Promise<void> {
      const otherMethod = input.confirmLast || (await deps.hasOtherSignInMethod(input.userId));
      await deps.db.transaction().execute(async (trx) => {
        if (!(await deps.repository.delete(trx, input.userId, input.id))) throw WebauthnErrors.passkey_not_found();
        if (!otherMethod && (await deps.repository.countByUser(trx, input.userId)) === 0) throw WebauthnErrors.last_passkey();
        await deps.audit.record(trx, input.context, {
          type: 'passkey.deleted',
          outcome: 'success',
          subjectUserId: input.userId,
          credentialId: input.id,
          ...(input.confirmLast ? { data: { confirmedLast: true } } : {}),
        });
      });
      deps.notifier.notify(input.userId, 'passkey_removed', { at: deps.clock.now() });
    },
  };
}

export type PasskeysService = ReturnType<typeof createPasskeysService>;
