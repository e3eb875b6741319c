// A Map split into many small Maps, for the per-item tables of the thread that serves queries.
// A V8 Map grows by doubling and rehashing every entry at once into new memory: at 131,072 items
// the three tables an upsert adds to (slot -> record, id -> slot, the engine's id -> bookkeeping
// slot) grew in one batch and held the thread 146 ms, a search arriving then waiting as long.
// Split, each shard doubles on its own at a fraction of the size, and growth costs a fraction of
// a millisecond at a time.
//
// Keys choose their shard: `byBlock` puts runs of consecutive integers (engine slots, written in
// increasing order) in one shard each, so iteration is in key order block by block; `byHash`
// spreads strings evenly. Iteration goes shard by shard.

/** Consecutive integer keys per shard for byBlock. */
const BLOCK = 4096;
/** Shards for byHash. */
const HASH_SHARDS = 64;

export class ShardedMap<K, V> {
  readonly #shards: (Map<K, V> | undefined)[] = [];
  readonly #shardOf: (key: K) => number;
  #size = 0;

  /** Non-negative integer keys, consecutive runs kept together (iteration in ascending blocks). */
  static byBlock<V>(): ShardedMap<number, V> {
    return new ShardedMap<number, V>((key) => Math.floor(key / BLOCK));
  }

  /** String keys, spread by a hash of their characters (FNV-1a). */
  static byHash<V>(): ShardedMap<string, V> {
    return new ShardedMap<string, V>((key) => {
      let hash = 0x811c9dc5;
      for (let i = 0; i < key.length; i++) hash = Math.imul(hash ^ key.charCodeAt(i), 0x01000193);
      return (hash >>> 0) % HASH_SHARDS;
    });
  }

  private constructor(shardOf: (key: K) => number) {
    this.#shardOf = shardOf;
  }

  get size(): number {
    return this.#size;
  }

  get(key: K): V | undefined {
    return this.#shards[this.#shardOf(key)]?.get(key);
  }

  has(key: K): boolean {
    return this.#shards[this.#shardOf(key)]?.has(key) ?? false;
  }

  set(key: K, value: V): this {
    const at = this.#shardOf(key);
    let shard = this.#shards[at];
    if (shard === undefined) this.#shards[at] = shard = new Map();
    const before = shard.size;
    shard.set(key, value);
    this.#size += shard.size - before;
    return this;
  }

  delete(key: K): boolean {
    const at = this.#shardOf(key);
    const shard = this.#shards[at];
    if (shard === undefined || !shard.delete(key)) return false;
    this.#size--;
    // An emptied block is let go (slots are never reused: written-over blocks empty for good).
    if (shard.size === 0) this.#shards[at] = undefined;
    return true;
  }

  clear(): void {
    this.#shards.length = 0;
    this.#size = 0;
  }

  *keys(): Generator<K> {
    for (const shard of this.#shards) if (shard !== undefined) yield* shard.keys();
  }

  *values(): Generator<V> {
    for (const shard of this.#shards) if (shard !== undefined) yield* shard.values();
  }

  *entries(): Generator<[K, V]> {
    for (const shard of this.#shards) if (shard !== undefined) yield* shard.entries();
  }

  [Symbol.iterator](): Generator<[K, V]> {
    return this.entries();
  }
}
