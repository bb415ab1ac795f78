// Opaque access tokens, checked by RFC 7662 introspection: the resource server authenticates as a
// confidential client (client_secret_basic, RFC 6749 §2.3.1) and believes only `active: true` for a
// bearer access token of this issuer. Refresh tokens and tokens of another issuer are refused.
//
// Answers are remembered for at most `cacheMs`, never past the token's `exp`, in a bounded map
// (oldest first out); the same token asked for by concurrent requests costs one introspection. A
// revoked token is therefore refused within `cacheMs`. When the issuer cannot answer, or answers
// anything but 200 with a JSON object, the request gets IssuerUnavailable (503): fail closed
// (catalogue RS-07).
import { IssuerUnavailable, InvalidToken } from './errors.js';
import { fetchJson, type HttpOptions } from './fetch-json.js';
import { scopesOf, singleAudience, type AccessInfo } from './access-info.js';

export interface IntrospectionOptions {
  issuer: string;
  clientId: string;
  clientSecret: string;
  cacheMs: number;
  cacheSize: number;
  leewaySeconds: number;
  now: () => number;
}

interface Entry {
  info: AccessInfo | undefined;
  until: number;
}

/** RFC 6749 §2.3.1 / Appendix B: form-urlencode the id and secret, then Basic. */
function clientBasic(id: string, secret: string): string {
  const enc = (s: string) => new URLSearchParams({ x: s }).toString().slice(2);
  return `Basic ${Buffer.from(`${enc(id)}:${enc(secret)}`, 'utf8').toString('base64')}`;
}

const BEARER_TYPES = new Set(['bearer', 'access_token']);

export class Introspector {
  private readonly cache = new Map<string, Entry>();
  private readonly asking = new Map<string, Promise<Entry>>();
  private readonly authorization: string;
  /** Introspection requests sent (for tests and metrics). */
  requests = 0;

  constructor(private readonly endpoint: () => Promise<string>, private readonly http: HttpOptions, private readonly o: IntrospectionOptions) {
    this.authorization = clientBasic(o.clientId, o.clientSecret);
  }

  async check(token: string): Promise<AccessInfo> {
    const now = this.o.now();
    let entry = this.cache.get(token);
    if (entry && entry.until <= now) {
      this.cache.delete(token);
      entry = undefined;
    }
    if (!entry) {
      let pending = this.asking.get(token);
      if (!pending) {
        pending = this.ask(token).finally(() => this.asking.delete(token));
        this.asking.set(token, pending);
      }
      entry = await pending;
    }
    if (!entry.info) throw new InvalidToken('The access token is not active (expired, revoked or unknown).');
    return entry.info;
  }

  private async ask(token: string): Promise<Entry> {
    const url = await this.endpoint();
    this.requests++;
    const { status, body } = await fetchJson(
      this.http,
      url,
      { method: 'POST', headers: { authorization: this.authorization, 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ token, token_type_hint: 'access_token' }).toString() },
      'introspection',
    );
    if (status !== 200 || !body) throw new IssuerUnavailable(`introspection: answered ${status}${status === 401 ? ' (check the introspection client id and secret)' : ''}`);
    const now = this.o.now();
    const info = this.accessInfo(body, now);
    const expMs = info ? info.exp * 1000 : Infinity;
    const entry = { info, until: Math.min(now + this.o.cacheMs, expMs) };
    if (entry.until > now && this.o.cacheSize > 0) {
      if (this.cache.size >= this.o.cacheSize) this.cache.delete(this.cache.keys().next().value!);
      this.cache.set(token, entry);
    }
    return entry;
  }

  /** An active bearer access token of this issuer, or undefined. */
  private accessInfo(b: Record<string, unknown>, now: number): AccessInfo | undefined {
    if (b.active !== true) return undefined;
    if (b.token_type !== undefined && !(typeof b.token_type === 'string' && BEARER_TYPES.has(b.token_type.toLowerCase()))) return undefined;
    if (b.iss !== undefined && b.iss !== this.o.issuer) return undefined;
    const nowSec = Math.floor(now / 1000);
    if (typeof b.nbf === 'number' && b.nbf > nowSec + this.o.leewaySeconds) return undefined;
    if (typeof b.exp === 'number' && b.exp + this.o.leewaySeconds <= nowSec) return undefined;
    const aud = singleAudience(b.aud);
    const sub = typeof b.sub === 'string' ? b.sub : undefined;
    const clientId = typeof b.client_id === 'string' ? b.client_id : undefined;
    if (aud === undefined || sub === undefined || clientId === undefined || typeof b.exp !== 'number') return undefined;
    return Object.freeze({ scheme: 'Bearer', format: 'opaque', iss: this.o.issuer, sub, clientId, aud, scopes: Object.freeze(scopesOf(b.scope)), exp: b.exp, claims: Object.freeze({ ...b }) });
  }
}
