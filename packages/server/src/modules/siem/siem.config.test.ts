import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigError, loadConfig } from '../../config/load.ts';

const production = { LATCHKEY_ENV: 'production', LATCHKEY_RP_ID: 'example.com', LATCHKEY_ORIGINS: 'https://example.com', LATCHKEY_SERVER_SECRET: 'x'.repeat(64) };

function problems(env: Record<string, string>): string {
  try {
    loadConfig({ env });
    return '';
  } catch (error) {
    assert.ok(error instanceof ConfigError, String(error));
    return error.message;
  }
}

test('SIEM settings: TLS by default; unencrypted TCP only outside production; a client certificate needs its key', () => {
  const config = loadConfig({ env: { LATCHKEY_SIEM_SYSLOG_HOST: 'siem.internal', LATCHKEY_SIEM_FILE: '-' } });
  assert.equal(config.siem.syslogTransport, 'tls');
  assert.equal(config.siem.syslogPort, 6514);
  assert.equal(config.siem.includeUsername, false, 'usernames are personal data: off unless asked for');
  assert.equal(loadConfig({ env: { LATCHKEY_SIEM_SYSLOG_TRANSPORT: 'tcp' } }).siem.syslogTransport, 'tcp');
  assert.match(problems({ ...production, LATCHKEY_SIEM_SYSLOG_HOST: 'siem.internal', LATCHKEY_SIEM_SYSLOG_TRANSPORT: 'tcp' }), /LATCHKEY_SIEM_SYSLOG_TRANSPORT: tcp sends the audit log unencrypted/);
  assert.match(problems({ LATCHKEY_SIEM_SYSLOG_CERT_FILE: '/etc/latchkey/client.pem' }), /LATCHKEY_SIEM_SYSLOG_CERT_FILE and LATCHKEY_SIEM_SYSLOG_KEY_FILE: set both/);
  assert.match(problems({ LATCHKEY_SIEM_SYSLOG_TRANSPORT: 'udp' }), /LATCHKEY_SIEM_SYSLOG_TRANSPORT/);
});
