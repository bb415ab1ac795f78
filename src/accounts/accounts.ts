// User accounts: creation, password changes, enable/disable, removal, and the password check that
// every password path shares (Basic now; the JWT login and the password grant later).
import { randomUUID } from 'node:crypto';
import type { Clock } from '../clock.js';
import type { PasswordHasher } from '../crypto/passwords.js';
import type { DigestSecrets } from '../schemes/digest/stored-secret.js';
import type { FreshCache } from '../store/fresh-cache.js';
import type { Repos, Store } from '../store/store.js';
import type { UserRow } from '../store/users.js';
import type { LoginThrottle } from '../throttle/login-throttle.js';
import type { CredentialCache } from './credential-cache.js';
import { checkNewPassword, normalizePassword, type PasswordRules } from './password-policy.js';
import { checkUsername, usernameKey } from './usernames.js';

export class UserNotFound extends Error {
  constructor(username: string) {
    super(`no user named "${username}"`);
  }
}

export class InvalidEmail extends Error {}

/** What leaves the accounts module: never the password hash. */
export interface User {
  id: string;
  username: string;
  email: string | null;
  displayName: string | null;
  disabled: boolean;
  createdAt: string;
  updatedAt: string;
}

const users = new WeakMap<UserRow, User>();

/** The public view of a row (memoized per row object: cached rows are converted once). */
export function toUser(row: UserRow): User {
  let user = users.get(row);
  if (!user) {
    user = publicView(row);
    users.set(row, user);
  }
  return user;
}

function publicView(row: UserRow): User {
  return {
    id: row.id,
    username: row.username,
    email: row.email,
    displayName: row.display_name,
    disabled: row.disabled === 1,
    createdAt: new Date(row.created_at).toISOString(),
    updatedAt: new Date(row.updated_at).toISOString(),
  };
}

export interface LoginOptions {
  /** false: always run the real check (an interactive login form). */
  useCache?: boolean;
  /** The exact credential bytes a scheme received, remembered (as an HMAC) on success for
   * recentLogin, but only when they are the one canonical form of the user's stored name and the
   * normalised password: `canonical` makes that form. Other spellings of the same credentials (name
   * in another case, NFD password, other base64 padding bits) take the full path, so that one
   * account cannot fill the cache with variants of itself. */
  proof?: { presented: string; canonical(username: string, password: string): string };
}

export type LoginResult = { kind: 'ok'; user: User } | { kind: 'fail' } | { kind: 'wait'; retryAfter: number };

export interface NewUser {
  username: string;
  password?: string | undefined;
  email?: string | undefined;
  /** The address is known to be the user's (OIDC email_verified). */
  emailVerified?: boolean | undefined;
  displayName?: string | undefined;
}

export class Accounts {
  /** Told of the sessions a password change or a disable ended (OIDC back-channel logout); set by
   * gatehouse.ts once the OIDC side exists. Failures to tell do not undo the change. */
  onSessionsEnded: ((sessionIdHashes: string[]) => Promise<unknown>) | undefined;

  private async sessionsEnded(hashes: string[]): Promise<void> {
    if (hashes.length && this.onSessionsEnded) await this.onSessionsEnded(hashes).catch(() => {});
  }

  /** Checks under way, by credential HMAC: concurrent requests with the same credentials share one. */
  private readonly inFlight = new Map<string, Promise<LoginResult>>();

  constructor(
    private readonly store: Store,
    private readonly hasher: PasswordHasher,
    private readonly digest: DigestSecrets,
    private readonly cache: CredentialCache,
    private readonly throttle: LoginThrottle,
    private readonly rules: PasswordRules,
    private readonly clock: Clock,
    private readonly userRows: FreshCache<UserRow | undefined>,
  ) {}

