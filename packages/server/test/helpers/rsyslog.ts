import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { join } from 'node:path';

const RSYSLOGD = '/usr/sbin/rsyslogd';
/** Debian ships the TLS netstream drivers apart: rsyslog-openssl (ossl, used here) and rsyslog-gnutls (gtls). */
const OSSL_DRIVER = ['/usr/lib/x86_64-linux-gnu/rsyslog/lmnsd_ossl.so', '/usr/lib/aarch64-linux-gnu/rsyslog/lmnsd_ossl.so', '/usr/lib/rsyslog/lmnsd_ossl.so'];

/**
 * Debian's rsyslog with its OpenSSL driver, installed with apt-get when missing and we are root
 * (as scripts/test.mjs does for Chromium); otherwise a clear error.
 */
export function ensureRsyslog(): void {
  const present = () => existsSync(RSYSLOGD) && OSSL_DRIVER.some((p) => existsSync(p));
  if (present()) return;
  if (process.getuid?.() === 0) {
    execFileSync('sh', ['-c', 'apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq rsyslog rsyslog-openssl >/dev/null'], { stdio: 'inherit', timeout: 300_000 });
    if (present()) return;
  }
  throw new Error('The SIEM tests need a real syslog receiver: `sudo apt-get install rsyslog rsyslog-openssl` (Debian\'s rsyslog and its OpenSSL TLS driver)');
}

/** A throwaway PKI made with openssl at test time: a CA, a server certificate for localhost / 127.0.0.1, a client certificate. */
export interface TestPki {
  ca: string;
  serverCert: string;
  serverKey: string;
  clientCert: string;
  clientKey: string;
  /** Another CA's client certificate and key (not trusted by the receiver). */
  strangerCert: string;
  strangerKey: string;
}

export function makeTestPki(dir: string): TestPki {
  const ssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  const p = (name: string) => join(dir, name);
  const leaf = (name: string, subject: string, ca: string, caKey: string, ext: string) => {
    ssl('req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', p(`${name}.key`), '-out', p(`${name}.csr`), '-subj', subject);
    execFileSync('sh', ['-c', `printf '%s\\n' "${ext}" > ${name}.ext`], { cwd: dir });
    ssl('x509', '-req', '-in', p(`${name}.csr`), '-CA', ca, '-CAkey', caKey, '-CAcreateserial', '-days', '2', '-out', p(`${name}.pem`), '-extfile', p(`${name}.ext`));
  };
  for (const ca of ['ca', 'other-ca']) {
    ssl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', p(`${ca}.key`), '-out', p(`${ca}.pem`), '-days', '2', '-subj', `/CN=Latchkey test ${ca}`);
  }
  leaf('server', '/CN=localhost', p('ca.pem'), p('ca.key'), 'subjectAltName=DNS:localhost,IP:127.0.0.1');
  leaf('client', '/CN=latchkey-client', p('ca.pem'), p('ca.key'), 'extendedKeyUsage=clientAuth');
  leaf('stranger', '/CN=stranger', p('other-ca.pem'), p('other-ca.key'), 'extendedKeyUsage=clientAuth');
  return {
    ca: p('ca.pem'),
    serverCert: p('server.pem'),
    serverKey: p('server.key'),
    clientCert: p('client.pem'),
    clientKey: p('client.key'),
    strangerCert: p('stranger.pem'),
    strangerKey: p('stranger.key'),
  };
}

export interface Rsyslog {
  port: number;
  /** The file omfile writes: one raw syslog MSG (the OCSF JSON) per line. */
  outFile: string;
  /** Starts (again) on the same port. */
  start(): Promise<void>;
  /** Sends a signal (SIGKILL: a crash; SIGSTOP / SIGCONT: a hung receiver) and, for a kill, waits for the exit. */
  signal(signal: NodeJS.Signals): Promise<void>;
  /** The MSG lines received so far. */
  lines(): Promise<string[]>;
  /** Waits until at least `count` lines have arrived (or throws after `timeoutMs`). */
  waitForLines(count: number, timeoutMs?: number): Promise<string[]>;
  stop(): Promise<void>;
  log(): string;
}

