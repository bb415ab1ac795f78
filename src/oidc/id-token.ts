// OpenID Connect Core 1.0 §2, §3.1.3.6, §3.2.2.10, §3.3.2.11: the ID token. Signed with the active
// key (the one that signs access tokens), typ JWT. Claims: iss, sub (the user's random id: stable,
// opaque, never the username or the email), aud (the client), azp, exp, iat, auth_time, nonce,
// at_hash and c_hash (left half of the hash of the token or code, with the hash of the signing
// algorithm), acr, amr (RFC 8176 "pwd") and sid.
import { createHash, randomUUID } from 'node:crypto';
import { errors as joseErrors, jwtVerify, type JWTPayload } from 'jose';
import { signJwt } from '../tokens/sign-jwt.js';
import type { Clock } from '../clock.js';
import type { KeyRing } from '../keys/key-ring.js';
import { SIGNING_ALGORITHMS, type SigningAlgorithm } from '../keys/signing-key.js';

/** The only way users sign in today: a password, checked against an argon2id hash. */
export const ACR = 'urn:gatehouse:acr:password';
export const AMR = ['pwd'];
export const BACKCHANNEL_EVENT = 'http://schemas.openid.net/event/backchannel-logout';

export interface IdTokenInput {
  clientId: string;
  userId: string;
  /** Milliseconds. */
  authTime: number;
  nonce?: string | null | undefined;
  sid?: string | null | undefined;
  accessToken?: string | undefined;
  code?: string | undefined;
  /** User claims to carry in the token itself (when no access token is issued: OIDC Core §5.4). */
  claims?: Record<string, unknown> | undefined;
}

const HASH_OF: Record<SigningAlgorithm, string> = { ES256: 'sha256', RS256: 'sha256', EdDSA: 'sha512' };

/** OIDC Core §3.1.3.6 at_hash / §3.3.2.11 c_hash. */
export function halfHash(alg: SigningAlgorithm, value: string): string {
  const digest = createHash(HASH_OF[alg]).update(value, 'ascii').digest();
  return digest.subarray(0, digest.length / 2).toString('base64url');
}

export class InvalidIdTokenHint extends Error {}

export class IdTokens {
  constructor(private readonly keys: KeyRing, private readonly issuer: () => string, private readonly ttlSeconds: number, private readonly clock: Clock) {}

  async issue(input: IdTokenInput): Promise<string> {
    await this.keys.current();
    const key = this.keys.signing();
    const iat = Math.floor(this.clock.now() / 1000);
    const payload: JWTPayload = {
      ...input.claims,
      iss: this.issuer(),
      sub: input.userId,
      aud: input.clientId,
      azp: input.clientId,
      exp: iat + this.ttlSeconds,
      iat,
      auth_time: Math.floor(input.authTime / 1000),
      ...(input.nonce ? { nonce: input.nonce } : {}),
      ...(input.accessToken ? { at_hash: halfHash(key.alg, input.accessToken) } : {}),
      ...(input.code ? { c_hash: halfHash(key.alg, input.code) } : {}),
      acr: ACR,
      amr: AMR,
      ...(input.sid ? { sid: input.sid } : {}),
    };
    return signJwt(payload, key, 'JWT');
  }

  /** Back-Channel Logout 1.0 §2.4: the logout token for one client of an ended session. */
  async logoutToken(clientId: string, userId: string, sid: string): Promise<string> {
    await this.keys.current();
    const key = this.keys.signing();
    const iat = Math.floor(this.clock.now() / 1000);
    return signJwt({ iss: this.issuer(), sub: userId, aud: clientId, iat, exp: iat + 120, jti: randomUUID(), sid, events: { [BACKCHANNEL_EVENT]: {} } }, key, 'logout+jwt');
  }

  /** The claims of an ID token this server issued (id_token_hint, OIDC Core §3.1.2.1; RP-Initiated
   * Logout §2): signature, issuer and, when given, audience are checked; an expired one is accepted,
   * as both specs allow. */
  async verifyHint(token: string, clientId?: string): Promise<JWTPayload & { sub: string; aud: string }> {
    if (typeof token !== 'string' || token.length > 8192 || token.split('.').length !== 3) throw new InvalidIdTokenHint('id_token_hint is not an ID token.');
    await this.keys.current();
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, async (h) => {
        const key = await this.keys.verifying(h.kid, h.alg);
        if (!key) throw new InvalidIdTokenHint('id_token_hint was not signed by this server.');
        return key.publicKey;
      }, { algorithms: [...SIGNING_ALGORITHMS], issuer: this.issuer(), typ: 'JWT', currentDate: new Date(this.clock.now()) }));
    } catch (err) {
      // jose checks the signature before the claims: an expired token's payload is authentic.
      if (err instanceof joseErrors.JWTExpired) payload = err.payload;
      else throw new InvalidIdTokenHint('id_token_hint is not a valid ID token of this server.');
    }
    const aud = Array.isArray(payload.aud) ? payload.aud[0] : payload.aud;
    if (typeof payload.sub !== 'string' || typeof aud !== 'string') throw new InvalidIdTokenHint('id_token_hint lacks sub or aud.');
    if (clientId !== undefined && aud !== clientId) throw new InvalidIdTokenHint('id_token_hint was issued to another client.');
    return { ...payload, sub: payload.sub, aud };
  }
}
