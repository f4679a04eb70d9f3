import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatSyslogMessage, frameOctetCounted } from './siem.syslog.ts';

const header = { facility: 10, hostname: 'node-1.example', appName: 'latchkey', procId: '4242' };
const line = { seq: 7, json: '{"class_uid":3002,"user":{"name":"zoë"}}', severityId: 1, time: Date.UTC(2026, 11, 3, 10, 0, 0, 123), msgId: '300201' };

test('RFC 5424: PRI from facility and OCSF severity, version 1, UTC timestamp, NILVALUE structured data, the OCSF JSON as MSG', () => {
  assert.equal(formatSyslogMessage(line, header), '<86>1 2026-12-03T10:00:00.123Z node-1.example latchkey 4242 300201 - {"class_uid":3002,"user":{"name":"zoë"}}');
  // authpriv (10) * 8 + err (3) for High.
  assert.match(formatSyslogMessage({ ...line, severityId: 4 }, header), /^<83>1 /);
  // Header fields are PRINTUSASCII without spaces, or "-".
  assert.match(formatSyslogMessage(line, { ...header, hostname: 'bad host\n', procId: '' }), /^<86>1 \S+ badhost latchkey - 300201 - /);
});

test('RFC 6587 octet counting: the length prefix counts bytes, not characters', () => {
  const frame = frameOctetCounted('é');
  assert.equal(frame.toString('utf8'), '2 é');
  const message = formatSyslogMessage(line, header);
  const framed = frameOctetCounted(message).toString('utf8');
  const [length, ...rest] = framed.split(' ');
  assert.equal(Number(length), Buffer.byteLength(rest.join(' ')));
  assert.notEqual(Number(length), rest.join(' ').length, 'a non-ASCII character makes bytes and characters differ');
});
