// Every setting Gatehouse reads: one table, so that the environment, the command-line flags,
// `gatehouse --help` and the README all describe the same thing.
import { SIGNING_ALGORITHMS, type SigningAlgorithm } from '../keys/signing-key.js';
import { parseScopeList } from '../oauth/scopes.js';
import { DIGEST_ALGORITHMS, type DigestAlgorithm } from '../schemes/digest/algorithms.js';

export interface Settings {
  port: number;
  host: string;
  issuer: string;
  databaseUrl: string;
  dataDir: string;
  secretKey: string | undefined;
  secretKeyFile: string | undefined;
  basicRealm: string;
  digestRealm: string;
  digestAlgorithms: DigestAlgorithm[];
  digestRepeatFirst: boolean;
  digestNonceTtl: number;
  digestNextNonceWindow: number;
  digestMaxNc: number;
  passwordMinLength: number;
  passwordMaxLength: number;
  argon2Memory: number;
  argon2Time: number;
  argon2Parallelism: number;
  argon2Concurrency: number;
  argon2Queue: number;
  credentialCacheTtl: number;
  throttle: boolean;
  lockoutFreeFailures: number;
  lockoutBaseDelay: number;
  lockoutMaxDelay: number;
  lockoutHardLimit: number;
  lockoutResetAfter: number;
  ipFailureLimit: number;
  ipFailureWindow: number;
  signingAlg: SigningAlgorithm;
  keyPublishDelay: number;
  keyRotationInterval: number;
  accessTokenTtl: number;
  accessTokenAudience: string;
  tokenLeeway: number;
  tokenCacheSize: number;
  refreshGrace: number;
  refreshIdleTtl: number;
  refreshAbsoluteTtl: number;
  sessionIdleTtl: number;
  sessionAbsoluteTtl: number;
  scopes: string;
  authorizationCodeTtl: number;
  pkceRequired: boolean;
  trustProxy: boolean;
  allowInsecureHttp: boolean;
  sqliteSynchronous: 'FULL' | 'NORMAL';
  logLevel: string;
}

export class SettingsError extends Error {}

type Kind = 'int' | 'string' | 'bool' | 'list';

export interface SettingSpec {
  key: keyof Settings;
  env: string;
  flag: string;
  kind: Kind;
  default: string | undefined;
  describe: string;
  min?: number;
  max?: number;
  choices?: readonly string[];
  secret?: boolean;
}

