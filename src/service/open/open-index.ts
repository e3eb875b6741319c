// An index while it is open in this process: its cipher, the decrypted items, the engine that
// searches them, the keyword index when it has text search, and the maps between item ids and
// the engine's 32-bit slots. Everything here is plaintext in memory; close() drops it (idle
// eviction, deletion).
//
// Every upsert gives an item a fresh slot (a replaced item's old slot is removed). A training
// snapshot therefore names exactly the vectors it saw: when the new model is swapped in, slots
// that were deleted or replaced meanwhile are simply absent, and newer ones are assigned by the
// engine, so no item ever keeps a list chosen for an older vector.

import { randomBytes } from 'node:crypto';
import type { IndexCipher } from '../../crypto/index.js';
import {
  createVectorIndex,
  defaultNProbes,
  refineCandidates,
  scanSubset,
  type EngineSearchResult,
  type EngineStageTimings,
  type IvfModel,
  type ModelAssignment,
  type SubsetCandidate,
  type TrainingSnapshot,
  type VectorIndex,
} from '../../engine/index.js';
import type { StoredItem } from '../../storage/index.js';
import type { AcceptedKeys } from './accepted-keys.js';
import { itemAad } from '../records/associated-data.js';
import type { IndexConfig } from '../records/index-config-record.js';
import type { ValidItem } from '../input/input-validation.js';
import { encodeItem, type DecodedItem } from '../records/item-codec.js';
import { ITEM_TOKEN_DOMAIN } from '../records/item-token.js';
import type { Candidates, CompiledFilter } from '../input/metadata-filter.js';
import type { SealWorkers } from '../sealing/seal-workers.js';
import type { TrainedModel } from '../records/trained-model-record.js';
import { TextIndex } from '../text/text-index.js';
import type { JsonObject, TrainingRun } from '../types.js';
import { ItemOrder, compareEntries, orderEntry } from './item-order.js';
import { MetadataIndex } from './metadata-index.js';
import { WriteLock } from './write-lock.js';

export interface ItemRecord {
  id: string;
  token: Buffer;
  /** Random per write: tells a stored model's assignment whether it still describes this item. */
  revision: number;
  /** The vector as stored (the engine may keep a normalized copy for cosine). */
  vector: Float32Array;
  contents: string | null;
  metadata: JsonObject | null;
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

/** An item sealed and ready to write, with the record it becomes in memory once written. */
export interface PreparedItem {
  stored: StoredItem;
  record: ItemRecord;
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

/** Batches smaller than this are sealed on the calling thread: a worker round trip costs more. */
export const PARALLEL_SEAL_MIN_ITEMS = 512;

/** Where an index's sealing can be shared with worker threads. */
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
  lastUsedMs = Date.now();

  #engine: VectorIndex;
  /** The BM25 index of an index created with textSearch, keyed by slot; null otherwise. */
  readonly text: TextIndex | null;
  readonly #slotById = new Map<string, number>();
  readonly #records = new Map<number, ItemRecord>();
  #nextSlot = 0;
  readonly #order = new ItemOrder();
  /** Equality and range lookups over the resident metadata, for filters. */
  readonly #metadata = new MetadataIndex();
  #model: ModelState | null = null;
  #active = 0;
  #pins = 0;
  #closed = false;

