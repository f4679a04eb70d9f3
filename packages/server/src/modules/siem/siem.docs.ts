import { AuditEventTypes } from '../audit/audit.module.ts';
import { ocsfMappingTable } from './siem.ocsf.ts';

/** The README's OCSF mapping table: `node packages/server/src/modules/siem/siem.docs.ts` prints it. */
export function siemMappingTable(): string {
  return ocsfMappingTable(AuditEventTypes);
}

if (import.meta.url === `file://${process.argv[1]}`) process.stdout.write(`${siemMappingTable()}\n`);
