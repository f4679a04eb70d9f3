export { createAuditService, sanitizeForLog, type AuditService, type AuditEvent, type AuditEntry } from './audit.service.ts';
export { AuditEventTypes, type AuditEventType } from './audit.events.ts';
export { searchAuditEvents, type AuditRecord, type AuditFilter } from './audit.query.ts';
