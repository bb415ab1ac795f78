// Access tokens already verified, by their exact text: a client sends the same token with every call
// for its whole lifetime, so the signature is checked once and later calls only re-check what time
// or a key change can alter (exp, and that the signing key is still published). Only a
// byte-identical token hits; the cache is bounded (oldest entries go first) and can be turned off
// (GATEHOUSE_TOKEN_CACHE_SIZE=0).
export interface Verified<C> {
  claims: C;
  kid: string;
  audience: string;
  exp: number;
}

export class VerifiedCache<C> {
  private readonly entries = new Map<string, Verified<C>>();

  constructor(private readonly size: number) {}

  get(token: string): Verified<C> | undefined {
    return this.size > 0 ? this.entries.get(token) : undefined;
  }

  put(token: string, entry: Verified<C>): void {
    if (this.size <= 0) return;
    if (this.entries.size >= this.size) this.entries.delete(this.entries.keys().next().value!);
    this.entries.set(token, entry);
  }

  forget(token: string): void {
    this.entries.delete(token);
  }
}
