// The resource server: one issuer, one default audience, and the checks every adapter shares. A
// request's bearer token (bearer-token.ts) is a JWT verified locally against the issuer's keys
// (jwt.ts, jwks.ts, found through discovery.ts) or an opaque token checked by introspection
// (introspection.ts); then the route's audience and scopes (requirements.ts). The answer is the
// caller (AccessInfo) or an RFC 6750 reply: 401 with a bare challenge when there is no token, 401
// invalid_token, 403 insufficient_scope, 400 invalid_request, and 503 when the issuer cannot be asked.
import { bearerError } from '../schemes/bearer/challenge.js';
import type { AccessInfo } from './access-info.js';
import { bearerToken } from './bearer-token.js';
import { Discovery } from './discovery.js';
import { InvalidToken, IssuerUnavailable, unavailable } from './errors.js';
import { Introspector } from './introspection.js';
import { IssuerKeys } from './jwks.js';
import { JwtVerifier, looksLikeJwt } from './jwt.js';
import { resolveOptions, type ResourceServerOptions } from './options.js';
import type { Outcome, ResourceRequest, Verifier } from './request.js';
import { checkRequirement, compileRequirement, type Need, type Requirement } from './requirements.js';

export class ResourceServer implements Verifier<AccessInfo> {
  readonly issuer: string;
  readonly realm: string;
  readonly audiences: readonly string[];
  /** Exposed for metrics and tests: fetches of the metadata, the JWK Set, and introspections. */
  readonly discovery: Discovery;
  readonly keys: IssuerKeys;
  private readonly jwt: JwtVerifier;
  private readonly introspector: Introspector | undefined;
  private readonly allowQueryToken: boolean;
  private readonly allowInsecureHttp: boolean;
  private readonly onIssuerError: (err: Error) => void;

  constructor(options: ResourceServerOptions) {
    const o = resolveOptions(options);
    this.issuer = o.issuer;
    this.audiences = o.audiences;
    this.realm = o.realm;
    this.allowQueryToken = o.allowQueryToken;
    this.allowInsecureHttp = o.allowInsecureHttp;
    this.onIssuerError = o.onIssuerError;
    this.discovery = new Discovery(o.issuer, o.http, o.now, o.metadataMaxAgeMs, { jwksUri: options.jwksUri, introspectionEndpoint: options.introspectionEndpoint });
    this.keys = new IssuerKeys(() => this.discovery.jwksUri(), o.http, o.now, { algorithms: o.algorithms, maxAgeMs: o.jwksMaxAgeMs, cooldownMs: o.jwksCooldownMs });
    this.jwt = new JwtVerifier(this.keys, { issuer: o.issuer, algorithms: o.algorithms, leewaySeconds: o.leewaySeconds, cacheSize: o.tokenCacheSize, now: o.now });
    if (o.introspection) {
      this.introspector = new Introspector(() => this.discovery.introspectionEndpoint(), o.http, { issuer: o.issuer, leewaySeconds: o.leewaySeconds, now: o.now, ...o.introspection });
    }
  }

  /** Introspections sent so far (for metrics and tests). */
  get introspections(): number {
    return this.introspector?.requests ?? 0;
  }

  /** A requirement checked once (adapters call this when a route is set up). */
  requirement(r?: Requirement | Need): Need {
    return compileRequirement(r);
  }

  /** Fetch the metadata and the JWK Set now, so the first request does not wait. Throws
   * IssuerUnavailable when the issuer cannot be reached (the server may start anyway: requests get
   * 503 until it can). */
  async warm(): Promise<void> {
    await this.keys.warm();
  }

  /** The access info of a token, whatever the route: InvalidToken or IssuerUnavailable otherwise. */
  check(token: string): Promise<AccessInfo> {
    if (looksLikeJwt(token)) return this.jwt.verify(token);
    if (!this.introspector) return Promise.reject(new InvalidToken('Opaque access tokens are not accepted here.'));
    return this.introspector.check(token);
  }

  async verify(req: ResourceRequest, requirement?: Requirement | Need): Promise<Outcome<AccessInfo>> {
    const need = compileRequirement(requirement);
    const got = bearerToken(this.allowInsecureHttp && !req.secure ? { ...req, secure: true } : req, this.realm, this.allowQueryToken);
    if ('reply' in got) return { ok: false, reply: got.reply };
    let info: AccessInfo;
    try {
      info = await this.check(got.token);
    } catch (err) {
      if (err instanceof InvalidToken) return { ok: false, reply: bearerError(this.realm, 'invalid_token', err.message) };
      if (err instanceof IssuerUnavailable) {
        this.onIssuerError(err);
        return { ok: false, reply: unavailable() };
      }
      throw err;
    }
    const refused = checkRequirement(info, need, this.audiences, this.realm);
    if (refused) return { ok: false, reply: refused };
    // RFC 6750 §2.3: a response to a request with the token in the URI is marked private.
    return got.fromQuery ? { ok: true, auth: info, headers: { 'cache-control': 'private' } } : { ok: true, auth: info };
  }
}

export function createResourceServer(options: ResourceServerOptions): ResourceServer {
  return new ResourceServer(options);
}
