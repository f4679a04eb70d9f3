/**
 * SIEM export (issue 12 item 4): every sealed audit event, in chain order, as OCSF JSON over RFC 5424
 * syslog (TCP + TLS, octet-counted) and/or as NDJSON to a file or stdout. Each sink keeps a cursor
 * in `siem_cursors`; the export runs off the request path (README, "Sending events to a SIEM").
 */
export { createSiemService, MAX_EVENT_BYTES, type SiemService, type SiemObserver, type SiemLag, type DropReason } from './siem.service.ts';
export { createSiemRepository, type SiemRepository } from './siem.repository.ts';
export { createSiemSinks } from './siem.setup.ts';
export { OCSF_MAPPING, OCSF_VERSION, FACTORS, ocsfMappingTable, toOcsf, type OcsfEvent, type OcsfContext } from './siem.ocsf.ts';
export type { SiemLine, SiemSink } from './siem.sink.ts';
