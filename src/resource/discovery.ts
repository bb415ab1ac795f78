// Where the issuer keeps its keys and its introspection endpoint: RFC 8414 authorization server
// metadata (/.well-known/oauth-authorization-server), else OpenID Connect Discovery
// (/.well-known/openid-configuration). The document must name exactly the configured issuer (RFC 8414
// §3.3: no mix-up), and its endpoints must use https unless the issuer itself is plain http. The
// document is kept for `maxAgeMs`; when a later fetch fails, the one we have stays in use.
import { IssuerUnavailable } from './errors.js';
import { fetchJson, type HttpOptions } from './fetch-json.js';

/** After a failed fetch, the next attempt waits this long (answers meanwhile: 503). */
export const RETRY_MS = 1000;

export interface IssuerEndpoints {
  jwksUri: string | undefined;
  introspectionEndpoint: string | undefined;
}

/** RFC 8414 §3.1 puts the well-known part between host and path; OIDC Discovery §4 appends it. */
export function metadataUrls(issuer: string): string[] {
  const u = new URL(issuer);
  const path = u.pathname.replace(/\/+$/, '');
  return [`${u.origin}/.well-known/oauth-authorization-server${path}`, `${u.origin}${path}/.well-known/openid-configuration`];
}

/** An endpoint URL from the metadata, or undefined. A URL that is not https (unless the issuer is
 * plain http, as in development) or that is malformed makes the whole document unusable. */
function endpoint(doc: Record<string, unknown>, name: string, issuer: URL): string | undefined {
  const value = doc[name];
  if (value === undefined) return undefined;
  let u: URL;
  try {
    if (typeof value !== 'string') throw new Error();
    u = new URL(value);
  } catch {
    throw new IssuerUnavailable(`the issuer's metadata has a malformed ${name}`);
  }
  if (u.protocol !== 'https:' && !(u.protocol === 'http:' && issuer.protocol === 'http:')) throw new IssuerUnavailable(`the issuer's ${name} is not https`);
  return u.href;
}

export class Discovery {
  private known: { endpoints: IssuerEndpoints; at: number } | undefined;
  private loading: Promise<IssuerEndpoints> | undefined;
  private failure: { error: Error; at: number } | undefined;
  /** Metadata documents fetched (for tests and metrics). */
  fetches = 0;

  constructor(
    private readonly issuer: string,
    private readonly http: HttpOptions,
    private readonly now: () => number,
    private readonly maxAgeMs: number,
    private readonly fixed: Partial<IssuerEndpoints>,
  ) {}

  /** The JWKS URL: from the options, else from the metadata. */
  async jwksUri(): Promise<string> {
    const uri = this.fixed.jwksUri ?? (await this.document()).jwksUri;
    if (!uri) throw new IssuerUnavailable('the issuer metadata names no jwks_uri');
    return uri;
  }

  /** The introspection endpoint: from the options, else from the metadata. */
  async introspectionEndpoint(): Promise<string> {
    const uri = this.fixed.introspectionEndpoint ?? (await this.document()).introspectionEndpoint;
    if (!uri) throw new IssuerUnavailable('the issuer metadata names no introspection_endpoint');
    return uri;
  }

  private async document(): Promise<IssuerEndpoints> {
    const known = this.known;
    if (known && this.now() - known.at < this.maxAgeMs) return known.endpoints;
    // After a failure, ask again at most once per RETRY_MS: an outage is not answered with a storm.
    const failure = this.failure;
    if (failure && this.now() - failure.at < RETRY_MS) {
      if (known) return known.endpoints;
      throw failure.error;
    }
    this.loading ??= this.load().finally(() => (this.loading = undefined));
    try {
      return await this.loading;
    } catch (err) {
      this.failure = { error: err as Error, at: this.now() };
      if (known) return known.endpoints;
      throw err;
    }
  }

  private async load(): Promise<IssuerEndpoints> {
    let problem = 'no metadata document';
    for (const url of metadataUrls(this.issuer)) {
      this.fetches++;
      let got;
      try {
        got = await fetchJson(this.http, url, { method: 'GET' }, 'issuer metadata');
      } catch (err) {
        problem = (err as Error).message;
        continue;
      }
      if (got.status === 404) continue;
      if (got.status !== 200 || !got.body) {
        problem = `issuer metadata: answered ${got.status}`;
        continue;
      }
      if (got.body.issuer !== this.issuer) throw new IssuerUnavailable('the issuer metadata names another issuer');
      const iss = new URL(this.issuer);
      const endpoints = { jwksUri: endpoint(got.body, 'jwks_uri', iss), introspectionEndpoint: endpoint(got.body, 'introspection_endpoint', iss) };
      this.known = { endpoints, at: this.now() };
      this.failure = undefined;
      return endpoints;
    }
    throw new IssuerUnavailable(problem);
  }
}
