/** A small least-recently-used map (insertion order of a `Map` as recency), bounded to `capacity` entries. */
export class LruCache<K, V> {
  private readonly entries = new Map<K, V>();

  /** @param capacity most entries kept (≥ 1); the least recently used one is evicted first. */
  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new Error('LruCache capacity must be a positive integer');
  }

  /** The value of `key` (marking it most recently used), or undefined. */
  get(key: K): V | undefined {
    const value = this.entries.get(key);
    if (value === undefined) return undefined;
    this.entries.delete(key);
    this.entries.set(key, value);
    return value;
  }

  /** Stores `value` as the most recently used entry, evicting the least recently used beyond capacity. */
  set(key: K, value: V): void {
    this.entries.delete(key);
    this.entries.set(key, value);
    if (this.entries.size > this.capacity) {
      const oldest = this.entries.keys().next();
      if (!oldest.done) this.entries.delete(oldest.value);
    }
  }

  /** Forgets `key`. */
  delete(key: K): void {
    this.entries.delete(key);
  }

  /** Number of entries. */
  get size(): number {
    return this.entries.size;
  }
}
