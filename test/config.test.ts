// Settings: defaults, precedence (flag > environment > default) and clear refusals of bad values.
import { describe, expect, it } from 'vitest';
import { loadSettings, SETTINGS, SettingsError } from '../src/config/settings.js';

type Flags = Record<string, string | boolean | undefined>;

/** The SettingsError that loading throws (fails the test when nothing is thrown). */
function refusal(flags: Flags, env: NodeJS.ProcessEnv = {}): SettingsError {
  try {
    loadSettings(flags, env);
  } catch (err) {
    expect(err).toBeInstanceOf(SettingsError);
    return err as SettingsError;
  }
  throw new Error(`expected a SettingsError for ${JSON.stringify({ flags, env })}`);
}

describe('loadSettings defaults', () => {
  it('listens on 127.0.0.1:3000 with SQLite under ./data and a derived issuer', () => {
    const s = loadSettings({}, {});
    expect(s.port).toBe(3000);
    expect(s.host).toBe('127.0.0.1');
    expect(s.databaseUrl).toBe('sqlite:./data/gatehouse.db');
    expect(s.dataDir).toBe('./data');
    expect(s.issuer).toBe('http://127.0.0.1:3000');
    expect(s.secretKey).toBeUndefined();
    expect(s.secretKeyFile).toBeUndefined();
  });

  it('has secure defaults: SHA-256 family Digest without MD5, throttling on, FULL sync, OWASP argon2', () => {
    const s = loadSettings({}, {});
    expect(s.digestAlgorithms).toEqual(['SHA-256', 'SHA-256-sess', 'SHA-512-256', 'SHA-512-256-sess']);
    expect(s.throttle).toBe(true);
    expect(s.trustProxy).toBe(false);
    expect(s.allowInsecureHttp).toBe(false);
    expect(s.sqliteSynchronous).toBe('FULL');
    expect([s.argon2Memory, s.argon2Time, s.argon2Parallelism]).toEqual([19456, 2, 1]);
    expect([s.passwordMinLength, s.passwordMaxLength]).toEqual([8, 256]);
    expect([s.basicRealm, s.digestRealm]).toEqual(['gatehouse', 'gatehouse']);
  });

  it('has a default for every setting that is valid on its own', () => {
    for (const spec of SETTINGS) {
      if (spec.default === undefined) continue;
      expect(() => loadSettings({}, { [spec.env]: spec.default }), spec.env).not.toThrow();
    }
  });
});

describe('precedence', () => {
  it('a flag beats the environment, which beats the default', () => {
    expect(loadSettings({ port: '4000' }, { GATEHOUSE_PORT: '5000' }).port).toBe(4000);
    expect(loadSettings({}, { GATEHOUSE_PORT: '5000' }).port).toBe(5000);
    expect(loadSettings({ host: '::1' }, { GATEHOUSE_HOST: '10.0.0.1' }).host).toBe('::1');
    expect(loadSettings({ 'digest-realm': 'flag' }, { GATEHOUSE_DIGEST_REALM: 'env' }).digestRealm).toBe('flag');
    expect(loadSettings({}, { GATEHOUSE_DIGEST_REALM: 'env' }).digestRealm).toBe('env');
    expect(loadSettings({ throttle: false }, { GATEHOUSE_THROTTLE: 'true' }).throttle).toBe(false);
    expect(loadSettings({ 'database-url': 'sqlite::memory:' }, { GATEHOUSE_DATABASE_URL: 'postgres://db/x' }).databaseUrl).toBe('sqlite::memory:');
  });

  it('an empty environment value means "unset"', () => {
    expect(loadSettings({}, { GATEHOUSE_PORT: '' }).port).toBe(3000);
  });

  it('an invalid environment value does not matter when a flag overrides it', () => {
    expect(loadSettings({ port: '8080' }, { GATEHOUSE_PORT: 'abc' }).port).toBe(8080);
  });

  it('derives the issuer from host and port, and keeps an explicit one without a trailing slash', () => {
    expect(loadSettings({ port: '8443' }, {}).issuer).toBe('http://127.0.0.1:8443');
    expect(loadSettings({ host: '0.0.0.0' }, {}).issuer).toBe('http://127.0.0.1:3000');
    expect(loadSettings({ host: '::1', port: '9000' }, {}).issuer).toBe('http://[::1]:9000');
    expect(loadSettings({}, { GATEHOUSE_ISSUER: 'https://auth.example.com/' }).issuer).toBe('https://auth.example.com');
  });

  it('reads booleans, lists and choices case-insensitively', () => {
    for (const v of ['1', 'true', 'YES', 'on']) expect(loadSettings({}, { GATEHOUSE_TRUST_PROXY: v }).trustProxy).toBe(true);
    for (const v of ['0', 'false', 'No', 'OFF']) expect(loadSettings({}, { GATEHOUSE_THROTTLE: v }).throttle).toBe(false);
    expect(loadSettings({ 'digest-algorithms': ' md5 , sha-256 ' }, {}).digestAlgorithms).toEqual(['MD5', 'SHA-256']);
    expect(loadSettings({}, { GATEHOUSE_SQLITE_SYNCHRONOUS: 'normal' }).sqliteSynchronous).toBe('NORMAL');
    expect(loadSettings({}, { GATEHOUSE_PORT: ' 8080 ' }).port).toBe(8080);
  });
});

