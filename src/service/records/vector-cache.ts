// The bounded cache of decrypted float32 vectors (CIPHERDEX_VECTOR_CACHE_MB), shared by every open
// index of the process: re-ranks of IVF_SQ8 / IVF_PQ candidates and items asked for with their
// vector read through it, and an upsert writes its vectors through it, so the part of an index in
// use costs no store query and no decryption per search, and nothing beyond the budget stays
// resident.
//
// Entries are keyed by (open index, engine slot). A slot names one write of one item (every upsert
// takes a fresh slot, see open-index.ts), so an entry can never describe a newer write; the open
// index still forgets a slot's entry when the slot is removed (upsert, delete, replica change)
// and all of its entries when it closes, so no plaintext outlives its item or its index.
//
// Vectors live in pages of PAGE_BYTES, filled in order and recycled oldest first, with a second
// chance: an entry read from the oldest quarter of the pages is copied to the newest. No entry is
// an object of its own (a slot's place is a number in a map), so a cache of hundreds of thousands
// of vectors adds nothing for the garbage collector to trace or promote: as an LRU of one
// Float32Array per entry it cost more than the store reads it saved under a write stream.

import { ShardedMap } from '../../runtime/sharded-map.js';

/** Bytes of one page (a page holds at least one vector). */
const PAGE_BYTES = 256 * 1024;
/** At least this many pages fit a small budget, so eviction never drops all of it at once. */
const MIN_PAGES = 8;
/**
 * A slot's place: its page's id times this, plus the row. Page ids are reused, so places stay
 * small integers (no heap number per entry) up to 2^15 pages: 8 GiB of cache.
 */
const ROWS_PER_PAGE_LIMIT = 2 ** 16;

interface Page {
  /** Its place among the pages held (reused once the page is recycled). */
  readonly id: number;
  /** When it was made: the order pages are recycled in. */
  readonly seq: number;
  readonly owner: number;
  readonly floats: Float32Array;
  /** The slot in each row; -1 when the row is empty or forgotten. */
  readonly slots: Int32Array;
  used: number;
}

interface Owner {
  readonly dimension: number;
  readonly rowsPerPage: number;
  /** Slot -> page id * ROWS_PER_PAGE_LIMIT + row. */
  readonly places: ShardedMap<number, number>;
  current: Page | null;
}

export class VectorCache {
  readonly maxBytes: number;
  /** Oldest first. */
  #pages: Page[] = [];
  readonly #pageById: (Page | undefined)[] = [];
  readonly #freeIds: number[] = [];
  readonly #owners = new Map<number, Owner>();
  #nextSeq = 0;
  #bytes = 0;

  /** `maxBytes` 0 disables the cache (every read goes to the store). */
  constructor(maxBytes: number) {
    this.maxBytes = maxBytes;
  }

  /** Bytes of the pages held now (never above maxBytes). */
  get bytes(): number {
    return this.#bytes;
  }

  /** Vectors held now. */
  get size(): number {
    let size = 0;
    for (const owner of this.#owners.values()) size += owner.places.size;
    return size;
  }

  /** A copy of the vector cached for `slot`, or undefined. */
  get(owner: number, slot: number): Float32Array | undefined {
    return this.#read(owner, slot, true);
  }

  /** get() for a bulk read (every vector of an index): what it meets is not kept longer for it. */
  peek(owner: number, slot: number): Float32Array | undefined {
    return this.#read(owner, slot, false);
  }

  #read(owner: number, slot: number, secondChance: boolean): Float32Array | undefined {
    const state = this.#owners.get(owner);
    const place = state?.places.get(slot);
    if (state === undefined || place === undefined) return undefined;
    const { page, row } = this.#at(place);
    const from = row * state.dimension;
    const vector = page.floats.slice(from, from + state.dimension);
    // Second chance: read while its page is among the next to go, it moves to the newest page.
    if (secondChance && page.seq < this.#pages[0].seq + this.#pages.length / 4) {
      this.#remove(state, slot, place);
      this.set(owner, slot, vector);
    }
    return vector;
  }

