/**
 * The audit log: events written in the change's own commit (`statement`/`record`), and the
 * tamper-evident chain over them (issue 12).
 *
 * For later consumers (outbox, webhooks, SIEM export): `AuditChainService.readSealedAfter(seq, limit)`
 * returns sealed events in chain order — the database's commit order as the single sealer saw it,
 * never a node's clock — each with its `seq`; keep the last `seq` handled and pass it next time.
 * An event appears there within about a second (`LATCHKEY_AUDIT_SEAL_INTERVAL_MS`) of its commit.
 * Events removed by retention are gone from the stream (a consumer behind the retention anchor
 * skips them).
 */
export { createAuditService, sanitizeForLog, type AuditService, type AuditEvent, type AuditEntry } from './audit.service.ts';
export type { AuditEventsTable as AuditRow } from './audit.tables.ts';
export { AuditEventTypes, type AuditEventType } from './audit.events.ts';
export { searchAuditEvents, listAuditEventsBetween, countAuditEventsByMinute, countAuditEventsByMinuteAndData, type AuditRecord, type AuditFilter, type AuditMinuteCount, type AuditMinuteShapeCount } from './audit.query.ts';
export { createAuditChainService, type AuditChainService, type SealedEvent } from './audit-chain.service.ts';
export { createCheckpointSigner, type AuditPublicJwk } from './audit-chain.keys.ts';
export { verifyAuditChain, verifyRecentAuditChain, type VerifyResult } from './audit-chain.verify.ts';
export type { Checkpoint } from './audit-chain.repository.ts';
export { AUDIT_USAGE, runAuditCommand } from './audit.cli.ts';
