// An index while it is open in this process: its cipher, the engine that searches its vectors,
// the keyword index when it has text search, each item's id, token, revision and metadata (what
// filters and paging need), and the maps between item ids and the engine's 32-bit slots. No
// vector and no contents are kept here: the engine holds the vectors (float32 rows for IVF_FLAT
// and untrained indexes, codes only for trained IVF_SQ8 / IVF_PQ), and what the engine cannot give
// back exactly is read from the store (StoredItems, through the shared vector cache). Everything
// here is plaintext in memory; close() drops it (idle eviction, deletion).
//
// Every upsert gives an item a fresh slot (a replaced item's old slot is removed). A training
// snapshot therefore names exactly the vectors it saw: when the new model is swapped in, slots
// that were deleted or replaced meanwhile are simply absent, and newer ones are assigned by the
// engine, so no item ever keeps a list chosen for an older vector.

import { setImmediate as nextTurn } from 'node:timers/promises';
import { randomBytes } from 'node:crypto';
import type { IndexCipher } from '../../crypto/index.js';
import {
  createVectorIndex,
  defaultNProbes,
  prefaultRows,
  refineCandidates,
  scanSubset,
  type EngineSearchResult,
  type EngineStageTimings,
  type IvfModel,
  type ListContents,
  type ListImport,
  type ListShape,
  type ModelAssignment,
  type SubsetCandidate,
  type TrainingSnapshot,
  type VectorIndex,
  type VectorSource,
} from '../../engine/index.js';
import type { StoredItem } from '../../storage/index.js';
import type { AcceptedKeys } from './accepted-keys.js';
import { itemAad } from '../records/associated-data.js';
import type { IndexConfig } from '../records/index-config-record.js';
import type { ValidItem } from '../input/input-validation.js';
import { encodeItem, type DecodedItem } from '../records/item-codec.js';
import type { StoredItems } from '../records/stored-items.js';
import { IndexNotFoundError, IntegrityError } from '../errors.js';
import { toDomainError } from '../lower-layer-errors.js';
import { ITEM_TOKEN_DOMAIN } from '../records/item-token.js';
import type { Candidates, CompiledFilter } from '../input/metadata-filter.js';
import type { SealWorkers } from '../sealing/seal-workers.js';
import type { TrainedModel } from '../records/trained-model-record.js';
import type { CountedTerms } from '../text/counted-terms.js';
import { TextIndex } from '../text/text-index.js';
import type { TermTranslation } from '../text/term-translation.js';
import type { JsonObject, TrainingRun } from '../types.js';
import { ItemOrder, compareEntries, orderEntry, type OrderEntry } from './item-order.js';
import { ItemRecords, RECORD_BYTES } from './item-records.js';
import { leadingBitsOrder, type TokenPositions } from './token-positions.js';
import { MetadataIndex } from './metadata-index.js';
import { WriteLock } from './write-lock.js';
import type { OpenLaps } from './open-laps.js';
import { ResidentCommitment } from './resident-commitment.js';
import { runBetweenTurns, runToEnd } from '../../runtime/turns.js';
import { sealTagOf } from '../records/index-commitment.js';
import type { IndexSnapshot, SnapshotItem, StreamedSnapshot } from '../segments/index-snapshot.js';

/** What stays resident of an item: enough to find it, page it, filter it and tell its writes apart. */
export interface ItemRecord {
  id: string;
  token: Buffer;
  /** Random per write: tells a stored model's assignment (and a store read) whether it still describes this item. */
  revision: number;
  /** The GCM tag of its sealed record (latin1): which stored version this is (index commitment, store reads). */
  sealTag: string;
  metadata: JsonObject | null;
}

/** (token, seal tag) pairs packed back to back (32 and 16 bytes each), as a store lists them, with the ones `select` marks 1 chosen. */
export interface PackedPairs {
  tokens: Uint8Array;
  tags: Uint8Array;
  count: number;
  select: Uint8Array;
}

/** A write being applied: the record plus what goes to the engine and the keyword index and is then dropped. */
export interface ItemWrite extends ItemRecord {
  /** The vector as written (the engine may keep a normalized copy for cosine). */
  vector: Float32Array;
  contents: string | null;
}

/** What a caller asked to read back of items (from the engine or the store). */
export interface PayloadFields {
  vector: boolean;
  contents: boolean;
}

/** An item's vector and contents as read back; only the fields asked for are set. */
export interface ItemPayload {
  vector?: Float32Array;
  contents?: string | null;
}

/** What a search asks of an open index, validated. */
export interface SearchControls {
  topK: number;
  nProbes?: number;
  filter: CompiledFilter | null;
  /** Scan every list, trained or not. */
  exact?: boolean;
  /** No hit farther than this. */
  maxDistance?: number;
  /** An item id left out of the hits (a search near that item). */
  exclude?: string;
  timings?: EngineStageTimings;
  /** Codes-only indexes re-rank the best rerankMult x topK exactly (0: code distances, marked approximate). */
  rerankMult?: number;
}

export interface ModelState {
  nLists: number;
  trainedVectorCount: number;
  /** The run that trained the model (read back from the stored model after a restart). */
  run: TrainingRun;
}

/** An item sealed and ready to write, with the write applied to memory once it is durable. */
export interface PreparedItem {
  stored: StoredItem;
  record: ItemWrite;
}

/** Relative cost of sorting a candidate against stepping over an entry of the token order (measured: a 1% filter on 100,000 items pages 10x faster sorted than walked). */
const SORT_COST = 2;
/** Engine rows scanned (SIMD) in the time the direct scan handles one candidate. */
const DIRECT_SCAN_COST = 4;
/** A probe should meet at least this many times topK matching items, or the filter's matches are scanned directly. */
const FILTERED_PROBE_MARGIN = 8;
/** Above this many candidates the engine scans (widening its probe as needed). */
const MAX_DIRECT_SCAN = 200_000;
/** Candidates a re-ranked search asks the engine for, at most (its topK bound). */
const MAX_CANDIDATES = 1_000_000;
/** A codes-only index scans a filter's matches directly only up to this many (their vectors come from the store). */
const MAX_STORED_SCAN = 10_000;
/**
 * Vectors read per turn of the event loop (and per store query) when a whole codes-only index is
 * read (training, a new model): from the vector cache, 2,000 held the thread about 8 ms.
 */
