import { Type, type Static } from 'typebox';

/** Public HTTP shapes of the v1 contract (api-contract.md), shared with the SDK and elements. */

const Base64Url = (description: string, maxLength = 4096) => Type.String({ pattern: '^[A-Za-z0-9_-]*$', maxLength, description });
/** Response payloads: some older client libraries send them with "=" padding, which verification tolerates. */
const Base64UrlPadded = (description: string, maxLength = 4096) => Type.String({ pattern: '^[A-Za-z0-9_-]*={0,2}$', maxLength, description });

export const UserSchema = Type.Object(
  { id: Type.String(), username: Type.String(), displayName: Type.String() },
  { $id: 'User', description: 'A Latchkey account' },
);

export const PasskeySchema = Type.Object(
  {
    id: Type.String({ description: 'Credential ID, base64url' }),
    name: Type.String(),
    aaguid: Type.String(),
    provider: Type.String({ description: 'Provider name from the AAGUID, e.g. "iCloud Keychain"; "Passkey" when unknown' }),
    providerIcon: Type.Object({ light: Type.Union([Type.String(), Type.Null()]), dark: Type.Union([Type.String(), Type.Null()]) }),
    deviceType: Type.Union([Type.Literal('singleDevice'), Type.Literal('multiDevice')]),
    backedUp: Type.Boolean(),
    transports: Type.Array(Type.String()),
    createdAt: Type.String({ format: 'date-time' }),
    lastUsedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  },
  { $id: 'Passkey' },
);

export const SessionSchema = Type.Object(
  {
    token: Type.Optional(Type.String({ description: 'Bearer token: only where a session is issued, and only to a bearer client (its verify bound the ceremony by the Latchkey-Ceremony header alone, without the ceremony cookie); never to a cookie client' })),
    expiresAt: Type.String({ format: 'date-time' }),
    idleExpiresAt: Type.String({ format: 'date-time' }),
    authTime: Type.String({ format: 'date-time' }),
    amr: Type.Array(Type.String(), { description: 'Authentication methods used (RFC 8176 style): passkey, otp (e-mail code), pwd, totp, mfa' }),
    userVerified: Type.Boolean(),
    aal: Type.Integer({ minimum: 1, maximum: 3, description: 'NIST SP 800-63B-4 assurance level: 1 for an e-mail code alone, 2 for a user-verified passkey' }),
    scope: Type.Union([Type.Literal('full'), Type.Literal('recovery'), Type.Literal('second_factor')], {
      description: '"recovery": may only register a new passkey (SEC-39); "second_factor": a password sign-in that must still be finished with the passkey (step-up)',
    }),
  },
  { $id: 'Session' },
);

export const ProblemSchema = Type.Object(
  {
    type: Type.String(),
    title: Type.String(),
    status: Type.Integer(),
    detail: Type.Optional(Type.String()),
    code: Type.String({ description: 'Stable snake_case error code' }),
    requestId: Type.String(),
    errors: Type.Optional(Type.Array(Type.Object({ pointer: Type.String(), message: Type.String() }))),
    scope: Type.Optional(Type.String({ description: 'insufficient_scope: the scope the request needed' })),
    lines: Type.Optional(
      Type.Array(Type.Object({ line: Type.Integer(), message: Type.String() }), { description: 'import_invalid: each bad line of the NDJSON body, by number (from 1)' }),
    ),
  },
  { $id: 'Problem', description: 'RFC 9457 problem details' },
);

export const RegistrationOptionsBody = Type.Object(
  {
    username: Type.Optional(Type.String({ minLength: 1, maxLength: 256, description: 'Signed out: the new account\'s username' })),
    displayName: Type.Optional(Type.String({ minLength: 1, maxLength: 256 })),
    email: Type.Optional(
      Type.String({ minLength: 1, maxLength: 320, description: 'Signed out, optional: an e-mail address for the new account, confirmed afterwards with the code mailed to it' }),
    ),
    appendToken: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 128,
        description: 'An append token (lk_append_…) from POST /api/admin/v1/append-tokens: adds a passkey to that token\'s user, without a session. Not with username.',
      }),
    ),
  },
  { additionalProperties: false },
);

