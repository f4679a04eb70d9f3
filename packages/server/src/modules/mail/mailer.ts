import type { Transporter } from 'nodemailer';

export interface MailMessage {
  to: string;
  subject: string;
  text: string;
}

export interface MailLog {
  warn(object: object, message: string): void;
  error(object: object, message: string): void;
}

/**
 * Outgoing mail over SMTP (nodemailer). `send` never blocks the request that caused it: the
 * message is handed to a background send, so a request for a known address takes as long as one
 * for an unknown address (SEC-36), and it is only ever called after the transaction commits.
 * Without an SMTP URL (development), messages go to the log instead — including codes, so never
 * run a production server without LATCHKEY_SMTP_URL.
 */
export function createMailer(deps: { smtpUrl: string | undefined; from: string; log: MailLog }) {
  // nodemailer (~5 MB of RSS) is loaded only when there is an SMTP server to talk to.
  const smtpUrl = deps.smtpUrl;
  const transport: Promise<Transporter> | undefined = smtpUrl ? import('nodemailer').then((m) => m.default.createTransport(smtpUrl)) : undefined;
  const pending = new Set<Promise<void>>();

  async function deliver(message: MailMessage): Promise<void> {
    if (!transport) {
      deps.log.warn({ mail: { to: message.to, subject: message.subject, text: message.text } }, 'LATCHKEY_SMTP_URL is not set: mail written to the log (development only)');
      return;
    }
    await (await transport).sendMail({ from: deps.from, to: message.to, subject: message.subject, text: message.text });
  }

  return {
    send(message: MailMessage): void {
      // setImmediate: building and sending the mail starts only after this request's answer went out.
      const sending = new Promise<void>((resolve) => setImmediate(resolve))
        .then(() => deliver(message))
        .catch((err: unknown) => deps.log.error({ err: { message: (err as Error).message } }, 'mail could not be sent'))
        .finally(() => pending.delete(sending));
      pending.add(sending);
    },
    /** Waits for mail in flight (shutdown, tests). */
    async drain(): Promise<void> {
      await Promise.all([...pending]);
    },
    close(): void {
      transport?.then((t) => t.close()).catch(() => {});
    },
  };
}

export type Mailer = ReturnType<typeof createMailer>;