  /** Keeps a copy of `vector` (the caller may reuse its array). */
  set(owner: number, slot: number, vector: Float32Array): void {
    const rowBytes = vector.length * 4;
    if (this.maxBytes === 0 || rowBytes === 0 || rowBytes > this.maxBytes) return;
    let state = this.#owners.get(owner);
    if (state === undefined) {
      const rowsPerPage = Math.max(1, Math.min(Math.floor(PAGE_BYTES / rowBytes), Math.floor(this.maxBytes / MIN_PAGES / rowBytes), ROWS_PER_PAGE_LIMIT));
      state = { dimension: vector.length, rowsPerPage, places: ShardedMap.byBlock<number>(), current: null };
      this.#owners.set(owner, state);
    } else if (vector.length !== state.dimension) {
      return;
    }
    const known = state.places.get(slot);
    if (known !== undefined) {
      const { page, row } = this.#at(known);
      page.floats.set(vector, row * state.dimension);
      return;
    }
    let page = state.current;
    if (page === null || page.used === state.rowsPerPage) page = this.#newPage(owner, state);
    const row = page.used++;
    page.floats.set(vector, row * state.dimension);
    page.slots[row] = slot;
    state.places.set(slot, page.id * ROWS_PER_PAGE_LIMIT + row);
  }

  /** Forgets one slot (removed or replaced); its floats are wiped. */
  forget(owner: number, slot: number): void {
    const state = this.#owners.get(owner);
    const place = state?.places.get(slot);
    if (state !== undefined && place !== undefined) this.#remove(state, slot, place);
  }

  /** Forgets every entry of `owner` (the index closed). */
  forgetOwner(owner: number): void {
    if (!this.#owners.delete(owner)) return;
    this.#pages = this.#pages.filter((page) => {
      if (page.owner !== owner) return true;
      this.#release(page);
      return false;
    });
  }

  /** Recycles the oldest pages until at most `bytes` are held (room for an index that grows). */
  shrinkTo(bytes: number): void {
    while (this.#bytes > Math.max(0, bytes) && this.#pages.length > 0) this.#recycleOldest();
  }

  clear(): void {
    this.shrinkTo(0);
    this.#owners.clear();
  }

  #newPage(owner: number, state: Owner): Page {
    const floats = state.rowsPerPage * state.dimension;
    // The memory of a page recycled to make room is reused: a fresh page costs the kernel a fault
    // per 4 KiB touched (10-14 us each on some machines this runs on).
    let reused: Float32Array | undefined;
    while (this.#bytes + floats * 4 > this.maxBytes && this.#pages.length > 0) {
      const recycled = this.#recycleOldest();
      if (recycled.length === floats) reused = recycled;
    }
    const page: Page = {
      id: this.#freeIds.pop() ?? this.#pageById.length,
      seq: this.#nextSeq++,
      owner,
      floats: reused ?? new Float32Array(floats),
      slots: new Int32Array(state.rowsPerPage).fill(-1),
      used: 0,
    };
    this.#pages.push(page);
    this.#pageById[page.id] = page;
    this.#bytes += floats * 4;
    state.current = page;
    return page;
  }

  /** Drops the oldest page; returns its (wiped) memory. */
  #recycleOldest(): Float32Array {
    const page = this.#pages.shift()!;
    const state = this.#owners.get(page.owner);
    if (state !== undefined) {
      for (let row = 0; row < page.used; row++) {
        const slot = page.slots[row];
        if (slot >= 0) state.places.delete(slot);
      }
      if (state.current === page) state.current = null;
    }
    this.#release(page);
    return page.floats;
  }

  /** Wipes a page's plaintext. */
  #release(page: Page): void {
    page.floats.fill(0);
    this.#pageById[page.id] = undefined;
    this.#freeIds.push(page.id);
    this.#bytes -= page.floats.byteLength;
  }

  /** The page and row a place names. */
  #at(place: number): { page: Page; row: number } {
    return { page: this.#pageById[Math.floor(place / ROWS_PER_PAGE_LIMIT)]!, row: place % ROWS_PER_PAGE_LIMIT };
  }

  /** Takes `slot` out of the cache: its place forgotten, its row emptied and wiped. */
  #remove(state: Owner, slot: number, place: number): void {
    state.places.delete(slot);
    const { page, row } = this.#at(place);
    page.slots[row] = -1;
    page.floats.fill(0, row * state.dimension, (row + 1) * state.dimension);
  }
}
