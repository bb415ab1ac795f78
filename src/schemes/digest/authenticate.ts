// RFC 7616 HTTP Digest, as a pipeline of checks:
//   precheck → parse (400 if malformed) → uri = request-target (§3.4.6, 400) → realm and opaque (§3.3)
//   → algorithm was offered (§5 downgrade) → nonce HMAC for that algorithm → user and H(A1)
//   → throttle → response (constant time, §5) → nonce fresh, else stale=true (§3.3)
//   → (nonce, nc) unused, atomically in the store (§3.4, replay) → Authentication-Info (§3.5).
import { randomUUID } from 'node:crypto';
import type { Clock } from '../../clock.js';
import { safeEqual } from '../../crypto/compare.js';
import type { FreshCache } from '../../store/fresh-cache.js';
import type { Store } from '../../store/store.js';
import type { UserRow } from '../../store/users.js';
import type { LoginThrottle, ThrottleVerdict } from '../../throttle/login-throttle.js';
import { toUser, type User } from '../../accounts/accounts.js';
import { usernameKey } from '../../accounts/usernames.js';
import { MalformedCredentials, quote, splitCredentials } from '../http-auth/credentials.js';
import { badRequest, precheck, tooManyAttempts, unauthorized, type AuthRequest, type Reply } from '../http-auth/replies.js';
import { baseOf, findAlgorithm, H, type DigestAlgorithm } from './algorithms.js';
import { digestChallenges } from './challenge.js';
import { expectedResponse, responseAuth, type ComputeInput } from './compute.js';
import type { NonceService } from './nonce.js';
import { parseDigestResponse, type DigestResponse } from './parse-response.js';
import type { DigestSecrets } from './stored-secret.js';

export interface DigestDeps {
  realm: string;
  algorithms: readonly DigestAlgorithm[];
  repeatFirst: boolean;
  nonces: NonceService;
  secrets: DigestSecrets;
  store: Store;
  throttle: LoginThrottle;
  clock: Clock;
  maxNc: number;
  nextNonceWindowMs: number;
  /** User and opened H(A1) by realm, algorithm and name; see store/fresh-cache.ts. */
  /** The account's row, its public view (one object per cached row: callers may memoize on it) and H(A1). */
  credentials: FreshCache<{ user: UserRow; account: User; ha1: string } | undefined>;
}

export type DigestOutcome =
  | { ok: true; user: User; algorithm: DigestAlgorithm; qop: string; authenticationInfo(responseBody: Buffer): string }
  | { ok: false; reply: Reply };

/** What the throttle says of an account and address with no failures on record. */
const CLEAR: ThrottleVerdict = { kind: 'open', hasFailures: false };

export function challenges(deps: DigestDeps, stale: boolean): string[] {
  const list = [...deps.algorithms];
  if (deps.repeatFirst && list.length > 1) list.push(list[0]!);
  return digestChallenges(deps.realm, list, deps.nonces, stale);
}

