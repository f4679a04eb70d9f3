import assert from 'node:assert/strict';
import { SMTPServer } from 'smtp-server';
import type { SoftAuthenticator } from '../../../testkit/src/index.ts';
import { newAuthenticator, signUp } from './flows.ts';
import type { TestClient } from './test-client.ts';
import type { TestServer } from './test-server.ts';

const CODE = /code[^\n]* is (\d{6})\b/;
const body = (m: ReceivedMail) => m.raw.slice(m.raw.indexOf('\r\n\r\n'));

export interface ReceivedMail {
  /** Envelope recipients, lower-cased (for lookups). */
  to: string[];
  /** Envelope recipients exactly as the server gave them in RCPT TO. */
  rcptTo: string[];
  raw: string;
}

/**
 * A real SMTP server on 127.0.0.1 (smtp-server) that keeps what it receives: the tests read
 * codes and notifications from here, as a user reads their mailbox.
 */
export async function startMailbox(): Promise<{
  url: string;
  messages: ReceivedMail[];
  to(address: string): ReceivedMail[];
  waitFor(address: string, match?: RegExp, timeoutMs?: number): Promise<ReceivedMail>;
  codeCount(address: string): number;
  newCode(address: string, before: number): Promise<string>;
  close(): Promise<void>;
}> {
  const messages: ReceivedMail[] = [];
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['AUTH', 'STARTTLS'],
    logger: false,
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        messages.push({ to: session.envelope.rcptTo.map((r) => r.address.toLowerCase()), rcptTo: session.envelope.rcptTo.map((r) => r.address), raw: Buffer.concat(chunks).toString('utf8') });
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const address = server.server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  const to = (addr: string) => messages.filter((m) => m.to.includes(addr.toLowerCase()));
  async function waitFor(addr: string, match?: RegExp, timeoutMs = 5000): Promise<ReceivedMail> {
    const seen = to(addr).length;
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = to(addr).slice(match ? 0 : seen).find((m) => !match || match.test(m.raw));
      if (found) return found;
      if (Date.now() > deadline) throw new Error(`no mail to ${addr}${match ? ` matching ${match}` : ''} within ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }
  return {
    url: `smtp://127.0.0.1:${port}`,
    messages,
    to,
    waitFor,
    /** How many code mails the address has had so far. */
    codeCount: (addr: string) => to(addr).filter((m) => CODE.test(body(m))).length,
    /** The code of the first code mail after the first `before` ones (waits for it to arrive). */
    async newCode(addr: string, before: number): Promise<string> {
      const deadline = Date.now() + 5000;
      for (;;) {
        const mail = to(addr).filter((m) => CODE.test(body(m)))[before];
        if (mail) return (CODE.exec(body(mail)) as RegExpExecArray)[1] as string;
        if (Date.now() > deadline) throw new Error(`no new code mail to ${addr}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

export type Mailbox = Awaited<ReturnType<typeof startMailbox>>;

/** Signs up with a passkey and sets a verified address through the API, as a user would. */
export async function userWithEmail(
  server: TestServer,
  mailbox: Mailbox,
  username: string,
  email: string,
): Promise<{ client: TestClient; userId: string; passkeyId: string; authenticator: SoftAuthenticator }> {
  const client = server.client();
  const authenticator = newAuthenticator();
  const account = await signUp(client, authenticator, username);
  const before = mailbox.codeCount(email);
  const put = await client.request('PUT', '/api/v1/account/email', { email });
  assert.equal(put.status, 202, put.text);
  const code = await mailbox.newCode(email, before);
  const confirm = await client.post('/api/v1/account/email/verify', { code });
  assert.equal(confirm.status, 200, confirm.text);
  assert.equal(confirm.body.email, email);
  return { client, userId: account.user.id, passkeyId: account.passkey.id, authenticator };
}