export const SETTINGS: readonly SettingSpec[] = [
  { key: 'port', env: 'GATEHOUSE_PORT', flag: 'port', kind: 'int', default: '3000', min: 0, max: 65535, describe: 'TCP port to listen on (0 picks a free port).' },
  { key: 'host', env: 'GATEHOUSE_HOST', flag: 'host', kind: 'string', default: '127.0.0.1', describe: 'Address to listen on. Use 0.0.0.0 to accept connections from other machines.' },
  { key: 'issuer', env: 'GATEHOUSE_ISSUER', flag: 'issuer', kind: 'string', default: undefined, describe: 'Public base URL of this server, e.g. https://auth.example.com. Defaults to http://HOST:PORT.' },
  { key: 'databaseUrl', env: 'GATEHOUSE_DATABASE_URL', flag: 'database-url', kind: 'string', default: undefined, describe: 'sqlite:<path> (embedded, one instance; default sqlite:DATA_DIR/gatehouse.db) or postgres://user@host:port/db[?schema=name] (several instances).' },
  { key: 'dataDir', env: 'GATEHOUSE_DATA_DIR', flag: 'data-dir', kind: 'string', default: './data', describe: 'Directory for the generated secret key file (and the SQLite file by default).' },
  { key: 'secretKey', env: 'GATEHOUSE_SECRET_KEY', flag: 'secret-key', kind: 'string', default: undefined, secret: true, describe: 'The 32-byte key that encrypts secrets at rest, as 64 hex digits or base64url. Unset: read or create DATA_DIR/secret.key. Every instance sharing a database needs the same key.' },
  { key: 'secretKeyFile', env: 'GATEHOUSE_SECRET_KEY_FILE', flag: 'secret-key-file', kind: 'string', default: undefined, describe: 'Read the secret key from this file instead (keeps it out of the process list).' },
  { key: 'basicRealm', env: 'GATEHOUSE_BASIC_REALM', flag: 'basic-realm', kind: 'string', default: 'gatehouse', describe: 'Realm named in Basic challenges.' },
  { key: 'digestRealm', env: 'GATEHOUSE_DIGEST_REALM', flag: 'digest-realm', kind: 'string', default: 'gatehouse', describe: 'Realm of Digest authentication. H(A1) depends on it: changing it needs every Digest user to set a password again.' },
  { key: 'digestAlgorithms', env: 'GATEHOUSE_DIGEST_ALGORITHMS', flag: 'digest-algorithms', kind: 'list', default: 'SHA-256,SHA-256-sess,SHA-512-256,SHA-512-256-sess', choices: DIGEST_ALGORITHMS, describe: 'Digest algorithms offered, one challenge each, most preferred first (RFC 7616 §3.7 lists SHA-256, then SHA-512-256, then MD5). MD5 and MD5-sess are legacy and off unless listed.' },
  { key: 'digestRepeatFirst', env: 'GATEHOUSE_DIGEST_REPEAT_FIRST', flag: 'digest-repeat-first', kind: 'bool', default: 'true', describe: 'Repeat the first Digest challenge (with its own nonce) at the end, for clients that answer the last challenge they read (python-requests does).' },
  { key: 'digestNonceTtl', env: 'GATEHOUSE_DIGEST_NONCE_TTL', flag: 'digest-nonce-ttl', kind: 'int', default: '300', min: 10, max: 86400, describe: 'Seconds a Digest nonce stays valid; after that the client gets stale=true.' },
  { key: 'digestNextNonceWindow', env: 'GATEHOUSE_DIGEST_NEXTNONCE_WINDOW', flag: 'digest-nextnonce-window', kind: 'int', default: '60', min: 0, max: 86400, describe: 'Send a nextnonce in Authentication-Info when the nonce expires within this many seconds.' },
  { key: 'digestMaxNc', env: 'GATEHOUSE_DIGEST_MAX_NC', flag: 'digest-max-nc', kind: 'int', default: '10000', min: 1, max: 0xffffffff, describe: 'Highest nonce count accepted for one nonce; above it the client must take a new nonce.' },
  { key: 'passwordMinLength', env: 'GATEHOUSE_PASSWORD_MIN_LENGTH', flag: 'password-min-length', kind: 'int', default: '8', min: 1, max: 64, describe: 'Shortest password accepted, in Unicode code points (NIST 800-63B: 8 with a second factor, 15 without).' },
  { key: 'passwordMaxLength', env: 'GATEHOUSE_PASSWORD_MAX_LENGTH', flag: 'password-max-length', kind: 'int', default: '256', min: 64, max: 4096, describe: 'Longest password accepted, in code points (at least 64, per NIST 800-63B).' },
  { key: 'argon2Memory', env: 'GATEHOUSE_ARGON2_MEMORY', flag: 'argon2-memory', kind: 'int', default: '19456', min: 1024, max: 4194304, describe: 'Argon2id memory cost in KiB (OWASP: 19456). Changing it rehashes each password at its next login.' },
  { key: 'argon2Time', env: 'GATEHOUSE_ARGON2_TIME', flag: 'argon2-time', kind: 'int', default: '2', min: 1, max: 100, describe: 'Argon2id passes (OWASP: 2).' },
  { key: 'argon2Parallelism', env: 'GATEHOUSE_ARGON2_PARALLELISM', flag: 'argon2-parallelism', kind: 'int', default: '1', min: 1, max: 16, describe: 'Argon2id lanes (OWASP: 1).' },
  { key: 'argon2Concurrency', env: 'GATEHOUSE_ARGON2_CONCURRENCY', flag: 'argon2-concurrency', kind: 'int', default: '4', min: 1, max: 256, describe: 'Password hashes computed at once; memory use is this times the memory cost.' },
  { key: 'argon2Queue', env: 'GATEHOUSE_ARGON2_QUEUE', flag: 'argon2-queue', kind: 'int', default: '256', min: 0, max: 100000, describe: 'Password checks allowed to wait for a slot; beyond that the server answers 503 with Retry-After.' },
  { key: 'credentialCacheTtl', env: 'GATEHOUSE_CREDENTIAL_CACHE_TTL', flag: 'credential-cache-ttl', kind: 'int', default: '60', min: 0, max: 3600, describe: 'Seconds a verified Basic credential is remembered (keyed by an HMAC) to skip argon2; 0 turns the cache off.' },
  { key: 'throttle', env: 'GATEHOUSE_THROTTLE', flag: 'throttle', kind: 'bool', default: 'true', describe: 'Failed-login protection. Turn off only for benchmarks.' },
  { key: 'lockoutFreeFailures', env: 'GATEHOUSE_LOCKOUT_FREE_FAILURES', flag: 'lockout-free-failures', kind: 'int', default: '3', min: 0, max: 1000, describe: 'Failures per account before backoff starts.' },
  { key: 'lockoutBaseDelay', env: 'GATEHOUSE_LOCKOUT_BASE_DELAY', flag: 'lockout-base-delay', kind: 'int', default: '1', min: 1, max: 3600, describe: 'First backoff in seconds; it doubles with each further failure.' },
  { key: 'lockoutMaxDelay', env: 'GATEHOUSE_LOCKOUT_MAX_DELAY', flag: 'lockout-max-delay', kind: 'int', default: '900', min: 1, max: 86400, describe: 'Longest backoff in seconds.' },
  { key: 'lockoutHardLimit', env: 'GATEHOUSE_LOCKOUT_HARD_LIMIT', flag: 'lockout-hard-limit', kind: 'int', default: '50', min: 1, max: 100, describe: 'Consecutive failures after which the account is locked until `gatehouse user unlock` or a password change (NIST: at most 100).' },
  { key: 'lockoutResetAfter', env: 'GATEHOUSE_LOCKOUT_RESET_AFTER', flag: 'lockout-reset-after', kind: 'int', default: '43200', min: 60, max: 31536000, describe: 'Seconds without a failure after which an account\'s failure count starts again.' },
  { key: 'ipFailureLimit', env: 'GATEHOUSE_IP_FAILURE_LIMIT', flag: 'ip-failure-limit', kind: 'int', default: '100', min: 1, max: 1000000, describe: 'Failed logins allowed from one client address per window; then 429.' },
  { key: 'ipFailureWindow', env: 'GATEHOUSE_IP_FAILURE_WINDOW', flag: 'ip-failure-window', kind: 'int', default: '900', min: 1, max: 86400, describe: 'Length of the per-address window in seconds.' },
  { key: 'signingAlg', env: 'GATEHOUSE_SIGNING_ALG', flag: 'signing-alg', kind: 'string', default: 'ES256', choices: SIGNING_ALGORITHMS, describe: 'Algorithm of new signing keys (ES256, RS256 or EdDSA). Existing keys keep theirs until rotated out.' },
  { key: 'keyPublishDelay', env: 'GATEHOUSE_KEY_PUBLISH_DELAY', flag: 'key-publish-delay', kind: 'int', default: '600', min: 0, max: 604800, describe: 'Seconds a new key is published in the JWKS before it signs, so resource servers with a cached JWKS know it (jose caches 10 minutes).' },
  { key: 'keyRotationInterval', env: 'GATEHOUSE_KEY_ROTATION_INTERVAL', flag: 'key-rotation-interval', kind: 'int', default: '0', min: 0, max: 315360000, describe: 'Rotate the signing key automatically after it has signed this many seconds (e.g. 2592000 for 30 days); 0 rotates only on `gatehouse keys rotate`.' },
  { key: 'accessTokenTtl', env: 'GATEHOUSE_ACCESS_TOKEN_TTL', flag: 'access-token-ttl', kind: 'int', default: '600', min: 10, max: 86400, describe: 'Lifetime of access tokens in seconds. Also the longest time a revoked login keeps API access (tokens are checked without a database read).' },
  { key: 'accessTokenAudience', env: 'GATEHOUSE_ACCESS_TOKEN_AUDIENCE', flag: 'access-token-audience', kind: 'string', default: undefined, describe: 'The aud of access tokens from the JWT login, and the only audience /api/jwt/resources accepts. Defaults to ISSUER/api.' },
  { key: 'tokenLeeway', env: 'GATEHOUSE_TOKEN_LEEWAY', flag: 'token-leeway', kind: 'int', default: '30', min: 0, max: 60, describe: 'Clock skew in seconds allowed when checking exp, nbf and iat.' },
  { key: 'tokenCacheSize', env: 'GATEHOUSE_TOKEN_CACHE_SIZE', flag: 'token-cache-size', kind: 'int', default: '10000', min: 0, max: 10000000, describe: 'Access tokens remembered after their signature was verified (by exact text), so repeated calls with one token skip the signature check; exp and key revocation are still checked every time. 0 verifies every time.' },
  { key: 'refreshGrace', env: 'GATEHOUSE_REFRESH_GRACE', flag: 'refresh-grace', kind: 'int', default: '5', min: 0, max: 60, describe: 'Seconds after a refresh token is rotated during which using it again (two tabs, a retried request) gets a fresh pair in the same family instead of revoking the family. 0 turns the grace off.' },
  { key: 'refreshIdleTtl', env: 'GATEHOUSE_REFRESH_IDLE_TTL', flag: 'refresh-idle-ttl', kind: 'int', default: '1209600', min: 60, max: 31536000, describe: 'A refresh token not used for this many seconds expires (default 14 days).' },
  { key: 'refreshAbsoluteTtl', env: 'GATEHOUSE_REFRESH_ABSOLUTE_TTL', flag: 'refresh-absolute-ttl', kind: 'int', default: '2592000', min: 60, max: 31536000, describe: 'A login (refresh family) ends this many seconds after it started, however often it is refreshed (default 30 days).' },
  { key: 'sessionIdleTtl', env: 'GATEHOUSE_SESSION_IDLE_TTL', flag: 'session-idle-ttl', kind: 'int', default: '1800', min: 60, max: 31536000, describe: 'A cookie session unused for this many seconds ends (default 30 minutes).' },
  { key: 'sessionAbsoluteTtl', env: 'GATEHOUSE_SESSION_ABSOLUTE_TTL', flag: 'session-absolute-ttl', kind: 'int', default: '43200', min: 60, max: 31536000, describe: 'A cookie session ends this many seconds after login, however active (default 12 hours).' },
  { key: 'scopes', env: 'GATEHOUSE_SCOPES', flag: 'scopes', kind: 'string', default: 'api', describe: 'OAuth scopes, comma-separated, each "name" or "name@audience": the resource (aud) its access tokens are for. Without @audience a scope grants GATEHOUSE_ACCESS_TOKEN_AUDIENCE. `api` grants the demo resource /api/oauth/resources.' },
  { key: 'authorizationCodeTtl', env: 'GATEHOUSE_AUTHORIZATION_CODE_TTL', flag: 'authorization-code-ttl', kind: 'int', default: '60', min: 10, max: 600, describe: 'Seconds an authorization code stays redeemable (RFC 6749 §4.1.2 suggests at most 10 minutes).' },
  { key: 'pkceRequired', env: 'GATEHOUSE_PKCE_REQUIRED', flag: 'pkce-required', kind: 'bool', default: 'true', describe: 'Require PKCE (S256) from every client. Off: only public clients must use it (RFC 9700 §2.1.1 recommends it for all).' },
  { key: 'trustProxy', env: 'GATEHOUSE_TRUST_PROXY', flag: 'trust-proxy', kind: 'bool', default: 'false', describe: 'Trust X-Forwarded-For and X-Forwarded-Proto (only behind your own reverse proxy).' },
  { key: 'allowInsecureHttp', env: 'GATEHOUSE_ALLOW_INSECURE_HTTP', flag: 'allow-insecure-http', kind: 'bool', default: 'false', describe: 'Accept passwords over plain HTTP from non-loopback clients. Off: such requests get 403.' },
  { key: 'sqliteSynchronous', env: 'GATEHOUSE_SQLITE_SYNCHRONOUS', flag: 'sqlite-synchronous', kind: 'string', default: 'FULL', choices: ['FULL', 'NORMAL'], describe: 'SQLite durability. FULL survives power loss; NORMAL may lose the last commits on an OS crash.' },
  { key: 'logLevel', env: 'GATEHOUSE_LOG_LEVEL', flag: 'log-level', kind: 'string', default: 'info', choices: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], describe: 'Log level. Logs never contain passwords, Authorization headers or secrets.' },
];