export const AuthenticationOptionsBody = Type.Object(
  { username: Type.Optional(Type.String({ minLength: 1, maxLength: 256, description: 'Identifier-first sign-in; omit for discoverable / conditional UI' })) },
  { additionalProperties: false },
);

const Transports = Type.Optional(Type.Array(Type.String({ maxLength: 32 }), { maxItems: 16 }));
const ClientExtensionResults = Type.Record(Type.String(), Type.Unknown(), { description: 'Ignored: client extension outputs never drive decisions (SEC-16)' });

export const RegistrationResponseBody = Type.Object(
  {
    id: Base64Url('Credential ID'),
    rawId: Base64Url('Credential ID'),
    type: Type.Literal('public-key'),
    response: Type.Object({
      clientDataJSON: Base64UrlPadded('clientDataJSON', 8192),
      attestationObject: Base64UrlPadded('attestationObject', 40_000),
      transports: Transports,
      authenticatorData: Type.Optional(Base64Url('authenticatorData', 40_000)),
      publicKey: Type.Optional(Base64Url('SPKI public key', 8192)),
      publicKeyAlgorithm: Type.Optional(Type.Integer()),
    }),
    authenticatorAttachment: Type.Optional(Type.Union([Type.Literal('platform'), Type.Literal('cross-platform')])),
    clientExtensionResults: ClientExtensionResults,
  },
  { description: 'RegistrationResponseJSON: what PublicKeyCredential.toJSON() returns after create()' },
);

export const AuthenticationResponseBody = Type.Object(
  {
    id: Base64Url('Credential ID'),
    rawId: Base64Url('Credential ID'),
    type: Type.Literal('public-key'),
    response: Type.Object({
      clientDataJSON: Base64UrlPadded('clientDataJSON', 8192),
      authenticatorData: Base64UrlPadded('authenticatorData', 8192),
      signature: Base64UrlPadded('signature', 2048),
      userHandle: Type.Optional(Base64Url('user handle', 128)),
    }),
    authenticatorAttachment: Type.Optional(Type.Union([Type.Literal('platform'), Type.Literal('cross-platform')])),
    clientExtensionResults: ClientExtensionResults,
  },
  { description: 'AuthenticationResponseJSON: what PublicKeyCredential.toJSON() returns after get()' },
);

export const RenamePasskeyBody = Type.Object({ name: Type.String({ minLength: 1, maxLength: 256 }) }, { additionalProperties: false });
export const PasskeyIdParams = Type.Object({ id: Base64Url('Credential ID', 1400) });

/**
 * One client-side ceremony outcome (`POST /api/v1/telemetry/ceremonies`). A closed schema: nothing
 * free-form beyond a DOMException-like error name (no personal data).
 */
export const CeremonyReportBody = Type.Object(
  {
    ceremony: Type.Union([Type.Literal('registration'), Type.Literal('authentication'), Type.Literal('append')], {
      description: 'registration: sign-up or "add a passkey"; append: a prompt to create a passkey offered to a signed-in user (the adoption-rate funnel); authentication: sign-in',
    }),
    mode: Type.Union([Type.Literal('modal'), Type.Literal('conditional')]),
    outcome: Type.Union([
      Type.Literal('offered'),
      Type.Literal('started'),
      Type.Literal('completed'),
      Type.Literal('cancelled'),
      Type.Literal('timed_out'),
      Type.Literal('error'),
    ]),
    errorName: Type.Optional(Type.String({ pattern: '^[A-Za-z][A-Za-z0-9_]*$', maxLength: 64, description: 'DOMException name or server problem code' })),
    conditionalGet: Type.Optional(Type.Boolean()),
    conditionalCreate: Type.Optional(Type.Boolean()),
    platformAuthenticator: Type.Optional(Type.Boolean()),
    hybrid: Type.Optional(Type.Boolean()),
    reportId: Type.Optional(
      Type.String({ pattern: '^[A-Za-z0-9_-]{8,64}$', description: 'Client-made id of this report; a report sent again (a retry) with the same id is counted once by the analytics' }),
    ),
    occurredAt: Type.Optional(
      Type.String({ format: 'date-time', maxLength: 40, description: 'When it happened on the client; a report sent late counts for that day (at most LATCHKEY_ANALYTICS_LATE_REPORT_DAYS back, else the day it arrived)' }),
    ),
    durationMs: Type.Optional(Type.Integer({ minimum: 0, maximum: 3_600_000, description: 'From started to this outcome (completed, cancelled, timed_out, error)' })),
    deviceId: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9_-]{16,64}$', description: 'The random device id the elements keep in localStorage (passkey intelligence: failures and passkeys used on this device)' })),
    credentialId: Type.Optional(Type.String({ minLength: 1, maxLength: 1400, description: 'On a completed ceremony: the passkey used or made (kept only if it is one of the signed-in user\'s)' })),
  },
  {
    additionalProperties: false,
    description:
      'The one definition of a client-side ceremony report (`ceremony.reported`), which the analytics key on: ceremony × outcome is the funnel (offered → started → completed / cancelled / timed_out / error).',
  },
);

