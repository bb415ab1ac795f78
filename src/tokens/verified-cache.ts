// Access tokens already verified, by their exact text: a client sends the same token with every call
// for its whole lifetime, so the signature is checked once and later calls only re-check what time
// or a key change can alter (exp, and that the signing key is still published). Only a
// byte-identical token hits; the cache is bounded (bounded-map.ts) and can be turned off
// (GATEHOUSE_TOKEN_CACHE_SIZE=0).
import { BoundedMap } from '../bounded-map.js';

export interface Verified<C> {
  claims: C;
  kid: string;
  audience: string;
  exp: number;
}

export class VerifiedCache<C> {
  private readonly entries: BoundedMap<string, Verified<C>>;

  constructor(size: number) {
    this.entries = new BoundedMap(size);
  }

  get(token: string): Verified<C> | undefined {
    return this.entries.get(token);
  }

  put(token: string, entry: Verified<C>): void {
    this.entries.set(token, entry);
  }

  forget(token: string): void {
    this.entries.delete(token);
  }
}