  async create(input: NewUser): Promise<User> {
    const { username, key } = checkUsername(input.username);
    const email = input.email === undefined ? null : checkEmail(input.email);
    const password = input.password === undefined ? undefined : checkNewPassword(input.password, this.rules, key);
    const now = this.clock.now();
    const row: UserRow = {
      id: randomUUID(),
      username,
      username_key: key,
      email,
      display_name: input.displayName?.normalize('NFC') ?? null,
      password_hash: password === undefined ? null : await this.hasher.hash(password),
      disabled: 0,
      created_at: now,
      updated_at: now,
      email_verified: input.emailVerified === true && email !== null ? 1 : 0,
    };
    await this.store.transaction(async (tx) => {
      await tx.users.create(row);
      if (password !== undefined) await tx.digestCredentials.replaceForUser(row.id, this.digest.rowsFor(row.id, username, password, now));
    });
    return toUser(row);
  }

  async setPassword(username: string, password: string): Promise<void> {
    const row = await this.require(username);
    const pw = checkNewPassword(password, this.rules, row.username_key);
    const hash = await this.hasher.hash(pw);
    const now = this.clock.now();
    // A new password ends every login made with the old one: sessions and refresh families
    // (catalogue SS-06, JW-21), in the same transaction.
    const ended = await this.store.transaction(async (tx) => {
      await tx.users.setPasswordHash(row.id, hash, now);
      await tx.digestCredentials.replaceForUser(row.id, this.digest.rowsFor(row.id, row.username, pw, now));
      return endLogins(tx, row.id, now, 'password-change');
    });
    this.cache.forgetUser(row.id);
    await this.sessionsEnded(ended);
    await this.throttle.unlock(row.username_key);
  }

  async setDisabled(username: string, disabled: boolean): Promise<void> {
    const row = await this.require(username);
    const now = this.clock.now();
    const ended = await this.store.transaction(async (tx) => {
      await tx.users.setDisabled(row.id, disabled, now);
      return disabled ? endLogins(tx, row.id, now, 'disabled') : [];
    });
    this.cache.forgetUser(row.id);
    await this.sessionsEnded(ended);
  }

  async remove(username: string): Promise<void> {
    const row = await this.require(username);
    await this.store.users.remove(row.id);
    this.cache.forgetUser(row.id);
  }

  async unlock(username: string): Promise<void> {
    const row = await this.require(username);
    await this.throttle.unlock(row.username_key);
  }

  async list(): Promise<User[]> {
    return (await this.store.users.list()).map(toUser);
  }

  async find(username: string): Promise<User | undefined> {
    const row = await this.store.users.findByKey(usernameKey(username));
    return row && toUser(row);
  }

  /** The shared password path: throttle, verify, count the outcome. Never says which part was wrong.
   * A credential verified a moment ago is served from the cache with reads only; every other check
   * first reserves an attempt with the throttle, so parallel guesses get no extra checks. A login
   * form passes useCache: false: an interactive login always runs the real check. */
  async passwordLogin(username: string, password: string, ip: string, options: LoginOptions = {}): Promise<LoginResult> {
    const key = usernameKey(username);
    const pw = normalizePassword(password);
    const verdict = await this.throttle.check(key, ip);
    if (verdict.kind === 'wait') return verdict;
    const row = await this.userRows.get(key, `account:${key}`, () => this.store.users.findByKey(key));
    const usable = row && row.disabled === 0 && row.password_hash ? row : undefined;
    const credential = this.cache.id(key, pw);
    const cached = this.cache.get(credential);
    if (options.useCache !== false && verdict.kind === 'open' && cached && usable && cached.userId === usable.id && cached.passwordHash === usable.password_hash) {
      if (verdict.hasFailures) await this.throttle.clearAccount(key);
      this.rememberProof(options.proof, usable.username, pw, cached);
      return { kind: 'ok', user: toUser(usable) };
    }
    // Concurrent requests with the same credentials share one check: a client's parallel first
    // requests cost one argon2 run and one throttle attempt, not one each (which would also read as
    // a burst of failures). Different guesses are never merged.
    const id = `${credential}\0${ip}`;
    let shared = this.inFlight.get(id);
    if (!shared) {
      shared = this.checkPassword(key, pw, credential, ip, usable).finally(() => this.inFlight.delete(id));
      this.inFlight.set(id, shared);
    }
    const result = await shared;
    // The entry the check left names the row and hash it verified (this caller may have joined a
    // check that began before a password change, and read the new row).
    const verified = this.cache.get(credential);
    if (result.kind === 'ok' && verified) this.rememberProof(options.proof, result.user.username, pw, verified);
    return result;
  }