const BULK_READ_PAGE = 500;
/** Slots looked at per turn of the event loop when a whole index's are listed. */
const SLOTS_PER_TURN = 16_384;
/** Passes a training snapshot reads the writes that landed during the previous one in, at most (each is shorter). */
const MAX_SOURCE_PASSES = 8;
/** Item records segmentSnapshotInSteps copies between two steps (a few ms). */
const SNAPSHOT_STEP_ITEMS = 20_000;
/** Restored lists this large go into memory another thread touched first (64 MiB: 0.2 s of page faults on this project's VMs). */
const PREFAULT_MIN_BYTES = 64 * 2 ** 20;
/**
 * Training snapshots this large do too: a snapshot is taken in one step, which holds every search
 * waiting (30,000 x 128, 15 MiB, held the sustained load's server 60 ms in fresh memory).
 */
const SNAPSHOT_PREFAULT_MIN_BYTES = 4 * 2 ** 20;

/** Owner numbers of open indexes in the shared vector cache. */
let nextCacheOwner = 1;

/** Reads of a record that did not match memory before it is left out as changed meanwhile. */
const MAX_READ_ATTEMPTS = 3;

/** Batches smaller than this are sealed on the calling thread: a worker round trip costs more. */
export const WORKER_SEAL_MIN_ITEMS = 32;

/** Where an index's sealing can be shared with worker threads. */
/** A page's text analysed elsewhere, with the translation of its term numbering (see counted-terms.ts). */
export interface CountedPage {
  terms: CountedTerms;
  translation: TermTranslation;
}

export interface SealerRegistration {
  workers: SealWorkers;
  handle: number;
}

export class OpenIndex {
  readonly name: string;
  readonly config: IndexConfig;
  readonly createdAt: Date;
  readonly cipher: IndexCipher;
  readonly keys: AcceptedKeys;
  /** Serializes writes (and the training swap) so store and memory change in the same order. */
  readonly lock = new WriteLock();
  /** The index commitment of the records in memory (rollback protection). */
  readonly commitment = new ResidentCommitment();
  lastUsedMs = Date.now();
  /** The GCM tag of the stored model the engine's lists were built with; null untrained (or not yet known). */
  modelSealTag: Buffer | null = null;
  /** Items written or deleted since the last sealed segment set (or since the open found it stale): the segment keeper's measure. */
  changesSinceSegments = 0;
  /** Whether the open read a sealed segment set (and the tail since) rather than every item record. */
  loadedFromSegments = false;
  /** Called after every change applied to memory (set by the segment keeper once the index is open). */
  onItemsChanged: (() => void) | null = null;

  #engine: VectorIndex;
  /** The BM25 index of an index created with textSearch, keyed by slot; null otherwise. */
  readonly text: TextIndex | null;
  /** The item records by slot, and the slot of each id. */
  readonly #records: ItemRecords;
  #nextSlot = 0;
  readonly #order = new ItemOrder();
  /** The order does not hold the entries of a restored set's items yet (made by the first page: #orderedEntries). */
  #orderPending = false;
  /** Equality and range lookups over the resident metadata, for filters; use #metadataLookup. */
  readonly #metadata = new MetadataIndex();
  /** The metadata index does not hold a restored set's items yet (added by the first filter: #metadataLookup). */
  #metadataPending = false;
  #model: ModelState | null = null;
  #active = 0;
  #pins = 0;
  #closed = false;

  readonly #sealer: SealerRegistration | null;
  /** Reads what memory does not keep back from the store; null only for indexes that never need it (tests). */
  readonly #stored: StoredItems | null;
  /** This index's key in the shared vector cache (unique per OpenIndex, so a reopened index never meets old entries). */
  readonly #cacheOwner = nextCacheOwner++;

