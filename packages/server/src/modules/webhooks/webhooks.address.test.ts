import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkAddress, checkWebhookUrl, parseAllowlist, type EgressAllowlist } from './webhooks.address.ts';

const allowlistOf = (entries: string[]): EgressAllowlist => {
  const parsed = parseAllowlist(entries);
  if (!parsed.ok) throw new Error(parsed.problem);
  return parsed.allowlist;
};

test('public unicast addresses pass (SEC-59)', () => {
  for (const address of ['93.184.215.14', '8.8.8.8', '2606:2800:21f:cb07:6820:80da:af6b:8b2c', '[2001:4860:4860::8888]']) {
    assert.deepEqual(checkAddress(address), { ok: true }, address);
  }
});

test('loopback, private, link-local, CGNAT, multicast, unspecified, metadata and reserved addresses are refused', () => {
  const refused = [
    '127.0.0.1', '127.255.255.254', '10.0.0.1', '172.16.5.4', '192.168.1.1', '169.254.169.254', '100.64.0.1', '224.0.0.1',
    '0.0.0.0', '255.255.255.255', '198.18.0.1', '240.0.0.1', '::1', '::', 'fe80::1', 'fc00::1', 'fd00:ec2::254', 'ff02::1',
  ];
  for (const address of refused) {
    const verdict = checkAddress(address);
    assert.equal(verdict.ok, false, address);
  }
  assert.match((checkAddress('169.254.169.254') as { reason: string }).reason, /metadata/);
  assert.match((checkAddress('fd00:ec2::254') as { reason: string }).reason, /metadata/);
});

test('IPv6 forms that carry an IPv4 address are refused: mapped, compatible, NAT64, 6to4, Teredo', () => {
  for (const address of ['::ffff:127.0.0.1', '[::ffff:7f00:1]', '::ffff:93.184.215.14', '::127.0.0.1', '::7f00:1', '64:ff9b::7f00:1', '64:ff9b:1::1', '2002:7f00:1::1', '2001:0:4136:e378::1']) {
    assert.equal(checkAddress(address).ok, false, address);
  }
  assert.equal(checkAddress('fe80::1%eth0').ok, false);
  assert.equal(checkAddress('not-an-address').ok, false);
});

test('the allowlist lets internal targets through by CIDR or address, never other ranges', () => {
  const allowlist = allowlistOf(['127.0.0.1', '10.1.0.0/16', 'fd12::/64', 'hooks.internal']);
  assert.deepEqual(checkAddress('127.0.0.1', allowlist), { ok: true });
  assert.deepEqual(checkAddress('::ffff:127.0.0.1', allowlist), { ok: true });
  assert.deepEqual(checkAddress('10.1.200.3', allowlist), { ok: true });
  assert.deepEqual(checkAddress('fd12::5', allowlist), { ok: true });
  assert.equal(checkAddress('127.0.0.2', allowlist).ok, false);
  assert.equal(checkAddress('10.2.0.1', allowlist).ok, false);
  assert.equal(checkAddress('169.254.169.254', allowlist).ok, false);
  assert.deepEqual(parseAllowlist(['10.0.0.0/33']).ok, false);
  assert.deepEqual(parseAllowlist(['http://x']).ok, false);
});

test('endpoint URLs: https only by default, no credentials or fragment, IP literals checked at once', () => {
  const strict = { allowHttp: false, allowlist: allowlistOf([]) };
  assert.equal(checkWebhookUrl('https://hooks.example.com/latchkey', strict).ok, true);
  assert.equal(checkWebhookUrl('http://hooks.example.com/latchkey', strict).ok, false);
  assert.equal(checkWebhookUrl('http://hooks.example.com/latchkey', { ...strict, allowHttp: true }).ok, true);
  assert.equal(checkWebhookUrl('ftp://hooks.example.com/', { ...strict, allowHttp: true }).ok, false);
  assert.equal(checkWebhookUrl('https://user:pw@hooks.example.com/', strict).ok, false);
  assert.equal(checkWebhookUrl('https://hooks.example.com/#x', strict).ok, false);
  assert.equal(checkWebhookUrl('/relative', strict).ok, false);
  for (const refused of ['https://127.0.0.1/', 'https://169.254.169.254/latest/meta-data', 'https://[::ffff:127.0.0.1]/', 'https://0x7f.1/', 'https://2130706433/', 'https://localhost/', 'https://a.localhost/']) {
    const verdict = checkWebhookUrl(refused, strict);
    assert.equal(verdict.ok, false, refused);
    assert.equal((verdict as { refused?: boolean }).refused, true, refused);
  }
  assert.equal(checkWebhookUrl('https://127.0.0.1:8443/', { ...strict, allowlist: allowlistOf(['127.0.0.1']) }).ok, true);
  assert.equal(checkWebhookUrl('https://localhost/', { ...strict, allowlist: allowlistOf(['localhost']) }).ok, true);
});
