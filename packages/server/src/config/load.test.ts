import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { ConfigError, loadConfig, parseOrigin, redactConfig } from './load.ts';
import { ENVIRONMENT } from './schema.ts';

/** The problems a configuration is refused with (fails the test if it is accepted). */
function problemsOf(env: Record<string, string>, overrides?: Parameters<typeof loadConfig>[0] extends infer O ? (O extends { overrides?: infer V } ? V : never) : never): string[] {
  try {
    loadConfig({ env, overrides });
  } catch (error) {
    assert.ok(error instanceof ConfigError, `a ConfigError, not ${String(error)}`);
    assert.ok(error.problems.length > 0);
    for (const p of error.problems) assert.ok(error.message.includes(p), 'the message lists every problem');
    return [...error.problems];
  }
  assert.fail(`accepted: ${JSON.stringify(env)}`);
}

const dir = mkdtempSync(join(tmpdir(), 'latchkey-config-'));
after(() => rmSync(dir, { recursive: true, force: true }));
function file(name: string, content: string): string {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
}

describe('loadConfig', () => {
  test('defaults: loopback on 8080, RP localhost, NIST AAL2 session limits, 5-minute challenges', () => {
    const c = loadConfig({ env: {} });
    assert.equal(c.server.host, '127.0.0.1');
    assert.equal(c.server.port, 8080);
    assert.equal(c.server.bodyLimitBytes, 65_536);
    assert.deepEqual(c.server.trustProxy, []);
    assert.equal(c.rp.id, 'localhost');
    assert.equal(c.rp.name, 'Latchkey');
    assert.deepEqual(c.rp.origins, ['http://localhost:8080']);
    assert.deepEqual(c.rp.topOrigins, []);
    assert.equal(c.database.url, 'sqlite:./data/latchkey.db');
    assert.equal(c.webauthn.residentKey, 'required');
    assert.equal(c.webauthn.userVerification, 'preferred');
    assert.equal(c.webauthn.attestation, 'none');
    assert.equal(c.webauthn.challengeTtlSeconds, 300);
    assert.equal(c.session.idleTimeoutSeconds, 3600, 'NIST AAL2: at most 1 h idle');
    assert.equal(c.session.absoluteTimeoutSeconds, 86_400, 'NIST AAL2: at most 24 h');
    assert.equal(c.signup.enabled, true);
    assert.equal(c.signup.rejectEmailUsernames, false);
    assert.equal(c.secrets.serverSecret, undefined);
    assert.equal(c.log.level, 'info');
  });

  test('variables are read and converted; the default origin follows LATCHKEY_PORT', () => {
    const c = loadConfig({
      env: {
        LATCHKEY_PORT: '9000',
        LATCHKEY_SIGNUP_ENABLED: 'false',
        LATCHKEY_USER_VERIFICATION: 'required',
        LATCHKEY_SESSION_IDLE_SECONDS: '900',
        LATCHKEY_TRUST_PROXY: '10.0.0.1, 10.0.0.2 ,',
      },
    });
    assert.equal(c.server.port, 9000);
    assert.deepEqual(c.rp.origins, ['http://localhost:9000']);
    assert.equal(c.signup.enabled, false);
    assert.equal(c.webauthn.userVerification, 'required');
    assert.equal(c.session.idleTimeoutSeconds, 900);
    assert.deepEqual(c.server.trustProxy, ['10.0.0.1', '10.0.0.2'], 'lists are comma-separated and trimmed');
  });

  test('an empty variable counts as unset', () => {
    assert.equal(loadConfig({ env: { LATCHKEY_PORT: '', LATCHKEY_RP_NAME: '' } }).server.port, 8080);
  });

  test('https origins on a registrable domain and its subdomains are accepted', () => {
    const c = loadConfig({ env: { LATCHKEY_RP_ID: 'example.com', LATCHKEY_ORIGINS: 'https://example.com,https://app.example.com,https://a.b.example.com:8443' } });
    assert.deepEqual(c.rp.origins, ['https://example.com', 'https://app.example.com', 'https://a.b.example.com:8443']);
  });

  test('every bad variable is reported at once, each by its name', () => {
    const problems = problemsOf({ LATCHKEY_PORT: 'abc', LATCHKEY_USER_VERIFICATION: 'maybe', LATCHKEY_SESSION_IDLE_SECONDS: '5', LATCHKEY_LOG_LEVEL: 'loud' });
    for (const name of ['LATCHKEY_PORT', 'LATCHKEY_USER_VERIFICATION', 'LATCHKEY_SESSION_IDLE_SECONDS', 'LATCHKEY_LOG_LEVEL']) {
      assert.ok(problems.some((p) => p.startsWith(`${name}:`)), `${name} in ${JSON.stringify(problems)}`);
    }
    assert.ok(problems.some((p) => p.includes('"abc"')), 'the bad value is quoted');
    // Schema problems and cross-field problems come together too.
    const mixed = problemsOf({ LATCHKEY_PORT: 'abc', LATCHKEY_RP_ID: 'example.com', LATCHKEY_ORIGINS: 'http://example.com' });
    assert.ok(mixed.some((p) => p.startsWith('LATCHKEY_PORT:')));
    assert.ok(mixed.some((p) => p.startsWith('LATCHKEY_ORIGINS:') && p.includes('https')), JSON.stringify(mixed));
  });

  test('one bad variable is one problem that lists the allowed values', () => {
    const uv = problemsOf({ LATCHKEY_USER_VERIFICATION: 'maybe' });
    assert.equal(uv.length, 1, JSON.stringify(uv));
    for (const allowed of ['required', 'preferred', 'discouraged']) assert.ok(uv[0]?.includes(allowed), uv[0]);
    const port = problemsOf({ LATCHKEY_PORT: 'abc' });
    assert.deepEqual(port.map((p) => p.split(':')[0]), ['LATCHKEY_PORT'], JSON.stringify(port));
  });

  test('numbers are numbers: booleans, fractions and other radixes are not silently converted', () => {
    for (const value of ['true', 'false', '80.5', '8080.9', '0b11', '0x1F90']) {
      const problems = problemsOf({ LATCHKEY_PORT: value, LATCHKEY_ORIGINS: 'http://localhost:3000' });
      assert.ok(problems.some((p) => p.startsWith('LATCHKEY_PORT:')), `${value}: ${JSON.stringify(problems)}`);
    }
    const ttl = problemsOf({ LATCHKEY_CHALLENGE_TTL_SECONDS: '299.99' });
    assert.ok(ttl.some((p) => p.startsWith('LATCHKEY_CHALLENGE_TTL_SECONDS:')));
  });

  test('non-numbers and out-of-range numbers are refused', () => {
    for (const value of ['abc', '12abc', '-1', '65536', 'Infinity', 'null']) {
      const problems = problemsOf({ LATCHKEY_PORT: value, LATCHKEY_ORIGINS: 'http://localhost:3000' });
      assert.ok(problems.some((p) => p.startsWith('LATCHKEY_PORT:')), `${value}: ${JSON.stringify(problems)}`);
    }
    for (const value of ['yes', 'on', 'enabled']) {
      assert.ok(problemsOf({ LATCHKEY_SIGNUP_ENABLED: value }).some((p) => p.startsWith('LATCHKEY_SIGNUP_ENABLED:')), value);
    }
  });

  test('a server on port 80 or 443 with the default origin starts', {
  }, () => {
    const c = loadConfig({ env: { LATCHKEY_PORT: '80' } });
    assert.deepEqual(c.rp.origins, ['http://localhost']);
  });

  test('an unknown LATCHKEY_ variable is an error (a typo must not be silently ignored)', () => {
    const problems = problemsOf({ LATCHKEY_PROT: '8081', LATCHKEY_ORIGIN: 'https://example.com' });
    assert.ok(problems.some((p) => p.startsWith('LATCHKEY_PROT:') && /unknown/.test(p)), JSON.stringify(problems));
    assert.ok(problems.some((p) => p.startsWith('LATCHKEY_ORIGIN:') && /unknown/.test(p)), JSON.stringify(problems));
    // Other programs' variables are none of our business.
    assert.equal(loadConfig({ env: { PATH: '/bin', NODE_ENV: 'production', latchkey_port: 'x' } }).server.port, 8080);
  });

  test('every documented variable is known', () => {
    const names = ENVIRONMENT.map((e) => e.env);
    assert.equal(new Set(names).size, names.length, 'no variable listed twice');
    for (const name of ['LATCHKEY_PORT', 'LATCHKEY_HOST', 'LATCHKEY_RP_ID', 'LATCHKEY_RP_NAME', 'LATCHKEY_ORIGINS', 'LATCHKEY_DATABASE_URL']) {
      assert.ok(names.includes(name), `${name} (api-contract.md) is a known variable`);
    }
  });

  test('an origin with a path, query, fragment, credentials or a trailing slash is refused', () => {
    for (const origin of ['https://example.com/app', 'https://example.com/', 'https://example.com?x=1', 'https://example.com#f', 'https://user:pw@example.com', 'example.com', '*']) {
      const problems = problemsOf({ LATCHKEY_RP_ID: 'example.com', LATCHKEY_ORIGINS: origin });
      assert.ok(problems.some((p) => p.startsWith('LATCHKEY_ORIGINS:') && p.includes(origin)), `${origin}: ${JSON.stringify(problems)}`);
    }
  });

  test('a wildcard origin is refused, not kept as a literal that never matches', {
  }, () => {
    const problems = problemsOf({ LATCHKEY_RP_ID: 'example.com', LATCHKEY_ORIGINS: 'https://*.example.com' });
    assert.ok(problems.some((p) => p.includes('https://*.example.com')), JSON.stringify(problems));
  });

  test('http is allowed only for localhost origins', () => {
    for (const origin of ['http://example.com', 'http://app.example.com:8080']) {
      const problems = problemsOf({ LATCHKEY_RP_ID: 'example.com', LATCHKEY_ORIGINS: origin });
      assert.ok(problems.some((p) => p.startsWith('LATCHKEY_ORIGINS:') && /https/.test(p)), `${origin}: ${JSON.stringify(problems)}`);
    }
    for (const origin of ['ftp://example.com', 'ws://example.com']) {
      assert.ok(problemsOf({ LATCHKEY_RP_ID: 'example.com', LATCHKEY_ORIGINS: origin }).length > 0, origin);
    }
    assert.deepEqual(loadConfig({ env: { LATCHKEY_ORIGINS: 'http://localhost:3000' } }).rp.origins, ['http://localhost:3000']);
    assert.deepEqual(loadConfig({ env: { LATCHKEY_RP_ID: 'app.localhost', LATCHKEY_ORIGINS: 'http://app.localhost:3000' } }).rp.origins, ['http://app.localhost:3000']);
  });

  test('an origin outside the RP ID is refused: no suffix, prefix or sibling matches (SEC-03)', () => {
    for (const origin of ['https://evil.com', 'https://notexample.com', 'https://example.com.evil.io', 'https://exampleXcom', 'https://com']) {
      const problems = problemsOf({ LATCHKEY_RP_ID: 'example.com', LATCHKEY_ORIGINS: origin });
      assert.ok(problems.some((p) => p.startsWith('LATCHKEY_ORIGINS:') && p.includes(origin)), `${origin}: ${JSON.stringify(problems)}`);
    }
    // The RP ID is on the origin, not the other way round.
    const sub = problemsOf({ LATCHKEY_RP_ID: 'app.example.com', LATCHKEY_ORIGINS: 'https://example.com' });
    assert.ok(sub.some((p) => p.includes('RP ID')), JSON.stringify(sub));
    // The default origin (http://localhost:8080) is outside a real RP ID, which must be said.
    assert.ok(problemsOf({ LATCHKEY_RP_ID: 'example.com' }).some((p) => p.includes('http://localhost:8080')));
  });

  test('an RP ID that is a URL, an IP address, or has a port or path is refused with what an RP ID is (issue 10)', () => {
    const cases: [string, RegExp][] = [
      ['https://example.com', /is a URL, not an RP ID: use "example\.com"/],
      ['http://localhost:8080', /is a URL, not an RP ID: use "localhost"/],
      ['192.168.1.10', /IP address, which WebAuthn does not allow/],
      ['127.0.0.1', /IP address/],
      ['https://192.168.1.10:8443', /"https:\/\/192\.168\.1\.10:8443" is an IP address/],
      ['::1', /IP address/],
      ['[::1]', /IP address/],
      ['example.com:8443', /has a port: use "example\.com"/],
      ['example.com/login', /has a path: use "example\.com"/],
      ['exa mple.com', /is not a domain name/],
    ];
    for (const [rpId, reason] of cases) {
      const problems = problemsOf({ LATCHKEY_RP_ID: rpId, LATCHKEY_ORIGINS: 'https://example.com' });
      assert.equal(problems.length, 1, `one problem, not one per origin too: ${JSON.stringify(problems)}`);
      const [problem = ''] = problems;
      assert.ok(problem.startsWith('LATCHKEY_RP_ID: '), problem);
      assert.match(problem, reason);
      assert.match(problem, /domain name such as example\.com, without scheme, port or path; every origin in LATCHKEY_ORIGINS must be that domain or one of its subdomains/);
    }
  });

  test('origins unrelated to the RP ID name LATCHKEY_RP_ID and say what it is, also when it is the default', () => {
    const [set = ''] = problemsOf({ LATCHKEY_RP_ID: 'example.com', LATCHKEY_ORIGINS: 'https://shop.example.org' });
    assert.match(set, /^LATCHKEY_ORIGINS: "https:\/\/shop\.example\.org" is not on the RP ID "example\.com" or one of its subdomains: set LATCHKEY_RP_ID/);
    assert.match(set, /the RP ID \(LATCHKEY_RP_ID\) is a domain name/);
    const [unset = ''] = problemsOf({ LATCHKEY_ORIGINS: 'https://example.com' });
    assert.match(unset, /^LATCHKEY_ORIGINS: "https:\/\/example\.com" is not on the RP ID "localhost" \(LATCHKEY_RP_ID is not set\)/);
  });

  test('every message names the environment variable, also for defaults and the cross-field checks, never an internal path', () => {
    const internal = /(^|[\s(])(rp|cors|wellKnown|database|session|emailCode|server)\.[a-zA-Z]+/;
    const cases: [Record<string, string>, string][] = [
      // the default origin http://localhost:8080 against a real RP ID: the origins came from no variable
      [{ LATCHKEY_RP_ID: 'example.com' }, 'LATCHKEY_ORIGINS: "http://localhost:8080"'],
      [{ LATCHKEY_TOP_ORIGINS: 'https://portal.example.org/embed' }, 'LATCHKEY_TOP_ORIGINS: '],
      [{ LATCHKEY_TOP_ORIGINS: 'http://portal.example.org' }, 'LATCHKEY_TOP_ORIGINS: '],
      [{ LATCHKEY_CORS_ORIGINS: 'http://localhost:3000' }, 'LATCHKEY_CORS_ORIGINS: "http://localhost:3000" must also be in LATCHKEY_ORIGINS'],
      [{ LATCHKEY_CORS_ORIGINS: 'nope' }, 'LATCHKEY_CORS_ORIGINS: "nope" is not an origin'],
      [{ LATCHKEY_RELATED_ORIGINS: 'http://example.org' }, 'LATCHKEY_RELATED_ORIGINS: '],
      [{ LATCHKEY_ASSET_LINKS: '{' }, 'LATCHKEY_ASSET_LINKS: must be a JSON document'],
      [{ LATCHKEY_APPLE_APP_SITE_ASSOCIATION: '{' }, 'LATCHKEY_APPLE_APP_SITE_ASSOCIATION: must be a JSON document'],
      [{ LATCHKEY_DATABASE_URL: 'mysql://x' }, 'LATCHKEY_DATABASE_URL: must be sqlite:'],
      [{ LATCHKEY_EMAIL_CODE_ADDRESS_CEILING_PER_HOUR: '5' }, 'LATCHKEY_EMAIL_CODE_ADDRESS_CEILING_PER_HOUR: must not be lower than LATCHKEY_EMAIL_CODE_PER_ADDRESS_PER_HOUR'],
      [{ LATCHKEY_EMAIL_CODE_PER_ADDRESS_PER_HOUR: '500' }, 'LATCHKEY_EMAIL_CODE_ADDRESS_CEILING_PER_HOUR: must not be lower than LATCHKEY_EMAIL_CODE_PER_ADDRESS_PER_HOUR'],
      [{ LATCHKEY_SESSION_IDLE_SECONDS: '90000' }, 'LATCHKEY_SESSION_ABSOLUTE_SECONDS: must not be shorter than LATCHKEY_SESSION_IDLE_SECONDS'],
      [{ LATCHKEY_RP_ID: 'https://example.com' }, 'LATCHKEY_RP_ID: '],
      [{ LATCHKEY_PORT: 'http' }, 'LATCHKEY_PORT: '],
    ];
    for (const [env, expected] of cases) {
      const problems = problemsOf(env);
      assert.ok(problems.some((p) => p.startsWith(expected)), `${JSON.stringify(env)}: ${JSON.stringify(problems)}`);
      for (const p of problems) {
        assert.match(p, /^LATCHKEY_[A-Z_]+[: ]/, `${JSON.stringify(env)}: ${p}`);
        assert.doesNotMatch(p, internal, `${JSON.stringify(env)}: ${p}`);
      }
    }
    // From a config file: the variable and where in the file.
    const path = file('rp.json', JSON.stringify({ rp: { id: 'example.com:443' }, session: { idleTimeoutSeconds: 90000 } }));
    const fromFile = problemsOf({ LATCHKEY_CONFIG_FILE: path });
    assert.ok(fromFile.some((p) => p.startsWith(`LATCHKEY_RP_ID (id in rp of ${path}): "example.com:443" has a port`)), JSON.stringify(fromFile));
    assert.ok(fromFile.some((p) => p.startsWith(`LATCHKEY_SESSION_ABSOLUTE_SECONDS: must not be shorter than LATCHKEY_SESSION_IDLE_SECONDS (idleTimeoutSeconds in session of ${path})`)), JSON.stringify(fromFile));
    const unknown = problemsOf({ LATCHKEY_CONFIG_FILE: file('unknown.json', JSON.stringify({ rp: { ids: 'x' } })) });
    assert.ok(unknown.some((p) => /^LATCHKEY_CONFIG_FILE=.*unknown\.json: unknown setting "rp\.ids"$/.test(p)), JSON.stringify(unknown));
  });

  test('top origins must be origins too', () => {
    const problems = problemsOf({ LATCHKEY_TOP_ORIGINS: 'https://portal.example.org/embed' });
    assert.ok(problems.some((p) => p.includes('https://portal.example.org/embed')), JSON.stringify(problems));
  });

  test('cross-field rules: absolute timeout not shorter than idle; database URL scheme', () => {
    const t = problemsOf({ LATCHKEY_SESSION_IDLE_SECONDS: '7200', LATCHKEY_SESSION_ABSOLUTE_SECONDS: '3600' });
    assert.ok(t.some((p) => p.startsWith('LATCHKEY_SESSION_ABSOLUTE_SECONDS:')), JSON.stringify(t));
    for (const url of ['mysql://db/latchkey', 'latchkey.db', 'sqlite:', 'postgres://']) {
      assert.ok(problemsOf({ LATCHKEY_DATABASE_URL: url }).some((p) => p.startsWith('LATCHKEY_DATABASE_URL:')), url);
    }
    for (const url of ['sqlite::memory:', 'sqlite:/var/lib/latchkey.db', 'postgres://u:p@db:5432/latchkey', 'postgresql://db/latchkey']) {
      assert.equal(loadConfig({ env: { LATCHKEY_DATABASE_URL: url } }).database.url, url);
    }
  });

  test('a server secret shorter than 32 characters is refused', () => {
    assert.ok(problemsOf({ LATCHKEY_SERVER_SECRET: 'short' }).some((p) => p.startsWith('LATCHKEY_SERVER_SECRET:')));
  });

  test('the result is deeply frozen', () => {
    const c = loadConfig({ env: {} });
    assert.ok(Object.isFrozen(c));
    assert.ok(Object.isFrozen(c.server));
    assert.ok(Object.isFrozen(c.rp));
    assert.ok(Object.isFrozen(c.rp.origins));
    assert.throws(() => {
      (c.server as { port: number }).port = 1;
    }, TypeError);
    assert.throws(() => {
      (c.rp.origins as string[]).push('https://evil.example');
    }, TypeError);
    assert.throws(() => {
      (c as unknown as Record<string, unknown>).extra = 1;
    }, TypeError);
    assert.equal(c.server.port, 8080);
  });

  test('two loads do not share state (overrides and defaults are not mutated)', () => {
    const a = loadConfig({ env: {}, overrides: { rp: { origins: ['http://localhost:3000'] } } });
    const b = loadConfig({ env: {} });
    assert.deepEqual(a.rp.origins, ['http://localhost:3000']);
    assert.deepEqual(b.rp.origins, ['http://localhost:8080']);
  });

  describe('LATCHKEY_CONFIG_FILE', () => {
    test('a JSON file sets values; environment variables win over it; overrides win over both', () => {
      const path = file('ok.json', JSON.stringify({ server: { port: 9100, host: '0.0.0.0' }, rp: { name: 'From file' }, session: { idleTimeoutSeconds: 1800 } }));
      const fromFile = loadConfig({ env: { LATCHKEY_CONFIG_FILE: path } });
      assert.equal(fromFile.server.port, 9100);
      assert.equal(fromFile.server.host, '0.0.0.0');
      assert.equal(fromFile.rp.name, 'From file');
      assert.equal(fromFile.session.idleTimeoutSeconds, 1800);
      assert.deepEqual(fromFile.rp.origins, ['http://localhost:9100']);
      const envWins = loadConfig({ env: { LATCHKEY_CONFIG_FILE: path, LATCHKEY_PORT: '9200' } });
      assert.equal(envWins.server.port, 9200);
      assert.equal(envWins.rp.name, 'From file');
      const overrideWins = loadConfig({ env: { LATCHKEY_CONFIG_FILE: path, LATCHKEY_PORT: '9200' }, overrides: { server: { port: 9300 } } });
      assert.equal(overrideWins.server.port, 9300);
    });

    test('bad values in the file are named by key and file; unknown keys are reported', () => {
      const path = file('bad.json', JSON.stringify({ server: { port: 'abc', nope: 1 }, rp: { name: 'ok' }, extra: {} }));
      const problems = problemsOf({ LATCHKEY_CONFIG_FILE: path });
      assert.ok(problems.some((p) => p.includes('port') && p.includes(path) && p.includes('"abc"')), JSON.stringify(problems));
      assert.ok(problems.some((p) => p.includes('nope') && /unknown/.test(p)), JSON.stringify(problems));
      assert.ok(problems.some((p) => p.includes('extra') && /unknown/.test(p)), JSON.stringify(problems));
    });

    test('a missing file, invalid JSON or a non-object is reported under LATCHKEY_CONFIG_FILE', () => {
      for (const path of [join(dir, 'missing.json'), file('broken.json', '{"server": '), file('array.json', '[1,2]'), file('null.json', 'null')]) {
        const problems = problemsOf({ LATCHKEY_CONFIG_FILE: path });
        assert.ok(problems.some((p) => p.startsWith('LATCHKEY_CONFIG_FILE=')), `${path}: ${JSON.stringify(problems)}`);
      }
    });

    test('__proto__ keys in the file are refused and pollute nothing', () => {
      const top = file('proto.json', '{"__proto__": {"polluted": true}, "server": {"port": 9100}}');
      assert.ok(problemsOf({ LATCHKEY_CONFIG_FILE: top }).some((p) => p.includes('__proto__')));
      const nested = file('proto2.json', '{"server": {"__proto__": {"polluted": true}}}');
      assert.ok(problemsOf({ LATCHKEY_CONFIG_FILE: nested }).some((p) => p.includes('__proto__')));
      assert.equal(({} as Record<string, unknown>).polluted, undefined);
    });
  });
});

describe('parseOrigin', () => {
  test('accepts exactly scheme://host[:port]', () => {
    assert.equal(parseOrigin('https://example.com')?.hostname, 'example.com');
    assert.equal(parseOrigin('http://localhost:8080')?.port, '8080');
    for (const bad of ['https://example.com/', 'https://Example.com', 'https://example.com:443', 'not a url', '', 'https://example.com/path']) {
      assert.equal(parseOrigin(bad), undefined, bad);
    }
  });
});

describe('redactConfig', () => {
  test('hides the database password and the server secret', () => {
    const c = loadConfig({ env: { LATCHKEY_DATABASE_URL: 'postgres://latchkey:s3cr3t-pw@db:5432/latchkey', LATCHKEY_SERVER_SECRET: 'x'.repeat(40) } });
    const text = JSON.stringify(redactConfig(c));
    assert.ok(!text.includes('s3cr3t-pw'));
    assert.ok(!text.includes('x'.repeat(40)));
    assert.ok(text.includes('postgres://latchkey:***@db:5432/latchkey'));
  });
});
