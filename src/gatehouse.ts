// Composition: from settings to the running services. Shared by `gatehouse serve`, the user
// commands of the CLI and the tests.
import { createHmac } from 'node:crypto';
import { Accounts } from './accounts/accounts.js';
import { CredentialCache } from './accounts/credential-cache.js';
import { systemClock, type Clock } from './clock.js';
import type { Settings } from './config/settings.js';
import { PasswordHasher } from './crypto/passwords.js';
import { SecretBox } from './crypto/secret-box.js';
import { loadSecretKey, type SecretKey } from './crypto/secret-key.js';
import type { DigestDeps } from './schemes/digest/authenticate.js';
import { NonceService } from './schemes/digest/nonce.js';
import { DigestSecrets } from './schemes/digest/stored-secret.js';
import { KeyRing } from './keys/key-ring.js';
import { ensureKeys, type KeyPolicy } from './keys/rotation.js';
import { KeyDecryptionError } from './keys/signing-key.js';
import { Clients } from './oauth/clients.js';
import type { OAuthDeps } from './oauth/deps.js';
import { parseScopeList, Scopes } from './oauth/scopes.js';
import { Sessions } from './sessions/sessions.js';
import { FreshCache } from './store/fresh-cache.js';
import { AccessTokens } from './tokens/access-token.js';
import { IdTokens } from './oidc/id-token.js';
import { BACKCHANNEL_TIMEOUT_MS, notifyLogout, type BackchannelDeps } from './oidc/logout/backchannel.js';
import { RefreshFamilies } from './tokens/refresh-families.js';
import { registerForNonceEpoch } from './schemes/digest/nonce-epoch.js';
import { Store } from './store/store.js';
import { LoginThrottle } from './throttle/login-throttle.js';

export class StartupError extends Error {}

export interface Gatehouse {
  settings: Settings;
  store: Store;
  clock: Clock;
  accounts: Accounts;
  throttle: LoginThrottle;
  digest: DigestDeps;
  box: SecretBox;
  keys: KeyRing;
  keyPolicy: KeyPolicy;
  accessTokens: AccessTokens;
  refreshFamilies: RefreshFamilies;
  sessions: Sessions;
  clients: Clients;
  oauth: OAuthDeps;
  /** What back-channel logout needs (oidc/logout/backchannel.ts). */
  backchannel: BackchannelDeps;
  keyOrigin: string;
  keyCreated: boolean;
  migrationsApplied: string[];
  close(): Promise<void>;
}

export interface GatehouseOptions {
  clock?: Clock;
  /** 'server' (default) takes part in the clean-shutdown protocol below; 'tool' (the CLI) does not. */
  role?: 'server' | 'tool';
}

