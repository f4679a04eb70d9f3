import { hostname } from 'node:os';
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import cookie from '@fastify/cookie';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import serverPackage from '../package.json' with { type: 'json' };
import type { Config } from './config/schema.ts';
import { ProblemSchema } from './contract/schemas.ts';
import { createDatabase, type DatabaseHandle } from './db/create-db.ts';
import { migrateToLatest } from './db/migrate.ts';
import { loadServerSecret } from './db/server-secret.ts';
import { createClientErrorHandler, frameworkErrorHandler, installProblemHandlers } from './errors/problem.ts';
import { registeredErrors } from './errors/app-error.ts';
import { CommonErrors } from './errors/common.errors.ts';
import { createAuth } from './http/auth.ts';
import { createCookiePolicy } from './http/cookies.ts';
import { createCsrfGuard } from './http/csrf.ts';
import { createBatchedRateLimiter, createRateLimiter } from './http/rate-limit.ts';
import { installNulGuard, nulInJson } from './http/nul-guard.ts';
import { HTML_CSP, installSecurityHeaders } from './http/security-headers.ts';
import { installConsolePages } from './http/console-pages.ts';
import { installStaticPages } from './http/static-pages.ts';
import { installCors } from './http/cors.ts';
import { loggableRequest } from './http/log-redaction.ts';
import { createOriginWarnings } from './http/origin-warnings.ts';
import { installWellKnown } from './http/well-known.ts';
import { PUBLIC_ROUTE, SIGNED_IN } from './http/openapi.ts';
import { createAccountsService, createUserDirectory } from './modules/accounts/accounts.module.ts';
import { createApiKeysService } from './modules/api-keys/api-keys.module.ts';
import { createManagementService } from './modules/management/management.module.ts';
import { createLockoutLifter, createStaffService, createSupportRecoveryService } from './modules/staff/staff.module.ts';
import { staffRoutes, supportActionRoutes } from './modules/staff/staff.routes.ts';
import { supportRecoveryRoutes } from './modules/staff/support-recovery.routes.ts';
import { redactConfig } from './config/load.ts';
import { createAppendTokensService } from './modules/append-tokens/append-tokens.module.ts';
import { MANAGEMENT_PREFIX, managementRoutes } from './modules/management/management.routes.ts';
import { createAuditChainService, createAuditService, createCheckpointSigner, type AuditChainService } from './modules/audit/audit.module.ts';
import { auditKeyRoutes } from './modules/audit/audit.routes.ts';
import { createMetrics, installMetricsEndpoint, installMetricsHooks } from './modules/metrics/metrics.module.ts';
import { createSiemRepository, createSiemService, createSiemSinks, type SiemService } from './modules/siem/siem.module.ts';
import { createMailer, createNotifier } from './modules/mail/mail.module.ts';
import { createSecretBox } from './platform/secret-box.ts';
import { createTotpService, totpRoutes } from './modules/totp/totp.module.ts';
import { createPasswordHasher, createPasswordsService, passwordRoutes } from './modules/passwords/passwords.module.ts';
import {
  createEmailCodesService,
  createFallbackRepository,
  createFallbackService,
  createLockout,
  createRecoveryService,
  fallbackRoutes,
} from './modules/fallback/fallback.module.ts';
import { loadProviderNames } from './modules/passkey-names/passkey-names.ts';
import { createSessionsService, sessionRoutes } from './modules/sessions/sessions.module.ts';
import { createTelemetryService, telemetryRoutes } from './modules/telemetry/telemetry.module.ts';
import { createExperimentsRepository, createExperimentsService } from './modules/experiments/experiments.module.ts';
import { experimentAdminRoutes, experimentRoutes } from './modules/experiments/experiments.routes.ts';
import {
  createAuthenticationService,
  createChallengeCodec,
  createPasskeysService,
  createRegistrationService,
  createVerifier,
  createWebauthnRepository,
  webauthnRoutes,
  type Verifier,
  type WebauthnRouteDeps,
} from './modules/webauthn/webauthn.module.ts';
import { systemClock, type Clock } from './platform/clock.ts';
import { cryptoRandom, type Random } from './platform/random.ts';
import { deriveAtRestKeys, deriveServerKeys, deriveWebhookSecretBoxKeys } from './platform/keys.ts';
import { createUserAgentParser } from './platform/user-agent.ts';
import { createTokenSigningKeys, createTokensService } from './modules/tokens/tokens.module.ts';
import { createAuditSearchService, createSupportService, createUserSearchService } from './modules/support/support.module.ts';
import { supportRoutes } from './modules/support/support.routes.ts';
import { tokenAdminRoutes, tokenRoutes } from './modules/tokens/tokens.routes.ts';
import { createAnalyticsRepository, createAnalyticsService, createRollupWorker, type RollupWorker } from './modules/analytics/analytics.module.ts';
import { analyticsRoutes } from './modules/analytics/analytics.routes.ts';
import { listAuditEventsBetween } from './modules/audit/audit.module.ts';
import { createRolloutService } from './modules/rollout/rollout.module.ts';
import { rolloutAdminRoutes } from './modules/rollout/rollout.routes.ts';
import { createDeviceHistory, createIntelligenceService, intelligenceRoutes, type VariantFor } from './modules/intelligence/intelligence.module.ts';
import {
  createWebhookDispatcher,
  createWebhookHttpClient,
  createWebhooksService,
  createSigninSummaries,
  parseAllowlist,
  webhooksRepository,
  type SigninSummaries,
  type WebhookDispatcher,
} from './modules/webhooks/webhooks.module.ts';
import { webhookRoutes } from './modules/webhooks/webhooks.routes.ts';

