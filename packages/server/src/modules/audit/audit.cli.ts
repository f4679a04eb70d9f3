import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import type { Kysely } from 'kysely';
import type { Database } from '../../db/database.ts';
import type { Dialect } from '../../db/create-db.ts';
import type { AuditPublicJwk } from './audit-chain.keys.ts';
import { verifyAuditChain } from './audit-chain.verify.ts';

export const AUDIT_USAGE = `  audit verify [--key <jwk file>]…
                   check the tamper-evident audit chain: every hash, every sealed event, every
                   signed checkpoint; exit 0 "OK", 1 "TAMPERED" (names the first bad row), 2 usage.
                   --key: verify checkpoints with these published keys (the JWK of
                   /.well-known/latchkey-audit-key) instead of the one derived from the server secret
  audit key        print the public key checkpoints are signed with (JWK)`;

export interface AuditCliIo {
  out(text: string): void;
  err(text: string): void;
  /** A terminal gets one progress line rewritten in place; anything else gets a line now and then. */
  isTty: boolean;
}

/** `latchkey audit …`; returns the exit code (0 ok, 1 tampered, 2 usage). */
export async function runAuditCommand(
  args: string[],
  deps: { db: Kysely<Database>; dialect: Dialect; serverKey: () => Promise<AuditPublicJwk> },
  io: AuditCliIo,
): Promise<number> {
  const [sub, ...rest] = args;
  let parsed: ReturnType<typeof parseArgs<{ options: { key: { type: 'string'; multiple: true } }; allowPositionals: false }>>;
  try {
    parsed = parseArgs({ args: rest, options: { key: { type: 'string', multiple: true } }, allowPositionals: false });
  } catch (error) {
    io.err(`latchkey audit: ${(error as Error).message}\n${AUDIT_USAGE}\n`);
    return 2;
  }
  if (sub === 'key') {
    io.out(`${JSON.stringify(await deps.serverKey())}\n`);
    return 0;
  }
  if (sub !== 'verify') {
    io.err(`latchkey audit: ${sub ? `unknown command "${sub}"` : 'which command?'}\n\n${AUDIT_USAGE}\n`);
    return 2;
  }
  let keys: AuditPublicJwk[];
  try {
    keys = parsed.values.key ? parsed.values.key.map((file) => JSON.parse(readFileSync(file, 'utf8')) as AuditPublicJwk) : [await deps.serverKey()];
  } catch (error) {
    io.err(`latchkey audit: --key: ${(error as Error).message}\n`);
    return 2;
  }
  const started = Date.now();
  let lastLine = 0;
  const result = await verifyAuditChain(deps.db, deps.dialect, {
    keys,
    onProgress: (done, total) => {
      const line = `verifying the audit chain: ${done.toLocaleString('en')} of ${Math.max(done, total).toLocaleString('en')} rows (${total > 0 ? Math.min(100, Math.floor((done / total) * 100)) : 100}%)`;
      if (io.isTty) io.err(`\r${line}`);
      else if (Date.now() - lastLine >= 5000 || done >= total) {
        io.err(`${line}\n`);
        lastLine = Date.now();
      }
    },
  });
  if (io.isTty) io.err('\n');
  if (!result.ok) {
    const where = result.seq === null ? `event id ${result.eventId}` : `seq ${result.seq}${result.eventId ? ` (event id ${result.eventId})` : ''}`;
    io.out(`TAMPERED: first bad row ${where}: ${result.tampering}\n  ${result.detail}\n`);
    return 1;
  }
  const checkpoint = result.lastCheckpoint
    ? `last checkpoint at seq ${result.lastCheckpoint.seq}, ${new Date(result.lastCheckpoint.createdAt).toISOString()} (${result.lastCheckpoint.kind}, key ${result.lastCheckpoint.keyId})`
    : 'no checkpoint yet';
  const range = result.firstSeq > 1 ? ` (seq 1..${result.firstSeq - 1} removed by retention under a signed anchor)` : '';
  const pending = result.pending > 0 ? `; ${result.pending} recent event(s) not sealed yet` : '';
  io.out(`OK: ${result.events} events, chain intact up to seq ${result.lastSeq}${range}, ${checkpoint}${pending} [${((Date.now() - started) / 1000).toFixed(1)} s]\n`);
  return 0;
}
