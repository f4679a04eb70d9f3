/**
 * What an API key may do: each management route names exactly one of these in its route
 * `config.scope`, and a key holds a list of them. This list is the one definition; the README,
 * the OpenAPI document and the CLI's help are written from it.
 */
export const API_KEY_SCOPES = {
  'users:read': 'Look up and list users, their passkeys and sessions',
  'users:write': 'Create users, change display name and e-mail, disable and re-enable, delete a passkey',
  'users:delete': 'Delete (erase) a user',
  'users:export': 'Export every user with their passkeys (NDJSON)',
  'users:import': 'Import users with their passkeys (attaching a passkey lets its holder sign in as the user: grant it sparingly)',
  'sessions:write': "End one or all of a user's sessions",
  'audit:read': "Read audit events: a user's timeline, the audit search and the chain verdict",
  'audit:export': 'Export the audit log (CSV or NDJSON, streamed)',
  'api_keys:manage': 'Create, list and revoke API keys (a key can never grant scopes it does not hold)',
  'tokens:issue': 'Reserved: issue tokens for a user (a later release)',
  'tokens:redeem': 'Redeem a login result online (POST /login-results/redeem): verified and used up, a second redemption is refused',
  'analytics:read': 'Read the adoption KPIs, funnels and savings projection (aggregated counts only)',
  'analytics:export': 'Export the daily rollups and the pseudonymised event stream (BI): no IPs, usernames or e-mail addresses',
  'experiments:read': 'List A/B tests of passkey UX and read their results',
  'experiments:write': 'Create, start and stop A/B tests (stopping with a winner rolls it out to everybody)',
  'append_tokens:issue': 'Issue one-time append tokens that let a user add a passkey without a Latchkey sign-in (and create a user by externalId on the way)',
  'rollout:read': 'Read rollout rules and preview how many users and devices a rule reaches',
  'rollout:write': 'Change rollout rules (percentage, filters, allow and deny lists, kill switch); every change is audited',
  'webhooks:read': 'List webhook endpoints, the event catalogue and the delivery log (payloads included; never a secret)',
  'webhooks:manage': 'Add, change, delete webhook endpoints, rotate their secrets, redeliver and send test events',
  'recovery:start': "Start an account recovery for a user (a one-time link by e-mail or a code to read out)",
  'lockouts:lift': "Lift the locks and delays that failed attempts put on a user's fallback methods",
  'settings:read': 'Read the effective server configuration (secrets masked)',
  'staff:read': 'List staff members and their roles',
  'staff:manage': "Add, change and remove staff members, and act on a staff member's own account",
  'console:access': 'Staff roles only (an API key cannot hold it): sign in to the support console and read one\'s own staff profile (GET /me)',
} as const;

export type ApiKeyScope = keyof typeof API_KEY_SCOPES;

export const ALL_SCOPES = Object.keys(API_KEY_SCOPES) as ApiKeyScope[];

export function isApiKeyScope(value: string): value is ApiKeyScope {
  return Object.hasOwn(API_KEY_SCOPES, value);
}

/** Scopes only a staff role holds: a key that held them would be a staff member without a person. */
export const STAFF_ONLY_SCOPES: readonly ApiKeyScope[] = ['console:access'];

/**
 * A scope list as a person or a request writes it (`users:read,users:write`): trimmed, without
 * duplicates, every entry known. Returns the problem for anything else.
 */
export function parseScopes(input: readonly string[]): { ok: true; scopes: ApiKeyScope[] } | { ok: false; problem: string } {
  const scopes: ApiKeyScope[] = [];
  for (const raw of input) {
    const scope = raw.trim();
    if (scope === '') continue;
    if (!isApiKeyScope(scope)) return { ok: false, problem: `unknown scope "${scope.slice(0, 40)}" (a key can hold: ${ALL_SCOPES.filter((s) => !STAFF_ONLY_SCOPES.includes(s)).join(', ')})` };
    if (STAFF_ONLY_SCOPES.includes(scope)) return { ok: false, problem: `${scope} is held by staff roles only, never by a key` };
    if (!scopes.includes(scope)) scopes.push(scope);
  }
  if (scopes.length === 0) return { ok: false, problem: 'at least one scope is needed' };
  return { ok: true, scopes };
}
