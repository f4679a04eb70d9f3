#!/usr/bin/env node
import { ConfigError, loadConfig } from './config/load.ts';
import { createDatabase } from './db/create-db.ts';
import { normalizeEmail } from './modules/accounts/accounts.module.ts';
import { createFallbackRepository } from './modules/fallback/fallback.module.ts';
import { createMigrator, migrateToLatest } from './db/migrate.ts';
import { userInfo } from 'node:os';
import { AppError } from './errors/app-error.ts';
import { API_KEYS_USAGE, runApiKeysCommand, UsageError } from './modules/api-keys/api-keys.cli.ts';
import { createApiKeysService } from './modules/api-keys/api-keys.module.ts';
import { AUDIT_USAGE, createAuditService, createCheckpointSigner, runAuditCommand } from './modules/audit/audit.module.ts';
import { loadServerSecret } from './db/server-secret.ts';
import { deriveServerKeys } from './platform/keys.ts';
import { systemClock } from './platform/clock.ts';
import { cryptoRandom } from './platform/random.ts';
import { createTokenSigningKeys } from './modules/tokens/tokens.module.ts';
import { KEYS_USAGE, runKeysCommand } from './modules/tokens/tokens.cli.ts';
import { runStaffCommand, STAFF_USAGE, StaffUsageError } from './modules/staff/staff.cli.ts';
import { createStaffService } from './modules/staff/staff.module.ts';
import { enrollUrlOf } from './modules/staff/staff.routes.ts';
import { createUserDirectory } from './modules/accounts/accounts.module.ts';
import { createAppendTokensService } from './modules/append-tokens/append-tokens.module.ts';
import { createWebauthnRepository } from './modules/webauthn/webauthn.module.ts';

const USAGE = `Usage: latchkey <command>

Commands:
  migrate          apply pending database migrations (also done on every start)
  migrate:status   list migrations and whether each has run
  migrate:down     undo the most recent migration
  unlock-email <address>
                   lift the lock on e-mail codes for an address (after too many wrong codes);
                   a passkey sign-in of the account lifts it too
${API_KEYS_USAGE}
${STAFF_USAGE}
${KEYS_USAGE}
${AUDIT_USAGE}

The database comes from LATCHKEY_DATABASE_URL (default sqlite:./data/latchkey.db).`;

/** How long the enrolment link `staff add` prints stays valid (append tokens allow at most 15 minutes). */
const STAFF_ENROLL_TTL_SECONDS = 900;

/** Audit rows the CLI writes: no user agent to parse. */
function cliAudit() {
  return createAuditService({ clock: systemClock, random: cryptoRandom, parseUserAgent: () => ({ os: null, browser: null, device: null }) });
}

/** The operator on the command line is the actor of what the CLI does. */
function cliContext() {
  return { requestId: `cli-${cryptoRandom.uuid()}`, ip: null, userAgent: null, actor: { kind: 'cli' as const, id: operatorName() } };
}

/**
 * Prints what a sub-command returns; a usage mistake exits 64 with the usage, a refusal of the
 * service (an AppError) exits 1 naming its code.
 */
async function printOutcome(run: () => Promise<string>, usage: string, isUsageError: (error: unknown) => boolean): Promise<number> {
  try {
    process.stdout.write(`${await run()}\n`);
    return 0;
  } catch (error) {
    if (isUsageError(error)) {
      process.stderr.write(`latchkey: ${(error as Error).message}\n\n${usage}\n`);
      return 64;
    }
    if (error instanceof AppError) {
      process.stderr.write(`latchkey: ${error.detail ?? error.title} (${error.code})\n`);
      return 1;
    }
    throw error;
  }
}

function operatorName(): string | null {
  try {
    return userInfo().username;
  } catch {
    return null;
  }
}

