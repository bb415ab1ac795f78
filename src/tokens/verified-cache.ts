// Access tokens already verified, by their exact text: a client sends the same token with every call
// for its whole lifetime, so the signature is checked once and later calls only re-check what time
// or a key change can alter (exp, and that the signing key is still published). Only a
// byte-identical token hits; the cache is bounded (the older half goes first) and can be turned off
// (GATEHOUSE_TOKEN_CACHE_SIZE=0).
export interface Verified<C> {
  claims: C;
  kid: string;
  audience: string;
  exp: number;
}

export class VerifiedCache<C> {
  // Two generations instead of one map evicted oldest-first: deleting a map's first entries leaves
  // holes that each later eviction walks over (µs per insert under steady turnover). When the newer
  // generation is full, the older one is dropped whole; about `size` entries at most are held.
  private current = new Map<string, Verified<C>>();
  private previous = new Map<string, Verified<C>>();
  private readonly half: number;

  constructor(private readonly size: number) {
    this.half = Math.max(1, Math.floor(size / 2));
  }

  get(token: string): Verified<C> | undefined {
    if (this.size <= 0) return undefined;
    return this.current.get(token) ?? this.previous.get(token);
  }

  put(token: string, entry: Verified<C>): void {
    if (this.size <= 0) return;
    if (this.current.size >= this.half) {
      this.previous = this.current;
      this.current = new Map();
    }
    this.current.set(token, entry);
  }

  forget(token: string): void {
    this.current.delete(token);
    this.previous.delete(token);
  }
}