/**
 * A throwaway rsyslogd on 127.0.0.1:`port` with its own configuration: imtcp over TLS (the ossl
 * netstream driver, our test CA's server certificate), octet-counted framing as RFC 5425 has it,
 * and omfile writing each message's MSG part (the OCSF JSON) as one line.
 * `clientAuth`: the receiver demands a client certificate signed by the test CA (mutual TLS);
 * `plainTcp`: no TLS at all (LATCHKEY_SIEM_SYSLOG_TRANSPORT=tcp).
 */
export async function createRsyslog(dir: string, pki: TestPki, port: number, options: { clientAuth?: boolean; plainTcp?: boolean } = {}): Promise<Rsyslog> {
  await mkdir(join(dir, 'work'), { recursive: true });
  const outFile = join(dir, 'received.log');
  const configFile = join(dir, 'rsyslog.conf');
  const tls = `
  defaultNetstreamDriver="ossl"
  defaultNetstreamDriverCAFile="${pki.ca}"
  defaultNetstreamDriverCertFile="${pki.serverCert}"
  defaultNetstreamDriverKeyFile="${pki.serverKey}"`;
  await writeFile(
    configFile,
    `global(
  workDirectory="${join(dir, 'work')}"
  maxMessageSize="64k"${options.plainTcp ? '' : tls}
)
${options.plainTcp ? 'module(load="imtcp")' : `module(load="imtcp" streamDriver.name="ossl" streamDriver.mode="1" streamDriver.authMode="${options.clientAuth ? 'x509/certvalid' : 'anon'}")`}
template(name="rawMsg" type="string" string="%msg%\\n")
ruleset(name="siem") {
  action(type="omfile" file="${outFile}" template="rawMsg" flushOnTXEnd="on" asyncWriting="off")
}
input(type="imtcp" address="127.0.0.1" port="${port}" ruleset="siem")
`,
  );
  let child: ChildProcess | undefined;
  let log = '';

  async function listening(): Promise<boolean> {
    return new Promise((resolve) => {
      const s = connect({ host: '127.0.0.1', port }, () => {
        s.destroy();
        resolve(true);
      });
      s.on('error', () => resolve(false));
    });
  }

  const rsyslog: Rsyslog = {
    port,
    outFile,
    async start() {
      const started = spawn(RSYSLOGD, ['-n', '-f', configFile, '-i', join(dir, 'rsyslogd.pid')], { stdio: ['ignore', 'pipe', 'pipe'] });
      child = started;
      started.stdout?.on('data', (d) => (log += d));
      started.stderr?.on('data', (d) => (log += d));
      const deadline = Date.now() + 15_000;
      while (!(await listening())) {
        if (started.exitCode !== null || Date.now() > deadline) throw new Error(`rsyslogd did not start on port ${port}:\n${log}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    async signal(signal) {
      const c = child;
      if (!c || c.exitCode !== null || c.signalCode !== null) return;
      const exited = new Promise((resolve) => c.once('exit', resolve));
      c.kill(signal);
      if (signal === 'SIGKILL' || signal === 'SIGTERM') await exited;
    },
    async lines() {
      const text = await readFile(outFile, 'utf8').catch(() => '');
      return text.split('\n').filter((l) => l.trim() !== '');
    },
    async waitForLines(count, timeoutMs = 20_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const lines = await rsyslog.lines();
        if (lines.length >= count) return lines;
        if (Date.now() > deadline) throw new Error(`rsyslog received ${lines.length} of ${count} lines within ${timeoutMs} ms\n${log}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    },
    async stop() {
      await rsyslog.signal('SIGCONT');
      await rsyslog.signal('SIGTERM');
    },
    log: () => log,
  };
  return rsyslog;
}