async function run(command: string | undefined, args: string[]): Promise<number> {
  if (!command || command === 'help' || command === '--help') {
    process.stdout.write(`${USAGE}\n`);
    return command ? 0 : 64;
  }
  const config = loadConfig();
  const database = createDatabase(config.database.url);
  const migrator = createMigrator(database.db);
  try {
    if ((command === 'migrate' || command === 'migrate:status') && args.length > 0) {
      process.stderr.write(`latchkey: ${command} takes no arguments (got ${args.join(' ')})\n\n${USAGE}\n`);
      return 64;
    }
    if (command === 'migrate') {
      const { error, results = [] } = await migrator.migrateToLatest();
      for (const r of results) process.stdout.write(`${r.status === 'Success' ? '✔' : '✘'} ${r.migrationName}\n`);
      if (error) throw error;
      process.stdout.write(results.length === 0 ? 'Database is up to date.\n' : `Applied ${results.length} migration(s).\n`);
    } else if (command === 'migrate:status') {
      for (const m of await migrator.getMigrations()) {
        process.stdout.write(`${m.executedAt ? `✔ ${m.executedAt.toISOString()}` : '· pending                 '}  ${m.name}\n`);
      }
    } else if (command === 'api-keys') {
      // A fresh install has no tables yet: the first key must be makeable before the first start.
      await migrateToLatest(database.db);
      const service = createApiKeysService({ db: database.db, clock: systemClock, random: cryptoRandom, audit: cliAudit() });
      return await printOutcome(() => runApiKeysCommand(args, service, cliContext(), systemClock.now()), USAGE, (e) => e instanceof UsageError);
    } else if (command === 'staff') {
      // Like api-keys: the first admin is made on a fresh install, before the first start.
      await migrateToLatest(database.db);
      const audit = cliAudit();
      const directory = createUserDirectory({ clock: systemClock, random: cryptoRandom });
      // An enrolment link lives longer than a backend's append token: the person may open it a few minutes later.
      const appendTokens = createAppendTokensService({ db: database.db, clock: systemClock, random: cryptoRandom, audit, ttlSeconds: STAFF_ENROLL_TTL_SECONDS });
      const passkeys = createWebauthnRepository();
      const staff = createStaffService({ db: database.db, clock: systemClock, audit, directory, appendTokens, countPasskeys: (db, userId) => passkeys.countByUser(db, userId) });
      const origin = config.rp.origins[0] ?? `http://localhost:${config.server.port}`;
      const runStaff = () =>
        runStaffCommand(args, {
          staff,
          context: cliContext(),
          enrollUrl: (token) => enrollUrlOf(origin, token),
          findUserId: async (username) => (await directory.findByUsername(database.db, username))?.id,
          progress: (line) => process.stderr.write(`${line}\n`),
        });
      return await printOutcome(runStaff, STAFF_USAGE, (e) => e instanceof StaffUsageError);
    } else if (command === 'keys') {
      await migrateToLatest(database.db);
      const keys = deriveServerKeys(await loadServerSecret(database.db, cryptoRandom, config.secrets.serverSecret));
      const signingKeys = createTokenSigningKeys({ db: database.db, clock: systemClock, random: cryptoRandom, keys, config });
      const out = await runKeysCommand(args, signingKeys);
      if (out === undefined) {
        process.stderr.write(`latchkey: usage:\n${KEYS_USAGE}\n`);
        return 64;
      }
      process.stdout.write(`${out}\n`);
    } else if (command === 'audit') {
      await migrateToLatest(database.db);
      const serverKey = async () => createCheckpointSigner(deriveServerKeys(await loadServerSecret(database.db, cryptoRandom, config.secrets.serverSecret)).auditCheckpoints).jwk;
      return await runAuditCommand(args, { db: database.db, dialect: database.dialect, serverKey }, {
        out: (text) => process.stdout.write(text),
        err: (text) => process.stderr.write(text),
        isTty: process.stderr.isTTY === true,
      });
    } else if (command === 'migrate:down') {
      const { error, results = [] } = await migrator.migrateDown();
      for (const r of results) process.stdout.write(`↓ ${r.migrationName} (${r.status})\n`);
      if (error) throw error;
    } else if (command === 'unlock-email') {
      const email = normalizeEmail(process.argv[3] ?? '');
      if (!email.ok) {
        process.stderr.write(`unlock-email: the address ${email.problem}\n`);
        return 64;
      }
      const cleared = await createFallbackRepository().clearAddressCounters(database.db, email.key);
      process.stdout.write(cleared > 0 ? `E-mail codes for ${email.address} are unlocked (${cleared} counter(s) cleared).\n` : `No failures are counted for ${email.address}.\n`);
    } else {
      process.stderr.write(`Unknown command "${command}".\n\n${USAGE}\n`);
      return 64;
    }
    return 0;
  } finally {
    await database.close();
  }
}

run(process.argv[2], process.argv.slice(3)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`latchkey: ${error instanceof ConfigError ? error.message : `failed: ${(error as Error).message}`}\n`);
    process.exit(1);
  },
);
