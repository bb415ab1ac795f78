// A read cache that is never stale: an entry is served only while the change feed's token for its
// account is the one seen before the entry was read, and for at most ttlMs. Any write that could
// change what was read (by this process, another process on the SQLite file, or another instance on
// PostgreSQL) changes the token, and the next request reads again.
import { BoundedMap } from '../bounded-map.js';
import type { Clock } from '../clock.js';
import type { ChangeFeed } from './change-feed.js';

interface Entry<T> {
  value: T;
  token: string;
  expiresAt: number;
}

/** What an entry depends on: one change-feed key ("account:…", "clients", …) or several (the
 * failed-login counters of an account and of an address). */
export type ChangeKeys = string | readonly [string, string];

export class FreshCache<T> {
  private readonly entries: BoundedMap<string, Entry<T>>;

  constructor(private readonly feed: ChangeFeed, private readonly ttlMs: number, private readonly clock: Clock, max = 10_000) {
    this.entries = new BoundedMap(max);
  }

  private token(keys: ChangeKeys): string | undefined {
    if (typeof keys === 'string') return this.feed.token(keys);
    const a = this.feed.token(keys[0]);
    const b = a === undefined ? undefined : this.feed.token(keys[1]);
    return b === undefined ? undefined : `${a}|${b}`;
  }

  /** The cached value when it is still fresh, without reading: undefined when a read is needed. */
  peek(key: string, keys: ChangeKeys): { value: T } | undefined {
    const hit = this.entries.get(key);
    if (!hit || hit.expiresAt <= this.clock.now()) return undefined;
    const token = this.token(keys);
    return token !== undefined && hit.token === token ? hit : undefined;
  }

  async get(key: string, keys: ChangeKeys, load: () => Promise<T>): Promise<T> {
    const token = this.token(keys);
    const now = this.clock.now();
    const hit = this.entries.get(key);
    if (hit && token !== undefined && hit.token === token && hit.expiresAt > now) return hit.value;
    // The token is taken before the read: a change committed during the read makes it stale at once.
    const value = await load();
    if (token !== undefined && this.ttlMs > 0) this.entries.set(key, { value, token, expiresAt: now + this.ttlMs });
    return value;
  }
}
