/** What services know of the request that caused an action: for audit rows and session records, never for decisions. */
export interface RequestContext {
  requestId: string;
  ip: string | null;
  userAgent: string | null;
  /**
   * Who acts, when it is not (only) the user the event is about: an API key of the management
   * API, an operator on the command line, a signed-in user refused a scope, or the append token
   * a passkey was added with, or the server itself (`system`: a webhook endpoint disabled for
   * failing). Absent: the user
   * the event is about acts for themselves.
   */
  actor?: { kind: 'api_key' | 'cli' | 'user' | 'append_token' | 'staff' | 'system'; id: string | null };
  /**
   * Why a staff member (or a key's caller) did this: the written reason a destructive management
   * action carries, recorded on every audit row of that action (SEC-47).
   */
  reason?: string;
}
