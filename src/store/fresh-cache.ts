// A read cache that is never stale: an entry is served only while the change feed's token for its
// account is the one seen before the entry was read, and for at most ttlMs. Any write that could
// change what was read (by this process, another process on the SQLite file, or another instance on
// PostgreSQL) changes the token, and the next request reads again.
import type { Clock } from '../clock.js';
import type { ChangeFeed } from './change-feed.js';

interface Entry<T> {
  value: T;
  token: string;
  expiresAt: number;
}

export class FreshCache<T> {
  private readonly entries = new Map<string, Entry<T>>();

  constructor(private readonly feed: ChangeFeed, private readonly ttlMs: number, private readonly clock: Clock, private readonly max = 10_000) {}

  /** The cached value when it is still fresh, without reading: undefined when a read is needed. */
  peek(key: string, account: string): { value: T } | undefined {
    const hit = this.entries.get(key);
    if (!hit || hit.expiresAt <= this.clock.now()) return undefined;
    const token = this.feed.token(account);
    return token !== undefined && hit.token === token ? hit : undefined;
  }

  async get(key: string, account: string, load: () => Promise<T>): Promise<T> {
    const token = this.feed.token(account);
    const now = this.clock.now();
    const hit = this.entries.get(key);
    if (hit && token !== undefined && hit.token === token && hit.expiresAt > now) return hit.value;
    // The token is taken before the read: a change committed during the read makes it stale at once.
    const value = await load();
    if (token !== undefined && this.ttlMs > 0) {
      if (this.entries.size >= this.max) this.entries.delete(this.entries.keys().next().value!);
      this.entries.set(key, { value, token, expiresAt: now + this.ttlMs });
    }
    return value;
  }
}