  readonly #sealer: SealerRegistration | null;

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
  ) {
    this.recordBucket = recordBucket;
    this.name = name;
    this.config = config;
    this.createdAt = createdAt;
    this.cipher = cipher;
    this.keys = keys;
    this.#sealer = sealer;
    this.#engine = OpenIndex.#createEngine(config);
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

  /** Bytes the engine, the keyword index, the metadata index and the paging order hold (the last three by structure, estimates). */
  memoryBytes(): number {
    return this.#engine.memoryBytes() + (this.text?.terms.estimateBytes() ?? 0) + this.#metadata.estimateBytes() + this.#order.estimateBytes();
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
   * Seals a validated batch; CPU only, so it runs outside the write lock. Large batches are split
   * between this thread and the sealing workers; a worker that fails leaves its share to this thread.
   */
  async prepare(items: readonly ValidItem[]): Promise<PreparedItem[]> {
    const revisions = new Uint32Array(randomBytes(4 * items.length).buffer.slice(0));
    const sealer = this.#sealer;
    const workers = sealer?.workers.size ?? 0;
    if (sealer === null || workers === 0 || items.length < PARALLEL_SEAL_MIN_ITEMS) return this.#sealRange(items, revisions, 0, items.length);
    const local = sealer.workers.localShare(items.length);
    const perWorker = Math.ceil((items.length - local) / workers);
    const started = performance.now();
    const remote: { start: number; end: number; batch: Promise<{ tokens: Buffer[]; sealed: Buffer[] } | null> }[] = [];
    for (let start = local; start < items.length; start += perWorker) {
      const end = Math.min(items.length, start + perWorker);
      // Only what the worker needs crosses the thread boundary (each field is copied).
      const sealable = items.slice(start, end).map(({ id, vector, contents, metadataJson }) => ({ id, vector, contents, metadataJson }));
      const batch = sealer.workers.seal(sealer.handle, sealable, revisions.subarray(start, end), this.recordBucket).catch(() => null);
      remote.push({ start, end, batch });
    }
    const prepared = this.#sealRange(items, revisions, 0, local);
    const localMs = performance.now() - started;
    for (const { start, end, batch } of remote) {
      const result = await batch;
      if (result === null) {
        prepared.push(...this.#sealRange(items, revisions, start, end));
        continue;
      }
      if (start === local) sealer.workers.recordSplit(local, localMs, end - start, performance.now() - started);
      for (let i = start; i < end; i++) {
        const item = items[i];
        const token = result.tokens[i - start];
        prepared.push({
          stored: { token, sealed: result.sealed[i - start] },
          record: { id: item.id, token, revision: revisions[i], vector: item.vector, contents: item.contents, metadata: item.metadata },
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
        record: { id: item.id, token, revision, vector: item.vector, contents: item.contents, metadata: item.metadata },
      });
    }
    return prepared;
  }

  /** Adds or replaces items in memory; called after the store made them durable (or while loading). */
  applyUpserts(records: readonly ItemRecord[]): void {
    const slots = new Uint32Array(records.length);
    const vectors = new Float32Array(records.length * this.config.dimension);
    records.forEach((record, i) => {
      const previous = this.#slotById.get(record.id);
      if (previous !== undefined) {
        this.#engine.remove(previous);
        this.#metadata.remove(previous, this.#records.get(previous)?.metadata ?? null);
        this.#records.delete(previous);
        this.text?.remove(previous);
      } else {
        this.#order.add(record.id, record.token);
      }
      const slot = this.#allocateSlot();
      this.#slotById.set(record.id, slot);
      this.#records.set(slot, record);
      this.#metadata.add(slot, record.metadata);
      // Indexed from the decrypted record now, so the term index never needs contents kept resident.
      this.text?.add(slot, record.contents, record.metadata);
      slots[i] = slot;
      vectors.set(record.vector, i * this.config.dimension);
    });
    this.#engine.addBatch(slots, vectors);
  }

  /** Removes items from memory; returns how many were present. */
  applyDeletes(ids: readonly string[]): number {
    let removed = 0;
    for (const id of ids) {
      const slot = this.#slotById.get(id);
      if (slot === undefined) continue;
      this.#engine.remove(slot);
      this.#metadata.remove(slot, this.#records.get(slot)?.metadata ?? null);
      this.#records.delete(slot);
      this.text?.remove(slot);
      this.#slotById.delete(id);
      this.#order.noteRemoved();
      removed++;
    }
    return removed;
  }

  /**
   * Replaces the contents and metadata of items in memory, keeping each one's slot, so its vector
   * (the very same array), its list and the trained model are untouched. Called after the store
   * made the records durable; every id must be present (the caller checked, under the write lock).
   */
  applyUpdates(records: readonly ItemRecord[]): void {
    for (const record of records) {
      const slot = this.#slotById.get(record.id);
      if (slot === undefined) throw new Error(`applyUpdates: an item is not in index "${this.name}"`);
      this.#metadata.remove(slot, this.#records.get(slot)?.metadata ?? null);
      this.#records.set(slot, record);
      this.#metadata.add(slot, record.metadata);
      // The keyword index follows the new contents and metadata (the vector side needs nothing).
      this.text?.remove(slot);
      this.text?.add(slot, record.contents, record.metadata);
    }
  }

  /**
   * Up to `first` records after the item whose token is `after` (from the start when null), in
   * token order, that `filter` accepts; `hasNextPage` when more follow. With candidates from the
   * metadata index, few of them are sorted directly; many are met by walking the order, which
   * finds the next page's matches after about first x (items / candidates) steps.
   */
  page(after: Buffer | null, first: number, filter: CompiledFilter | null): { records: ItemRecord[]; hasNextPage: boolean } {
    const candidates = filter?.candidates(this.#metadata) ?? null;
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
    const entries = this.#order.entries((id) => this.#slotById.has(id));
    const records: ItemRecord[] = [];
    for (let i = after === null ? 0 : ItemOrder.after(entries, after); i < entries.length; i++) {
      const slot = this.#slotById.get(entries[i].id);
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
    const candidates = filter.candidates(this.#metadata);
    if (candidates?.exact === true) return candidates.slots.size;
    let count = 0;
    for (const _ of this.matching(filter)) count++;
    return count;
  }

  /** Records `filter` accepts, in no particular order (every record when null). */
  *matching(filter: CompiledFilter | null): Generator<ItemRecord> {
    const candidates = filter?.candidates(this.#metadata) ?? null;
    if (candidates === null) {
      for (const record of this.#records.values()) if (filter === null || filter.matches(record.metadata)) yield record;
      return;
    }
    for (const slot of candidates.slots) {
      const record = this.#records.get(slot);
      if (record !== undefined && (candidates.exact || filter!.matches(record.metadata))) yield record;
    }
  }

  record(id: string): ItemRecord | undefined {
    const slot = this.#slotById.get(id);
    return slot === undefined ? undefined : this.#records.get(slot);
  }

  recordAtSlot(slot: number): ItemRecord | undefined {
    return this.#records.get(slot);
  }

  ids(): string[] {
    return [...this.#slotById.keys()];
  }

  /**
   * One result list per query row of `queries` (n x dimension, row-major); `toHit` turns each
   * found record into what the caller returns, so hits are built once. `exact` scans every list
   * whatever the training state; `exclude` (an item id) never appears among the hits; no hit lies
   * beyond `maxDistance`.
   */
  search<T>(
    queries: Float32Array,
    options: SearchControls,
    toHit: (record: ItemRecord, distance: number) => T,
  ): { hits: T[]; exact: boolean; approximate: boolean }[] {
    const { filter, topK } = options;
    const records = this.#records;
    const excluded = options.exclude === undefined ? undefined : this.#slotById.get(options.exclude);
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
    const candidates = filter?.candidates(this.#metadata) ?? null;
    if (candidates !== null && this.#scanCandidates(candidates.slots.size, topK, probing ? (nProbes ?? defaultNProbes(nLists)) / nLists : 1)) {
      // A selective filter: the matching items are few, so scan exactly those (exact, and cheaper).
      const matching = [...this.#matchingVectors(candidates, filter!, excluded)];
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
        results = results.map((result, q) => refineCandidates(metric, dimension, queries.subarray(q * dimension, (q + 1) * dimension), result, this.#vectorOf, topK));
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

  *#matchingVectors(candidates: Candidates, filter: CompiledFilter, excluded: number | undefined): Generator<SubsetCandidate> {
    for (const slot of candidates.slots) {
      if (slot === excluded) continue;
      const record = this.#records.get(slot);
      if (record !== undefined && (candidates.exact || filter.matches(record.metadata))) yield { id: slot, vector: record.vector };
    }
  }


  /**
   * Swaps in a trained model. `assignment` pairs engine slots with their lists (for a training
   * run, the snapshot's own ids array, which lets the engine ignore rows written since); slots no
   * longer present are ignored, items without an assignment are placed by the engine.
   * Synchronous, so no search ever sees a half-applied model.
   */
  applyModel(model: IvfModel, assignment: { ids: Uint32Array; lists: Uint32Array }, state: ModelState): void {
    this.#engine.applyModel({ centroids: model.centroids, nLists: model.nLists, codec: model.codec }, assignment, this.#vectorOf);
    this.#model = state;
  }

  /**
   * applyModel in steps of a few ms, each resumed from the event loop, so that searches go on
   * while the lists are rebuilt (they see the previous model until the last step swaps the new
   * one in). The caller holds the write lock throughout: writes wait until the model is in place.
   */
  async applyModelInSlices(model: IvfModel, assignment: ModelAssignment, state: ModelState): Promise<void> {
    const engine = this.#engine;
    const steps = engine.applyModelInSteps({ centroids: model.centroids, nLists: model.nLists, codec: model.codec }, assignment, this.#vectorOf);
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
  applyStoredModel(model: TrainedModel): void {
    const slotByToken = new Map<string, number>();
    for (const [slot, record] of this.#records) slotByToken.set(record.token.toString('latin1'), slot);
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
    );
  }

  /** The engine's rows to train on (an engine that keeps only codes reads the vectors here). */
  trainingSnapshot(): TrainingSnapshot {
    return this.#engine.trainingSnapshot(this.#vectorOf);
  }

  readonly #vectorOf = (slot: number): Float32Array | undefined => this.#records.get(slot)?.vector;

  /** Plaintext records for a decoded batch read from the store. */
  static recordOf(item: DecodedItem, token: Buffer): ItemRecord {
    return { id: item.id, token, revision: item.revision, vector: item.vector, contents: item.contents, metadata: item.metadata };
  }

  /** Drops every plaintext reference and destroys the cipher's keys. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#sealer !== null) this.#sealer.workers.unregister(this.#sealer.handle);
    this.cipher.destroy();
    this.keys.forget();
    for (const record of this.#records.values()) record.vector.fill(0);
    this.#records.clear();
    this.#slotById.clear();
    this.text?.clear();
    this.#order.clear();
    this.#metadata.clear();
    this.#engine = OpenIndex.#createEngine(this.config);
  }

  #allocateSlot(): number {
    if (this.#nextSlot > 0xffff_fffe) throw new Error(`Index "${this.name}" ran out of slots; reopen it to compact them.`);
    return this.#nextSlot++;
  }
}
