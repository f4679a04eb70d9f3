import { Type, type Static } from 'typebox';

const strict = { additionalProperties: false } as const;

/**
 * The whole configuration of a Latchkey server: one schema, defaults included.
 * `loadConfig()` fills it from `LATCHKEY_*` variables (see `ENVIRONMENT`) and an optional JSON file.
 */
export const ConfigSchema = Type.Object(
  {
    server: Type.Object(
      {
        host: Type.String({ default: '127.0.0.1', minLength: 1, description: 'Interface to bind' }),
        port: Type.Integer({ default: 8080, minimum: 0, maximum: 65535, description: 'TCP port to listen on' }),
        bodyLimitBytes: Type.Integer({ default: 65536, minimum: 1024, maximum: 10_485_760, description: 'Largest accepted request body' }),
        trustProxy: Type.Array(Type.String({ minLength: 1 }), {
          default: [],
          description: 'Addresses or CIDRs of reverse proxies whose X-Forwarded-For is trusted (SEC-35); empty trusts none',
        }),
        verifyWorkers: Type.Integer({
          default: -1,
          minimum: -1,
          maximum: 64,
          description: 'Worker threads for signature verification; 0 verifies on the event loop, -1 picks one per spare core',
        }),
        environment: Type.Union([Type.Literal('development'), Type.Literal('production')], {
          default: 'development',
          description: 'production turns the demo app and the API reference off unless LATCHKEY_DEMO_ENABLED / LATCHKEY_DOCS_ENABLED say otherwise',
        }),
        demoEnabled: Type.Optional(Type.Boolean({ description: 'Serve the demo app at / (unset: on, off when LATCHKEY_ENV=production)' })),
        docsEnabled: Type.Optional(Type.Boolean({ description: 'Serve the API reference at /docs and /openapi.json (unset: on, off when LATCHKEY_ENV=production)' })),
      },
      { ...strict, default: {} },
    ),
    rp: Type.Object(
      {
        id: Type.String({ default: 'localhost', minLength: 1, maxLength: 253, description: 'WebAuthn relying party ID (a registrable domain)' }),
        name: Type.String({ default: 'Latchkey', minLength: 1, maxLength: 64, description: 'Name shown by authenticators' }),
        origins: Type.Array(Type.String({ minLength: 1 }), {
          default: [],
          description: 'Allowed origins (scheme://host[:port]); default http://localhost:<port>',
        }),
        topOrigins: Type.Array(Type.String({ minLength: 1 }), {
          default: [],
          description: 'Top-level origins allowed to embed a ceremony in a cross-origin iframe; empty refuses crossOrigin and topOrigin',
        }),
      },
      { ...strict, default: {} },
    ),
    database: Type.Object(
      {
        url: Type.String({ default: 'sqlite:./data/latchkey.db', minLength: 1, description: 'sqlite:<path> or postgres://...' }),
        poolSize: Type.Integer({ default: 10, minimum: 1, maximum: 200, description: 'PostgreSQL connection pool size' }),
        sqliteWalLimitMb: Type.Integer({
          default: 64,
          minimum: 1,
          maximum: 4096,
          description: 'SQLite: the write-ahead log is checkpointed and truncated once it grows past this size (and truncated when idle)',
        }),
        sqliteCacheMb: Type.Integer({
          default: 64,
          minimum: 2,
          maximum: 16_384,
          description: "SQLite: the serving connection's page cache (SQLite's own default is 2 MB, which a live database outgrows at once)",
        }),
        sqliteMmapMb: Type.Integer({
          default: 0,
          minimum: 0,
          maximum: 65_536,
          description: 'SQLite: read up to this much of the database file through a memory map instead of read calls (0: off)',
        }),
      },
      { ...strict, default: {} },
    ),
    webauthn: Type.Object(
      {
        residentKey: Type.Union([Type.Literal('required'), Type.Literal('preferred'), Type.Literal('discouraged')], {
          default: 'required',
          description: 'authenticatorSelection.residentKey for new passkeys',
        }),
        userVerification: Type.Union([Type.Literal('required'), Type.Literal('preferred'), Type.Literal('discouraged')], {
          default: 'preferred',
          description: 'userVerification in options; "required" also makes verification refuse UV=0',
        }),
        attestation: Type.Union([Type.Literal('none'), Type.Literal('indirect'), Type.Literal('direct')], {
          default: 'none',
          description: 'Attestation conveyance requested at registration',
        }),
        challengeTtlSeconds: Type.Integer({ default: 300, minimum: 30, maximum: 3600, description: 'How long a challenge stays valid' }),
        appendTokenTtlSeconds: Type.Integer({
          default: 300,
          minimum: 30,
          maximum: 900,
          description: 'How long an append token (POST /api/admin/v1/append-tokens) stays valid; at most 15 minutes',
        }),
        providersFile: Type.Optional(Type.String({ minLength: 1, description: 'A newer passkey-provider AAGUID list (JSON) to use instead of the bundled one' })),
      },
      { ...strict, default: {} },
    ),
    session: Type.Object(
      {
        idleTimeoutSeconds: Type.Integer({ default: 3600, minimum: 60, maximum: 2_592_000, description: 'Session ends after this long unused (NIST AAL2: at most 1 h)' }),
        absoluteTimeoutSeconds: Type.Integer({ default: 86400, minimum: 300, maximum: 31_536_000, description: 'Session ends this long after sign-in whatever its use (NIST AAL2: at most 24 h)' }),
      },
      { ...strict, default: {} },
    ),
    signup: Type.Object(
      {
        enabled: Type.Boolean({ default: true, description: 'Whether signed-out visitors may create accounts' }),
        rejectEmailUsernames: Type.Boolean({ default: false, description: 'Refuse e-mail-shaped usernames (limits enumeration of addresses through username_taken)' }),
        perIpPerHour: Type.Integer({ default: 30, minimum: 1, maximum: 100_000, description: 'Sign-up option requests one IP may make per hour (SEC-21)' }),
      },
      { ...strict, default: {} },
    ),
    auth: Type.Object(
      {
        methods: Type.Array(Type.Union([Type.Literal('passkey'), Type.Literal('email_code'), Type.Literal('password'), Type.Literal('totp')]), {
          default: ['passkey', 'email_code'],
          minItems: 1,
          uniqueItems: true,
          description:
            'Sign-in methods offered: passkey, email_code (low assurance, AAL1; SEC-37), password (off by default; SEC-41), totp (second factor after a password; SEC-40). "passkey" alone disables every fallback, recovery included',
        }),
        passkeyFirst: Type.Boolean({
          default: true,
          description: 'Once a user has a passkey, a password sign-in also needs that passkey (second factor) before the session is usable',
        }),
        stepUpMaxAgeSeconds: Type.Integer({
          default: 300,
          minimum: 30,
          maximum: 3600,
          description: 'Sensitive operations need a user-verified passkey authentication at most this old (SEC-31)',
        }),
        staffSessionMaxAgeSeconds: Type.Integer({
          default: 28_800,
          minimum: 300,
          maximum: 86_400,
          description: 'A staff member reaches the admin API only this long after their last user-verified passkey sign-in or step-up; then the console asks for the passkey again (SEC-49: short admin sessions)',
        }),
        staffIdleTimeoutSeconds: Type.Integer({
          default: 1800,
          minimum: 120,
          maximum: 86_400,
          description: 'A staff session unused this long no longer reaches the admin API (the account session itself follows the normal idle timeout)',
        }),
        perIpPerHour: Type.Integer({
          default: 1000,
          minimum: 1,
          maximum: 1_000_000,
          description: 'Passkey sign-in and step-up requests (options and verify, counted apart), registration verifies, and refused management API keys, one client IP may make per hour (SEC-34)',
        }),
        recoveryEnabled: Type.Boolean({ default: true, description: 'Account recovery with an e-mail code plus a recovery code (SEC-39)' }),
        supportRecoveryUrl: Type.Optional(
          Type.String({
            minLength: 1,
            description: 'Page of your app that redeems a recovery link support e-mails (the link is this URL + #support-code=…); default: the first origin + /',
          }),
        ),
      },
      { ...strict, default: {} },
    ),
    emailCode: Type.Object(
      {
        ttlSeconds: Type.Integer({ default: 600, minimum: 60, maximum: 600, description: 'How long an e-mailed one-time code stays valid (SEC-36: at most 10 min)' }),
        maxAttempts: Type.Integer({ default: 5, minimum: 1, maximum: 5, description: 'Wrong guesses before a code is invalidated (SEC-36)' }),
        resendCooldownSeconds: Type.Integer({ default: 60, minimum: 0, maximum: 3600, description: 'Least time between two codes to one address asked for by one client (ceremony binding)' }),
        perAddressPerHour: Type.Integer({ default: 10, minimum: 1, maximum: 1000, description: 'Codes one client (ceremony binding) may have sent to one address per hour' }),
        addressCeilingPerHour: Type.Integer({
          default: 50,
          minimum: 1,
          maximum: 10_000,
          description: 'Codes one address may be sent per hour by all clients together: a ceiling well above the per-client quota, against mail floods',
        }),
        perIpPerHour: Type.Integer({ default: 100, minimum: 1, maximum: 1_000_000, description: 'Code requests, code checks, password and TOTP attempts one client IP may make per hour, each kind counted apart (SEC-34)' }),
      },
      { ...strict, default: {} },
    ),
    lockout: Type.Object(
      {
        freeFailures: Type.Integer({ default: 5, minimum: 1, maximum: 50, description: 'Consecutive failures per account and factor (for e-mail codes: per address and client) before delays start (SEC-34)' }),
        maxDelaySeconds: Type.Integer({ default: 3600, minimum: 1, maximum: 86400, description: 'Longest delay between attempts after repeated failures' }),
        hardLimit: Type.Integer({ default: 100, minimum: 10, maximum: 100, description: 'Consecutive failures after which a factor is locked (e-mail codes: per address, all clients together) until a passkey sign-in or `latchkey unlock-email` (NIST: at most 100)' }),
      },
      { ...strict, default: {} },
    ),
    password: Type.Object(
      {
        minLength: Type.Integer({ default: 15, minimum: 8, maximum: 64, description: 'Least code points in a password (NIST SP 800-63B-4: 15 when it is the only factor, 8 with a second factor)' }),
        hashConcurrency: Type.Integer({ default: 2, minimum: 1, maximum: 64, description: 'Most argon2id computations at once; further requests wait (SEC-43)' }),
        pepper: Type.Optional(Type.String({ minLength: 32, description: 'Optional secret mixed into every password hash (argon2 secret); changing it invalidates every password' })),
      },
      { ...strict, default: {} },
    ),
    mail: Type.Object(
      {
        smtpUrl: Type.Optional(Type.String({ minLength: 1, description: 'smtp:// or smtps:// URL of the mail relay; unset writes codes to the log (development only)' })),
        from: Type.String({ default: 'Latchkey <no-reply@localhost>', minLength: 3, description: 'From address of codes and security notifications' }),
      },
      { ...strict, default: {} },
    ),
    telemetry: Type.Object(
      {
        perIpPerHour: Type.Integer({ default: 600, minimum: 1, maximum: 1_000_000, description: 'Ceremony outcome reports one IP may send per hour' }),
      },
      { ...strict, default: {} },
    ),
    intelligence: Type.Object(
      {
        perIpPerHour: Type.Integer({ default: 600, minimum: 1, maximum: 1_000_000, description: 'Passkey decisions (and "not now" answers) one IP may ask for per hour' }),
        autoHealAfterFailures: Type.Integer({
          default: 3,
          minimum: 1,
          maximum: 100,
          description: 'Failed or cancelled passkey ceremonies on a device (since its last success) after which it is offered a new passkey instead of passkey sign-in',
        }),
        failureWindowDays: Type.Integer({ default: 14, minimum: 1, maximum: 90, description: "How far back a device's reported ceremonies count" }),
        declineCooldownDays: Type.Integer({ default: 14, minimum: 0, maximum: 365, description: 'Days the append prompt is not offered again after a "not now"' }),
        identifierHints: Type.Boolean({
          default: true,
          description: 'Decide the passkey button for an identifier (username) from its passkeys; off: an identifier is ignored (reveals nothing about it)',
        }),
      },
      { ...strict, default: {} },
    ),
    rollout: Type.Object(
      {
        refreshIntervalMs: Type.Integer({
          default: 2000,
          minimum: 100,
          maximum: 60_000,
          description: 'How often each node checks for changed rollout rules (a kill switch takes effect on every node within this)',
        }),
      },
      { ...strict, default: {} },
    ),
    cors: Type.Object(
      {
        origins: Type.Array(Type.String({ minLength: 1 }), {
          default: [],
          description: 'Origins allowed to call the API from the browser with credentials (CORS); each must also be in LATCHKEY_ORIGINS; empty allows none',
        }),
      },
      { ...strict, default: {} },
    ),
    wellKnown: Type.Object(
      {
        relatedOrigins: Type.Array(Type.String({ minLength: 1 }), {
          default: [],
          description: 'Origins listed in /.well-known/webauthn (WebAuthn related origin requests); empty serves 404',
        }),
        appleAppSiteAssociation: Type.Optional(Type.String({ minLength: 2, description: 'JSON served as /.well-known/apple-app-site-association (iOS passkeys)' })),
        assetLinks: Type.Optional(Type.String({ minLength: 2, description: 'JSON served as /.well-known/assetlinks.json (Android passkeys)' })),
      },
      { ...strict, default: {} },
    ),
    secrets: Type.Object(
      {
        serverSecret: Type.Optional(
          Type.String({
            minLength: 32,
            description: 'Input of every server key: each (challenge sealing, keyed lookups, e-mail codes, secrets at rest unless LATCHKEY_ENCRYPTION_KEY) is its own HKDF subkey under a fixed label; generated and kept in the database when unset',
          }),
        ),
        encryptionKey: Type.Optional(
          Type.String({
            minLength: 32,
            description: 'Key material (any string of 32+ characters) for secrets at rest (TOTP seeds, token signing keys): their AES-256-GCM keys are its HKDF subkeys; when unset the server secret\'s subkeys are used',
          }),
        ),
      },
      { ...strict, default: {} },
    ),
    tokens: Type.Object(
      {
        issuer: Type.Optional(Type.String({ minLength: 1, maxLength: 512, description: 'The `iss` of signed login results and access tokens; default the first of LATCHKEY_ORIGINS' })),
        audiences: Type.Array(Type.String({ minLength: 1, maxLength: 512 }), {
          default: [],
          description: 'Audiences (`aud`) a signed token may be issued for, one per app backend; any other is refused (400 audience_not_allowed); empty issues none',
        }),
        loginResultTtlSeconds: Type.Integer({ default: 120, minimum: 10, maximum: 600, description: 'Lifetime of a signed login result (s)' }),
        accessTokenTtlSeconds: Type.Integer({ default: 300, minimum: 10, maximum: 3600, description: 'Lifetime of a signed access token (s)' }),
        keyRotationDays: Type.Integer({
          default: 30,
          minimum: 0,
          maximum: 3650,
          description: 'A new ES256 signing key is made when the newest is this many days old (published 7 minutes before it signs); 0 rotates only with `latchkey keys rotate`',
        }),
      },
      { ...strict, default: {} },
    ),
    audit: Type.Object(
      {
        retentionDays: Type.Integer({
          default: 400,
          minimum: 0,
          maximum: 36_500,
          description: 'Audit rows older than this many days are deleted, oldest first, by the minute sweep (once sealed, with the chain rows below a signed anchor); 0 keeps them forever',
        }),
        sealIntervalMs: Type.Integer({
          default: 1000,
          minimum: 50,
          maximum: 60_000,
          description: 'How often each node tries to seal new audit rows into the hash chain (one node seals at a time)',
        }),
        checkpointIntervalSeconds: Type.Integer({
          default: 600,
          minimum: 0,
          maximum: 86_400,
          description: 'A signed checkpoint of the audit chain at most this long after the last one, when events were sealed since; 0: after every seal',
        }),
        checkpointEveryEvents: Type.Integer({
          default: 10_000,
          minimum: 1,
          description: '…or as soon as this many events were sealed since the last checkpoint',
        }),
      },
      { ...strict, default: {} },
    ),
    analytics: Type.Object(
      {
        rollupIntervalMs: Type.Integer({
          default: 5000,
          minimum: 100,
          maximum: 3_600_000,
          description: 'How often each node tries to fold new audit events into the daily analytics rollups (one node at a time); the dashboard lags by about this much plus the audit seal interval',
        }),
        batchSize: Type.Integer({ default: 5000, minimum: 10, maximum: 50_000, description: 'Audit events folded into the rollups per transaction' }),
        lateReportDays: Type.Integer({
          default: 7,
          minimum: 0,
          maximum: 60,
          description: 'A client ceremony report counts for the day it happened (its occurredAt) when that is at most this many days back, else for the day it arrived; retried reports are recognised this long',
        }),
        maxRangeDays: Type.Integer({ default: 400, minimum: 1, maximum: 3660, description: 'Longest from..to range the analytics API answers' }),
        currency: Type.String({ default: 'USD', pattern: '^[A-Z]{3}$', description: 'Currency of the savings projection (ISO 4217)' }),
        smsCost: Type.Number({ default: 0.05, minimum: 0, description: 'Cost of one SMS one-time code, for the savings projection' }),
        emailCost: Type.Number({ default: 0.001, minimum: 0, description: 'Cost of one e-mailed one-time code, for the savings projection' }),
        passwordResetCost: Type.Number({ default: 5, minimum: 0, description: 'Cost of one password reset (support time, mail), for the savings projection' }),
        smsShare: Type.Number({ default: 0, minimum: 0, maximum: 1, description: 'Share of one-time codes your fallback sends by SMS (Latchkey itself sends e-mail codes: 0)' }),
        passwordResetRate: Type.Number({ default: 0.02, minimum: 0, maximum: 1, description: 'Password sign-ins that end in a password reset, for the savings projection' }),
        offerReach: Type.Number({ default: 0.5, minimum: 0, maximum: 1, description: 'Share of users without a passkey who see a passkey offer in a month, for the savings projection' }),
      },
      { ...strict, default: {} },
    ),
    metrics: Type.Object(
      {
        port: Type.Optional(
          Type.Integer({ minimum: 0, maximum: 65535, description: 'Serve Prometheus metrics at /metrics on this separate port (0: any free port); unset with no token: metrics off' }),
        ),
        host: Type.String({ default: '127.0.0.1', minLength: 1, description: 'Interface the metrics port binds to' }),
        token: Type.Optional(
          Type.String({
            minLength: 16,
            description: 'Bearer token /metrics requires (16+ characters); with no metrics port, /metrics is served on the main port behind it',
          }),
        ),
      },
      { ...strict, default: {} },
    ),
    webhooks: Type.Object(
      {
        allowHttp: Type.Boolean({ default: false, description: 'Allow http:// webhook endpoints (tests, development); https only otherwise (SEC-59)' }),
        allowedTargets: Type.Array(Type.String({ minLength: 1 }), {
          default: [],
          description: 'Internal webhook targets allowed despite the SSRF rules: CIDRs (10.1.0.0/16), addresses or host names; empty allows only public addresses',
        }),
        timeoutMs: Type.Integer({ default: 15_000, minimum: 100, maximum: 30_000, description: 'Time limit of each delivery attempt: connect, response headers and body each, and the whole exchange' }),
        retryBaseMs: Type.Integer({ default: 60_000, minimum: 10, description: 'Delay before the first retry; each later one doubles (±25% jitter), up to the maximum delay' }),
        retryMaxDelayMs: Type.Integer({ default: 43_200_000, minimum: 10, description: 'Longest delay between two attempts (12 hours)' }),
        maxAttempts: Type.Integer({ default: 16, minimum: 1, maximum: 50, description: 'Attempts per delivery, the first included (16: about three days with the default delays)' }),
        retryAfterMaxSeconds: Type.Integer({ default: 3600, minimum: 0, description: "A receiver's Retry-After (429, 503) is honoured up to this many seconds" }),
        disableAfterFailingSeconds: Type.Integer({
          default: 259_200,
          minimum: 1,
          description: 'An endpoint whose every attempt failed for this long is disabled (audited as webhook_endpoint.disabled)',
        }),
        secretOverlapSeconds: Type.Integer({ default: 86_400, minimum: 0, description: 'After a secret rotation, the old secret also signs for this long (two signatures)' }),
        pollIntervalMs: Type.Integer({
          default: 1000,
          minimum: 10,
          maximum: 60_000,
          description: 'How often each node looks for webhook work (newly sealed audit events, due retries); a full batch is followed at once by the next',
        }),
        signinFailedPerMinute: Type.Integer({ default: 600, minimum: 0, description: 'signin.failed events sent per minute at most (one node fans out at a time); more are counted and dropped' }),
        deliveryRetentionDays: Type.Integer({ default: 30, minimum: 1, maximum: 3650, description: 'Finished deliveries and their attempt log are deleted after this many days' }),
      },
      { ...strict, default: {} },
    ),
    siem: Type.Object(
      {
        syslogHost: Type.Optional(Type.String({ minLength: 1, description: 'Send every audit event as OCSF JSON in RFC 5424 syslog to this host (TCP, TLS unless syslogTransport says tcp); unset: no syslog export' })),
        syslogPort: Type.Integer({ default: 6514, minimum: 1, maximum: 65535, description: 'Port of the syslog receiver (6514: syslog over TLS, RFC 5425)' }),
        syslogTransport: Type.Union([Type.Literal('tls'), Type.Literal('tcp')], {
          default: 'tls',
          description: 'tls (RFC 5425), or tcp: unencrypted, for tests and a receiver on the same host only (refused when LATCHKEY_ENV=production)',
        }),
        syslogCaFile: Type.Optional(Type.String({ minLength: 1, description: 'PEM file of the CA(s) that signed the receiver\'s certificate (default: the system\'s CAs)' })),
        syslogCertFile: Type.Optional(Type.String({ minLength: 1, description: 'PEM client certificate, for a receiver that requires mutual TLS (with syslogKeyFile)' })),
        syslogKeyFile: Type.Optional(Type.String({ minLength: 1, description: 'PEM private key of the client certificate' })),
        syslogServername: Type.Optional(Type.String({ minLength: 1, description: 'Name the receiver\'s certificate must carry (default: syslogHost)' })),
        syslogFacility: Type.Integer({ default: 10, minimum: 0, maximum: 23, description: 'Syslog facility (10: authpriv, security/authorization)' }),
        file: Type.Optional(Type.String({ minLength: 1, description: 'Also (or only) append every audit event as one line of OCSF JSON (NDJSON) to this file; - for stdout' })),
        includeUsername: Type.Boolean({ default: false, description: 'Put the username in user.name (personal data; off: the user id only)' }),
        startFrom: Type.Union([Type.Literal('beginning'), Type.Literal('now')], {
          default: 'beginning',
          description: 'Where a sink exporting for the first time starts: the oldest audit event kept, or events sealed from now on',
        }),
        batchSize: Type.Integer({ default: 500, minimum: 1, maximum: 5000, description: 'Events read and sent per batch (a batch per sink is held in memory, besides the last 4096 events this node sealed)' }),
        pollIntervalMs: Type.Integer({ default: 1000, minimum: 50, maximum: 60_000, description: 'How often each sink looks for newly sealed events' }),
      },
      { ...strict, default: {} },
    ),
    log: Type.Object(
      {
        level: Type.Union(
          ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map((l) => Type.Literal(l)),
          { default: 'info', description: 'pino log level' },
        ),
      },
      { ...strict, default: {} },
    ),
  },
  strict,
);

