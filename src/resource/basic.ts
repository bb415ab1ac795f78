// RFC 7617 Basic for an API that keeps its own users: the parsing and challenge of src/schemes/basic
// with a user lookup the API developer provides. Either `lookup` (username → argon2id PHC hash, which
// this module verifies, against a dummy hash for an unknown user so both cost the same) or `verify`
// (username, password → the user or nothing: any other password scheme). With `lookup`, a verified
// credential is remembered for `cacheSeconds` under an HMAC key (accounts/credential-cache.ts) and
// only while the lookup returns the same hash, so a password change takes effect at once.
// Failed-login throttling is the lookup's business (the toolkit keeps no counters).
import { CredentialCache } from '../accounts/credential-cache.js';
import type { PasswordHasher } from '../crypto/passwords.js';
import { OverloadedError } from '../crypto/semaphore.js';
import { basicChallenge } from '../schemes/basic/challenge.js';
import { parseBasic } from '../schemes/basic/parse.js';
import { errorReply, unauthorized } from '../schemes/http-auth/replies.js';
import { readCredentials } from './credentials.js';
import { lookupFailed, type PasswordAuth } from './password-auth.js';
import type { Outcome, ResourceRequest, Verifier } from './request.js';

export interface BasicVerifierOptions<U> {
  realm?: string;
  /** username → the user's argon2id hash (PHC string) and, optionally, what to hand to the route. */
  lookup?: (username: string) => Promise<{ passwordHash: string; user?: U } | undefined> | { passwordHash: string; user?: U } | undefined;
  /** Or check the password yourself: the user (any value but undefined, null, false) or nothing. */
  verify?: (username: string, password: string) => Promise<U | undefined | null | false> | U | undefined | null | false;
  /** Seconds a verified credential is remembered (with `lookup`; default 60, 0: never). */
  cacheSeconds?: number;
  /** argon2id cost of the dummy hash for unknown users, and how many checks run at once / may wait. */
  argon2?: { memoryCost?: number; timeCost?: number; parallelism?: number; concurrency?: number; queue?: number };
  /** Accept passwords over plain HTTP from other machines (default false: 403). */
  allowInsecureHttp?: boolean;
  now?: () => number;
}

export class BasicVerifier<U = unknown> implements Verifier<PasswordAuth<U>> {
  readonly realm: string;
  private readonly cache: CredentialCache;
  private hasher: Promise<PasswordHasher> | undefined;

  constructor(private readonly o: BasicVerifierOptions<U>) {
    if (!o.lookup === !o.verify) throw new TypeError('Basic: give exactly one of lookup and verify');
    this.realm = o.realm ?? 'api';
    const now = o.now ?? Date.now;
    this.cache = new CredentialCache((o.cacheSeconds ?? 60) * 1000, { now });
  }

  async verify(req: ResourceRequest): Promise<Outcome<PasswordAuth<U>>> {
    const refuse = (): Outcome<PasswordAuth<U>> => ({ ok: false, reply: unauthorized([basicChallenge(this.realm)]) });
    const read = readCredentials(req, 'basic', parseBasic, this.o.allowInsecureHttp);
    if (read.kind === 'reply') return { ok: false, reply: read.reply };
    if (read.kind !== 'ok') return refuse();
    const creds = read.value;
    let found: { user: U | undefined } | undefined;
    try {
      found = await this.check(creds.userId, creds.password);
    } catch (err) {
      if (err instanceof OverloadedError) return { ok: false, reply: errorReply(503, 'temporarily_unavailable', 'Too many sign-ins are waiting. Try again later.', { 'retry-after': '1' }) };
      return { ok: false, reply: lookupFailed() };
    }
    if (!found) return refuse();
    return { ok: true, auth: { scheme: 'Basic', username: creds.userId, user: found.user } };
  }

  /** The user when the password is right, undefined when it is not. */
  private async check(username: string, password: string): Promise<{ user: U | undefined } | undefined> {
    if (this.o.verify) {
      const user = await this.o.verify(username, password);
      return user === undefined || user === null || user === false ? undefined : { user: (user as unknown) === true ? undefined : user };
    }
    const found = await this.o.lookup!(username);
    const id = this.cache.id(username, password);
    const hit = this.cache.get(id);
    if (found && hit && hit.passwordHash === found.passwordHash) return { user: found.user };
    const ok = await (await this.passwords()).verify(found?.passwordHash, password);
    if (!ok || !found) return undefined;
    this.cache.put(id, username, found.passwordHash, username);
    return { user: found.user };
  }

  /** argon2 is loaded when the first password is checked, not when the toolkit is imported. */
  private passwords(): Promise<PasswordHasher> {
    const a = this.o.argon2 ?? {};
    this.hasher ??= import('../crypto/passwords.js').then(
      ({ PasswordHasher }) => new PasswordHasher({ memoryCost: a.memoryCost ?? 19456, timeCost: a.timeCost ?? 2, parallelism: a.parallelism ?? 1 }, a.concurrency ?? 4, a.queue ?? 256),
    );
    return this.hasher;
  }
}

export function createBasicVerifier<U = unknown>(options: BasicVerifierOptions<U>): BasicVerifier<U> {
  return new BasicVerifier(options);
}