function parseOne(spec: SettingSpec, raw: string, from: string): unknown {
  const where = `${from}: `;
  switch (spec.kind) {
    case 'int': {
      if (!/^\d+$/.test(raw.trim())) throw new SettingsError(`${where}expected a whole number, got "${raw}"`);
      const n = Number(raw.trim());
      if ((spec.min !== undefined && n < spec.min) || (spec.max !== undefined && n > spec.max)) {
        throw new SettingsError(`${where}must be between ${spec.min} and ${spec.max}, got ${n}`);
      }
      return n;
    }
    case 'bool': {
      const v = raw.trim().toLowerCase();
      if (['1', 'true', 'yes', 'on'].includes(v)) return true;
      if (['0', 'false', 'no', 'off'].includes(v)) return false;
      throw new SettingsError(`${where}expected true or false, got "${raw}"`);
    }
    case 'list': {
      const items = raw.split(',').map((s) => s.trim()).filter(Boolean);
      if (items.length === 0) throw new SettingsError(`${where}needs at least one value`);
      const out: string[] = [];
      for (const item of items) {
        const match = spec.choices?.find((c) => c.toLowerCase() === item.toLowerCase());
        if (!match) throw new SettingsError(`${where}unknown value "${item}"; choose from ${spec.choices?.join(', ')}`);
        if (out.includes(match)) throw new SettingsError(`${where}"${match}" is listed twice`);
        out.push(match);
      }
      return out;
    }
    default: {
      if (spec.choices) {
        const match = spec.choices.find((c) => c.toLowerCase() === raw.trim().toLowerCase());
        if (!match) throw new SettingsError(`${where}unknown value "${raw}"; choose from ${spec.choices.join(', ')}`);
        return match;
      }
      return raw;
    }
  }
}

