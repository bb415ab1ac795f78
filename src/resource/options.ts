// The options of a resource server, checked once when it is created (a TypeError for a wrong one:
// a programming error, found at start) and filled in with their defaults.
import type { HttpOptions } from './fetch-json.js';

/** Every asymmetric JWS algorithm jose verifies. `none` and the HMAC algorithms are never accepted:
 * a resource server holds no shared secret, and a public key must never serve as one. */
export const DEFAULT_ALGORITHMS = ['ES256', 'ES384', 'ES512', 'RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'EdDSA'] as const;

export interface ResourceServerOptions {
  /** The issuer, exactly as in its tokens' `iss` (e.g. https://auth.example.com). */
  issuer: string;
  /** The audience (or audiences) this API accepts by default; a route may ask for others. */
  audience: string | readonly string[];
  /** Credentials of the confidential client the API introspects opaque tokens as. Without them,
   * opaque tokens are refused. */
  introspection?: { clientId: string; clientSecret: string };
  /** Accepted JWS algorithms (default DEFAULT_ALGORITHMS). */
  algorithms?: readonly string[];
  /** Clock skew allowed for exp, nbf and iat, in seconds (default 30, at most 300). */
  leewaySeconds?: number;
  /** Realm of the Bearer challenges (default "api"). */
  realm?: string;
  /** Accept `?access_token=` (RFC 6750 §2.3). Default false: such requests get 400. */
  allowQueryToken?: boolean;
  /** Accept tokens over plain HTTP from other machines (default false: 403 insecure_transport;
   * behind a TLS-terminating proxy, make the framework trust it instead). */
  allowInsecureHttp?: boolean;
  /** Skip discovery: the JWKS URL and introspection endpoint to use. */
  jwksUri?: string;
  introspectionEndpoint?: string;
  /** Seconds the JWK Set is used before it is refreshed in the background (default 300). */
  jwksMaxAgeSeconds?: number;
  /** Least seconds between two fetches of the JWK Set caused by unknown kids (default 10). */
  jwksCooldownSeconds?: number;
  /** Seconds the issuer metadata is kept (default 3600). */
  metadataMaxAgeSeconds?: number;
  /** Verified JWTs remembered by exact text until their exp (default 10000; 0 verifies every time). */
  tokenCacheSize?: number;
  /** Seconds an introspection answer is kept, never past the token's exp (default 30; 0: ask every time). */
  introspectionCacheSeconds?: number;
  /** Introspection answers kept at most (default 10000). */
  introspectionCacheSize?: number;
  /** Timeout of each request to the issuer, in milliseconds (default 5000). */
  timeoutMs?: number;
  /** Called when the issuer cannot be asked (the request gets 503). The error names no token. */
  onIssuerError?: (err: Error) => void;
  /** The fetch used to reach the issuer (default: the global fetch). */
  fetch?: typeof fetch;
  /** The clock, in milliseconds (default Date.now); tests move time instead of sleeping. */
  now?: () => number;
}

function seconds(value: number | undefined, fallback: number, max: number, name: string): number {
  const v = value ?? fallback;
  if (!Number.isFinite(v) || v < 0 || v > max) throw new TypeError(`${name}: expected 0 to ${max} seconds, got ${value}`);
  return v;
}

function count(value: number | undefined, fallback: number, name: string): number {
  const v = value ?? fallback;
  if (!Number.isInteger(v) || v < 0) throw new TypeError(`${name}: expected a whole number, got ${value}`);
  return v;
}

function checkedAlgorithms(algorithms: readonly string[] | undefined): readonly string[] {
  const list = algorithms ?? DEFAULT_ALGORITHMS;
  if (list.length === 0) throw new TypeError('algorithms: name at least one');
  for (const a of list) {
    if (!(DEFAULT_ALGORITHMS as readonly string[]).includes(a)) throw new TypeError(`algorithms: ${a} is not accepted (only asymmetric JWS algorithms; never none or HS*)`);
  }
  return Object.freeze([...list]);
}

function checkedIssuer(issuer: string): string {
  let u: URL;
  try {
    u = new URL(issuer);
  } catch {
    throw new TypeError(`issuer: expected an http(s) URL, got "${issuer}"`);
  }
  if (u.protocol !== 'https:' && u.protocol !== 'http:') throw new TypeError(`issuer: expected an http(s) URL, got "${issuer}"`);
  return issuer;
}

export interface Resolved {
  issuer: string;
  audiences: readonly string[];
  realm: string;
  allowQueryToken: boolean;
  allowInsecureHttp: boolean;
  onIssuerError: (err: Error) => void;
  now: () => number;
  http: HttpOptions;
  algorithms: readonly string[];
  leewaySeconds: number;
  metadataMaxAgeMs: number;
  jwksMaxAgeMs: number;
  jwksCooldownMs: number;
  tokenCacheSize: number;
  introspection: { clientId: string; clientSecret: string; cacheMs: number; cacheSize: number } | undefined;
}

export function resolveOptions(o: ResourceServerOptions): Resolved {
  const audiences = typeof o.audience === 'string' ? [o.audience] : [...(o.audience ?? [])];
  if (audiences.length === 0 || audiences.some((a) => typeof a !== 'string' || a === '')) throw new TypeError('audience: name the audience of this API');
  const i = o.introspection;
  if (i && (!i.clientId || !i.clientSecret)) throw new TypeError('introspection: clientId and clientSecret are both needed');
  return {
    issuer: checkedIssuer(o.issuer),
    audiences: Object.freeze(audiences),
    realm: o.realm ?? 'api',
    allowQueryToken: o.allowQueryToken === true,
    allowInsecureHttp: o.allowInsecureHttp === true,
    onIssuerError: o.onIssuerError ?? (() => {}),
    now: o.now ?? Date.now,
    http: { fetch: o.fetch ?? globalThis.fetch, timeoutMs: Math.max(1, count(o.timeoutMs, 5000, 'timeoutMs')) },
    algorithms: checkedAlgorithms(o.algorithms),
    leewaySeconds: seconds(o.leewaySeconds, 30, 300, 'leewaySeconds'),
    metadataMaxAgeMs: seconds(o.metadataMaxAgeSeconds, 3600, 86400, 'metadataMaxAgeSeconds') * 1000,
    jwksMaxAgeMs: seconds(o.jwksMaxAgeSeconds, 300, 86400, 'jwksMaxAgeSeconds') * 1000,
    jwksCooldownMs: seconds(o.jwksCooldownSeconds, 10, 3600, 'jwksCooldownSeconds') * 1000,
    tokenCacheSize: count(o.tokenCacheSize, 10000, 'tokenCacheSize'),
    introspection: i && {
      clientId: i.clientId,
      clientSecret: i.clientSecret,
      cacheMs: seconds(o.introspectionCacheSeconds, 30, 86400, 'introspectionCacheSeconds') * 1000,
      cacheSize: count(o.introspectionCacheSize, 10000, 'introspectionCacheSize'),
    },
  };
}