  /** Whether the engine keeps every vector exactly as written (IVF_FLAT, not cosine): reads then never need the store. */
  get #keepsOriginals(): boolean {
    return this.config.type === 'ivf_flat' && this.#engine.rowsAreOriginal;
  }

  /** The sealing workers holding this index's key, if any (segment sets are sealed there too). */
  get sealer(): SealerRegistration | null {
    return this.#sealer;
  }

  /** Record padding of item records sealed here (item-codec.ts); 0 for none. */
  readonly recordBucket: number;

  constructor(
    name: string,
    config: IndexConfig,
    createdAt: Date,
    cipher: IndexCipher,
    keys: AcceptedKeys,
    sealer: SealerRegistration | null = null,
    recordBucket = 0,
    stored: StoredItems | null = null,
  ) {
    this.recordBucket = recordBucket;
    this.#stored = stored;
    this.name = name;
    this.config = config;
    this.createdAt = createdAt;
    this.cipher = cipher;
    this.keys = keys;
    this.#sealer = sealer;
    this.#engine = OpenIndex.#createEngine(config);
    this.#records = new ItemRecords((id) => this.tokenOf(id));
    this.text = config.textSearch === true ? new TextIndex({ textFields: config.textFields ?? [], textLanguage: config.textLanguage ?? 'english' }) : null;
  }

  get size(): number {
    return this.#records.size;
  }

  get isTrained(): boolean {
    return this.#engine.isTrained;
  }

  get model(): ModelState | null {
    return this.#model;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Requests running now, or training runs holding the index: either keeps it from eviction. */
  get inUse(): boolean {
    return this.#active > 0 || this.#pins > 0 || this.lock.busy;
  }

  get engine(): VectorIndex {
    return this.#engine;
  }

  /** Bytes the engine, the item records, the keyword index, the metadata index and the paging order hold (all but the engine by structure, estimates). */
  memoryBytes(): number {
    return this.#engine.memoryBytes() + this.#records.bytes + (this.text?.terms.estimateBytes() ?? 0) + this.#metadata.estimateBytes() + this.#order.estimateBytes();
  }

  /**
   * Bytes `count` more items are expected to add (for the memory budget): the current average per
   * item, or for an empty index a float32 row with its norm, id and record.
   */
  growthBytes(count: number): number {
    const perItem = this.size > 0 ? this.memoryBytes() / this.size : this.config.dimension * 4 + 4 + RECORD_BYTES;
    return Math.ceil(perItem * count);
  }

  enter(): void {
    this.#active++;
    this.lastUsedMs = Date.now();
  }

  leave(): void {
    this.#active--;
    this.lastUsedMs = Date.now();
  }

  pin(): void {
    this.#pins++;
  }

  unpin(): void {
    this.#pins--;
    this.lastUsedMs = Date.now();
  }

  tokenOf(id: string): Buffer {
    return this.cipher.token(ITEM_TOKEN_DOMAIN, id);
  }

  /**
   * Seals a validated batch; CPU only, so it runs outside the write lock. With sealing workers,
   * every batch worth a round trip is sealed there, none of it here: this thread answers the
   * searches, and each item sealed here delays them. A worker that fails leaves its share to this thread.
   */
  async prepare(items: readonly ValidItem[]): Promise<PreparedItem[]> {
    const revisions = new Uint32Array(randomBytes(4 * items.length).buffer.slice(0));
    const sealer = this.#sealer;
    const workers = Math.min(sealer?.workers.size ?? 0, Math.floor(items.length / WORKER_SEAL_MIN_ITEMS));
    if (sealer === null || workers === 0) return this.#sealRange(items, revisions, 0, items.length);
    const perWorker = Math.ceil(items.length / workers);
    const shares: { start: number; end: number; batch: Promise<{ tokens: Buffer[]; sealed: Buffer[] } | null> }[] = [];
    for (let start = 0; start < items.length; start += perWorker) {
      const end = Math.min(items.length, start + perWorker);
      const batch = sealer.workers.seal(sealer.handle, items.slice(start, end), revisions.subarray(start, end), this.recordBucket).catch(() => null);
      shares.push({ start, end, batch });
    }
    const prepared: PreparedItem[] = [];
    for (const { start, end, batch } of shares) {
      const result = await batch;
      if (result === null) {
        prepared.push(...this.#sealRange(items, revisions, start, end));
        continue;
      }
      for (let i = start; i < end; i++) {
        const item = items[i];
        const token = result.tokens[i - start];
        const sealed = result.sealed[i - start];
        prepared.push({
          stored: { token, sealed },
          record: { id: item.id, token, revision: revisions[i], sealTag: sealTagOf(sealed).toString('latin1'), vector: item.vector, contents: item.contents, metadata: item.metadata },
        });
      }
    }
    return prepared;
  }

  #sealRange(items: readonly ValidItem[], revisions: Uint32Array, start: number, end: number): PreparedItem[] {
    const prepared: PreparedItem[] = [];
    for (let i = start; i < end; i++) {
      const item = items[i];
      const token = this.tokenOf(item.id);
      const revision = revisions[i];
      const sealed = this.cipher.seal(encodeItem(item, revision, this.recordBucket), itemAad(this.name, token));
      prepared.push({
        stored: { token, sealed },
        record: { id: item.id, token, revision, sealTag: sealTagOf(sealed).toString('latin1'), vector: item.vector, contents: item.contents, metadata: item.metadata },
      });
    }
    return prepared;
  }

  /**
   * Adds or replaces items in memory; called after the store made them durable (or while loading).
   * The vectors go to the engine and the contents to the keyword index; neither is kept here.
   * `counted`: the writes' text analysed already (write i is document i of its page; an open
   * decrypted them in worker threads), in place of their contents. `remember`: new writes (not a
   * load) also go to the vector cache when the engine will not keep them exactly, so that the
   * re-ranks of searches soon after find them there instead of reading and decrypting records.
   */
  applyUpserts(writes: readonly ItemWrite[], { counted = null, remember = false }: { counted?: CountedPage | null; remember?: boolean } = {}): void {
    const cached = remember && this.#stored !== null && !this.#keepsOriginals ? this.#stored.vectors : null;
    const slots = new Uint32Array(writes.length);
    const vectors = new Float32Array(writes.length * this.config.dimension);
    const replaced: ItemRecord[] = [];
    writes.forEach((write, i) => {
      const previous = this.#records.slotOf(write.id, write.token);
      if (previous !== undefined) {
        const old = this.#records.get(previous);
        if (old !== undefined) replaced.push(old);
        this.#engine.remove(previous);
        this.#unindexMetadata(previous, old);
        this.#records.delete(previous);
        this.text?.remove(previous);
        this.#stored?.vectors.forget(this.#cacheOwner, previous);
      } else {
        this.#order.add(write.id, write.token);
      }
      const slot = this.#allocateSlot();
      this.#records.set(slot, residentRecord(write));
      this.#metadata.add(slot, write.metadata);
      // Indexed from the decrypted record now, so the term index never needs contents kept resident.
      if (counted === null) this.text?.add(slot, write.contents, write.metadata);
      else this.text?.addCounted(slot, counted.terms, i, counted.translation);
      slots[i] = slot;
      vectors.set(write.vector, i * this.config.dimension);
      cached?.set(this.#cacheOwner, slot, write.vector);
    });
    this.#engine.addBatch(slots, vectors);
    this.commitment.change(this.cipher, replaced, writes);
    this.#changed(writes.length);
  }

  /** Removes items from memory; returns how many were present. */
  applyDeletes(ids: readonly string[]): number {
    let removed = 0;
    const gone: ItemRecord[] = [];
    for (const id of ids) {
      const slot = this.#records.slotOf(id);
      if (slot === undefined) continue;
      const old = this.#records.get(slot);
      if (old !== undefined) gone.push(old);
      this.#engine.remove(slot);
      this.#unindexMetadata(slot, old);
      this.#records.delete(slot);
      this.text?.remove(slot);
      this.#stored?.vectors.forget(this.#cacheOwner, slot);
      this.#order.noteRemoved();
      removed++;
    }
    this.commitment.change(this.cipher, gone, []);
    this.#changed(removed);
    return removed;
  }

  /**
   * Replaces the contents and metadata of items in memory, keeping each one's slot, so its vector
   * in the engine (and in the vector cache), its list and the trained model are untouched. Called
   * after the store made the records durable; every id must be present (the caller checked, under
   * the write lock).
   */
  applyUpdates(writes: readonly ItemWrite[]): void {
    const replaced: ItemRecord[] = [];
    for (const write of writes) {
      const slot = this.#records.slotOf(write.id, write.token);
      if (slot === undefined) throw new Error(`applyUpdates: an item is not in index "${this.name}"`);
      const old = this.#records.get(slot);
      if (old !== undefined) replaced.push(old);
      this.#unindexMetadata(slot, old);
      this.#records.set(slot, residentRecord(write));
      if (this.#metadataIndexed(slot)) this.#metadata.add(slot, write.metadata);
      // The keyword index follows the new contents and metadata (the vector side needs nothing).
      this.text?.remove(slot);
      this.text?.add(slot, write.contents, write.metadata);
    }
    this.commitment.change(this.cipher, replaced, writes);
    this.#changed(writes.length);
  }

  #changed(count: number): void {
    this.changesSinceSegments += count;
    this.onItemsChanged?.();
  }

  /**
   * A copy of what a sealed segment set persists: every item record (metadata serialized), the
   * engine's trained lists, their ids renumbered to positions in `items`, and the term index of an
   * index with text search, one document per item in the same order. Synchronous, so it is one
   * consistent state; null when the engine is untrained.
   */
  segmentSnapshot(): IndexSnapshot | null {
    return runToEnd(this.segmentSnapshotInSteps());
  }

  /**
   * segmentSnapshot in steps of a few milliseconds each, for a caller that holds the write lock
   * throughout and lets searches run between them (segment-writer.ts): copying a large index
   * whole held the event loop for over a second.
   */
  *segmentSnapshotInSteps(): Generator<void, IndexSnapshot | null, undefined> {
    const lists = yield* this.#engine.exportListsInSteps();
    if (lists === null) return null;
    // Rows the engine keeps exact (their codes could not hold them) are left out of the set, item
    // and all: an open replays them from their records with the tail, and the engine keeps them
    // exact again. There are none or a few, so the set's format stays as it is.
    const exactSlots = new Set<number>();
    for (const list of lists.lists) {
      if (list.exact === undefined) continue;
      for (const slot of list.exact.ids) exactSlots.add(slot);
      delete list.exact;
    }
    const bySlot: SnapshotItem[] = [];
    const slotOf: number[] = [];
    // A restored set's items whose records were never made are copied from its columns as they are.
    for (const slot of this.#records.slots()) {
      if (exactSlots.has(slot)) continue;
      slotOf.push(slot);
      bySlot.push(this.#records.snapshotItem(slot));
      if (bySlot.length % SNAPSHOT_STEP_ITEMS === 0) yield;
    }
    // In the order an open compares them with the store's listing (token-positions.ts).
    const order = leadingBitsOrder(bySlot.length, (i) => bySlot[i].token);
    yield;
    const position = new Uint32Array(this.#nextSlot);
    const slots = new Uint32Array(order.length);
    const items = new Array<SnapshotItem>(order.length);
    for (let k = 0; k < order.length; k++) {
      slots[k] = slotOf[order[k]];
      position[slots[k]] = k;
      items[k] = bySlot[order[k]];
    }
    for (const list of lists.lists) for (let i = 0; i < list.ids.length; i++) list.ids[i] = position[list.ids[i]];
    return { items, lists, text: this.text === null ? null : this.text.terms.exportState(slots) };
  }

  /**
   * Has the engine touch the memory `model`'s lists will be imported into (about `items` entries)
   * while the caller reads and parses the set (engine reserveImport); nothing for a small set.
   */
  reserveSegmentLists(model: TrainedModel, items: number): void {
    if (items * this.config.dimension < PREFAULT_MIN_BYTES) return;
    const engineModel = engineModelOf(model);
    // Only a head start: a reservation that fails (no memory to grow, a model the import will
    // refuse with its own error) leaves the import to do as it always did.
    try {
      this.#engine.reserveImport(engineModel, items).catch(() => undefined);
    } catch {
      // nothing reserved
    }
  }

  /**
   * Starts giving the engine of this empty index a segment set's lists as they are read (the
   * engine's beginImport: into the memory reserveSegmentLists had touched), under `model`, the
   * stored model the set names; `items` bounds the lists' ids (the set's item positions).
   */
  beginSegmentImport(model: TrainedModel, shape: ListShape, items: number): ListImport {
    if (this.#records.size > 0) throw new Error('beginSegmentImport needs an empty index');
    return this.#engine.beginImport(engineModelOf(model), shape, items);
  }

  /**
   * Makes every item of the snapshot an item of this empty index, at the slot equal to its
   * position, before the caller knows which of them the store still holds (so this runs while the
   * store lists its tags); settleSegments then drops the others. Nothing of it is visible before
   * the open ends. `positions` finds each by its token (the snapshot's packed tokens).
   */
  restoreSegmentItems(snapshot: StreamedSnapshot, positions: TokenPositions): void {
    if (this.#records.size > 0) throw new Error('restoreSegmentItems needs an empty index');
    // Kept as the set's columns (item-records.ts); the paging order and the metadata index take
    // these items when first asked, so an open makes no object per item.
    this.#records.restore(snapshot.columns, positions);
    this.#orderPending = true;
    this.#metadataPending = true;
    this.#nextSlot = snapshot.itemCount;
  }

  /**
   * Ends the load of a snapshot whose items restoreSegmentItems made records and whose lists the
   * engine took as they were read (beginSegmentImport): the items whose `keep` flag is not set are
   * dropped again, from the records and the lists (deleted or rewritten since: the caller replays
   * their current records), the term index takes the kept items' documents (the snapshot must
   * carry one exactly when this index has text search), and the model is `model`'s. `pairs` is the
   * store's listing of (token, tag) pairs, packed, with `select` marking exactly the kept items'
   * own (the same bytes as their records'): the commitment sum is computed from them in bulk.
   */
  settleSegments(snapshot: StreamedSnapshot, keep: Uint8Array, model: TrainedModel, pairs: PackedPairs, laps?: OpenLaps): void {
    if ((this.text === null) !== (snapshot.text === null)) throw new Error('settleSegments: the snapshot has a term index exactly when the index has text search');
    if (keep.length !== snapshot.itemCount || this.#records.size !== snapshot.itemCount) throw new Error('settleSegments: the records are not the snapshot\'s items');
    let selected = 0;
    for (let i = 0; i < pairs.count; i++) selected += pairs.select[i];
    let kept = 0;
    for (let i = 0; i < keep.length; i++) kept += keep[i];
    if (selected !== kept) throw new Error('settleSegments: the pairs selected are not one per kept item');
    if (this.text !== null) this.text.terms.restoreState(snapshot.text!, keep);
    laps?.lap('term index');
    for (let slot = 0; slot < keep.length; slot++) {
      if (keep[slot] === 1) continue;
      this.#engine.remove(slot);
      this.#unindexMetadata(slot, undefined);
      this.#records.delete(slot);
      this.#order.noteRemoved();
    }
    this.#model = { nLists: model.nLists, trainedVectorCount: model.trainedVectorCount, run: model.info.run };
    this.commitment.addPacked(this.cipher, pairs.tokens, pairs.tags, pairs.count, pairs.select);
  }

  /**
   * The vectors (as written) and contents of `records`, as `fields` asks: vectors from the engine's
   * rows where they are exact (IVF_FLAT and untrained indexes, not cosine), else the vector cache,
   * else the store; contents from the store. At most one store query. A record missing from the
   * result was deleted meanwhile. A record replaced or updated meanwhile reads as the store has it now.
   */
  async payloads(records: readonly ItemRecord[], fields: PayloadFields): Promise<Map<ItemRecord, ItemPayload>> {
    const found = new Map<ItemRecord, ItemPayload>();
    const fromStore: ItemRecord[] = [];
    for (const record of records) {
      const payload: ItemPayload = {};
      found.set(record, payload);
      if (fields.contents) {
        fromStore.push(record);
        continue;
      }
      const slot = this.#records.slotOf(record.id, record.token);
      const vector = slot === undefined ? undefined : this.#residentVector(slot);
      if (vector === undefined) fromStore.push(record);
      else payload.vector = vector;
    }
    if (fromStore.length > 0) {
      const decoded = await this.#read(fromStore);
      for (const record of fromStore) {
        const item = decoded.get(record.token.toString('latin1'));
        if (item === undefined) {
          found.delete(record);
          continue;
        }
        const payload = found.get(record)!;
        if (fields.vector) payload.vector = item.vector;
        if (fields.contents) payload.contents = item.contents;
        this.#remember(item, record.token);
      }
    }
    return found;
  }

  /**
   * The whole stored records of `records` (vector, contents, metadata, revision), read in one store
   * query; absent ones were deleted from the store. For updates, which re-seal the vector unchanged.
   */
  async storedRecords(records: readonly ItemRecord[]): Promise<Map<ItemRecord, DecodedItem>> {
    const decoded = await this.#read(records);
    const found = new Map<ItemRecord, DecodedItem>();
    for (const record of records) {
      const item = decoded.get(record.token.toString('latin1'));
      if (item !== undefined) found.set(record, item);
    }
    return found;
  }

  /**
   * The vectors of engine slots as written, for re-ranking: engine rows when exact, else the
   * cache, else one store query. Slots removed meanwhile, or whose stored record is a newer write
   * than the slot's, are absent. `cache` false: a bulk read, which takes what the cache holds but
   * neither adds to it nor keeps what it reads there longer (it would flush the cache).
   */
  async vectorsOfSlots(slots: ArrayLike<number>, cache = true): Promise<Map<number, Float32Array>> {
    const found = new Map<number, Float32Array>();
    const missing: number[] = [];
    for (let i = 0; i < slots.length; i++) {
      const slot = slots[i];
      if (!this.#records.has(slot)) continue;
      const vector = this.#residentVector(slot) ?? (cache ? this.#stored?.vectors.get(this.#cacheOwner, slot) : this.#stored?.vectors.peek(this.#cacheOwner, slot));
      if (vector === undefined) missing.push(slot);
      else found.set(slot, vector);
    }
    if (missing.length === 0) return found;
    const wanted: ItemRecord[] = [];
    for (const slot of missing) {
      const record = this.#records.get(slot);
      if (record !== undefined) wanted.push(record);
    }
    const decoded = await this.#read(wanted);
    for (const slot of missing) {
      const record = this.#records.get(slot);
      const item = record === undefined ? undefined : decoded.get(record.token.toString('latin1'));
      // Only the very write this slot holds: a newer record belongs to a newer slot.
      if (item === undefined || item.revision !== record!.revision) continue;
      found.set(slot, item.vector);
      if (cache) this.#stored?.vectors.set(this.#cacheOwner, slot, item.vector);
    }
    return found;
  }

  /** The vector of `slot` from the engine when its row is exactly the vector written. */
  #residentVector(slot: number): Float32Array | undefined {
    return this.#engine.rowsAreOriginal ? this.#engine.row(slot) : undefined;
  }

  /** Caches a vector just read from the store when it is still the write its slot holds. */
  #remember(item: DecodedItem, token: Buffer): void {
    const slot = this.#records.slotOf(item.id, token);
    if (slot === undefined || this.#records.get(slot)?.revision !== item.revision || this.#engine.rowsAreOriginal && this.#engine.row(slot) !== undefined) return;
    this.#stored?.vectors.set(this.#cacheOwner, slot, item.vector);
  }

  /**
   * The stored records of `records`, decoded, by token (latin1). A record is served only if it is
   * the version memory holds, or the one this process is writing now (the same GCM tag, which the
   * index commitment binds): an older version put back, a deleted record put back, a record
   * dropped or two swapped is an IntegrityError, not data. Memory is compared with the store only
   * when it is known to be current: its commitment counter did not move during the read and the
   * store's is no further (another replica's write, or this process's own one committing, makes
   * it further). Otherwise a mismatch is read again, and at last left out as changed meanwhile.
   * Never waits for the write lock: callers holding it (updates, model swaps) read here too.
   */
  async #read(records: readonly ItemRecord[]): Promise<Map<string, DecodedItem>> {
    const stored = this.#stored;
    if (stored === null) throw new Error(`Index "${this.name}" was opened without a store to read items from.`);
    if (this.#closed) throw new IndexNotFoundError(this.name);
    try {
      const found = new Map<string, DecodedItem>();
      let pending: readonly ItemRecord[] = records;
      for (let attempt = 0; attempt < MAX_READ_ATTEMPTS && pending.length > 0; attempt++) {
        if (attempt > 0) await new Promise<void>((resolve) => setImmediate(resolve));
        const seq = this.commitment.seq;
        // Compared with what memory holds now (the caller's objects may predate a write).
        const current = pending.map((record) => this.record(record.id, record.token)).filter((record): record is ItemRecord => record !== undefined);
        const read = await this.#readChecked(stored, current);
        for (const [token, item] of read.found) found.set(token, item);
        pending = read.suspects;
        if (pending.length === 0 || this.commitment.seq !== seq) continue;
        const committed = await stored.store.readCommitment(this.name, []).catch((error: unknown) => {
          throw toDomainError(error, this.name);
        });
        if (committed !== null && committed.seq <= seq && this.commitment.seq === seq) {
          throw new IntegrityError(`item record of index "${this.name}" (not the version the index holds: rolled back, put back after deletion, dropped or swapped)`);
        }
      }
      return found;
    } finally {
      // Deleted while reading: its cipher is gone and nothing read may be used.
      if (this.#closed) throw new IndexNotFoundError(this.name); // eslint-disable-line no-unsafe-finally
    }
  }

  /** Reads and decodes `records`; those whose stored version is neither memory's nor in flight (or that are missing) are suspects. */
  async #readChecked(stored: StoredItems, records: readonly ItemRecord[]): Promise<{ found: Map<string, DecodedItem>; suspects: ItemRecord[] }> {
    const read = await stored.read(this.name, this.cipher, records.map((record) => record.token));
    const found = new Map<string, DecodedItem>();
    const suspects: ItemRecord[] = [];
    const inFlight = this.commitment.inFlight;
    for (const record of records) {
      const key = record.token.toString('latin1');
      const item = read.get(key);
      const writing = inFlight?.get(key);
      if (item !== undefined && (item.sealTag === record.sealTag || item.sealTag === writing)) found.set(key, item.item);
      else if (!(item === undefined && writing === null)) suspects.push(record);
    }
    return { found, suspects };
  }



  /**
   * Up to `first` records after the item whose token is `after` (from the start when null), in
   * token order, that `filter` accepts; `hasNextPage` when more follow. With candidates from the
   * metadata index, few of them are sorted directly; many are met by walking the order, which
   * finds the next page's matches after about first x (items / candidates) steps.
   */
  page(after: Buffer | null, first: number, filter: CompiledFilter | null): { records: ItemRecord[]; hasNextPage: boolean } {
    const candidates = filter?.candidates(this.#metadataLookup()) ?? null;
    const accepts = (slot: number, record: ItemRecord): boolean => {
      if (filter === null) return true;
      if (candidates !== null && !candidates.slots.has(slot)) return false;
      return candidates?.exact === true || filter.matches(record.metadata);
    };
    if (candidates !== null && candidates.slots.size * SORT_COST < ((first + 1) * this.size) / Math.max(1, candidates.slots.size)) {
      const cursor = after === null ? null : orderEntry('', after);
      const found = [];
      for (const slot of candidates.slots) {
        const record = this.#records.get(slot);
        if (record === undefined || !accepts(slot, record)) continue;
        const entry = orderEntry(record.id, record.token);
        if (cursor === null || compareEntries(entry, cursor) > 0) found.push({ entry, record });
      }
      found.sort((a, b) => compareEntries(a.entry, b.entry));
      return { records: found.slice(0, first).map(({ record }) => record), hasNextPage: found.length > first };
    }
    const entries = this.#orderedEntries();
    const records: ItemRecord[] = [];
    for (let i = after === null ? 0 : ItemOrder.after(entries, after); i < entries.length; i++) {
      const slot = this.#records.slotOf(entries[i].id, entries[i].token);
      const record = slot === undefined ? undefined : this.#records.get(slot);
      if (record === undefined || !accepts(slot!, record)) continue;
      if (records.length === first) return { records, hasNextPage: true };
      records.push(record);
    }
    return { records, hasNextPage: false };
  }

  /** How many items `filter` accepts (all of them when null). */
  count(filter: CompiledFilter | null): number {
    if (filter === null) return this.size;
    const candidates = filter.candidates(this.#metadataLookup());
    if (candidates?.exact === true) return candidates.slots.size;
    let count = 0;
    for (const _ of this.matching(filter)) count++;
    return count;
  }

  /** Records `filter` accepts, in no particular order (every record when null). */
  *matching(filter: CompiledFilter | null): Generator<ItemRecord> {
    const candidates = filter?.candidates(this.#metadataLookup()) ?? null;
    if (candidates === null) {
      for (const record of this.#records.values()) if (filter === null || filter.matches(record.metadata)) yield record;
      return;
    }
    for (const slot of candidates.slots) {
      const record = this.#records.get(slot);
      if (record !== undefined && (candidates.exact || filter!.matches(record.metadata))) yield record;
    }
  }

  /** The record of item `id`; `token` (the id's, when the caller has it) saves computing it. */
  record(id: string, token?: Buffer): ItemRecord | undefined {
    const slot = this.#records.slotOf(id, token);
    return slot === undefined ? undefined : this.#records.get(slot);
  }

  recordAtSlot(slot: number): ItemRecord | undefined {
    return this.#records.get(slot);
  }

  ids(): string[] {
    return this.#records.ids();
  }

  /**
   * One result list per query row of `queries` (n x dimension, row-major); `toHit` turns each
   * found record into what the caller returns, so hits are built once. `exact` scans every list
   * whatever the training state; `exclude` (an item id) never appears among the hits; no hit lies
   * beyond `maxDistance`.
   */
  async search<T>(
    queries: Float32Array,
    options: SearchControls,
    toHit: (record: ItemRecord, distance: number) => T,
  ): Promise<{ hits: T[]; exact: boolean; approximate: boolean }[]> {
    const { filter, topK } = options;
    const records = this.#records;
    const excluded = options.exclude === undefined ? undefined : this.#records.slotOf(options.exclude);
    const accepts =
      filter === null && excluded === undefined
        ? undefined
        : (slot: number) => slot !== excluded && (filter === null || filter.matches(records.get(slot)?.metadata));
    const nLists = this.#engine.nLists;
    const probing = this.#engine.isTrained && !options.exact;
    const nProbes = options.exact && nLists > 0 ? nLists : options.nProbes;
    const dimension = this.config.dimension;
    const count = queries.length / dimension;
    let results: EngineSearchResult[];
    const candidates = filter?.candidates(this.#metadataLookup()) ?? null;
    const codesOnly = this.#engine.approximate;
    if (
      candidates !== null &&
      (!codesOnly || candidates.slots.size <= MAX_STORED_SCAN) &&
      this.#scanCandidates(candidates.slots.size, topK, probing ? (nProbes ?? defaultNProbes(nLists)) / nLists : 1)
    ) {
      // A selective filter: the matching items are few, so scan exactly those (exact, and cheaper).
      const matching = await this.#matchingVectors(candidates, filter!, excluded);
      results = [];
      for (let q = 0; q < count; q++) {
        const { ids, distances } = scanSubset(this.config.metric, queries.subarray(q * dimension, (q + 1) * dimension), matching, topK);
        results.push({ ids, distances, exact: true });
      }
    } else {
      // A codes-only engine returns code distances: its best rerankMult x topK are re-ranked exactly.
      const rerank = this.#engine.approximate && (options.rerankMult ?? 0) > 0;
      const engineTopK = rerank ? Math.min(MAX_CANDIDATES, topK * (options.rerankMult as number)) : topK;
      const engineOptions = { topK: engineTopK, nProbes, filter: accepts, timings: options.timings };
      // One query is the common case: the single-query path skips the batch's grouping work.
      results = count === 1 ? [this.#engine.search(queries, engineOptions)] : this.#engine.searchBatch(queries, engineOptions);
      if (accepts !== undefined && probing) {
        // A filter that the probed lists cannot satisfy: widen the probe until topK hits or every list.
        results = results.map((result, q) => {
          let widened = result;
          let probes = nProbes ?? defaultNProbes(nLists);
          while (widened.ids.length < topK && !widened.exact && probes < nLists) {
            probes = Math.min(nLists, probes * 4);
            widened = this.#engine.search(queries.subarray(q * dimension, (q + 1) * dimension), { ...engineOptions, nProbes: probes });
          }
          return widened;
        });
      }
      if (rerank) {
        const started = options.timings ? performance.now() : 0;
        const { metric } = this.config;
        // Every query's candidates in one read (engine rows, cache, then one store query).
        const slots = new Set<number>();
        for (const result of results) for (const id of result.ids) slots.add(id);
        const vectors = await this.vectorsOfSlots([...slots]);
        const source = (slot: number): Float32Array | undefined => (records.has(slot) ? vectors.get(slot) : undefined);
        results = results.map((result, q) => refineCandidates(metric, dimension, queries.subarray(q * dimension, (q + 1) * dimension), result, source, topK));
        if (options.timings) options.timings.rerank += performance.now() - started;
      }
    }
    const maxDistance = options.maxDistance ?? Infinity;
    return results.map((result) => {
      const hits: T[] = [];
      for (let i = 0; i < result.ids.length && result.distances[i] <= maxDistance; i++) {
        const record = records.get(result.ids[i]);
        if (record !== undefined) hits.push(toHit(record, result.distances[i]));
      }
      return { hits, exact: result.exact, approximate: result.approximate === true };
    });
  }

  /** Bytes the engine holds for this index, measured. */
  get residentBytes(): number {
    return this.#engine.memoryBytes();
  }

  static #createEngine(config: IndexConfig): VectorIndex {
    const { dimension, metric, type, pqSubvectors, pqBits } = config;
    return createVectorIndex({ dimension, metric, type, ...(pqSubvectors == null ? {} : { pqSubvectors }), ...(pqBits == null ? {} : { pqBits }) });
  }

  /**
   * Whether scanning `matches` candidates directly beats the engine's scan of `fraction` of the
   * rows: the direct scan is plain JavaScript (about DIRECT_SCAN_COST engine rows per candidate),
   * and a probe that would meet fewer than a few times topK matches would miss true neighbours.
   */
  #scanCandidates(matches: number, topK: number, fraction: number): boolean {
    if (matches > MAX_DIRECT_SCAN) return false;
    const rows = this.size * fraction;
    return matches * DIRECT_SCAN_COST <= rows || (fraction < 1 && matches * fraction < FILTERED_PROBE_MARGIN * topK);
  }

  /**
   * The vectors of the filter's matches: the engine's rows when it keeps them (for cosine the
   * normalised row, which the scan's cosine treats alike), else read through the cache and store.
   */
  async #matchingVectors(candidates: Candidates, filter: CompiledFilter, excluded: number | undefined): Promise<SubsetCandidate[]> {
    const slots: number[] = [];
    for (const slot of candidates.slots) {
      if (slot === excluded) continue;
      const record = this.#records.get(slot);
      if (record !== undefined && (candidates.exact || filter.matches(record.metadata))) slots.push(slot);
    }
    const matching: SubsetCandidate[] = [];
    if (!this.#engine.approximate) {
      for (const slot of slots) {
        const vector = this.#engine.row(slot);
        if (vector !== undefined) matching.push({ id: slot, vector });
      }
      return matching;
    }
    const vectors = await this.vectorsOfSlots(slots);
    for (const slot of slots) {
      const vector = vectors.get(slot);
      if (vector !== undefined && this.#records.has(slot)) matching.push({ id: slot, vector });
    }
    return matching;
  }


  /**
   * Swaps in a trained model. `assignment` pairs engine slots with their lists (for a training
   * run, the snapshot's own ids array, which lets the engine ignore rows written since); slots no
   * longer present are ignored, items without an assignment are placed by the engine.
   * Synchronous, so no search ever sees a half-applied model.
   */
  applyModel(model: IvfModel, assignment: { ids: Uint32Array; lists: Uint32Array }, state: ModelState, source?: VectorSource): void {
    this.#engine.applyModel({ centroids: model.centroids, nLists: model.nLists, codec: model.codec }, assignment, source);
    this.#model = state;
  }

  /**
   * applyModel in steps of a few ms, each resumed from the event loop, so that searches go on
   * while the lists are rebuilt (they see the previous model until the last step swaps the new
   * one in). The caller holds the write lock throughout: writes wait until the model is in place.
   */
  async applyModelInSlices(model: IvfModel, assignment: ModelAssignment, state: ModelState): Promise<void> {
    const engine = this.#engine;
    // A codes-only engine re-encodes the vectors it did not train on: read them first (under the
    // lock the caller holds). With the lists the worker built, those are only the writes since the
    // snapshot; without, every vector.
    const source = await this.#engineSource(assignment.built ? await this.#slotsAfter(assignment.ids) : undefined);
    if (this.#closed || this.#engine !== engine) return;
    const steps = engine.applyModelInSteps({ centroids: model.centroids, nLists: model.nLists, codec: model.codec }, assignment, source);
    while (steps.next().done !== true) {
      await new Promise<void>((resolve) => setImmediate(resolve));
      // Closed meanwhile (deleted): its engine was replaced, and nothing is left to swap into.
      if (this.#closed || this.#engine !== engine) return void steps.return();
    }
    this.#model = state;
  }

  /**
   * Applies a model loaded from the store. Its assignments are keyed by token and revision; an
   * item written after training (new, or replaced) has no matching pair and the engine places it.
   */
  async applyStoredModel(model: TrainedModel): Promise<void> {
    const source = await this.#engineSource();
    const slotByToken = new Map<string, number>();
    for (const [slot, record] of this.#records.entries()) slotByToken.set(record.token.toString('latin1'), slot);
    const slots: number[] = [];
    const lists: number[] = [];
    model.tokens.forEach((token, i) => {
      const slot = slotByToken.get(token.toString('latin1'));
      if (slot !== undefined && this.#records.get(slot)!.revision === model.revisions[i]) {
        slots.push(slot);
        lists.push(model.lists[i]);
      }
    });
    this.applyModel(
      model,
      { ids: Uint32Array.from(slots), lists: Uint32Array.from(lists) },
      { nLists: model.nLists, trainedVectorCount: model.trainedVectorCount, run: model.info.run },
      source,
    );
  }

  /**
   * The engine's rows to train on; an engine that keeps only codes gets every vector read from the
   * store or the cache (in bulk). A large snapshot is copied into memory another thread has
   * touched first (engine/prefault.ts), with room for the writes that land meanwhile: the copy
   * then costs this thread about 0.07 s per GiB instead of seconds of page faults.
   */
  async trainingSnapshot(): Promise<TrainingSnapshot> {
    const rows = this.#engine.size;
    const prefaulted = rows * this.config.dimension * 4 >= SNAPSHOT_PREFAULT_MIN_BYTES ? this.#engine.allocateSnapshot(rows + Math.ceil(rows / 8)) : undefined;
    const [vectors] = await Promise.all([this.#readVectors(), prefaulted && prefaultRows(prefaulted)]);
    // Writes do not wait for a training run: those that landed while the store was read have no
    // vector in `vectors` yet, and a codes-only engine's snapshot needs every current one. Read
    // them too while they are many; the last ones are read under the write lock below.
    for (let pass = 0; vectors !== undefined && pass < MAX_SOURCE_PASSES; pass++) {
      const missing = await this.#slotsWithout(vectors);
      if (missing.length === 0) break;
      await this.#readVectors(vectors, missing);
    }
    // Copied under the write lock (no write is half in it), in steps with searches answered
    // between them: 120,000 rows held this thread 40-60 ms in one step.
    return this.lock.run(async () => {
      if (vectors !== undefined) await this.#readVectors(vectors, await this.#slotsWithout(vectors));
      return runBetweenTurns(this.#engine.trainingSnapshotInSteps(vectors && ((slot) => vectors.get(slot)), prefaulted), () => {
        if (this.#closed) throw new IndexNotFoundError(this.name);
      });
    });
  }

  /** The current slots `vectors` has no vector for. */
  #slotsWithout(vectors: Map<number, Float32Array>): Promise<number[]> {
    return this.#slotsWhere((slot) => !vectors.has(slot));
  }

  /**
   * The current slots `keep` accepts, collected in steps with searches answered between them
   * (170,000 slots held the thread 20-60 ms in one).
   */
  async #slotsWhere(keep: (slot: number) => boolean): Promise<number[]> {
    const found: number[] = [];
    let seen = 0;
    for (const slot of this.#records.slots()) {
      if (keep(slot)) found.push(slot);
      if (++seen % SLOTS_PER_TURN === 0) await nextTurn();
    }
    return found;
  }

  /**
   * For a codes-only engine, the vectors of `slots` (default every current one) read from the
   * cache or the store, as a source; undefined when the engine keeps its rows (it reads them
   * itself). Transient: dropped after the caller's use.
   */
  async #engineSource(slots?: number[]): Promise<VectorSource | undefined> {
    const vectors = await this.#readVectors(undefined, slots);
    return vectors && ((slot) => vectors.get(slot));
  }

  /** The current slots that are not among `ids` (a training snapshot's): the writes since it. */
  #slotsAfter(ids: Uint32Array): Promise<number[]> {
    let max = -1;
    for (let i = 0; i < ids.length; i++) max = Math.max(max, ids[i]);
    const taken = new Uint8Array(max + 1);
    for (let i = 0; i < ids.length; i++) taken[ids[i]] = 1;
    return this.#slotsWhere((slot) => slot > max || taken[slot] === 0);
  }

  /**
   * For a codes-only engine, the vectors of `slots` (default every current one) read from the
   * cache or the store (in bulk) into `into`; undefined when the engine keeps its rows.
   */
  async #readVectors(into = new Map<number, Float32Array>(), which?: number[]): Promise<Map<number, Float32Array> | undefined> {
    if (!this.#engine.approximate) return undefined;
    const slots = which ?? (await this.#slotsWhere(() => true));
    for (let start = 0; start < slots.length; start += BULK_READ_PAGE) {
      // Searches go between pages: a page found in the cache is read without awaiting the store.
      if (start > 0) await nextTurn();
      for (const [slot, vector] of await this.vectorsOfSlots(slots.slice(start, start + BULK_READ_PAGE), false)) into.set(slot, vector);
    }
    return into;
  }

  /** The write a decoded record read from the store applies. */
  static recordOf(item: DecodedItem, token: Buffer, sealed: Buffer): ItemWrite {
    return { id: item.id, token, revision: item.revision, sealTag: sealTagOf(sealed).toString('latin1'), vector: item.vector, contents: item.contents, metadata: item.metadata };
  }

  /** Drops every plaintext reference and destroys the cipher's keys. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#sealer !== null) this.#sealer.workers.unregister(this.#sealer.handle);
    this.cipher.destroy();
    this.keys.forget();
    this.#stored?.vectors.forgetOwner(this.#cacheOwner);
    this.#records.clear();
    this.text?.clear();
    this.#order.clear();
    this.#orderPending = false;
    this.#metadata.clear();
    this.#metadataPending = false;
    this.#engine = OpenIndex.#createEngine(this.config);
  }

  /** Bytes the resident item records hold (ids, tokens, metadata objects), estimated by structure; see docs/benchmarks.md. */
  recordBytes(): number {
    return this.#records.bytes;
  }

  /** Whether the metadata index holds (or should hold) `slot`'s metadata: not a restored set's item before the index took them. */
  #metadataIndexed(slot: number): boolean {
    return !(this.#metadataPending && this.#records.isSetSlot(slot));
  }

  /** Takes `slot`'s metadata (`record` its current record) out of the metadata index, where it is there. */
  #unindexMetadata(slot: number, record: ItemRecord | undefined): void {
    if (this.#metadataIndexed(slot)) this.#metadata.remove(slot, (record ?? this.#records.get(slot))?.metadata ?? null);
  }

  /** The metadata index, first given a restored set's items (their metadata parsed, no record made) if it has not had them. */
  #metadataLookup(): MetadataIndex {
    if (this.#metadataPending) {
      this.#metadataPending = false;
      const count = this.#nextSlot;
      for (let slot = 0; slot < count && this.#records.isSetSlot(slot); slot++) {
        if (this.#records.has(slot)) this.#metadata.add(slot, this.#records.metadataAt(slot));
      }
    }
    return this.#metadata;
  }

  /** The paging order's entries, first given a restored set's items if it has not had them. */
  #orderedEntries(): readonly OrderEntry[] {
    if (this.#orderPending) {
      this.#orderPending = false;
      for (const { id, token } of this.#records.setItemKeys()) this.#order.add(id, token);
    }
    return this.#order.entries((id, token) => this.#records.slotOf(id, token) !== undefined);
  }

  #allocateSlot(): number {
    if (this.#nextSlot > 0xffff_fffe) throw new Error(`Index "${this.name}" ran out of slots; reopen it to compact them.`);
    return this.#nextSlot++;
  }
}

/** The resident part of a write: a fresh object, so nothing keeps the write's vector or contents alive. */
function residentRecord(write: ItemWrite): ItemRecord {
  return { id: write.id, token: write.token, revision: write.revision, sealTag: write.sealTag, metadata: write.metadata };
}

/** The engine's model of a stored one: the same centroids array, which is how an import finds its reservation. */
function engineModelOf(model: TrainedModel): IvfModel {
  return { centroids: model.centroids, nLists: model.nLists, ...(model.codec ? { codec: model.codec } : {}) };
}

