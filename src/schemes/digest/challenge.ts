// RFC 7616 §3.3: the WWW-Authenticate challenges, one per offered algorithm, in the configured order.
import { quote } from '../http-auth/credentials.js';
import type { DigestAlgorithm } from './algorithms.js';
import type { NonceService } from './nonce.js';

export function digestChallenges(realm: string, algorithms: readonly DigestAlgorithm[], nonces: NonceService, stale: boolean): string[] {
  return algorithms.map((algorithm) => {
    const nonce = nonces.issue(algorithm);
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
