import type { Config } from '../../config/schema.ts';
import { createNdjsonSink, type LineWriter } from './siem.file.ts';
import type { SiemSink } from './siem.sink.ts';
import { createSyslogSink } from './siem.syslog.ts';

/** A connection attempt to the receiver gives up after this long (then backoff). */
const CONNECT_TIMEOUT_MS = 10_000;
/** A batch the receiver does not take within this long fails (a hung receiver); app close waits at most this for a batch in flight. */
const SEND_TIMEOUT_MS = 10_000;

/** The sinks `config.siem` asks for: syslog when a host is set, NDJSON when a file (or `-`) is. None: the export is off. */
export function createSiemSinks(config: Config['siem'], host: { hostname: string; procId: string; stdout: LineWriter }): SiemSink[] {
  const sinks: SiemSink[] = [];
  if (config.syslogHost) {
    sinks.push(
      createSyslogSink(
        {
          host: config.syslogHost,
          port: config.syslogPort,
          transport: config.syslogTransport,
          caFile: config.syslogCaFile,
          certFile: config.syslogCertFile,
          keyFile: config.syslogKeyFile,
          servername: config.syslogServername,
          connectTimeoutMs: CONNECT_TIMEOUT_MS,
          sendTimeoutMs: SEND_TIMEOUT_MS,
        },
        { facility: config.syslogFacility, hostname: host.hostname, appName: 'latchkey', procId: host.procId },
      ),
    );
  }
  if (config.file) sinks.push(createNdjsonSink(config.file === '-' ? { stdout: host.stdout } : { path: config.file }));
  return sinks;
}