describe('validation errors are SettingsErrors that name the setting', () => {
  it('refuses a value that is not a whole number', () => {
    for (const bad of ['abc', '-1', '1.5', '3e3', '0x10', '80 80']) {
      const e = refusal({}, { GATEHOUSE_PORT: bad });
      expect(e.message).toBe(`GATEHOUSE_PORT: expected a whole number, got "${bad}"`);
    }
    expect(refusal({ 'argon2-time': 'two' }).message).toBe('--argon2-time: expected a whole number, got "two"');
  });

  it('refuses a number out of range', () => {
    expect(refusal({ port: '65536' }).message).toBe('--port: must be between 0 and 65535, got 65536');
    expect(refusal({}, { GATEHOUSE_DIGEST_NONCE_TTL: '5' }).message).toMatch(/^GATEHOUSE_DIGEST_NONCE_TTL: must be between 10 and 86400/);
    expect(refusal({}, { GATEHOUSE_ARGON2_MEMORY: '1023' }).message).toMatch(/^GATEHOUSE_ARGON2_MEMORY: must be between 1024 and/);
    expect(refusal({}, { GATEHOUSE_LOCKOUT_HARD_LIMIT: '101' }).message).toMatch(/^GATEHOUSE_LOCKOUT_HARD_LIMIT: must be between 1 and 100/);
    expect(refusal({}, { GATEHOUSE_PASSWORD_MAX_LENGTH: '63' }).message).toMatch(/^GATEHOUSE_PASSWORD_MAX_LENGTH: must be between 64/);
  });

  it('refuses a value that is not a boolean', () => {
    expect(refusal({}, { GATEHOUSE_THROTTLE: 'maybe' }).message).toBe('GATEHOUSE_THROTTLE: expected true or false, got "maybe"');
    expect(refusal({ 'trust-proxy': 'sure' }).message).toBe('--trust-proxy: expected true or false, got "sure"');
  });

  it('refuses an unknown Digest algorithm and names the choices', () => {
    const e = refusal({ 'digest-algorithms': 'SHA-256,SHA-1' });
    expect(e.message).toMatch(/^--digest-algorithms: unknown value "SHA-1"; choose from /);
    for (const alg of ['SHA-512-256', 'SHA-256', 'MD5', 'MD5-sess']) expect(e.message).toContain(alg);
    expect(refusal({}, { GATEHOUSE_DIGEST_ALGORITHMS: 'sha256' }).message).toMatch(/^GATEHOUSE_DIGEST_ALGORITHMS: unknown value "sha256"/);
  });

  it('refuses a Digest algorithm listed twice, and an empty list', () => {
    expect(refusal({}, { GATEHOUSE_DIGEST_ALGORITHMS: 'SHA-256,sha-256' }).message).toBe('GATEHOUSE_DIGEST_ALGORITHMS: "SHA-256" is listed twice');
    expect(refusal({ 'digest-algorithms': ' , ' }).message).toBe('--digest-algorithms: needs at least one value');
  });

  it('refuses an unknown choice', () => {
    expect(refusal({}, { GATEHOUSE_SQLITE_SYNCHRONOUS: 'OFF' }).message).toMatch(/^GATEHOUSE_SQLITE_SYNCHRONOUS: unknown value "OFF"; choose from FULL, NORMAL/);
    expect(refusal({ 'log-level': 'loud' }).message).toMatch(/^--log-level: unknown value "loud"/);
  });

  it('refuses a database URL that is neither sqlite: nor postgres://', () => {
    for (const url of ['mysql://db/x', 'postgres:/db', './gatehouse.db', 'SQLITE']) {
      expect(refusal({}, { GATEHOUSE_DATABASE_URL: url }).message).toBe(`GATEHOUSE_DATABASE_URL: expected sqlite:<path> or postgres://…, got "${url}"`);
    }
    expect(loadSettings({}, { GATEHOUSE_DATABASE_URL: 'postgresql://u@h:5432/d' }).databaseUrl).toBe('postgresql://u@h:5432/d');
  });

  it('refuses an issuer that is not an http(s) URL', () => {
    for (const issuer of ['ftp://auth.example.com', 'auth.example.com', 'not a url', 'javascript:alert(1)']) {
      expect(refusal({}, { GATEHOUSE_ISSUER: issuer }).message).toBe(`GATEHOUSE_ISSUER: expected an http(s) URL, got "${issuer}"`);
    }
  });

  it('refuses a realm with a quote, backslash or control character, naming which realm', () => {
    const cases: [string, string][] = [
      ['GATEHOUSE_BASIC_REALM', 'my "realm"'],
      ['GATEHOUSE_DIGEST_REALM', 'back\\slash'],
      ['GATEHOUSE_DIGEST_REALM', 'line\nbreak'],
    ];
    for (const [env, value] of cases) {
      const e = refusal({}, { [env]: value });
      expect(e.message).toMatch(/without quotes, backslashes or control characters/);
      expect(e.message, `${env}=${JSON.stringify(value)}`).toContain(env);
    }
  });

  it('accepts the tightest password lengths the ranges allow (min = max = 64)', () => {
    const s = loadSettings({ 'password-min-length': '64', 'password-max-length': '64' }, {});
    expect([s.passwordMinLength, s.passwordMaxLength]).toEqual([64, 64]);
    expect(refusal({ 'password-min-length': '65' }).message).toMatch(/^--password-min-length: must be between 1 and 64/);
  });
});