export async function createGatehouse(settings: Settings, options: GatehouseOptions = {}): Promise<Gatehouse> {
  const clock = options.clock ?? systemClock;
  const { key, origin, created } = loadSecretKey(settings);
  let store: Store;
  try {
    store = await Store.open(settings.databaseUrl, { sqliteSynchronous: settings.sqliteSynchronous });
  } catch (err) {
    throw new StartupError(`cannot open the database: ${(err as Error).message}`);
  }
  try {
    let applied: string[];
    try {
      applied = await store.migrate();
    } catch (err) {
      throw new StartupError(`cannot prepare the database (${store.describe}): ${(err as Error).message}`);
    }
    await checkKeyMatchesDatabase(store, key);
    const role = options.role ?? 'server';
    const registration = await registerForNonceEpoch(store, role);
    const epoch = registration.epoch;

    const box = new SecretBox(key);
    const hasher = new PasswordHasher(
      { memoryCost: settings.argon2Memory, timeCost: settings.argon2Time, parallelism: settings.argon2Parallelism },
      settings.argon2Concurrency,
      settings.argon2Queue,
    );
    const secrets = new DigestSecrets(settings.digestRealm, settings.digestAlgorithms, box);
    const ttl = settings.credentialCacheTtl * 1000;
    const fresh = <T>() => new FreshCache<T>(store.feed, ttl, clock);
    const throttle = new LoginThrottle(store.loginThrottle, settings, clock, fresh());
    const cache = new CredentialCache(ttl, clock);
    const accounts = new Accounts(store, hasher, secrets, cache, throttle, settings, clock, fresh());
    const digest: DigestDeps = {
      realm: settings.digestRealm,
      algorithms: settings.digestAlgorithms,
      repeatFirst: settings.digestRepeatFirst,
      nonces: new NonceService(key.derive('digest-nonce'), settings.digestRealm, settings.digestNonceTtl * 1000, clock, epoch),
      secrets,
      store,
      throttle,
      clock,
      maxNc: settings.digestMaxNc,
      nextNonceWindowMs: settings.digestNextNonceWindow * 1000,
      credentials: fresh(),
    };
    const keys = new KeyRing(store, box, clock);
    const keyPolicy: KeyPolicy = {
      alg: settings.signingAlg,
      publishDelayMs: settings.keyPublishDelay * 1000,
      retireAfterMs: (settings.accessTokenTtl + settings.tokenLeeway) * 1000,
      tokenLeewayMs: settings.tokenLeeway * 1000,
    };
    await openKeys(keys);
    if (role === 'server') {
      await ensureKeys({ store, box, clock, policy: keyPolicy });
      await openKeys(keys);
    }
    const accessTokens = new AccessTokens(keys, {
      issuer: () => settings.issuer,
      audience: () => settings.accessTokenAudience,
      ttlSeconds: settings.accessTokenTtl,
      leewaySeconds: settings.tokenLeeway,
      cacheSize: settings.tokenCacheSize,
    }, clock);
    const refreshFamilies = new RefreshFamilies(store, {
      graceMs: settings.refreshGrace * 1000,
      idleMs: settings.refreshIdleTtl * 1000,
      absoluteMs: settings.refreshAbsoluteTtl * 1000,
    }, clock);
    const sessions = new Sessions(store, { idleMs: settings.sessionIdleTtl * 1000, absoluteMs: settings.sessionAbsoluteTtl * 1000 }, clock, key.derive('csrf'));
    const scopes = new Scopes(parseScopeList(settings.scopes), () => settings.accessTokenAudience);
    const clients = new Clients(store, scopes, clock, fresh());
    const oauth: OAuthDeps = {
      clients, scopes, tokens: accessTokens, families: refreshFamilies, accounts, store, clock,
      realm: settings.basicRealm,
      issuer: () => settings.issuer,
      codeTtlMs: settings.authorizationCodeTtl * 1000,
      pkceRequired: settings.pkceRequired,
      idTokens: new IdTokens(keys, () => settings.issuer, settings.accessTokenTtl, clock),
      accessTokenRows: fresh(),
    };
    const backchannel: BackchannelDeps = { store, clients, idTokens: oauth.idTokens, timeoutMs: BACKCHANNEL_TIMEOUT_MS };
    // Every way a login session ends (logout, a new login replacing it, a password change, a
    // disable, expiry) tells the clients it signed in to. A notification takes its session's client
    // records before it POSTs: close() waits for those under way (each POST times out), so that a
    // stop does not drop them.
    const delivering = new Set<Promise<unknown>>();
    const sessionsEnded = (hashes: string[]) => {
      const p = Promise.all(hashes.map((h) => notifyLogout(h, backchannel)));
      delivering.add(p);
      void p.catch(() => {}).finally(() => delivering.delete(p));
      return p;
    };
    accounts.onSessionsEnded = sessionsEnded;
    sessions.onEnded = sessionsEnded;
    return {
      backchannel,
      settings, store, clock, accounts, throttle, digest, box, keys, keyPolicy, accessTokens, refreshFamilies, sessions, clients, oauth,
      keyOrigin: origin,
      keyCreated: created,
      migrationsApplied: applied,
      close: async () => {
        await Promise.allSettled([...delivering]);
        await registration.release();
        await store.close();
      },
    };
  } catch (err) {
    await store.close().catch(() => {});
    throw err;
  }
}

/** A database set up under one key must never be served with another: sealed secrets would not open
 * and nonces would not verify. Refuse to start instead (catalogue R-10). */
async function checkKeyMatchesDatabase(store: Store, key: SecretKey): Promise<void> {
  const check = createHmac('sha256', key.derive('key-check')).update('gatehouse').digest('base64url');
  const stored = await store.meta.putIfAbsent('secret_key_check', check);
  if (stored !== check) {
    throw new StartupError(
      'the secret key does not match the one this database was set up with. Set GATEHOUSE_SECRET_KEY ' +
        '(or GATEHOUSE_SECRET_KEY_FILE) to the original key; every instance sharing a database needs the same key.',
    );
  }
}

/** Open every stored signing key. One that does not decrypt stops the start: new keys are never
 * made in its place, since every token and cached JWKS would break without a word (catalogue R-10). */
async function openKeys(keys: KeyRing): Promise<void> {
  try {
    await keys.reload();
  } catch (err) {
    if (err instanceof KeyDecryptionError) {
      throw new StartupError(`${err.message}. The stored signing keys were sealed with another secret key: start with the original GATEHOUSE_SECRET_KEY. Gatehouse does not replace keys on its own.`);
    }
    throw err;
  }
}

