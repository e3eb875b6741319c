// The bounded cache of decrypted float32 vectors read from the store (CIPHERDEX_VECTOR_CACHE_MB),
// shared by every open index of the process: re-ranks of IVF_SQ8 / IVF_PQ candidates and items
// asked for with their vector read through it, so the hot part of an index costs one store query
// once instead of one per search, and nothing beyond the budget stays resident.
//
// Entries are keyed by (open index, engine slot). A slot names one write of one item (every upsert
// takes a fresh slot, see open-index.ts), so an entry can never describe a newer write; the open
// index still forgets a slot's entry when the slot is removed (upsert, delete, replica change)
// and all of its entries when it closes, so no plaintext outlives its item or its index.

import { LRUCache } from 'lru-cache';

/** What one entry costs besides its floats: the key string, the map entry and the list links (estimated). */
const ENTRY_OVERHEAD_BYTES = 96;

export class VectorCache {
  readonly #entries: LRUCache<string, Float32Array>;
  /** Keys of each open index's entries, so closing one drops exactly its own. */
  readonly #keysByOwner = new Map<number, Set<string>>();
  readonly maxBytes: number;

  /** `maxBytes` 0 disables the cache (every read goes to the store). */
  constructor(maxBytes: number) {
    this.maxBytes = maxBytes;
    this.#entries = new LRUCache<string, Float32Array>({
      maxSize: Math.max(1, maxBytes),
      sizeCalculation: (vector) => vector.byteLength + ENTRY_OVERHEAD_BYTES,
      dispose: (vector, key) => {
        // Evicted, replaced or deleted: the plaintext is wiped, not left for the collector.
        vector.fill(0);
        this.#keysByOwner.get(ownerOf(key))?.delete(key);
      },
    });
  }

  /** Bytes the entries hold now, overhead included (never above maxBytes). */
  get bytes(): number {
    return this.#entries.calculatedSize;
  }

  get size(): number {
    return this.#entries.size;
  }

  get(owner: number, slot: number): Float32Array | undefined {
    return this.#entries.get(keyOf(owner, slot));
  }

  /** Keeps a copy of `vector` (the caller may hand its own array out). */
  set(owner: number, slot: number, vector: Float32Array): void {
    if (this.maxBytes === 0 || vector.byteLength + ENTRY_OVERHEAD_BYTES > this.maxBytes) return;
    const key = keyOf(owner, slot);
    this.#entries.set(key, vector.slice());
    let keys = this.#keysByOwner.get(owner);
    if (keys === undefined) this.#keysByOwner.set(owner, (keys = new Set()));
    keys.add(key);
  }

  /** Forgets one slot (removed or replaced). */
  forget(owner: number, slot: number): void {
    this.#entries.delete(keyOf(owner, slot));
  }

  /** Forgets every entry of `owner` (the index closed). */
  forgetOwner(owner: number): void {
    const keys = this.#keysByOwner.get(owner);
    if (keys === undefined) return;
    this.#keysByOwner.delete(owner);
    for (const key of keys) this.#entries.delete(key);
  }

  clear(): void {
    this.#entries.clear();
    this.#keysByOwner.clear();
  }
}

function keyOf(owner: number, slot: number): string {
  return `${owner}:${slot}`;
}

function ownerOf(key: string): number {
  return Number(key.slice(0, key.indexOf(':')));
}