export interface AppOverrides {
  clock?: Clock;
  random?: Random;
  /** An already open database (tests share one per file); closed by the caller, not the app. */
  database?: DatabaseHandle;
  verifier?: Verifier;
  logger?: FastifyServerOptions['logger'];
  /** Where the default logger writes its JSON lines (main.ts: a formatter when stdout is a terminal); stdout by default. */
  logDestination?: { write(line: string): void };
  /** Which variant of a feature a subject sees (A/B experiments plug in here); none: "default". */
  variantFor?: VariantFor;
}

const SWEEP_INTERVAL_MS = 60_000;
/** How stale a node's view of the A/B tests may be: a stop (roll-out) reaches every node within this. */
const EXPERIMENTS_REFRESH_MS = 2_000;

/** Where people reach this server: the first allowed origin (links in mails, the console's enrolment URL). */
export function publicOriginOf(config: Readonly<Config>): string {
  return config.rp.origins[0] ?? `http://localhost:${config.server.port}`;
}

declare module 'fastify' {
  interface FastifyInstance {
    /** Runs the minute sweep now (expired rows, audit retention, audit tallies); for tests and tools. */
    sweep(): Promise<void>;
    /** The audit sealer (seal now, read the chain); for tests and tools. */
    auditChain: AuditChainService;
    /** The analytics rollup worker (fold sealed events into the rollups now); for tests and tools. */
    analyticsRollup: RollupWorker;
    /** The webhook dispatcher (one pass now); for tests and tools. */
    webhookDispatcher: WebhookDispatcher;
    /** The sign-in summary job, failed and succeeded (write the due summaries now); for tests and tools. */
    signinSummaries: SigninSummaries;
    /** The SIEM export (its lag); undefined when no sink is configured. */
    siem: SiemService | undefined;
  }
}

/**
 * Assembles the Latchkey HTTP app from a validated config: opens and migrates the database,
 * builds the services and registers the routes. Never listens; `main.ts` does.
 *
 * @example
 * const app = await buildApp(loadConfig());
 * await app.listen({ port: 8080 });
 */
