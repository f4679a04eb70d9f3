/** What services know of the request that caused an action: for audit rows and session records, never for decisions. */
export interface RequestContext {
  requestId: string;
  ip: string | null;
  userAgent: string | null;
}
