// The inverted lists' map from an id to its bookkeeping slot: a typed array for ids below a bound
// (ids are engine slots, dense from 0 after an open from a segment set) and a map beside it for
// any others. An open that restored a million entries spent 0.3-0.5 s of the main thread putting
// them in a Map (and 40 bytes each keeping them there); an Int32Array takes 4 bytes an id and no
// hashing. Without a bound the locator is the map alone: a sharded one (runtime/sharded-map.ts),
// so that an index growing under writes never rehashes all its ids at once.

import { ShardedMap } from '../runtime/sharded-map.js';

const ABSENT = -1;

export class SlotLocator {
  #dense = new Int32Array(0);
  readonly #sparse = ShardedMap.byBlock<number>();
  #size = 0;

  get size(): number {
    return this.#size;
  }

  /** Bytes held (the array as it is, Map entries at about `mapEntryBytes` each). */
  bytes(mapEntryBytes: number): number {
    return this.#dense.byteLength + this.#sparse.size * mapEntryBytes;
  }

  /**
   * Keeps ids below `bound` in the array from now on (ids already kept move there). Only grows;
   * a bound past 2^31 (slots are 32-bit, the array is not meant for sparse ids) is ignored.
   */
  reserveDense(bound: number): void {
    if (bound <= this.#dense.length || bound > 2 ** 31) return;
    const dense = new Int32Array(bound).fill(ABSENT);
    dense.set(this.#dense);
    for (const [id, slot] of this.#sparse) {
      if (id >= bound) continue;
      dense[id] = slot;
      this.#sparse.delete(id);
    }
    this.#dense = dense;
  }

  get(id: number): number | undefined {
    if (id < this.#dense.length) {
      const slot = this.#dense[id];
      return slot === ABSENT ? undefined : slot;
    }
    return this.#sparse.get(id);
  }

  has(id: number): boolean {
    return this.get(id) !== undefined;
  }

  /** `slot` is below 2^31 (bookkeeping slots count entries). */
  set(id: number, slot: number): void {
    if (id < this.#dense.length) {
      if (this.#dense[id] === ABSENT) this.#size++;
      this.#dense[id] = slot;
      return;
    }
    if (!this.#sparse.has(id)) this.#size++;
    this.#sparse.set(id, slot);
  }

  delete(id: number): boolean {
    if (id < this.#dense.length) {
      if (this.#dense[id] === ABSENT) return false;
      this.#dense[id] = ABSENT;
      this.#size--;
      return true;
    }
    if (!this.#sparse.delete(id)) return false;
    this.#size--;
    return true;
  }
}