/** Resolve settings: flag beats environment beats default. Throws SettingsError with a clear message. */
export function loadSettings(flags: Record<string, string | boolean | undefined>, env: NodeJS.ProcessEnv = process.env): Settings {
  const out: Record<string, unknown> = {};
  for (const spec of SETTINGS) {
    const flag = flags[spec.flag];
    const envValue = env[spec.env];
    let raw: string | undefined;
    let from: string;
    if (flag !== undefined) {
      raw = typeof flag === 'boolean' ? String(flag) : flag;
      from = `--${spec.flag}`;
    } else if (envValue !== undefined && envValue !== '') {
      raw = envValue;
      from = spec.env;
    } else {
      raw = spec.default;
      from = `default of ${spec.env}`;
    }
    out[spec.key] = raw === undefined ? undefined : parseOne(spec, raw, from);
  }
  const s = out as unknown as Settings;
  if (!s.issuer) {
    const host = s.host.includes(':') ? `[${s.host}]` : s.host === '0.0.0.0' ? '127.0.0.1' : s.host;
    s.issuer = `http://${host}:${s.port}`;
  }
  try {
    const u = new URL(s.issuer);
    if (u.protocol !== 'https:' && u.protocol !== 'http:') throw new Error();
    s.issuer = s.issuer.replace(/\/+$/, '');
  } catch {
    throw new SettingsError(`GATEHOUSE_ISSUER: expected an http(s) URL, got "${s.issuer}"`);
  }
  s.accessTokenAudience ||= `${s.issuer}/api`;
  try {
    parseScopeList(s.scopes);
  } catch (err) {
    throw new SettingsError(`GATEHOUSE_SCOPES: ${(err as Error).message}`);
  }
  s.databaseUrl ??= `sqlite:${s.dataDir.replace(/\/+$/, '')}/gatehouse.db`;
  if (!/^(sqlite:|postgres:\/\/|postgresql:\/\/)/.test(s.databaseUrl)) {
    throw new SettingsError(`GATEHOUSE_DATABASE_URL: expected sqlite:<path> or postgres://…, got "${s.databaseUrl}"`);
  }
  for (const [name, realm] of [['GATEHOUSE_BASIC_REALM', s.basicRealm], ['GATEHOUSE_DIGEST_REALM', s.digestRealm]] as const) {
    if (!realm || /["\\\u0000-\u001f\u007f]/.test(realm)) throw new SettingsError(`${name}: the realm must be non-empty, without quotes, backslashes or control characters (got ${JSON.stringify(realm)})`);
  }
  return s;
}
