import { readFileSync } from 'node:fs';
import { isIP, connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import type { SiemLine, SiemSink } from './siem.sink.ts';

/** RFC 5424 §6.2.1 severity from an OCSF `severity_id` (1 Informational … 5 Critical). */
const SYSLOG_SEVERITY: Record<number, number> = { 0: 6, 1: 6, 2: 5, 3: 4, 4: 3, 5: 2, 6: 1 };

/** Printable US-ASCII without spaces (RFC 5424 §6: PRINTUSASCII), cut to `max`, or the NILVALUE. */
function header(value: string, max: number): string {
  const clean = value.replace(/[^\x21-\x7e]/g, '').slice(0, max);
  return clean === '' ? '-' : clean;
}

export interface SyslogHeader {
  /** 0–23; 10 (authpriv, security/authorization messages) by default. */
  facility: number;
  hostname: string;
  appName: string;
  procId: string;
}

/**
 * One RFC 5424 message (§6): `<PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID SD MSG`, the
 * timestamp the event's time in UTC with milliseconds, MSGID the OCSF `type_uid`, no structured
 * data (the OCSF JSON carries everything, the chain seq and hash included), MSG the OCSF JSON.
 */
export function formatSyslogMessage(line: SiemLine, h: SyslogHeader): string {
  const pri = h.facility * 8 + (SYSLOG_SEVERITY[line.severityId] ?? 6);
  return `<${pri}>1 ${new Date(line.time).toISOString()} ${header(h.hostname, 255)} ${header(h.appName, 48)} ${header(h.procId, 128)} ${header(line.msgId, 32)} - ${line.json}`;
}

/** RFC 6587 §3.4.1 / RFC 5425 §4.3 octet-counting framing: `MSG-LEN SP SYSLOG-MSG`, the length in bytes. */
export function frameOctetCounted(message: string): Buffer {
  const body = Buffer.from(message, 'utf8');
  return Buffer.concat([Buffer.from(`${body.length} `, 'ascii'), body]);
}

export interface SyslogTarget {
  host: string;
  port: number;
  /** `tls` (RFC 5425) or `tcp` (unencrypted: tests only; refused in production by the config check). */
  transport: 'tls' | 'tcp';
  /** PEM files: the CA that signed the receiver's certificate (else the system's), and our client certificate and key (mutual TLS). */
  caFile?: string | undefined;
  certFile?: string | undefined;
  keyFile?: string | undefined;
  /** The name the receiver's certificate must carry (default: host). */
  servername?: string | undefined;
  connectTimeoutMs: number;
  /** A batch not written within this long (the receiver stopped reading) fails; the connection is dropped and the batch sent again later. */
  sendTimeoutMs: number;
}

/**
 * Syslog over TCP (TLS by default) to one receiver. One connection, opened on the first send and
 * again after it drops; a batch is one write of octet-counted frames. Syslog has no acknowledgement,
 * so `confirmAfterMs` tells the exporter to count a batch as delivered only once the connection has
 * stayed up that long after it (a receiver that crashes sooner gets the batch again).
 */
export function createSyslogSink(target: SyslogTarget, syslogHeader: SyslogHeader): SiemSink {
  const tlsFiles = {
    ...(target.caFile ? { ca: readFileSync(target.caFile) } : {}),
    ...(target.certFile ? { cert: readFileSync(target.certFile) } : {}),
    ...(target.keyFile ? { key: readFileSync(target.keyFile) } : {}),
  };
  let socket: Socket | undefined;
  /** Set when the connection closes; the exporter reads it (and rewinds) before its next batch. */
  let broken = false;
  /** Bumped per connection: a batch counts only on the connection it was written to. */
  let generation = 0;

  function open(): Promise<Socket> {
    return new Promise((resolve, reject) => {
      const options = { host: target.host, port: target.port, timeout: target.connectTimeoutMs };
      const s =
        target.transport === 'tls'
          ? tlsConnect({ ...options, ...tlsFiles, servername: target.servername ?? (isIP(target.host) ? undefined : target.host), rejectUnauthorized: true, minVersion: 'TLSv1.2' })
          : netConnect(options);
      const ready = target.transport === 'tls' ? 'secureConnect' : 'connect';
      const fail = (error: Error) => {
        s.destroy();
        reject(error);
      };
      s.once('error', fail);
      s.once('timeout', () => fail(new Error(`syslog: no connection to ${target.host}:${target.port} within ${target.connectTimeoutMs} ms`)));
      s.once(ready, () => {
        s.off('error', fail);
        s.removeAllListeners('timeout');
        s.setTimeout(0);
        s.setKeepAlive(true, 30_000);
        // Receivers send nothing; anything read is discarded (and keeps the socket flowing).
        s.on('data', () => {});
        s.on('error', () => {});
        s.once('close', () => {
          if (socket === s) {
            socket = undefined;
            broken = true;
          }
        });
        resolve(s);
      });
    });
  }

  return {
    name: 'syslog',
    confirmAfterMs: 1000,
    takeBroken() {
      const was = broken;
      broken = false;
      return was;
    },
    async send(lines) {
      if (!socket || socket.destroyed) {
        socket = await open();
        generation += 1;
      }
      const s = socket;
      const mine = generation;
      const payload = Buffer.concat(lines.map((line) => frameOctetCounted(formatSyslogMessage(line, syslogHeader))));
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => {
          s.destroy();
          reject(new Error(`syslog: ${target.host}:${target.port} did not take a batch within ${target.sendTimeoutMs} ms`));
        }, target.sendTimeoutMs);
        const onClose = () => {
          clearTimeout(timer);
          reject(new Error(`syslog: the connection to ${target.host}:${target.port} closed while sending`));
        };
        s.once('close', onClose);
        s.write(payload, (error) => {
          clearTimeout(timer);
          s.off('close', onClose);
          if (error) reject(error);
          else resolve();
        });
      });
      if (mine !== generation || s.destroyed) throw new Error('syslog: the connection closed while sending');
    },
    async close() {
      const s = socket;
      socket = undefined;
      if (!s || s.destroyed) return !broken;
      // A graceful end: the receiver reads up to our FIN, then closes its side; only then is
      // everything written known to have been read.
      return new Promise<boolean>((resolve) => {
        const timer = setTimeout(() => {
          s.destroy();
          resolve(false);
        }, 2000);
        s.once('close', (hadError) => {
          clearTimeout(timer);
          resolve(!hadError);
        });
        s.end();
      });
    },
  };
}
