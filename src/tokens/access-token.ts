// RFC 9068 JWT access tokens: issued with the active key, checked against the published keys.
// Verification is strict on purpose (RFC 8725): the shape first (compact-jws.ts), then jose with an
// explicit algorithm list, a key bound to one algorithm, the at+jwt type, issuer, a single audience,
// the required claims and a bounded leeway. Header members such as jku, x5u and jwk are never
// followed: keys come only from our own store (catalogue JW-05, JW-06).
import { randomPiece } from '../crypto/random-pool.js';
import { jwtVerify, errors as joseErrors, type JWTPayload } from 'jose';
import { signJwt } from './sign-jwt.js';
import type { Clock } from '../clock.js';
import type { KeyRing } from '../keys/key-ring.js';
import { SIGNING_ALGORITHMS } from '../keys/signing-key.js';
import { MalformedJwt, parseCompactJws } from './compact-jws.js';
import { VerifiedCache } from './verified-cache.js';

export const ACCESS_TOKEN_TYPE = 'at+jwt';

export interface AccessTokenClaims {
  iss: string;
  sub: string;
  aud: string;
  exp: number;
  iat: number;
  jti: string;
  client_id: string;
  scope?: string;
  auth_time?: number;
}

export interface AccessTokenConfig {
  issuer: () => string;
  audience: () => string;
  ttlSeconds: number;
  leewaySeconds: number;
  /** Verified tokens remembered (see verified-cache.ts); 0 checks every signature. */
  cacheSize: number;
}

/** Why a token was refused. The message is safe to send (it names no secret). */
export class InvalidAccessToken extends Error {}

export interface IssueInput {
  subject: string;
  clientId: string;
  scope?: string | undefined;
  authTime?: number | undefined;
  audience?: string | undefined;
  /** A client's own access-token lifetime, in seconds. */
  ttlSeconds?: number | undefined;
}

export class AccessTokens {
  private readonly verified: VerifiedCache<AccessTokenClaims>;

  constructor(private readonly keys: KeyRing, private readonly config: AccessTokenConfig, private readonly clock: Clock) {
    this.verified = new VerifiedCache(config.cacheSize);
  }

  get ttlSeconds(): number {
    return this.config.ttlSeconds;
  }

  get defaultAudience(): string {
    return this.config.audience();
  }

  get leewayMs(): number {
    return this.config.leewaySeconds * 1000;
  }

  /** Verify a token meant for any of `audiences` (the authorization server's own view, for
   * introspection and revocation). */
  async verifyAnyAudience(token: string, audiences: string[]): Promise<AccessTokenClaims> {
    let aud: unknown;
    try {
      aud = parseCompactJws(token).payload.aud;
    } catch {
      throw new InvalidAccessToken('The access token is malformed.');
    }
    const one = Array.isArray(aud) && aud.length === 1 ? aud[0] : aud;
    if (typeof one !== 'string' || !audiences.includes(one)) throw new InvalidAccessToken('The access token is meant for another audience.');
    return this.verify(token, one);
  }

  async issue(input: IssueInput): Promise<{ token: string; expiresIn: number; claims: AccessTokenClaims }> {
    // Issuing never runs inside a store transaction (grants sign before theirs: oauth/issue.ts), so
    // the ring can catch up with a rotation or revocation first: nothing is signed by a retired key.
    await this.keys.current();
    const key = this.keys.signing();
    const iat = Math.floor(this.clock.now() / 1000);
    const claims: AccessTokenClaims = {
      iss: this.config.issuer(),
      sub: input.subject,
      aud: input.audience ?? this.config.audience(),
      exp: iat + (input.ttlSeconds ?? this.config.ttlSeconds),
      iat,
      jti: randomPiece(16).toString('base64url'),
      client_id: input.clientId,
      ...(input.scope ? { scope: input.scope } : {}),
      ...(input.authTime !== undefined ? { auth_time: Math.floor(input.authTime / 1000) } : {}),
    };
    const token = await signJwt(claims, key, ACCESS_TOKEN_TYPE);
    return { token, expiresIn: input.ttlSeconds ?? this.config.ttlSeconds, claims };
  }

  /** The claims of a valid access token, or InvalidAccessToken. */
  async verify(token: string, audience = this.config.audience()): Promise<AccessTokenClaims> {
    const now = this.clock.now();
    const leeway = this.config.leewaySeconds;
    await this.keys.current();
    const hit = this.verified.get(token);
    if (hit && hit.audience === audience) {
      if (hit.exp + leeway > Math.floor(now / 1000) && this.keys.isPublished(hit.kid)) return hit.claims;
      this.verified.forget(token);
    }
    try {
      parseCompactJws(token);
    } catch (err) {
      throw new InvalidAccessToken(err instanceof MalformedJwt ? `The access token is malformed: ${err.message}.` : 'The access token is malformed.');
    }
    let payload: JWTPayload;
    let kid = '';
    try {
      ({ payload, protectedHeader: { kid = '' } } = await jwtVerify(
        token,
        async (header) => {
          const key = await this.keys.verifying(header.kid, header.alg);
          if (!key) throw new InvalidAccessToken('The access token was not signed by a key of this server.');
          return key.publicKey;
        },
        {
          algorithms: [...SIGNING_ALGORITHMS],
          typ: ACCESS_TOKEN_TYPE,
          issuer: this.config.issuer(),
          audience,
          requiredClaims: ['iss', 'sub', 'aud', 'exp', 'iat', 'jti', 'client_id'],
          clockTolerance: leeway,
          currentDate: new Date(now),
        },
      ));
    } catch (err) {
      if (err instanceof InvalidAccessToken) throw err;
      if (err instanceof joseErrors.JWTExpired) throw new InvalidAccessToken('The access token expired.');
      throw new InvalidAccessToken('The access token is invalid.');
    }
    // jose checks iat only with maxTokenAge: a token "issued" in the future is refused here (JW-09).
    if (typeof payload.iat !== 'number' || payload.iat > Math.floor(now / 1000) + leeway) throw new InvalidAccessToken('The access token is invalid.');
    // One audience per token: an array naming us among others is refused (RFC 8725 §3.9, JW-11).
    if (Array.isArray(payload.aud) && payload.aud.length !== 1) throw new InvalidAccessToken('The access token is meant for another audience.');
    if (typeof payload.sub !== 'string' || typeof payload.client_id !== 'string' || typeof payload.jti !== 'string') throw new InvalidAccessToken('The access token is invalid.');
    const claims = { ...(payload as unknown as AccessTokenClaims), aud: audience };
    this.verified.put(token, { claims, kid, audience, exp: claims.exp });
    return claims;
  }
}
