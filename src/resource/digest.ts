// RFC 7616 Digest for an API that keeps its own users: the pipeline of src/schemes/digest (the same
// parser, nonces, challenges and computation) with a lookup the API developer provides: username →
// H(A1) for the realm and base algorithm (or the password, from which H(A1) is computed). Replays are
// refused by a record of used (nonce, nc) pairs (nonce-counts.ts, or `claim` for several instances).
//
//   precheck → parse (400) → uri = request target (400) → realm, offered algorithm, nonce HMAC,
//   opaque (401) → lookup → response, constant time (401) → nonce fresh, else stale=true (401)
//   → (nonce, nc) unused (401) → the caller, and Authentication-Info (§3.5).
//
// `userhash` is not offered (the lookup is by name). No failed-login throttling: that is the
// lookup's business. With qop=auth-int the route must add Authentication-Info itself, over its
// response body (auth.authenticationInfo(body)); with qop=auth the adapters add it.
import { randomBytes, randomUUID } from 'node:crypto';
import { safeEqual } from '../crypto/compare.js';
import { baseOf, findAlgorithm, H, type BaseAlgorithm, type DigestAlgorithm } from '../schemes/digest/algorithms.js';
import { digestChallenges } from '../schemes/digest/challenge.js';
import { expectedResponse, ha1Of, responseAuth, type ComputeInput } from '../schemes/digest/compute.js';
import { NonceService } from '../schemes/digest/nonce.js';
import { parseDigestResponse } from '../schemes/digest/parse-response.js';
import { quote } from '../schemes/http-auth/credentials.js';
import { badRequest, unauthorized } from '../schemes/http-auth/replies.js';
import { readCredentials } from './credentials.js';
import { NonceCounts, type Claim } from './nonce-counts.js';
import { lookupFailed, type PasswordAuth } from './password-auth.js';
import type { Outcome, ResourceRequest, Verifier } from './request.js';

export type DigestLookupResult<U> = ({ ha1: string } | { password: string }) & { user?: U };

export interface DigestVerifierOptions<U> {
  realm?: string;
  /** Offered in this order (default SHA-256, SHA-512-256; MD5 only if you list it). */
  algorithms?: readonly DigestAlgorithm[];
  /** username → H(username:realm:password) in lower-case hex for that base algorithm, or the password. */
  lookup: (username: string, context: { realm: string; algorithm: BaseAlgorithm }) => Promise<DigestLookupResult<U> | undefined> | DigestLookupResult<U> | undefined;
  /** The nonce key (at least 32 bytes); the same on every instance. Default: random per process. */
  secret?: Uint8Array;
  nonceTtlSeconds?: number;
  /** Highest nonce count accepted for one nonce (default 10000). */
  maxNc?: number;
  /** Record a (nonce, nc) pair; false when it was used before. Default: in memory. */
  claim?: Claim;
  allowInsecureHttp?: boolean;
  now?: () => number;
}

export type DigestAuth<U> = PasswordAuth<U> & {
  algorithm: DigestAlgorithm;
  qop: 'auth' | 'auth-int';
  /** The Authentication-Info value for this response body (needed with qop=auth-int). */
  authenticationInfo(responseBody: Uint8Array): string;
};

const EMPTY = Buffer.alloc(0);

export class DigestVerifier<U = unknown> implements Verifier<DigestAuth<U>> {
  readonly realm: string;
  private readonly algorithms: readonly DigestAlgorithm[];
  private readonly nonces: NonceService;
  private readonly claim: Claim;
  private readonly maxNc: number;

  constructor(private readonly o: DigestVerifierOptions<U>) {
    this.realm = o.realm ?? 'api';
    this.algorithms = o.algorithms ?? ['SHA-256', 'SHA-512-256'];
    if (this.algorithms.length === 0) throw new TypeError('Digest: offer at least one algorithm');
    const secret = o.secret ?? randomBytes(32);
    if (secret.length < 32) throw new TypeError('Digest: the nonce secret needs at least 32 bytes');
    const clock = { now: o.now ?? Date.now };
    this.nonces = new NonceService(Buffer.from(secret), this.realm, (o.nonceTtlSeconds ?? 300) * 1000, clock);
    this.claim = o.claim ?? new NonceCounts(clock.now).claim;
    this.maxNc = o.maxNc ?? 10000;
  }

  /** The WWW-Authenticate challenges, one per algorithm, without userhash (lookups are by name). */
  challenges(stale = false): string[] {
    return digestChallenges(this.realm, this.algorithms, this.nonces, stale).map((c) => c.replace(', userhash=true', ''));
  }

  async verify(req: ResourceRequest): Promise<Outcome<DigestAuth<U>>> {
    const fail = (stale = false): Outcome<DigestAuth<U>> => ({ ok: false, reply: unauthorized(this.challenges(stale)) });
    const read = readCredentials(req, 'digest', parseDigestResponse, this.o.allowInsecureHttp);
    if (read.kind === 'reply') return { ok: false, reply: read.reply };
    if (read.kind === 'none') return fail();
    if (read.kind === 'malformed') return { ok: false, reply: badRequest(`Malformed Digest credentials: ${read.message}.`) };
    const r = read.value;
    if (r.uri !== req.target) return { ok: false, reply: badRequest('The Digest uri does not match the request target.') };
    const algorithm = findAlgorithm(r.algorithm);
    if (r.realm !== this.realm || !algorithm || !this.algorithms.includes(algorithm) || r.userhash) return fail();
    const nonce = this.nonces.check(r.nonce, algorithm);
    if (nonce.state === 'invalid' || r.opaque === undefined || !safeEqual(r.opaque, this.nonces.opaque)) return fail();

    const base = baseOf(algorithm);
    let found: DigestLookupResult<U> | undefined;
    try {
      found = await this.o.lookup(r.username, { realm: this.realm, algorithm: base });
    } catch {
      return { ok: false, reply: lookupFailed() };
    }
    // An unknown user is checked against a throw-away secret, so it costs what a wrong password costs.
    const ha1 = !found ? H(base, randomUUID()) : 'ha1' in found ? found.ha1.toLowerCase() : ha1Of(algorithm, r.username, this.realm, found.password);
    const input: ComputeInput = { algorithm, ha1, nonce: r.nonce, cnonce: r.cnonce, ncText: r.ncText, qop: r.qop, uri: r.uri };
    const body = r.qop === 'auth-int' && req.body ? Buffer.from(await req.body()) : EMPTY;
    if (!found || !safeEqual(expectedResponse(input, req.method, body), r.response)) return fail();
    // The password was right: an old nonce, or one used up, only needs a fresh nonce (stale=true).
    if (nonce.state === 'expired' || r.nc > this.maxNc) return fail(true);
    if (!(await this.claim(r.nonce, r.nc, nonce.expiresAt))) return fail();

    const authenticationInfo = (responseBody: Uint8Array) =>
      [`rspauth=${quote(responseAuth(input, Buffer.from(responseBody)))}`, `qop=${r.qop}`, `nc=${r.ncText}`, `cnonce=${quote(r.cnonce)}`].join(', ');
    const auth: DigestAuth<U> = { scheme: 'Digest', username: r.username, user: found.user, algorithm, qop: r.qop, authenticationInfo };
    return r.qop === 'auth' ? { ok: true, auth, headers: { 'authentication-info': authenticationInfo(EMPTY) } } : { ok: true, auth };
  }
}

export function createDigestVerifier<U = unknown>(options: DigestVerifierOptions<U>): DigestVerifier<U> {
  return new DigestVerifier(options);
}
