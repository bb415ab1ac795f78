// The keys this instance signs and verifies with, read from the store and opened once. Which key
// signs follows from the stored times and the clock. Every key change notifies the change feed
// (account "keys"), so a rotation or revocation made by another instance or by `gatehouse keys`
// reaches this ring with the next request; a timer and an unknown kid (at most once per cooldown)
// reload it too, in case a notification was missed.
import type { JWK } from 'jose';
import type { Clock } from '../clock.js';
import type { SecretBox } from '../crypto/secret-box.js';
import type { Store } from '../store/store.js';
import { keyState, openSigningKey, type SigningKey } from './signing-key.js';

const UNKNOWN_KID_COOLDOWN_MS = 5000;
/** The change-feed name of the signing keys (see Repos.changed). */
export const KEYS_CHANGED = 'keys';
const MAX_KID_LENGTH = 128;

export class KeyRing {
  private keys: SigningKey[] = [];
  private lastLoad = -Infinity;
  private loading: Promise<void> | undefined;
  private loadedToken: string | undefined;

  constructor(private readonly store: Store, private readonly box: SecretBox, private readonly clock: Clock) {}

  /** Read the stored keys. Throws KeyDecryptionError when one does not open (at start this stops
   * the server: it never quietly makes new keys, catalogue R-10). */
  reload(): Promise<void> {
    this.loading ??= this.load().finally(() => (this.loading = undefined));
    return this.loading;
  }

  /** Reload if the change feed says the keys changed since the last load, or cannot say (the
   * PostgreSQL listener is not connected: at start, or in an outage), so that no retired or revoked
   * key is ever used because a notification was missed. */
  async current(): Promise<void> {
    const token = this.store.feed.token(KEYS_CHANGED);
    if (token === undefined || token !== this.loadedToken) await this.reload();
  }

  private async load(): Promise<void> {
    // The token is taken before the read: a change committed during the read triggers another load.
    const token = this.store.feed.token(KEYS_CHANGED);
    const rows = await this.store.signingKeys.list();
    const known = new Map(this.keys.map((k) => [k.kid, k]));
    const now = this.clock.now();
    const keys: SigningKey[] = [];
    for (const row of rows) {
      const times = { activeFrom: row.active_from, activeUntil: row.active_until, publishedUntil: row.published_until };
      if (keyState(times, now) === 'removed') continue;
      const have = known.get(row.kid);
      keys.push(have ? { ...have, ...times } : await openSigningKey(row, this.box));
    }
    this.keys = keys;
    this.lastLoad = this.clock.now();
    this.loadedToken = token;
  }

  /** The key that signs now: of the active keys, the one that started last. */
  signing(): SigningKey {
    const now = this.clock.now();
    let best: SigningKey | undefined;
    for (const k of this.keys) {
      if (keyState(k, now) === 'active' && (!best || k.activeFrom! > best.activeFrom!)) best = k;
    }
    if (!best) throw new Error('no signing key is active (run `gatehouse keys list`)');
    return best;
  }

  /** A published key for this kid and alg. Each key verifies only its own algorithm (RFC 8725
   * §3.1); anything that is not a short string kid finds nothing (catalogue JW-07). */
  async verifying(kid: unknown, alg: unknown): Promise<SigningKey | undefined> {
    if (typeof kid !== 'string' || kid.length === 0 || kid.length > MAX_KID_LENGTH || typeof alg !== 'string') return undefined;
    let key = this.find(kid);
    if (!key && this.clock.now() - this.lastLoad >= UNKNOWN_KID_COOLDOWN_MS) {
      await this.reload();
      key = this.find(kid);
    }
    return key && key.alg === alg ? key : undefined;
  }

  /** Is this key still published (not revoked, not past its retirement)? */
  isPublished(kid: string): boolean {
    return this.find(kid) !== undefined;
  }

  private find(kid: string): SigningKey | undefined {
    const now = this.clock.now();
    return this.keys.find((k) => k.kid === kid && keyState(k, now) !== 'removed');
  }

  /** The JWK Set: public parts of every published key (next, active, retired). */
  jwks(): { keys: JWK[] } {
    const now = this.clock.now();
    return { keys: this.keys.filter((k) => keyState(k, now) !== 'removed').map((k) => k.publicJwk) };
  }

  /** Every key with its state, for `gatehouse keys list`. */
  describe(): Array<{ kid: string; alg: string; state: string; createdAt: number; activeFrom: number | null; activeUntil: number | null; publishedUntil: number | null }> {
    const now = this.clock.now();
    return this.keys.map((k) => ({ kid: k.kid, alg: k.alg, state: keyState(k, now), createdAt: k.createdAt, activeFrom: k.activeFrom, activeUntil: k.activeUntil, publishedUntil: k.publishedUntil }));
  }
}
