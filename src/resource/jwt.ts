// RFC 9068 JWT access tokens, verified as strictly as Gatehouse verifies its own
// (src/tokens/access-token.ts, RFC 8725): shape first (compact-jws.ts: size, three canonical base64url
// segments, JSON objects without duplicate members), then `iss` (a token of another issuer is refused
// before any key is looked up), an accepted algorithm and a kid naming a key of this issuer bound to
// that algorithm, then jose with `typ: at+jwt`, the issuer, the required claims and a bounded leeway.
// jku, x5u and jwk header members are never followed. The audience and scopes are checked per route
// (requirements.ts), so a verified token is remembered (verified-cache.ts) whatever the route.
import { errors as joseErrors, jwtVerify, type JWTPayload } from 'jose';
import { MalformedJwt, parseCompactJws } from '../tokens/compact-jws.js';
import { ACCESS_TOKEN_TYPE } from '../tokens/access-token.js';
import { VerifiedCache } from '../tokens/verified-cache.js';
import { scopesOf, singleAudience, type AccessInfo } from './access-info.js';
import { InvalidToken } from './errors.js';
import type { IssuerKeys } from './jwks.js';

/** RFC 9068 §2.2. */
const REQUIRED_CLAIMS = ['iss', 'sub', 'aud', 'exp', 'iat', 'jti', 'client_id'];

export interface JwtOptions {
  issuer: string;
  algorithms: readonly string[];
  leewaySeconds: number;
  /** Verified tokens remembered by exact text; 0 verifies every time. */
  cacheSize: number;
  now: () => number;
}

/** Three dot-separated segments: verified here; anything else is an opaque token (introspection). */
export function looksLikeJwt(token: string): boolean {
  const a = token.indexOf('.');
  const b = a < 0 ? -1 : token.indexOf('.', a + 1);
  return b > 0 && token.indexOf('.', b + 1) < 0;
}

export class JwtVerifier {
  private readonly verified: VerifiedCache<AccessInfo>;

  constructor(private readonly keys: IssuerKeys, private readonly o: JwtOptions) {
    this.verified = new VerifiedCache(o.cacheSize);
  }

  /** The token's access info, or InvalidToken (IssuerUnavailable when its key cannot be fetched). */
  async verify(token: string): Promise<AccessInfo> {
    const now = this.o.now();
    const leeway = this.o.leewaySeconds;
    const hit = this.verified.get(token);
    if (hit) {
      if (hit.exp + leeway > Math.floor(now / 1000) && this.keys.has(hit.kid)) return hit.claims;
      this.verified.forget(token);
    }
    let header: Record<string, unknown>;
    let payload: Record<string, unknown>;
    try {
      ({ header, payload } = parseCompactJws(token));
    } catch (err) {
      throw new InvalidToken(err instanceof MalformedJwt ? `The access token is malformed: ${err.message}.` : 'The access token is malformed.');
    }
    if (payload.iss !== this.o.issuer) throw new InvalidToken('The access token was issued by another issuer.');
    const { alg, kid } = header;
    if (typeof alg !== 'string' || !this.o.algorithms.includes(alg)) throw new InvalidToken('The access token is signed with an algorithm that is not accepted.');
    if (typeof kid !== 'string') throw new InvalidToken('The access token names no key (kid).');
    const key = await this.keys.find(kid, alg);
    if (!key) throw new InvalidToken('The access token was not signed by a key of the issuer.');
    let claims: JWTPayload;
    try {
      ({ payload: claims } = await jwtVerify(token, key.key, {
        algorithms: [key.alg],
        typ: ACCESS_TOKEN_TYPE,
        issuer: this.o.issuer,
        requiredClaims: REQUIRED_CLAIMS,
        clockTolerance: leeway,
        currentDate: new Date(now),
      }));
    } catch (err) {
      if (err instanceof joseErrors.JWTExpired) throw new InvalidToken('The access token expired.');
      if (err instanceof joseErrors.JWTClaimValidationFailed && err.claim === 'nbf') throw new InvalidToken('The access token is not valid yet.');
      throw new InvalidToken('The access token is invalid.');
    }
    // jose checks iat only with maxTokenAge: a token issued in the future is refused here.
    if (typeof claims.iat !== 'number' || claims.iat > Math.floor(now / 1000) + leeway) throw new InvalidToken('The access token is invalid.');
    const aud = singleAudience(claims.aud);
    if (aud === undefined) throw new InvalidToken('The access token must name exactly one audience.');
    if (typeof claims.sub !== 'string' || typeof claims.client_id !== 'string' || typeof claims.jti !== 'string') throw new InvalidToken('The access token is invalid.');
    const info: AccessInfo = Object.freeze({
      scheme: 'Bearer',
      format: 'jwt',
      iss: this.o.issuer,
      sub: claims.sub,
      clientId: claims.client_id,
      aud,
      scopes: Object.freeze(scopesOf(claims.scope)),
      exp: claims.exp!,
      claims: Object.freeze(claims),
    });
    this.verified.put(token, { claims: info, kid, audience: aud, exp: info.exp });
    return info;
  }
}
