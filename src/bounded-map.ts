// A map that holds about `size` entries, for caches on hot paths (verified tokens, Digest nonces).
// Two generations instead of one map evicted oldest-first: deleting a map's first entries leaves
// holes that each later eviction walks over in V8 (µs per insert under steady turnover). When the
// newer generation holds half the size, the older one is dropped whole.
export class BoundedMap<K, V> {
  private current = new Map<K, V>();
  private previous = new Map<K, V>();
  private readonly half: number;

  /** `size` 0 (or less) holds nothing. */
  constructor(private readonly size: number) {
    this.half = Math.max(1, Math.floor(size / 2));
  }

  get(key: K): V | undefined {
    if (this.size <= 0) return undefined;
    return this.current.get(key) ?? this.previous.get(key);
  }

  set(key: K, value: V): void {
    if (this.size <= 0) return;
    if (this.current.size >= this.half) {
      this.previous = this.current;
      this.current = new Map();
    }
    this.current.set(key, value);
  }

  delete(key: K): void {
    this.current.delete(key);
    this.previous.delete(key);
  }
}