export type Config = Static<typeof ConfigSchema>;

/**
 * Environment variables and the config path each one sets. A list value is comma-separated.
 * This table is the documentation: the README's configuration section is written from it.
 */
export const ENVIRONMENT: ReadonlyArray<{ env: string; path: readonly [string, string]; list?: boolean }> = [
  { env: 'LATCHKEY_HOST', path: ['server', 'host'] },
  { env: 'LATCHKEY_PORT', path: ['server', 'port'] },
  { env: 'LATCHKEY_BODY_LIMIT_BYTES', path: ['server', 'bodyLimitBytes'] },
  { env: 'LATCHKEY_TRUST_PROXY', path: ['server', 'trustProxy'], list: true },
  { env: 'LATCHKEY_VERIFY_WORKERS', path: ['server', 'verifyWorkers'] },
  { env: 'LATCHKEY_ENV', path: ['server', 'environment'] },
  { env: 'LATCHKEY_DEMO_ENABLED', path: ['server', 'demoEnabled'] },
  { env: 'LATCHKEY_DOCS_ENABLED', path: ['server', 'docsEnabled'] },
  { env: 'LATCHKEY_RP_ID', path: ['rp', 'id'] },
  { env: 'LATCHKEY_RP_NAME', path: ['rp', 'name'] },
  { env: 'LATCHKEY_ORIGINS', path: ['rp', 'origins'], list: true },
  { env: 'LATCHKEY_TOP_ORIGINS', path: ['rp', 'topOrigins'], list: true },
  { env: 'LATCHKEY_DATABASE_URL', path: ['database', 'url'] },
  { env: 'LATCHKEY_DATABASE_POOL_SIZE', path: ['database', 'poolSize'] },
  { env: 'LATCHKEY_SQLITE_WAL_LIMIT_MB', path: ['database', 'sqliteWalLimitMb'] },
  { env: 'LATCHKEY_SQLITE_CACHE_MB', path: ['database', 'sqliteCacheMb'] },
  { env: 'LATCHKEY_SQLITE_MMAP_MB', path: ['database', 'sqliteMmapMb'] },
  { env: 'LATCHKEY_RESIDENT_KEY', path: ['webauthn', 'residentKey'] },
  { env: 'LATCHKEY_USER_VERIFICATION', path: ['webauthn', 'userVerification'] },
  { env: 'LATCHKEY_ATTESTATION', path: ['webauthn', 'attestation'] },
  { env: 'LATCHKEY_CHALLENGE_TTL_SECONDS', path: ['webauthn', 'challengeTtlSeconds'] },
  { env: 'LATCHKEY_PROVIDERS_FILE', path: ['webauthn', 'providersFile'] },
  { env: 'LATCHKEY_APPEND_TOKEN_TTL_SECONDS', path: ['webauthn', 'appendTokenTtlSeconds'] },
  { env: 'LATCHKEY_SESSION_IDLE_SECONDS', path: ['session', 'idleTimeoutSeconds'] },
  { env: 'LATCHKEY_SESSION_ABSOLUTE_SECONDS', path: ['session', 'absoluteTimeoutSeconds'] },
  { env: 'LATCHKEY_SIGNUP_ENABLED', path: ['signup', 'enabled'] },
  { env: 'LATCHKEY_SIGNUP_REJECT_EMAIL_USERNAMES', path: ['signup', 'rejectEmailUsernames'] },
  { env: 'LATCHKEY_SIGNUP_PER_IP_PER_HOUR', path: ['signup', 'perIpPerHour'] },
  { env: 'LATCHKEY_AUTH_METHODS', path: ['auth', 'methods'], list: true },
  { env: 'LATCHKEY_PASSKEY_FIRST', path: ['auth', 'passkeyFirst'] },
  { env: 'LATCHKEY_STEP_UP_MAX_AGE_SECONDS', path: ['auth', 'stepUpMaxAgeSeconds'] },
  { env: 'LATCHKEY_STAFF_SESSION_MAX_AGE_SECONDS', path: ['auth', 'staffSessionMaxAgeSeconds'] },
  { env: 'LATCHKEY_STAFF_IDLE_TIMEOUT_SECONDS', path: ['auth', 'staffIdleTimeoutSeconds'] },
  { env: 'LATCHKEY_AUTH_PER_IP_PER_HOUR', path: ['auth', 'perIpPerHour'] },
  { env: 'LATCHKEY_RECOVERY_ENABLED', path: ['auth', 'recoveryEnabled'] },
  { env: 'LATCHKEY_SUPPORT_RECOVERY_URL', path: ['auth', 'supportRecoveryUrl'] },
  { env: 'LATCHKEY_EMAIL_CODE_TTL_SECONDS', path: ['emailCode', 'ttlSeconds'] },
  { env: 'LATCHKEY_EMAIL_CODE_MAX_ATTEMPTS', path: ['emailCode', 'maxAttempts'] },
  { env: 'LATCHKEY_EMAIL_CODE_RESEND_SECONDS', path: ['emailCode', 'resendCooldownSeconds'] },
  { env: 'LATCHKEY_EMAIL_CODE_PER_ADDRESS_PER_HOUR', path: ['emailCode', 'perAddressPerHour'] },
  { env: 'LATCHKEY_EMAIL_CODE_PER_IP_PER_HOUR', path: ['emailCode', 'perIpPerHour'] },
  { env: 'LATCHKEY_EMAIL_CODE_ADDRESS_CEILING_PER_HOUR', path: ['emailCode', 'addressCeilingPerHour'] },
  { env: 'LATCHKEY_LOCKOUT_FREE_FAILURES', path: ['lockout', 'freeFailures'] },
  { env: 'LATCHKEY_LOCKOUT_MAX_DELAY_SECONDS', path: ['lockout', 'maxDelaySeconds'] },
  { env: 'LATCHKEY_LOCKOUT_HARD_LIMIT', path: ['lockout', 'hardLimit'] },
  { env: 'LATCHKEY_PASSWORD_MIN_LENGTH', path: ['password', 'minLength'] },
  { env: 'LATCHKEY_PASSWORD_HASH_CONCURRENCY', path: ['password', 'hashConcurrency'] },
  { env: 'LATCHKEY_PASSWORD_PEPPER', path: ['password', 'pepper'] },
  { env: 'LATCHKEY_SMTP_URL', path: ['mail', 'smtpUrl'] },
  { env: 'LATCHKEY_MAIL_FROM', path: ['mail', 'from'] },
  { env: 'LATCHKEY_TELEMETRY_PER_IP_PER_HOUR', path: ['telemetry', 'perIpPerHour'] },
  { env: 'LATCHKEY_INTELLIGENCE_PER_IP_PER_HOUR', path: ['intelligence', 'perIpPerHour'] },
  { env: 'LATCHKEY_INTELLIGENCE_AUTO_HEAL_AFTER_FAILURES', path: ['intelligence', 'autoHealAfterFailures'] },
  { env: 'LATCHKEY_INTELLIGENCE_FAILURE_WINDOW_DAYS', path: ['intelligence', 'failureWindowDays'] },
  { env: 'LATCHKEY_INTELLIGENCE_DECLINE_COOLDOWN_DAYS', path: ['intelligence', 'declineCooldownDays'] },
  { env: 'LATCHKEY_INTELLIGENCE_IDENTIFIER_HINTS', path: ['intelligence', 'identifierHints'] },
  { env: 'LATCHKEY_ROLLOUT_REFRESH_INTERVAL_MS', path: ['rollout', 'refreshIntervalMs'] },
  { env: 'LATCHKEY_CORS_ORIGINS', path: ['cors', 'origins'], list: true },
  { env: 'LATCHKEY_RELATED_ORIGINS', path: ['wellKnown', 'relatedOrigins'], list: true },
  { env: 'LATCHKEY_APPLE_APP_SITE_ASSOCIATION', path: ['wellKnown', 'appleAppSiteAssociation'] },
  { env: 'LATCHKEY_ASSET_LINKS', path: ['wellKnown', 'assetLinks'] },
  { env: 'LATCHKEY_SERVER_SECRET', path: ['secrets', 'serverSecret'] },
  { env: 'LATCHKEY_ENCRYPTION_KEY', path: ['secrets', 'encryptionKey'] },
  { env: 'LATCHKEY_TOKEN_ISSUER', path: ['tokens', 'issuer'] },
  { env: 'LATCHKEY_TOKEN_AUDIENCES', path: ['tokens', 'audiences'], list: true },
  { env: 'LATCHKEY_LOGIN_RESULT_TTL_SECONDS', path: ['tokens', 'loginResultTtlSeconds'] },
  { env: 'LATCHKEY_ACCESS_TOKEN_TTL_SECONDS', path: ['tokens', 'accessTokenTtlSeconds'] },
  { env: 'LATCHKEY_TOKEN_KEY_ROTATION_DAYS', path: ['tokens', 'keyRotationDays'] },
  { env: 'LATCHKEY_AUDIT_RETENTION_DAYS', path: ['audit', 'retentionDays'] },
  { env: 'LATCHKEY_AUDIT_SEAL_INTERVAL_MS', path: ['audit', 'sealIntervalMs'] },
  { env: 'LATCHKEY_AUDIT_CHECKPOINT_INTERVAL_SECONDS', path: ['audit', 'checkpointIntervalSeconds'] },
  { env: 'LATCHKEY_AUDIT_CHECKPOINT_EVERY_EVENTS', path: ['audit', 'checkpointEveryEvents'] },
  { env: 'LATCHKEY_ANALYTICS_ROLLUP_INTERVAL_MS', path: ['analytics', 'rollupIntervalMs'] },
  { env: 'LATCHKEY_ANALYTICS_BATCH_SIZE', path: ['analytics', 'batchSize'] },
  { env: 'LATCHKEY_ANALYTICS_LATE_REPORT_DAYS', path: ['analytics', 'lateReportDays'] },
  { env: 'LATCHKEY_ANALYTICS_MAX_RANGE_DAYS', path: ['analytics', 'maxRangeDays'] },
  { env: 'LATCHKEY_ANALYTICS_CURRENCY', path: ['analytics', 'currency'] },
  { env: 'LATCHKEY_ANALYTICS_SMS_COST', path: ['analytics', 'smsCost'] },
  { env: 'LATCHKEY_ANALYTICS_EMAIL_COST', path: ['analytics', 'emailCost'] },
  { env: 'LATCHKEY_ANALYTICS_PASSWORD_RESET_COST', path: ['analytics', 'passwordResetCost'] },
  { env: 'LATCHKEY_ANALYTICS_SMS_SHARE', path: ['analytics', 'smsShare'] },
  { env: 'LATCHKEY_ANALYTICS_PASSWORD_RESET_RATE', path: ['analytics', 'passwordResetRate'] },
  { env: 'LATCHKEY_ANALYTICS_OFFER_REACH', path: ['analytics', 'offerReach'] },
  { env: 'LATCHKEY_LOG_LEVEL', path: ['log', 'level'] },
  { env: 'LATCHKEY_METRICS_PORT', path: ['metrics', 'port'] },
  { env: 'LATCHKEY_METRICS_HOST', path: ['metrics', 'host'] },
  { env: 'LATCHKEY_METRICS_TOKEN', path: ['metrics', 'token'] },
  { env: 'LATCHKEY_WEBHOOK_ALLOW_HTTP', path: ['webhooks', 'allowHttp'] },
  { env: 'LATCHKEY_WEBHOOK_ALLOWED_TARGETS', path: ['webhooks', 'allowedTargets'], list: true },
  { env: 'LATCHKEY_WEBHOOK_TIMEOUT_MS', path: ['webhooks', 'timeoutMs'] },
  { env: 'LATCHKEY_WEBHOOK_RETRY_BASE_MS', path: ['webhooks', 'retryBaseMs'] },
  { env: 'LATCHKEY_WEBHOOK_RETRY_MAX_DELAY_MS', path: ['webhooks', 'retryMaxDelayMs'] },
  { env: 'LATCHKEY_WEBHOOK_MAX_ATTEMPTS', path: ['webhooks', 'maxAttempts'] },
  { env: 'LATCHKEY_WEBHOOK_RETRY_AFTER_MAX_SECONDS', path: ['webhooks', 'retryAfterMaxSeconds'] },
  { env: 'LATCHKEY_WEBHOOK_DISABLE_AFTER_FAILING_SECONDS', path: ['webhooks', 'disableAfterFailingSeconds'] },
  { env: 'LATCHKEY_WEBHOOK_SECRET_OVERLAP_SECONDS', path: ['webhooks', 'secretOverlapSeconds'] },
  { env: 'LATCHKEY_WEBHOOK_POLL_INTERVAL_MS', path: ['webhooks', 'pollIntervalMs'] },
  { env: 'LATCHKEY_WEBHOOK_SIGNIN_FAILED_PER_MINUTE', path: ['webhooks', 'signinFailedPerMinute'] },
  { env: 'LATCHKEY_WEBHOOK_DELIVERY_RETENTION_DAYS', path: ['webhooks', 'deliveryRetentionDays'] },
  { env: 'LATCHKEY_SIEM_SYSLOG_HOST', path: ['siem', 'syslogHost'] },
  { env: 'LATCHKEY_SIEM_SYSLOG_PORT', path: ['siem', 'syslogPort'] },
  { env: 'LATCHKEY_SIEM_SYSLOG_TRANSPORT', path: ['siem', 'syslogTransport'] },
  { env: 'LATCHKEY_SIEM_SYSLOG_CA_FILE', path: ['siem', 'syslogCaFile'] },
  { env: 'LATCHKEY_SIEM_SYSLOG_CERT_FILE', path: ['siem', 'syslogCertFile'] },
  { env: 'LATCHKEY_SIEM_SYSLOG_KEY_FILE', path: ['siem', 'syslogKeyFile'] },
  { env: 'LATCHKEY_SIEM_SYSLOG_SERVERNAME', path: ['siem', 'syslogServername'] },
  { env: 'LATCHKEY_SIEM_SYSLOG_FACILITY', path: ['siem', 'syslogFacility'] },
  { env: 'LATCHKEY_SIEM_FILE', path: ['siem', 'file'] },
  { env: 'LATCHKEY_SIEM_INCLUDE_USERNAME', path: ['siem', 'includeUsername'] },
  { env: 'LATCHKEY_SIEM_START_FROM', path: ['siem', 'startFrom'] },
  { env: 'LATCHKEY_SIEM_BATCH_SIZE', path: ['siem', 'batchSize'] },
  { env: 'LATCHKEY_SIEM_POLL_INTERVAL_MS', path: ['siem', 'pollIntervalMs'] },
];
