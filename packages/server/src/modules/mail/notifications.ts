import type { Mailer } from './mailer.ts';

export type NotificationKind =
  | 'passkey_added'
  | 'passkey_removed'
  | 'recovery_code_used'
  | 'recovery_codes_regenerated'
  | 'email_changed'
  | 'password_changed'
  | 'account_recovered';

const WHAT: Record<NotificationKind, string> = {
  passkey_added: 'A new passkey was added to your account',
  passkey_removed: 'A passkey was removed from your account',
  recovery_code_used: 'A recovery code of your account was used',
  recovery_codes_regenerated: 'New recovery codes were made for your account; the old ones no longer work',
  email_changed: 'The e-mail address of your account was changed',
  password_changed: 'The password of your account was set or changed, and your other sessions were signed out',
  account_recovered: 'Your account was recovered: a new passkey was registered and every other session was signed out',
};

/**
 * Security notifications over an independent channel (SEC-33): sent to the user's verified
 * address, after the change committed, each with what to do if it was not them.
 */
export function createNotifier(deps: { mailer: Mailer; emailOf(userId: string): Promise<string | undefined>; rpName: string }) {
  return {
    /** Fire and forget; the audit event was recorded with the change itself. */
    notify(userId: string, kind: NotificationKind, options: { to?: string; detail?: string; at: number }): void {
      const send = async () => {
        const to = options.to ?? (await deps.emailOf(userId));
        if (!to) return;
        const what = WHAT[kind];
        deps.mailer.send({
          to,
          subject: `${deps.rpName}: ${what.split(':')[0]}`,
          text: [
            `${what}${options.detail ? ` (${options.detail})` : ''} on ${new Date(options.at).toUTCString()}.`,
            '',
            'If this was you, there is nothing to do.',
            'If it was not you: sign in with a passkey you trust, look at your passkeys and sessions, remove what you do not recognise and sign out every other session; if you cannot sign in, start account recovery or contact support.',
          ].join('\n'),
        });
      };
      send().catch(() => undefined);
    },
  };
}

export type Notifier = ReturnType<typeof createNotifier>;
