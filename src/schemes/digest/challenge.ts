// RFC 7616 §3.3: the WWW-Authenticate challenges, one per offered algorithm, in the configured order.
import { quote } from '../http-auth/credentials.js';
import type { DigestAlgorithm } from './algorithms.js';
import type { NonceService } from './nonce.js';

export function digestChallenges(realm: string, algorithms: readonly DigestAlgorithm[], nonces: NonceService, stale: boolean): string[] {
  // An algorithm offered twice (repeat-first, for clients that take the last challenge) carries the
  // same nonce both times: a nonce is unique per 401 response (§3.3) and bound to its algorithm.
  const issued = nonces.issueAll(algorithms);
  return algorithms.map((algorithm) => {
    const nonce = issued.get(algorithm)!;
    const parts = [
      `realm=${quote(realm)}`,
      `qop="auth, auth-int"`,
      `algorithm=${algorithm}`,
      `nonce=${quote(nonce)}`,
      `opaque=${quote(nonces.opaque)}`,
      `charset=UTF-8`,
      `userhash=true`,
    ];
    if (stale) parts.push('stale=true');
    return `Digest ${parts.join(', ')}`;
  });
}