export async function authenticateDigest(req: AuthRequest, deps: DigestDeps): Promise<DigestOutcome> {
  const fail = (stale = false): DigestOutcome => ({ ok: false, reply: unauthorized(challenges(deps, stale)) });
  const pre = precheck(req);
  if (!('value' in pre)) return { ok: false, reply: pre };
  if (pre.value === undefined) return fail();

  let r: DigestResponse;
  try {
    const { scheme, rest } = splitCredentials(pre.value);
    if (scheme !== 'digest') return fail();
    r = parseDigestResponse(rest);
  } catch (err) {
    if (!(err instanceof MalformedCredentials)) throw err;
    return { ok: false, reply: badRequest(`Malformed Digest credentials: ${err.message}.`) };
  }
  if (!uriMatches(r.uri, req.target, req.host)) {
    return { ok: false, reply: badRequest('The Digest uri does not match the request target.') };
  }
  if (r.realm !== deps.realm) return fail();
  const algorithm = findAlgorithm(r.algorithm);
  if (!algorithm || !deps.algorithms.includes(algorithm)) return fail();
  const nonce = deps.nonces.check(r.nonce, algorithm);
  if (nonce.state === 'invalid') return fail();
  if (r.opaque === undefined || !safeEqual(r.opaque, deps.nonces.opaque)) return fail();

  const found = await findCredential(deps, r, algorithm);
  const accountKey = found ? found.user.username_key : r.userhash ? `userhash:${r.username.toLowerCase()}` : usernameKey(r.username);
  const verdict = deps.throttle.isClearNow(accountKey, req.ip) ? CLEAR : await deps.throttle.check(accountKey, req.ip);
  if (verdict.kind === 'wait') return { ok: false, reply: tooManyAttempts(verdict.retryAfter) };

  const input: ComputeInput = {
    algorithm,
    // An unknown user is checked against a throw-away secret, so it costs what a wrong password costs.
    ha1: found?.ha1 ?? H(baseOf(algorithm), randomUUID()),
    nonce: r.nonce,
    cnonce: r.cnonce,
    ncText: r.ncText,
    qop: r.qop,
    uri: r.uri,
  };
  const right = found !== undefined && safeEqual(expectedResponse(input, req.method, req.body), r.response);
  // A right answer for an account with no failures on record needs no reservation (reads only).
  // Anything else takes an attempt from the throttle first, atomically, so that parallel guesses
  // learn no more than sequential ones would.
  if (!right || verdict.kind !== 'open' || verdict.hasFailures) {
    const attempt = await deps.throttle.begin(accountKey, req.ip);
    if (attempt.kind === 'wait') return { ok: false, reply: tooManyAttempts(attempt.retryAfter) };
    if (attempt.kind !== 'attempt') return { ok: false, reply: tooManyAttempts(1) };
    if (!right || attempt.locked) {
      await attempt.fail();
      return fail();
    }
    await attempt.succeed();
  }
  // The password was right: an old nonce, or one used up, only needs a fresh nonce (stale=true).
  if (nonce.state === 'expired' || r.nc > deps.maxNc) return fail(true);
  if (!(await deps.store.digestNonces.claim(r.nonce, r.nc, nonce.expiresAt))) return fail();

  const nextNonce = nonce.expiresAt - deps.clock.now() <= deps.nextNonceWindowMs ? deps.nonces.issue(algorithm) : undefined;
  return {
    ok: true,
    user: found.account,
    algorithm,
    qop: r.qop,
    authenticationInfo: (body) => {
      const parts = [`rspauth=${quote(responseAuth(input, body))}`, `qop=${r.qop}`, `nc=${r.ncText}`, `cnonce=${quote(r.cnonce)}`];
      if (nextNonce) parts.unshift(`nextnonce=${quote(nextNonce)}`);
      return parts.join(', ');
    },
  };
}

async function findCredential(deps: DigestDeps, r: DigestResponse, algorithm: DigestAlgorithm) {
  const by = r.userhash ? { userhash: r.username.toLowerCase() } : { usernameKey: usernameKey(r.username) };
  const base = baseOf(algorithm);
  const cacheKey = `${base}\0${'userhash' in by ? `#${by.userhash}` : by.usernameKey}`;
  const cached = deps.credentials.peek(cacheKey, '');
  if (cached) return cached.value;
  return deps.credentials.get(cacheKey, '', async () => {
    const found = await deps.store.digestCredentials.findForLogin(deps.realm, base, by);
    if (!found || found.user.disabled) return undefined;
    return { user: found.user, account: Object.freeze(toUser(found.user)), ha1: deps.secrets.open(found.credential) };
  });
}

/** §3.4.6: the uri parameter names the resource of the request line. Absolute form is accepted when
 * it names this host and the same path and query. */
function uriMatches(uri: string, target: string, host: string | undefined): boolean {
  if (uri === target) return true;
  if (!/^https?:\/\//i.test(uri) || !host) return false;
  try {
    const u = new URL(uri);
    return u.host.toLowerCase() === host.toLowerCase() && u.pathname + u.search === target;
  } catch {
    return false;
  }
}