export async function buildApp(config: Readonly<Config>, overrides: AppOverrides = {}): Promise<FastifyInstance> {
  const clock = overrides.clock ?? systemClock;
  const random = overrides.random ?? cryptoRandom;
  const ownsDatabase = !overrides.database;
  const database = overrides.database ?? createDatabase(config.database.url, config.database);
  const { db } = database;
  await migrateToLatest(db);

  // What every log line may show: no credentials, and URLs without the person they name
  // (http/log-redaction.ts). An overriding logger (tests: a captured stream) keeps these rules.
  const logRules = {
    redact: ['req.headers.authorization', 'req.headers.cookie', 'res.headers["set-cookie"]'],
    serializers: { req: loggableRequest },
  };
  const app = Fastify({
    logger:
      typeof overrides.logger === 'object'
        ? { ...logRules, ...overrides.logger }
        : (overrides.logger ?? { level: config.log.level, ...logRules, ...(overrides.logDestination ? { stream: overrides.logDestination } : {}) }),
    bodyLimit: config.server.bodyLimitBytes,
    trustProxy: config.server.trustProxy.length > 0 ? [...config.server.trustProxy] : false,
    genReqId: () => random.uuid(),
    requestIdHeader: false,
    // Requests that arrive while closing get a 503 problem+json from installProblemHandlers.
    return503OnClosing: false,
    // Errors before any route runs leave as problem+json too (errors/problem.ts).
    frameworkErrors: frameworkErrorHandler,
    clientErrorHandler: createClientErrorHandler(
      () => random.uuid(),
      (err, code) => app.log.debug({ err, code }, 'unreadable request refused'),
    ),
    routerOptions: { ignoreTrailingSlash: false, maxParamLength: 1500 },
    // SEC-62: refuse __proto__ and constructor.prototype keys instead of silently dropping them.
    onProtoPoisoning: 'error',
    onConstructorPoisoning: 'error',
    ajv: { customOptions: { removeAdditional: false, coerceTypes: false, allErrors: false } },
  });
  // Hooks on every request are callback-style: an async hook costs a promise and microtask hops each.
  app.addHook('onRequest', (request, reply, done) => {
    reply.header('x-request-id', request.id);
    done();
  });
  // Bodies are JSON only (SEC-23): a text/plain form post from another site gets a 415.
  app.removeContentTypeParser('text/plain');
  // A body-less DELETE may still say application/json (the contract asks cookie clients to);
  // everything else goes through Fastify's parser, which refuses __proto__ keys (SEC-62).
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    if (body === '' && request.method === 'DELETE') return done(null, undefined);
    return parseJson(request, body as string, (err, parsed) => (err ? done(err) : done(nulInJson(body as string, parsed) ?? null, parsed)));
  });
  installNulGuard(app);

  installProblemHandlers(app, () => random.uuid());
  // Prometheus metrics: off unless a metrics port or token is configured (README, "Metrics").
  const metrics = config.metrics.port !== undefined || config.metrics.token !== undefined ? createMetrics({ database }) : undefined;
  if (metrics) {
    installMetricsHooks(app, metrics);
    installMetricsEndpoint(app, metrics, config.metrics);
  }
  database.onConnectionError((err) => app.log.warn({ err }, 'database connection lost; the pool reconnects on the next query'));
  // A compressed body would be parsed as if it were not: refuse any Content-Encoding (RFC 9110 §8.4.1: 415).
  app.addHook('onRequest', (request, _reply, done) => {
    const encoding = request.headers['content-encoding'];
    done(encoding && encoding.trim().toLowerCase() !== 'identity' ? CommonErrors.unsupported_media_type({ detail: 'A Content-Encoding is not accepted; send the JSON uncompressed' }) : undefined);
  });
  const warnRefusedOrigin = createOriginWarnings({ log: app.log, clock, origins: config.rp.origins, corsOrigins: config.cors.origins });
  installCors(app, config.cors.origins, (origin, request) => warnRefusedOrigin('cors', origin, request));
  installSecurityHeaders(app, { hsts: config.rp.origins.every((o) => o.startsWith('https:')) });
  await app.register(cookie);
  app.addSchema(ProblemSchema);

  // Lint-clean under Redocly's recommended rules (test/integration/openapi.test.ts); the route
  // conventions (operationId, security) are in http/openapi.ts.
  const cookieName = createCookiePolicy(config).sessionCookieName;
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Latchkey API',
        version: '1.0.0',
        license: { name: 'Apache-2.0', identifier: 'Apache-2.0' },
        description: `Passkey authentication server. Errors are RFC 9457 problem+json with a stable \`code\`:\n\n${[...registeredErrors()]
          .map(([code, spec]) => `- \`${code}\` (${spec.status}): ${spec.title}${spec.description ? ` — ${spec.description}` : ''}`)
          .join('\n')}`,
      },
      // Relative: the API is where this document was fetched from, whatever name a proxy gives it.
      servers: [{ url: '/', description: 'This Latchkey server' }],
      // Signed in unless an operation says otherwise (`security: []` on public ones).
      security: SIGNED_IN,
      components: {
        securitySchemes: {
          bearer: { type: 'http', scheme: 'bearer', description: 'A session token (`session.token` of a sign-in answer to a bearer client)' },
          cookie: { type: 'apiKey', in: 'cookie', name: cookieName, description: 'The HttpOnly session cookie a browser sign-in sets' },
          apiKey: {
            type: 'http',
            scheme: 'bearer',
            bearerFormat: 'lk_live_<id>_<secret>',
            description: `Management API key (${MANAGEMENT_PREFIX}): \`Authorization: Bearer lk_live_…\`. Make the first one with \`npm run latchkey -- api-keys create\`.`,
          },
        },
      },
    },
    // Component schemas keep their $id as name (Problem, User, …), not def-0, def-1.
    refResolver: { buildLocalReference: (json, _baseUri, _fragment, i) => (typeof json.$id === 'string' ? json.$id : `def-${i}`) },
  });
  // The API reference gets the same CSP as every other page, not swagger-ui's own (which allows
  // any https: style or font, an outside validator image and upgrade-insecure-requests).
  // The demo and the API reference are for trying Latchkey out; production leaves them off unless asked.
  const production = config.server.environment === 'production';
  const docsEnabled = config.server.docsEnabled ?? !production;
  if (docsEnabled) await app.register(swaggerUi, { routePrefix: '/docs', staticCSP: true, transformStaticCSP: () => HTML_CSP, uiConfig: { validatorUrl: null } });

  const parseUserAgent = createUserAgentParser();
  const audit = createAuditService({
    clock,
    random,
    parseUserAgent,
    onTally: metrics && ((_type, code) => metrics.junkRegistrationVerify(code)),
  });
  // Every key is its own HKDF subkey of the server secret (platform/keys.ts), derived once here;
  // services get the key they need, never the secret.
  const serverSecret = await loadServerSecret(db, random, config.secrets.serverSecret);
  const keys = deriveServerKeys(serverSecret);
  const auditChain = createAuditChainService({ db, dialect: database.dialect, clock, signer: createCheckpointSigner(keys.auditCheckpoints), ...config.audit });
  const accounts = createAccountsService({ db, clock, random, rejectEmailUsernames: config.signup.rejectEmailUsernames, lookupKey: keys.lookup });
  const sessions = createSessionsService({
    db,
    clock,
    random,
    idleTimeoutSeconds: config.session.idleTimeoutSeconds,
    absoluteTimeoutSeconds: config.session.absoluteTimeoutSeconds,
    parseUserAgent,
  });
  const verifier = overrides.verifier ?? createVerifier(config.server.verifyWorkers);
  const repository = createWebauthnRepository();
  const providerOf = loadProviderNames(config.webauthn.providersFile, (message) => app.log.warn(message));
  const mailer = createMailer({ smtpUrl: config.mail.smtpUrl, from: config.mail.from, log: app.log });
  const notifier = createNotifier({ mailer, emailOf: (userId) => accounts.emailOf(userId), rpName: config.rp.name });
  const emailCodesEnabled = config.auth.methods.includes('email_code');
  const passwordsEnabled = config.auth.methods.includes('password');
  // Filled in below once the passwords service exists (it needs the lockout of the fallback module).
  let hasPassword: (userId: string) => Promise<boolean> = async () => false;
  const hasOtherSignInMethod = async (userId: string) =>
    (emailCodesEnabled && (await accounts.emailOf(userId)) !== undefined) || (passwordsEnabled && (await hasPassword(userId)));
  const fallbackRepository = createFallbackRepository();
  const lockout = createLockout({ db, clock, repository: fallbackRepository, ...config.lockout });
  const clearFailureCounters = (userId: string) => lockout.clearUserStatement(userId);
  const challenges = createChallengeCodec(keys.challengeSealing);
  const appendTokens = createAppendTokensService({ db, clock, random, audit, ttlSeconds: config.webauthn.appendTokenTtlSeconds });
  const webauthnDeps = {
    db, config, clock, random, verifier, challenges, repository, accounts, sessions, audit, providerOf, parseUserAgent, imaginaryCredentialsKey: keys.imaginaryCredentials, notifier,
    hasOtherSignInMethod, clearFailureCounters, appendTokens,
  };
  // Assigned once the e-mail code service exists (below); sign-up calls it only after that.
  let sendSignUpEmailCode: WebauthnRouteDeps['sendSignUpEmailCode'] = async () => false;
  const cookies = createCookiePolicy(config);
  // Every sign-in and every ceremony report passes these: counted in memory, written once a second.
  const authLimiter = createBatchedRateLimiter({ db, clock, limit: config.auth.perIpPerHour, windowSeconds: 3600, onRefused: metrics?.rateLimitRefused('auth') });
  const apiKeys = createApiKeysService({ db, clock, random, audit, failureLimiter: authLimiter });
  const directory = createUserDirectory({ clock, random });
  // Enrolment links for new staff (POST /staff) live longer than a backend's append token (at most 15 minutes).
  const staffEnrollTokens = createAppendTokensService({ db, clock, random, audit, ttlSeconds: 900 });
  const staff = createStaffService({ db, clock, audit, directory, appendTokens: staffEnrollTokens, countPasskeys: (trx, userId) => repository.countByUser(trx, userId) });
  const auth = createAuth(sessions, cookies, {
    clock,
    maxAgeSeconds: config.auth.stepUpMaxAgeSeconds,
    hasPasskey: async (userId) => (await repository.countByUser(db, userId)) > 0,
  }, apiKeys, { roleOf: (userId) => staff.roleOf(userId), sessionMaxAgeMs: config.auth.staffSessionMaxAgeSeconds * 1000, idleTimeoutMs: config.auth.staffIdleTimeoutSeconds * 1000 });
  const signupLimiter = createRateLimiter({ db, clock, limit: config.signup.perIpPerHour, windowSeconds: 3600, onRefused: metrics?.rateLimitRefused('signup') });

  const telemetryLimiter = createBatchedRateLimiter({ db, clock, limit: config.telemetry.perIpPerHour, windowSeconds: 3600, onRefused: metrics?.rateLimitRefused('telemetry') });

  const csrfGuard = createCsrfGuard(config.rp.origins, (origin, request) => warnRefusedOrigin('csrf', origin, request));
  app.addHook('preHandler', (request, _reply, done) => done(csrfGuard(request)));

  const signingKeys = createTokenSigningKeys({ db, clock, random, keys, config });
  await signingKeys.refresh();
  signingKeys.start((err) => app.log.warn({ err }, 'signing key refresh failed'));
  const tokens = createTokensService({
    db,
    clock,
    random,
    audit,
    keys: signingKeys,
    externalIdOf: async (userId) => (await directory.findById(db, userId))?.externalId ?? null,
    config: {
      issuer: config.tokens.issuer ?? config.rp.origins[0] ?? `http://localhost:${config.server.port}`,
      audiences: config.tokens.audiences,
      loginResultTtlSeconds: config.tokens.loginResultTtlSeconds,
      accessTokenTtlSeconds: config.tokens.accessTokenTtlSeconds,
    },
  });

  const passkeys = createPasskeysService(webauthnDeps);
  await app.register(webauthnRoutes, {
    registration: createRegistrationService(webauthnDeps),
    authentication: createAuthenticationService(webauthnDeps),
    passkeys,
    auth,
    cookies,
    clock,
    random,
    challengeTtlSeconds: config.webauthn.challengeTtlSeconds,
    signupLimiter,
    authLimiter,
    sendSignUpEmailCode: (input) => sendSignUpEmailCode(input),
    rpId: config.rp.id,
    loginResults: {
      check: (audience) => tokens.checkAudience(audience),
      issue: async (audience, found, context) => {
        const { token, expiresAt } = await tokens.issue({ kind: 'login_result', audience, found, context });
        return { loginResult: token, loginResultExpiresAt: new Date(expiresAt).toISOString() };
      },
    },
  });
  await app.register(tokenRoutes, { tokens, keys: signingKeys, auth });
  await app.register(sessionRoutes, { db, sessions, audit, auth, cookies });
  const experiments = createExperimentsService({ db, repository: createExperimentsRepository(), audit, clock, random, bucketKey: keys.experimentBuckets, refreshMs: EXPERIMENTS_REFRESH_MS });
  // Gradual rollout and passkey intelligence (issue 14): rules evaluated from a snapshot every node refreshes.
  const deviceHistory = createDeviceHistory(db);
  const rollout = createRolloutService({
    db,
    clock,
    audit,
    bucketingKey: keys.rolloutBucketing,
    refreshIntervalMs: config.rollout.refreshIntervalMs,
    recentDevices: deviceHistory.recentDevices,
    usersPage: async (cursor, limit) => {
      const [createdAt, id] = cursor ? [Number(cursor.slice(0, cursor.indexOf(':'))), cursor.slice(cursor.indexOf(':') + 1)] : [0, ''];
      const users = await directory.page(db, { limit, ...(cursor ? { after: { createdAt, id } } : {}) });
      const last = users.at(-1);
      return { users, next: users.length === limit && last ? `${last.createdAt}:${last.id}` : null };
    },
  });
  await rollout.refresh();
  let rolloutFailureLogged = 0;
  rollout.start((err) => {
    if (clock.now() - rolloutFailureLogged < SWEEP_INTERVAL_MS) return;
    rolloutFailureLogged = clock.now();
    app.log.warn({ err }, 'rollout rules refresh failed; the last rules stay in use');
  });
  const intelligence = createIntelligenceService({
    db,
    clock,
    random,
    audit,
    rollout,
    parseUserAgent,
    providerOf,
    lookupKeyOf: (username) => accounts.lookupKeyOf(username),
    passkeyFacts: (by, trx) => repository.passkeyFacts(trx ?? db, by),
    deviceIdKey: keys.deviceIds,
    // The append prompt's variant: the signed-in user's arm of a running A/B test (or its rolled-out winner).
    variantFor:
      overrides.variantFor ??
      (async (feature, subject) => (feature === 'append_prompt' && subject.userId ? (await experiments.variantFor('append_prompt', subject.userId))?.variant : undefined)),
    config: config.intelligence,
  });
  const decisionsLimiter = createBatchedRateLimiter({ db, clock, limit: config.intelligence.perIpPerHour, windowSeconds: 3600, onRefused: metrics?.rateLimitRefused('decisions') });
  await app.register(intelligenceRoutes, { intelligence, auth, limiter: decisionsLimiter });
  await app.register(telemetryRoutes, {
    // An append prompt's ceremony is a passkey creation for the device's history.
    telemetry: createTelemetryService({
      db,
      audit,
      onDeviceReport: (trx, input) => intelligence.recordCeremony(trx, { ...input, ceremony: input.ceremony === 'append' ? 'registration' : input.ceremony }),
    }),
    auth,
    limiter: telemetryLimiter,
  });
  installWellKnown(app, config);
  await app.register(auditKeyRoutes, { jwk: auditChain.publicJwk });
  const management = createManagementService({
    db, directory, sessions, passkeys, audit, clock, appendTokens, isStaff: async (trx, userId) => (await staff.roleOf(userId, trx)) !== undefined,
    refuseIfLastAdmin: (trx, userId) => staff.refuseIfLastAdmin(trx, userId),
  });
  await app.register(managementRoutes, { prefix: MANAGEMENT_PREFIX, management, apiKeys, auth });
  await app.register(tokenAdminRoutes, { prefix: MANAGEMENT_PREFIX, tokens, auth });
  // Adoption analytics: the rollups are folded off the request path from the sealed audit chain.
  const analyticsRepository = createAnalyticsRepository(database.dialect);
  const providersOf = async (ids: readonly string[]) => {
    const aaguids = await repository.aaguidsOf(db, ids);
    return new Map([...aaguids].map(([id, aaguid]) => [id, providerOf(aaguid).name]));
  };
  const providerOfAaguid = (aaguid: string) => providerOf(aaguid).name;
  const analyticsRollup = createRollupWorker({
    db,
    clock,
    repository: analyticsRepository,
    readAfter: async (seq, limit) => (await auditChain.readSealedAfter(seq, limit)).map(({ seq: s, event }) => ({ seq: s, ...event })),
    providersOf,
    providerOfAaguid,
    batchSize: config.analytics.batchSize,
    lateReportDays: config.analytics.lateReportDays,
  });
  const analytics = createAnalyticsService({
    db,
    clock,
    repository: analyticsRepository,
    pseudonymKey: keys.analyticsPseudonyms,
    audit,
    listEventsBetween: (range) => listAuditEventsBetween(db, range),
    providersOf,
    providerOfAaguid,
    config: config.analytics,
  });
  await app.register(analyticsRoutes, { prefix: MANAGEMENT_PREFIX, analytics, auth });
  await app.register(rolloutAdminRoutes, { prefix: MANAGEMENT_PREFIX, rollout, auth });
  await app.register(experimentAdminRoutes, { prefix: MANAGEMENT_PREFIX, experiments, auth });
  await app.register(experimentRoutes, { experiments, auth, limiter: telemetryLimiter });

  // Webhooks read the sealed audit chain: the audit row that commits with each change is their outbox (SEC-56).
  const webhookConfig = config.webhooks;
  const allowlist = parseAllowlist(webhookConfig.allowedTargets);
  if (!allowlist.ok) throw new Error(`LATCHKEY_WEBHOOK_ALLOWED_TARGETS: ${allowlist.problem}`); // config/load.ts reports it first
  const webhookBox = createSecretBox({ keys: deriveWebhookSecretBoxKeys(keys, config.secrets.encryptionKey), randomBytes: random.bytes });
  const webhookHttp = createWebhookHttpClient({ timeoutMs: webhookConfig.timeoutMs, allowlist: allowlist.allowlist, clock });
  const webhookDispatcher = createWebhookDispatcher({
    db,
    clock,
    random,
    box: webhookBox,
    audit,
    chain: auditChain,
    http: webhookHttp,
    policy: {
      baseMs: webhookConfig.retryBaseMs,
      maxDelayMs: webhookConfig.retryMaxDelayMs,
      maxAttempts: webhookConfig.maxAttempts,
      retryAfterMaxMs: webhookConfig.retryAfterMaxSeconds * 1000,
    },
    timeoutMs: webhookConfig.timeoutMs,
    pollIntervalMs: webhookConfig.pollIntervalMs,
    secretOverlapMs: webhookConfig.secretOverlapSeconds * 1000,
    disableAfterFailingMs: webhookConfig.disableAfterFailingSeconds * 1000,
    signinFailedPerMinute: webhookConfig.signinFailedPerMinute,
    ...(metrics ? { observer: { delivery: (outcome) => metrics.webhookDelivery(outcome), dropped: (reason) => metrics.webhookDropped(reason) } } : {}),
  });
  metrics?.observeWebhookBacklog(() => webhookDispatcher.backlog());
  // signin.failed.summary and signin.succeeded.summary: every node, once a minute's sign-ins have settled (README, "Webhooks").
  const signinSummaries = createSigninSummaries({
    db,
    clock,
    random,
    intervalMs: webhookConfig.pollIntervalMs,
    isActive: () => webhookDispatcher.active,
    kick: () => webhookDispatcher.kick(),
  });
  const webhooks = createWebhooksService({
    db,
    clock,
    random,
    audit,
    box: webhookBox,
    allowHttp: webhookConfig.allowHttp,
    allowlist: allowlist.allowlist,
    secretOverlapMs: webhookConfig.secretOverlapSeconds * 1000,
    kick: () => webhookDispatcher.kick(),
  });
  await app.register(webhookRoutes, { prefix: MANAGEMENT_PREFIX, webhooks, auth });

  const codeIpLimiter = createRateLimiter({ db, clock, limit: config.emailCode.perIpPerHour, windowSeconds: 3600, onRefused: metrics?.rateLimitRefused('email_code_ip') });
  const perClientLimiter = createRateLimiter({ db, clock, limit: config.emailCode.perAddressPerHour, windowSeconds: 3600, onRefused: metrics?.rateLimitRefused('email_code_client') });
  const perAddressLimiter = createRateLimiter({ db, clock, limit: config.emailCode.addressCeilingPerHour, windowSeconds: 3600, onRefused: metrics?.rateLimitRefused('email_code_address') });
  const emailCodes = createEmailCodesService({
    db, config, clock, random, repository: fallbackRepository, accounts, audit, mailer, lockout, perClientLimiter, perAddressLimiter, codeKey: keys.emailCodes,
  });
  sendSignUpEmailCode = async (input) => {
    try {
      await emailCodes.start({ purpose: 'verify_email', email: input.email, binding: input.binding, userId: input.userId, context: input.context });
      return true;
    } catch (err) {
      // The account exists either way; the user can ask again with PUT /api/v1/account/email.
      app.log.info({ code: (err as { code?: string }).code }, 'sign-up e-mail code not sent');
      return false;
    }
  };
  const recovery = createRecoveryService({
    db,
    clock,
    random,
    repository: fallbackRepository,
    sessions,
    audit,
    notifier,
    emailCodes,
    lockout,
    isActive: async (userId) => (await accounts.findById(userId))?.status === 'active',
  });
  // Staff and the support console (issue 13): /me, /staff, support actions and settings under the
  // management prefix; the user's side of a support recovery on the public API.
  const supportRecovery = createSupportRecoveryService({
    db, clock, random, audit, accounts, sessions, mailer, rpName: config.rp.name, recoveryUrl: config.auth.supportRecoveryUrl ?? `${publicOriginOf(config)}/`,
  });
  const staffDeps = {
    staff,
    auth,
    stepUpMaxAgeSeconds: config.auth.stepUpMaxAgeSeconds,
    publicOrigin: publicOriginOf(config),
    recovery: supportRecovery,
    lockouts: createLockoutLifter({ db, audit, lockout, userExists: async (trx, userId) => (await directory.findById(trx, userId)) !== undefined }),
    settings: redactConfig(config),
  };
  await app.register(staffRoutes, { prefix: MANAGEMENT_PREFIX, ...staffDeps });
  await app.register(supportActionRoutes, { prefix: MANAGEMENT_PREFIX, ...staffDeps });
  await app.register(supportRecoveryRoutes, { recovery: supportRecovery, auth, cookies, clock, accounts, ipLimiter: codeIpLimiter });
  await app.register(fallbackRoutes, {
    auth,
    cookies,
    clock,
    random,
    accounts,
    emailCodes,
    recovery,
    fallback: createFallbackService({ db, clock, accounts, sessions, audit, notifier, emailCodes }),
    ipLimiter: codeIpLimiter,
    emailCodeEnabled: emailCodesEnabled,
    recoveryEnabled: config.auth.recoveryEnabled,
    codeTtlSeconds: config.emailCode.ttlSeconds,
    countPasskeys: (userId) => repository.countByUser(db, userId),
  });
  const totp = createTotpService({
    db,
    clock,
    random,
    box: createSecretBox({ keys: deriveAtRestKeys(keys, serverSecret, config.secrets.encryptionKey), randomBytes: random.bytes }),
    lockout,
    sessions,
    audit,
    issuer: config.rp.name,
  });
  const totpEnabled = config.auth.methods.includes('totp');
  // Seeds sealed before subkeys (secret box v1) open still; re-seal them once, so nothing stays under the old key.
  const resealed = await totp.resealLegacySecrets();
  if (resealed.resealed > 0) app.log.info({ count: resealed.resealed }, 'TOTP seeds of an older secret box re-sealed');
  if (resealed.unreadable > 0) app.log.warn({ count: resealed.unreadable }, 'TOTP seeds that do not open with the configured keys (is LATCHKEY_ENCRYPTION_KEY right?)');
  const passwords = createPasswordsService({
    db,
    clock,
    accounts,
    sessions,
    audit,
    notifier,
    lockout,
    hasher: createPasswordHasher({ concurrency: config.password.hashConcurrency, pepper: config.password.pepper }),
    minLength: config.password.minLength,
    passkeyFirst: config.auth.passkeyFirst,
    rpName: config.rp.name,
    countPasskeys: (userId) => repository.countByUser(db, userId),
    hasTotp: async (userId) => totpEnabled && (await totp.isEnrolled(userId)),
  });
  hasPassword = (userId) => passwords.hasPassword(userId);
  // The support console's data (issue 13): reads over the modules above, scoped like the management API.
  await app.register(supportRoutes, {
    prefix: MANAGEMENT_PREFIX,
    auth,
    search: createUserSearchService({ db, directory, ownerOfCredential: (id) => passkeys.ownerOf(id), countPasskeys: (ids) => passkeys.countByUsers(ids) }),
    support: createSupportService({
      db,
      directory,
      listPasskeys: (userId) => passkeys.list(userId),
      listSessions: (userId) => sessions.listForUser(userId),
      recoveryCodesLeft: (userId) => recovery.remaining(userId),
      hasPassword: (userId) => passwords.hasPassword(userId),
      hasTotp: (userId) => totp.isEnrolled(userId),
      emailCodesEnabled,
      lockoutState: (userId) => lockout.stateOfUser(userId),
    }),
    auditSearch: createAuditSearchService({
      db,
      dialect: database.dialect,
      checkpointKey: auditChain.publicJwk,
      // A checkpoint's worth of the newest rows at least, back to the signed checkpoint below them.
      verifyMinRows: config.audit.checkpointEveryEvents,
      now: () => clock.now(),
    }),
    recordRead: (context, read) => management.recordRead(context, read),
  });
  const passwordIpLimiter = createRateLimiter({ db, clock, limit: config.emailCode.perIpPerHour, windowSeconds: 3600, onRefused: metrics?.rateLimitRefused('password_totp_ip') });
  await app.register(passwordRoutes, { auth, cookies, clock, passwords, ipLimiter: passwordIpLimiter, enabled: passwordsEnabled });
  await app.register(totpRoutes, { auth, totp, ipLimiter: passwordIpLimiter, enabled: totpEnabled, cookies, clock });

  const health = (status: string) => ({ type: 'object', properties: { status: { type: 'string', const: status } }, required: ['status'] });
  const healthSchema = {
    operationId: 'getHealth',
    security: PUBLIC_ROUTE,
    tags: ['operations'],
    summary: 'Ready when the database answers',
    // 4XX: a request refused before the route (a Content-Encoding, a malformed header).
    response: { 200: health('ok'), '4xx': { $ref: 'Problem#' }, 503: health('unavailable') },
  };
  app.get('/healthz', { schema: healthSchema }, async (_request, reply) => {
    try {
      await database.ping();
      return { status: 'ok' };
    } catch {
      return reply.code(503).header('retry-after', '5').send({ status: 'unavailable' });
    }
  });
  if (docsEnabled) app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  await installStaticPages(app, { demo: config.server.demoEnabled ?? !production });
  await installConsolePages(app);

  // Every table that grows with sign-ins is swept, not left to grow (SEC-01): expired challenges
  // and sessions, used sign-in challenges, codes, rate-limit windows, and audit rows past retention.
  const sweep = async (): Promise<void> => {
    const now = clock.now();
    await Promise.all([
      repository.deleteExpiredChallenges(db, now),
      sessions.sweepExpired(),
      appendTokens.sweep(),
      supportRecovery.sweep(),
      signupLimiter.sweep(),
      codeIpLimiter.sweep(),
      perClientLimiter.sweep(),
      perAddressLimiter.sweep(),
      emailCodes.sweep(),
      telemetryLimiter.sweep(),
      decisionsLimiter.sweep(),
      intelligence.sweep(),
      audit.flushTallies(db),
      tokens.sweep(),
      auditChain.sweep(),
      analyticsRollup.sweep(),
      webhooksRepository.sweepFinished(db, now - webhookConfig.deliveryRetentionDays * 86_400_000),
    ]);
  };
  app.decorate('sweep', sweep);
  app.decorate('auditChain', auditChain);
  app.decorate('analyticsRollup', analyticsRollup);
  app.decorate('webhookDispatcher', webhookDispatcher);
  app.decorate('signinSummaries', signinSummaries);
  const logWebhookError = (what: string) => {
    let logged = 0;
    return (err: unknown) => {
      if (clock.now() - logged < SWEEP_INTERVAL_MS) return;
      logged = clock.now();
      app.log.error({ err }, what);
    };
  };
  webhookDispatcher.start(logWebhookError('webhook dispatch failed'));
  signinSummaries.start(logWebhookError('sign-in summaries failed'));
  // Seals off the request path: sign-ins only insert their audit rows (modules/audit/audit-chain.service.ts).
  let sealFailureLogged = 0;
  auditChain.start((err) => {
    if (clock.now() - sealFailureLogged < SWEEP_INTERVAL_MS) return;
    sealFailureLogged = clock.now();
    app.log.error({ err }, 'audit sealing failed');
  });
  let rollupFailureLogged = 0;
  const rollups = setInterval(() => {
    analyticsRollup.run().catch((err: unknown) => {
      if (clock.now() - rollupFailureLogged < SWEEP_INTERVAL_MS) return;
      rollupFailureLogged = clock.now();
      app.log.error({ err }, 'analytics rollup failed');
    });
  }, config.analytics.rollupIntervalMs);
  rollups.unref();
  // SIEM export (README, "Sending events to a SIEM"): off the request path, from the sealed chain.
  const siemSinks = createSiemSinks(config.siem, { hostname: hostname(), procId: String(process.pid), stdout: process.stdout });
  let siem: SiemService | undefined;
  if (siemSinks.length > 0) {
    // The gauges read the lag of the service they are handed to, at scrape time.
    const observer = metrics?.siem(() => siem?.lag() ?? Promise.resolve([]));
    siem = createSiemService({
      chain: auditChain,
      repository: createSiemRepository(db),
      clock,
      random,
      sinks: siemSinks,
      ocsf: { productVersion: serverPackage.version, service: { name: config.rp.name, uid: config.rp.id } },
      userNames: config.siem.includeUsername
        ? async (ids) => new Map((await Promise.all(ids.map((id) => accounts.findById(id)))).flatMap((u) => (u ? [[u.id, u.username] as const] : [])))
        : undefined,
      batchSize: config.siem.batchSize,
      pollIntervalMs: config.siem.pollIntervalMs,
      startFrom: config.siem.startFrom,
      observer,
      log: app.log,
    });
    siem.start();
  }
  app.decorate('siem', siem);
  const sweeper = setInterval(() => {
    sweep().catch((err: unknown) => app.log.warn({ err }, 'sweep failed'));
  }, SWEEP_INTERVAL_MS);
  sweeper.unref();

  app.addHook('onClose', async () => {
    clearInterval(sweeper);
    clearInterval(rollups);
    signingKeys.stop();
    rollout.stop();
    await signinSummaries.close();
    // Attempts in flight finish and record their outcome (each bounded by the webhook timeout).
    await webhookDispatcher.close();
    await webhookHttp.close();
    // Counts of the batched limiters and the audit tallies reach the database before it closes (best effort).
    await Promise.all([authLimiter.flush(), telemetryLimiter.flush(), decisionsLimiter.flush(), audit.flushTallies(db)]).catch(() => {});
    await auditChain.close();
    await analyticsRollup.close();
    // A batch in flight finishes (or fails within the send timeout); the cursors stay where delivery got to.
    await siem?.close();
    await mailer.drain();
    mailer.close();
    if (!overrides.verifier) await verifier.close();
    if (ownsDatabase) await database.close();
  });
  return app;
}

