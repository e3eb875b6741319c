// The indexes open in this process. An index is loaded (decrypted into memory) once; concurrent
// openers share that one load; later requests only prove their key. An index nobody has used for
// `idleEvictMs` is closed, dropping its plaintext, unless a request or a training run holds it.
// With a memory budget (CIPHERDEX_MEMORY_BUDGET_MB), opening or growing an index past it first
// closes idle indexes, least recently used first; what still does not fit is refused with
// InsufficientResourcesError (the index not opened, the upsert not written) instead of letting the
// process run out of memory.

import { KeyUnwrapError, unwrapDataKey } from '../../crypto/index.js';
import type { Store } from '../../storage/index.js';
import { IndexNotFoundError, InsufficientResourcesError, InvalidIndexKeyError } from '../errors.js';
import type { IndexCredential } from './index-credential.js';
import { loadOpenIndex } from './index-loader.js';
import { translatingErrors } from '../lower-layer-errors.js';
import type { OpenIndex } from './open-index.js';
import type { SealWorkers } from '../sealing/seal-workers.js';
import { StoredItems } from '../records/stored-items.js';
import { VectorCache } from '../records/vector-cache.js';
import type { SegmentKeeper } from '../segments/segment-keeper.js';

/** CIPHERDEX_VECTOR_CACHE_MB's default, in bytes. */
export const DEFAULT_VECTOR_CACHE_BYTES = 256 * 2 ** 20;

export interface IndexCacheOptions {
  store: Store;
  idleEvictMs: number;
  /** Item records sealed by the indexes opened here are padded to this many bytes (0: exact). */
  recordBucket?: number;
  /** Bytes the open indexes (and the vector cache) may hold together; null for no budget. */
  memoryBudgetBytes?: number | null;
  /** Bytes of decrypted vectors read back from the store kept for re-use, shared by every index (CIPHERDEX_VECTOR_CACHE_MB); default 256 MiB. */
  vectorCacheBytes?: number;
  /** Shares the sealing of large batches with worker threads; absent, all sealing is inline. */
  sealWorkers?: SealWorkers | null;
  /**
   * Told of every index opened here, with the store's change and model counters as the load read
   * them before reading the items (0 for an index created here), so replicas can catch up from there.
   */
  onOpen?: (open: OpenIndex, at: { changeSeq: number; modelVersion: number; keyVersion: number }) => void;
  /** Keeps the sealed segment sets of the indexes open here current; absent, none are written. */
  segments?: SegmentKeeper | null;
}

export class IndexCache {
  readonly #store: Store;
  readonly #idleEvictMs: number;
  readonly #sealWorkers: SealWorkers | null;
  readonly recordBucket: number;
  /** Reads items back from the store (vectors through the shared cache) for every index opened here. */
  readonly storedItems: StoredItems;
  /** Loads in flight and loaded indexes, by name: the promise is what concurrent openers share. */
  readonly #entries = new Map<string, Promise<OpenIndex>>();
  readonly #loaded = new Map<string, OpenIndex>();
  readonly #sweeper: NodeJS.Timeout;
  readonly #onOpen: IndexCacheOptions['onOpen'];
  readonly memoryBudgetBytes: number | null;
  readonly #segments: SegmentKeeper | null;

  constructor(options: IndexCacheOptions) {
    this.#segments = options.segments ?? null;
    this.#store = options.store;
    this.#idleEvictMs = options.idleEvictMs;
    this.#sealWorkers = options.sealWorkers ?? null;
    this.recordBucket = options.recordBucket ?? 0;
    this.storedItems = new StoredItems(options.store, new VectorCache(options.vectorCacheBytes ?? DEFAULT_VECTOR_CACHE_BYTES));
    this.#onOpen = options.onOpen;
    this.memoryBudgetBytes = options.memoryBudgetBytes ?? null;
    // Checked a few times per idle period, so an index is evicted at most ~25% late.
    const period = Math.max(10, Math.min(Math.floor(options.idleEvictMs / 4), 30_000));
    this.#sweeper = setInterval(() => this.evictIdle(), period);
    this.#sweeper.unref();
  }

  /** Runs `work` with the open index, after proving `key` opens it; the index stays loaded meanwhile. */
  async use<T>(name: string, key: IndexCredential, work: (open: OpenIndex) => Promise<T> | T): Promise<T> {
    const open = await this.acquire(name, key);
    open.enter();
    try {
      return await work(open);
    } finally {
      open.leave();
    }
  }

  /**
   * Proves `key` opens `name` without loading it when it is not open already (deletion needs no
   * plaintext). Throws IndexNotFoundError or InvalidIndexKeyError.
   */
  async verify(name: string, key: IndexCredential): Promise<void> {
    const pending = this.#entries.get(name);
    if (pending !== undefined) {
      const open = await pending;
      if (!key.acceptedBy(open)) throw new InvalidIndexKeyError(name);
      return;
    }
    (await this.unwrapDataKey(name, key)).fill(0);
  }