/** Reason codes of passkey decisions (modules/intelligence/intelligence.rules.ts; README "Passkey intelligence"). Stable: clients switch on them. */
export const DECISION_REASONS = [
  'eligible',
  'kill_switch',
  'rollout_excluded',
  'no_webauthn',
  'no_platform_authenticator',
  'no_conditional_mediation',
  'no_passkeys',
  'passkeys_on_other_ecosystem_no_hybrid',
  'recent_failures_auto_heal',
  'declined_recently',
  'has_usable_passkey',
  'not_signed_in',
  'signed_in',
  'passkey_offered',
] as const;

const DecisionReasonSchema = Type.Union(
  DECISION_REASONS.map((r) => Type.Literal(r)),
  { description: 'Why a part is or is not offered (README, "Passkey intelligence")' },
);

const DeviceId = Type.String({ pattern: '^[A-Za-z0-9_-]{16,64}$', description: 'A random id the elements keep in localStorage; stored only as an HMAC' });

export const PasskeyDecisionsBody = Type.Object(
  {
    client: Type.Object(
      {
        webauthn: Type.Boolean({ description: 'window.PublicKeyCredential exists' }),
        platformAuthenticator: Type.Optional(Type.Boolean({ description: 'isUserVerifyingPlatformAuthenticatorAvailable()' })),
        conditionalMediation: Type.Optional(Type.Boolean({ description: 'isConditionalMediationAvailable()' })),
        hybridTransport: Type.Optional(Type.Boolean({ description: 'A phone can be used (getClientCapabilities().hybridTransport)' })),
        capabilities: Type.Optional(
          Type.Record(Type.String(), Type.Boolean(), {
            maxProperties: 40,
            description: 'PublicKeyCredential.getClientCapabilities() as returned; the explicit fields above win',
          }),
        ),
      },
      { additionalProperties: false },
    ),
    deviceId: Type.Optional(DeviceId),
    identifier: Type.Optional(Type.String({ minLength: 1, maxLength: 256, description: 'Identifier-first: the username typed; ignored when signed in' })),
  },
  { additionalProperties: false },
);

const DecisionSchema = Type.Object({ offer: Type.Boolean(), reason: DecisionReasonSchema });
export const PasskeyDecisionsSchema = Type.Object(
  {
    passkeyButton: DecisionSchema,
    autofill: DecisionSchema,
    appendPrompt: Type.Object({ offer: Type.Boolean(), reason: DecisionReasonSchema, variant: Type.String({ description: 'Experiment variant of the prompt; "default" until experiments exist' }) }),
    passkeyFirstSignUp: DecisionSchema,
    fallbackOnly: DecisionSchema,
  },
  { additionalProperties: false },
);

export const AppendDeclineBody = Type.Object({ deviceId: Type.Optional(DeviceId) }, { additionalProperties: false });

export type User = Static<typeof UserSchema>;
export type Passkey = Static<typeof PasskeySchema>;
export type Session = Static<typeof SessionSchema>;
export type Problem = Static<typeof ProblemSchema>;
export type CeremonyReport = Static<typeof CeremonyReportBody>;
export type PasskeyDecisionsRequest = Static<typeof PasskeyDecisionsBody>;
