/**
 * The support console's data (issue 13): user search as you type, a user's timeline with
 * explanations and overview, and the auditors' search, export and chain verdict. Routes are
 * registered by app.ts from support.routes.ts.
 */
export { createUserSearchService, type UserSearchService, type SearchHit, type MatchKind } from './user-search.service.ts';
export { createSupportService, type SupportService, type TimelineItem, type UserOverview } from './support.service.ts';
export { createAuditSearchService, type AuditSearchService, type ChainVerdict } from './audit-search.service.ts';
export { explainEvent, explanationsMarkdown, allExplanations, type Explanation, type Language } from './explanations.ts';