  /** The data key as stored now (after any rotation), unwrapped by `key`; the caller wipes it. */
  async unwrapDataKey(name: string, key: IndexCredential): Promise<Buffer> {
    const stored = await translatingErrors(name, () => this.#store.getIndex(name));
    if (stored === null) throw new IndexNotFoundError(name);
    return key.unwrap(stored);
  }

  async acquire(name: string, key: IndexCredential): Promise<OpenIndex> {
    for (;;) {
      let pending = this.#entries.get(name);
      if (pending === undefined) {
        const stored = await translatingErrors(name, () => this.#store.getIndex(name));
        if (stored === null) throw new IndexNotFoundError(name);
        const dataKey = key.unwrap(stored);
        // Another opener may have started the load while we read the record: share theirs.
        pending = this.#entries.get(name);
        if (pending === undefined) return this.#startLoad(name, loadOpenIndex(this.#store, stored, dataKey, key, this.#sealWorkers, this.recordBucket, this.storedItems), stored);
        dataKey.fill(0);
      }
      const open = await pending;
      if (open.closed) continue;
      if (!key.acceptedBy(open)) throw new InvalidIndexKeyError(name);
      return open;
    }
  }

  /** The sealing workers indexes opened here share (null when sealing stays inline). */
  get sealWorkers(): SealWorkers | null {
    return this.#sealWorkers;
  }

  /** Registers an index created by this process, already open and empty. */
  insert(open: OpenIndex): void {
    this.drop(open.name);
    this.#entries.set(open.name, Promise.resolve(open));
    this.#loaded.set(open.name, open);
    this.#onOpen?.(open, { changeSeq: 0, modelVersion: 0, keyVersion: 0 });
    this.#segments?.watch(open);
  }

  /**
   * The stored wrapping of `name`'s data key is now `wrappedDataKey` (key rotation): a loaded
   * index accepts only keys that unwrap it; a load in flight read the previous wrapping, so it is
   * dropped and the next request loads again.
   */
  rewrapped(name: string, wrappedDataKey: Buffer): void {
    const open = this.#loaded.get(name);
    if (open !== undefined) open.keys.rewrap(wrappedDataKey);
    else if (this.#entries.has(name)) this.drop(name);
  }

  /** Closes and forgets `name` (deleted, or to be reloaded). */
  drop(name: string): void {
    const open = this.#loaded.get(name);
    this.#entries.delete(name);
    this.#loaded.delete(name);
    open?.close();
  }

  /** Closes every index idle for at least idleEvictMs and not in use; returns their names. */
  evictIdle(now = Date.now()): string[] {
    const evicted: string[] = [];
    for (const [name, open] of this.#loaded) {
      if (!open.inUse && now - open.lastUsedMs >= this.#idleEvictMs) {
        this.drop(name);
        evicted.push(name);
      }
    }
    return evicted;
  }

  /** Names of the indexes whose plaintext is in memory now. */
  resident(): string[] {
    return [...this.#loaded.keys()];
  }

  /** The index if it is loaded now (no key is checked: callers proved theirs earlier). */
  loaded(name: string): OpenIndex | undefined {
    return this.#loaded.get(name);
  }

  /**
   * Makes room for `bytes` more held by `open` (about to grow by that much): when the budget would
   * be passed, the vector cache gives back what it must (it is a cache, and upserts fill it), then
   * idle indexes other than `open` are closed, least recently used first; if it still would, throws
   * InsufficientResourcesError and no index is changed. No budget: nothing to do.
   */
  reserve(open: OpenIndex, bytes: number, what: string): void {
    const budget = this.memoryBudgetBytes;
    if (budget === null) return;
    const vectors = this.storedItems.vectors;
    const resident = this.residentMemory().bytes;
    vectors.shrinkTo(budget - bytes - resident);
    let held = resident + vectors.bytes;
    if (held + bytes <= budget) return;
    const idle = [...this.#loaded.values()].filter((other) => other !== open && !other.inUse).sort((a, b) => a.lastUsedMs - b.lastUsedMs);
    for (const other of idle) {
      if (held + bytes <= budget) break;
      this.drop(other.name);
      held = this.residentMemory().bytes + vectors.bytes;
    }
    if (held + bytes > budget) throw new InsufficientResourcesError(bytes, budget - held, what);
  }

  /** How many indexes are decrypted in memory and the bytes they hold (vectors, codes, lists, centroids, keyword index). */
  residentMemory(): { indexes: number; bytes: number } {
    let bytes = 0;
    for (const open of this.#loaded.values()) bytes += open.memoryBytes();
    return { indexes: this.#loaded.size, bytes };
  }

  /** Closes every index; resolves once a segment set being written has finished (or failed). */
  async close(): Promise<void> {
    clearInterval(this.#sweeper);
    const segments = this.#segments?.close();
    for (const name of [...this.#loaded.keys()]) this.drop(name);
    this.#entries.clear();
    this.storedItems.vectors.clear();
    await segments;
  }

  async #startLoad(name: string, load: Promise<OpenIndex>, at: { changeSeq: number; modelVersion: number; keyVersion: number }): Promise<OpenIndex> {
    this.#entries.set(name, load);
    try {
      const open = await load;
      // A drop() while loading (the index was deleted) wins: the load's result is discarded.
      if (this.#entries.get(name) !== load) {
        open.close();
        throw new IndexNotFoundError(name);
      }
      try {
        // Loaded (so measured), not yet counted: the idle others make room for it, or it is closed again.
        this.reserve(open, open.memoryBytes(), 'Opening the index');
      } catch (error) {
        open.close();
        throw error;
      }
      this.#loaded.set(name, open);
      this.#onOpen?.(open, at);
      this.#segments?.watch(open);
      return open;
    } catch (error) {
      if (this.#entries.get(name) === load) this.#entries.delete(name);
      throw error;
    }
  }
}

/** The data key `key` unwraps, or InvalidIndexKeyError. */
export function unwrapOrThrow(key: Buffer, wrapped: Buffer, name: string): Buffer {
  try {
    return unwrapDataKey(key, wrapped, name);
  } catch (error) {
    if (error instanceof KeyUnwrapError) throw new InvalidIndexKeyError(name);
    throw error;
  }
}