  private rememberProof(proof: LoginOptions['proof'], username: string, pw: string, verified: { userId: string; passwordHash: string; usernameKey: string }): void {
    if (proof === undefined || proof.presented !== proof.canonical(username, pw)) return;
    this.cache.put(this.cache.proofId(proof.presented), verified.userId, verified.passwordHash, verified.usernameKey);
  }

  /** The user, when `proof` (the exact credential bytes a scheme received, e.g. a Basic token68) passed
   * passwordLogin with that proof a moment ago and nothing it read has changed since: the account and
   * the address have no failures on record, and the user row (still enabled, same password hash) is
   * fresh in the cache. Never awaits; undefined means "run passwordLogin". The proof is not kept: the
   * cache holds its HMAC. */
  recentLogin(proof: string, ip: string): User | undefined {
    const entry = this.cache.get(this.cache.proofId(proof));
    if (!entry || !this.throttle.isClearNow(entry.usernameKey, ip)) return undefined;
    const row = this.userRows.peek(entry.usernameKey, `account:${entry.usernameKey}`)?.value;
    if (!row || row.disabled !== 0 || row.id !== entry.userId || row.password_hash !== entry.passwordHash) return undefined;
    return toUser(row);
  }

  private async checkPassword(key: string, pw: string, credential: string, ip: string, usable: UserRow | undefined): Promise<LoginResult> {
    const attempt = await this.throttle.begin(key, ip);
    if (attempt.kind === 'wait') return attempt;
    if (attempt.kind !== 'attempt') return { kind: 'wait', retryAfter: 1 };
    // An unknown or disabled user is checked against a dummy hash: it costs what a wrong password costs.
    const ok = !attempt.locked && (await this.hasher.verify(usable?.password_hash, pw)) && usable !== undefined;
    if (!ok || !usable) {
      await attempt.fail();
      return { kind: 'fail' };
    }
    await attempt.succeed();
    await this.afterVerified(usable, credential, pw);
    return { kind: 'ok', user: toUser(usable) };
  }

  /** Rehash when the argon2 parameters changed, remember the credential, fill in missing H(A1). */
  private async afterVerified(row: UserRow, credential: string, pw: string): Promise<void> {
    let hash = row.password_hash!;
    if (this.hasher.needsRehash(hash)) {
      const next = await this.hasher.hash(pw);
      if (await this.store.users.replacePasswordHash(row.id, hash, next, this.clock.now())) hash = next;
    }
    this.cache.put(credential, row.id, hash, row.username_key);
    await this.backfillDigest(row, pw);
  }

  /** H(A1) for an algorithm enabled after the password was set can only be made when the password is
   * at hand: at the next successful password login. */
  private async backfillDigest(row: UserRow, password: string): Promise<void> {
    const have = new Set((await this.store.digestCredentials.listForUser(row.id)).filter((r) => r.realm === this.digest.realm).map((r) => r.algorithm));
    if (this.digest.bases.every((b) => have.has(b))) return;
    for (const r of this.digest.rowsFor(row.id, row.username, password, this.clock.now())) {
      if (!have.has(r.algorithm)) await this.store.digestCredentials.addIfMissing(r);
    }
  }

  private async require(username: string): Promise<UserRow> {
    const row = await this.store.users.findByKey(usernameKey(username));
    if (!row) throw new UserNotFound(username);
    return row;
  }
}

/** End a user's sessions and revoke their refresh families (catalogue SS-07, JW-21). Access tokens
 * already issued stay valid until they expire (GATEHOUSE_ACCESS_TOKEN_TTL). */
/** Returns the id hashes of the sessions it ended. */
async function endLogins(tx: Repos, userId: string, now: number, reason: string): Promise<string[]> {
  const ended = await tx.sessions.removeForUser(userId);
  await tx.refreshTokens.revokeForUser(userId, now, reason);
  return ended;
}

function checkEmail(raw: string): string {
  const email = raw.trim().normalize('NFC');
  if (email.length > 254 || !/^[^\s@]+@[^\s@]+$/.test(email)) throw new InvalidEmail(`"${raw}" is not an email address`);
  return email;
}
