// The issuer's public keys (RFC 7517 JWK Set) from its jwks_uri. Each key verifies one algorithm
// only (its `alg`, or the one its curve implies; RFC 8725 §3.1) and only for this issuer: the resource
// server checks `iss` before it looks a key up, so a token naming another issuer never reaches
// these keys (catalogue RS-04). Private, symmetric and encryption keys are never used.
//
// The set is fetched on first use and kept. After `maxAgeMs` the next request starts a refresh in the
// background and is served from the set it has; a failed refresh keeps the old set (the keys are still
// the issuer's). A kid that is not in the set triggers a fetch at once, then at most one per
// `cooldownMs`: a flood of made-up kids costs the issuer one request. While the issuer cannot be
// reached, a token whose key is unknown gets IssuerUnavailable (503), never a guess.
import { importJWK, type CryptoKey, type JWK } from 'jose';
import { RETRY_MS } from './discovery.js';
import { IssuerUnavailable } from './errors.js';
import { getJson, type HttpOptions } from './fetch-json.js';

export interface PublicKey {
  kid: string;
  alg: string;
  key: CryptoKey;
}

export interface KeySetOptions {
  /** The algorithms accepted at all (never none or HS*). */
  algorithms: readonly string[];
  maxAgeMs: number;
  cooldownMs: number;
}

const MAX_KEYS = 100;
const MAX_KID_LENGTH = 128;
const CURVE_ALG: Record<string, string> = { 'P-256': 'ES256', 'P-384': 'ES384', 'P-521': 'ES512', Ed25519: 'EdDSA' };
const PUBLIC_MEMBERS: Record<string, readonly string[]> = { EC: ['crv', 'x', 'y'], OKP: ['crv', 'x'], RSA: ['n', 'e'] };

/** The algorithm a key is bound to: its own `alg`, else the one its curve implies (RSA: RS256). */
function algOf(j: Record<string, unknown>): string | undefined {
  if (typeof j.alg === 'string') return j.alg;
  if (j.kty === 'RSA') return 'RS256';
  return typeof j.crv === 'string' ? CURVE_ALG[j.crv] : undefined;
}

/** The public members of a JWK that may verify signatures under an accepted algorithm, or undefined. */
function verificationKey(raw: unknown, algorithms: readonly string[]): { kid: string; alg: string; jwk: JWK } | undefined {
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) return undefined;
  const j = raw as Record<string, unknown>;
  if (typeof j.kid !== 'string' || j.kid.length === 0 || j.kid.length > MAX_KID_LENGTH) return undefined;
  if (j.use !== undefined && j.use !== 'sig') return undefined;
  if (j.key_ops !== undefined && !(Array.isArray(j.key_ops) && j.key_ops.includes('verify'))) return undefined;
  if ('d' in j) return undefined; // a private key published by mistake is not used
  const members = typeof j.kty === 'string' ? PUBLIC_MEMBERS[j.kty] : undefined;
  const alg = algOf(j);
  if (!members || !alg || !algorithms.includes(alg)) return undefined;
  const jwk: Record<string, string> = { kty: j.kty as string };
  for (const m of members) {
    if (typeof j[m] !== 'string') return undefined;
    jwk[m] = j[m] as string;
  }
  return { kid: j.kid, alg, jwk };
}

export class IssuerKeys {
  private keys = new Map<string, PublicKey>();
  /** Imported keys by kid, alg and public members, so a refresh imports only new keys. */
  private imported = new Map<string, PublicKey>();
  private loadedAt = -Infinity;
  private attemptAt = -Infinity;
  private unknownKidAt = -Infinity;
  private failed: IssuerUnavailable | undefined;
  private loading: Promise<void> | undefined;
  /** Fetches of the JWK Set that have ended, well or not (for tests and metrics). */
  fetches = 0;

  constructor(
    private readonly uri: () => Promise<string>,
    private readonly http: HttpOptions,
    private readonly now: () => number,
    private readonly options: KeySetOptions,
  ) {}

  /** The key with this kid, if it is bound to `alg`. Fetches the set on first use, and again for an
   * unknown kid (at most once per cooldown). Throws IssuerUnavailable when the answer depends on a
   * fetch that failed. */
  async find(kid: string, alg: string): Promise<PublicKey | undefined> {
    if (this.loadedAt === -Infinity) await this.refresh();
    else this.refreshIfStale();
    let key = this.keys.get(kid);
    if (!key) {
      const now = this.now();
      if (this.loading) await this.refresh();
      else if (now - this.unknownKidAt >= this.options.cooldownMs || this.failed) {
        this.unknownKidAt = now;
        await this.refresh();
      }
      key = this.keys.get(kid);
    }
    return key && key.alg === alg ? key : undefined;
  }

  /** Is this kid still in the set? (A token verified earlier stops working when its key goes.) */
  has(kid: string): boolean {
    this.refreshIfStale();
    return this.keys.has(kid);
  }

  /** Fetch now (at start, to be ready before the first request). */
  warm(): Promise<void> {
    return this.refresh();
  }

  private refreshIfStale(): void {
    const now = this.now();
    if (!this.loading && now - this.loadedAt >= this.options.maxAgeMs && now - this.attemptAt >= RETRY_MS) this.refresh().catch(() => {});
  }

  /** One fetch at a time; after a failure, none for RETRY_MS (the failure is answered meanwhile). */
  private refresh(): Promise<void> {
    if (!this.loading) {
      if (this.failed && this.now() - this.attemptAt < RETRY_MS) return Promise.reject(this.failed);
      this.loading = this.load().finally(() => (this.loading = undefined));
    }
    return this.loading;
  }

  private async load(): Promise<void> {
    this.attemptAt = this.now();
    try {
      const uri = await this.uri();
      let body: Record<string, unknown>;
      try {
        body = await getJson(this.http, uri, 'JWKS');
      } finally {
        this.fetches++;
      }
      if (!Array.isArray(body.keys)) throw new IssuerUnavailable('JWKS: no keys array');
      const keys = new Map<string, PublicKey>();
      const imported = new Map<string, PublicKey>();
      const twice = new Set<string>();
      for (const raw of body.keys.slice(0, MAX_KEYS)) {
        const k = verificationKey(raw, this.options.algorithms);
        if (!k || twice.has(k.kid)) continue;
        if (keys.has(k.kid)) {
          // A kid named twice is ambiguous: neither key is used.
          keys.delete(k.kid);
          twice.add(k.kid);
          continue;
        }
        const id = `${k.kid}\0${k.alg}\0${JSON.stringify(k.jwk)}`;
        let key = this.imported.get(id);
        if (!key) {
          try {
            key = { kid: k.kid, alg: k.alg, key: (await importJWK(k.jwk, k.alg)) as CryptoKey };
          } catch {
            continue; // a key jose cannot use for its algorithm
          }
        }
        keys.set(k.kid, key);
        imported.set(id, key);
      }
      this.keys = keys;
      this.imported = imported;
      this.loadedAt = this.now();
      this.failed = undefined;
    } catch (err) {
      this.failed = err instanceof IssuerUnavailable ? err : new IssuerUnavailable('JWKS: the key set is unusable');
      throw this.failed;
    }
  }
}
