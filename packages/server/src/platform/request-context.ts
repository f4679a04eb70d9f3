/** What services know of the request that caused an action: for audit rows and session records, never for decisions. */
export interface RequestContext {
  requestId: string;
  ip: string | null;
  userAgent: string | null;
  /**
   * Who acts, when it is not the user the event is about: an API key of the management API, or an
   * operator on the command line (id null). Absent: the user acts for themselves.
   */
  actor?: { kind: 'api_key' | 'cli'; id: string | null };
}
