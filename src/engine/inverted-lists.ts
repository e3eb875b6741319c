// The inverted lists: each list keeps its rows in one contiguous heap block (rows first, then
// their squared norms, then, when a list codec stores codes, their codes) beside an array of their ids,
// and a locator maps an id to its list and position. Removal moves the list's last row into the
// hole, so lists stay dense: a scan never meets a dead row, however many removals came before.
// The blocks are spread over the memories of a ListMemories, each list wholly in one of them.
// Codes-only lists keep the rows their codec cannot code within its resolution exact, beside the
// blocks (exact-rows.ts); the locator tells such an entry by its position's top bit. Lists with
// rows and int8 pre-scan codes (IVF_FLAT) keep every row in the block and note the ids whose code
// sits at the codes' edge (clamped, or nearly): scans score those exactly from their rows too.
import { BlockArena, type Block } from './block-arena.js';
import { ExactRows } from './exact-rows.js';
import { alignUp, type KernelHeap } from './kernel-heap.js';
import { ROW_TILE } from './kernels.js';
import type { ListCodec } from './list-codec.js';
import type { ExactEntries, ListEntries, ListRegions } from './list-contents.js';
import { ADDRESS_SPAN, ListMemories } from './list-memories.js';
import { SlotLocator } from './slot-locator.js';
import type { TopK } from './top-k.js';

const GROWTH = 1.5;

/** A list entry's code written beforehand (a batch encoded at once): `codeBytes` from byte `at`. */
export interface EncodedCode {
  codes: Int8Array;
  at: number;
  /** The codec's encode returned false for this row: codes-only lists keep it exact instead. */
  misfit?: boolean;
}

/** Added to a slot's position when the entry is one of its list's exact rows (the position is then theirs). */
const EXACT = 2 ** 31;
/** Estimated bytes a JS Map spends per entry (key, value, chain link, buckets, slack). */
const MAP_ENTRY_BYTES = 40;

/**
 * Lists laid out in memories by another thread (list-build.ts), for `InvertedLists` to adopt:
 * each list's memory (an index into the memories handed over with these blocks), block offset
 * and capacity (rows), its length and its ids by position.
 */
export interface ListBlocks {
  memories: Uint32Array;
  offsets: Float64Array;
  capacities: Uint32Array;
  lengths: Uint32Array;
  ids: Uint32Array[];
  /** Each list's exact rows (codes-only lists), when any list has some. */
  exact?: (ExactEntries | undefined)[];
  /** Each list's ids with an edge code (lists with rows and codes), when any list has some. */
  edge?: (Uint32Array | undefined)[];
}

const NO_IDS = new Uint32Array(0);

/**
 * Whether the `bytes` int8 codes from byte `at` (both multiples of 4, as code rows are) hold a code
 * at the edge of the range, +-127: a value clamped there (beyond the fitted range, so the code is
 * far from the row) or within half a step of it. Read off the codes alone, so lists restored from
 * their codes find the same rows. Four codes a step (a zero byte of the word xor 0x7f or 0x81 is
 * such a code): a test code by code took 2 ms per MiB, 1.5 s for a 1 M x 768 IVF_FLAT import.
 */
export function hasEdgeCode(u32: Uint32Array, at: number, bytes: number): boolean {
  for (let w = at >> 2, end = (at + bytes) >> 2; w < end; w++) {
    const high = u32[w] ^ 0x7f7f7f7f;
    const low = u32[w] ^ 0x81818181;
    if ((((high - 0x01010101) & ~high) | ((low - 0x01010101) & ~low)) & 0x80808080) return true;
  }
  return false;
}

function roundToTile(rows: number): number {
  return Math.max(ROW_TILE, Math.ceil(rows / ROW_TILE) * ROW_TILE);
}

export class InvertedLists {
  private listCount: number;
  readonly rowBytes: number;
  /** Bytes of codes per row (0 without a codec that stores codes). */
  readonly codeBytes: number;
  private readonly stride: number;
  /** Bytes per row in a block: the row, its norm, its codes. */
  private readonly slotBytes: number;
  private readonly memories: ListMemories;
  private readonly blocks: Block[];
  /** The memory each list's block is in. */
  private homes: Uint32Array;
  private capacities: Uint32Array;
  private lengths: Uint32Array;
  private readonly listIds: Uint32Array[];
  // id -> slot; a slot holds the id's list, position and the epoch it was written in. Slots keep
  // the per-vector bookkeeping in typed arrays rather than one object per vector.
  private readonly locator: SlotLocator;
  private slotList: Uint32Array;
  private slotPos: Uint32Array;
  private slotEpoch: Uint32Array;
  private readonly freeSlots: number[];
  private slotsUsed: number;
  /** Codes-only lists whose codec may not hold a row: the rows kept exact instead; else null. */
  private readonly exact: ExactRows | null;
  /** Where a row's code is written first, to learn whether it holds the row (lists with `exact`). */
  private readonly trialCode: Int8Array;
  /**
   * Lists with rows and codes: per list, the ids whose code has an edge value (hasEdgeCode). Their
   * code's score may be far from the row's (IVF_FLAT's pre-scan range was fitted at training, and
   * later writes may lie outside it), so approximate scans offer them once more with their exact
   * score (offerApart), and they always reach the exact re-rank fairly. Null for other lists.
   */
  private readonly edge: (Set<number> | undefined)[] | null;
  private edgeRows = 0;

  /**
   * `expected[l]` rows are reserved in list l up front (a rebuild knows the final sizes). A
   * rebuild passes the lists it replaces as `previous`: the new lists take over its ids and their
   * slots (copies of the slot tables, the same id map, unchanged while rebuilding) and are filled
   * with `appendSlot`, so that no id is hashed again and `previous` stays valid until the swap.
   * With `adopted`, the lists are the blocks already written in the arena's memory (their ids
   * still without slots: `settle` gives them theirs) and `expected` is ignored. With 'on-import',
   * no list has a block until importList gives it one sized for its entries (an import that learns
   * each list's size as it arrives). A bare arena stands for one memory without a limit.
   */
  constructor(
    memories: ListMemories | BlockArena,
    stride: number,
    count: number,
    expected?: ArrayLike<number> | 'on-import',
    private readonly codec: ListCodec | null = null,
    previous?: InvertedLists,
    adopted?: ListBlocks,
  ) {
    this.memories = memories instanceof BlockArena ? ListMemories.single(memories) : memories;
    this.locator = previous ? previous.locator : new SlotLocator();
    this.slotList = previous ? previous.slotList.slice() : new Uint32Array(16);
    this.slotPos = previous ? previous.slotPos.slice() : new Uint32Array(16);
    this.slotEpoch = previous ? previous.slotEpoch.slice() : new Uint32Array(16);
    this.freeSlots = previous ? previous.freeSlots.slice() : [];
    this.slotsUsed = previous ? previous.slotsUsed : 0;
    this.listCount = count;
    this.stride = stride;
    this.rowBytes = stride * 4;
    this.codeBytes = codec ? codec.codeBytes : 0;
    this.slotBytes = this.rowBytes + 4 + this.codeBytes;
    this.exact = stride === 0 && codec?.exactDimension !== undefined ? new ExactRows(codec.exactDimension) : null;
    this.trialCode = new Int8Array(this.exact ? this.codeBytes : 0);
    this.edge = stride > 0 && this.codeBytes > 0 ? [] : null;
    this.blocks = new Array<Block>(count);
    this.homes = new Uint32Array(count);
    this.capacities = new Uint32Array(count);
    this.lengths = new Uint32Array(count);
    this.listIds = new Array<Uint32Array>(count);
    for (let l = 0; l < count; l++) {
      if (adopted) {
        this.capacities[l] = adopted.capacities[l];
        this.lengths[l] = adopted.lengths[l];
        this.homes[l] = adopted.memories[l];
        this.blocks[l] = this.memories.adopt(adopted.memories[l], adopted.offsets[l], adopted.capacities[l] * this.slotBytes);
        this.listIds[l] = adopted.ids[l];
        for (const id of adopted.edge?.[l] ?? NO_IDS) this.markEdge(l, id);
        const exact = adopted.exact?.[l];
        if (exact) {
          if (!this.exact) throw new RangeError('exact rows adopted by lists that keep none');
          this.exact.adopt(l, exact);
        }
        continue;
      }
      if (expected === 'on-import') {
        this.listIds[l] = NO_IDS;
        continue;
      }
      const capacity = roundToTile(expected ? expected[l] : 0);
      this.capacities[l] = capacity;
      const { memory, block } = this.memories.alloc(capacity * this.slotBytes);
      this.homes[l] = memory;
      this.blocks[l] = block;
      this.listIds[l] = new Uint32Array(capacity);
    }
  }

  get size(): number {
    return this.locator.size;
  }

  get count(): number {
    return this.listCount;
  }

  /**
   * Adds an empty list and returns its number: an untrained index starts another list (in
   * another memory) when its last one reaches the per-memory limit, so that it too may outgrow
   * one memory.
   */
  addList(): number {
    const list = this.listCount++;
    const widen = (a: Uint32Array): Uint32Array => {
      const b = new Uint32Array(this.listCount);
      b.set(a);
      return b;
    };
    this.homes = widen(this.homes);
    this.capacities = widen(this.capacities);
    this.lengths = widen(this.lengths);
    const { memory, block } = this.memories.alloc(ROW_TILE * this.slotBytes);
    this.homes[list] = memory;
    this.blocks.push(block);
    this.capacities[list] = ROW_TILE;
    this.listIds.push(new Uint32Array(ROW_TILE));
    return list;
  }

  /** Bytes the block of `list` would take after its next growth (when it is full). */
  grownBytes(list: number): number {
    return alignUp(roundToTile(Math.ceil(this.lengths[list] * GROWTH)) * this.slotBytes);
  }

  /** Entries of `list` in its block (what a scan of its codes or rows covers; its exact rows are apart). */
  length(list: number): number {
    return this.lengths[list];
  }

  /** Rows of `list` kept exact beside its codes (codes-only lists). */
  exactLength(list: number): number {
    return this.exact ? this.exact.length(list) : 0;
  }

  /** Exact rows over every list: none on in-distribution data. */
  get exactCount(): number {
    return this.exact ? this.exact.size : 0;
  }

  /** Ids of `list`'s exact rows by position; entries past exactLength(list) are stale. */
  exactIds(list: number): Uint32Array {
    return this.exact ? this.exact.ids(list) : NO_IDS;
  }

  /** The exact row at `position` of `list` (a view, dimension floats) and its squared norm. */
  exactRow(list: number, position: number): { row: Float32Array; norm: number } {
    const exact = this.exact as ExactRows;
    return { row: exact.row(list, position), norm: exact.norm(list, position) };
  }

  /** Rows whose code has an edge value, over every list (rows lists with codes): none on in-distribution data. */
  get edgeCount(): number {
    return this.edgeRows;
  }

  /** Whether an approximate scan of `list` has rows to score apart from its codes (offerApart). */
  hasApart(list: number): boolean {
    return this.exactLength(list) > 0 || this.edge?.[list] !== undefined;
  }

  /**
   * Offers the rows of `list` an approximate scan scores apart from its codes, with the score a
   * code scan gives a row: ||x||^2 - 2 q.x + `constant` (twice the query's constant the codes
   * leave out: ListCodec.queryConstant), q.x exact, for the float32 query at float index `from` of
   * `query`: a codes-only list's exact rows (ExactRows.offer), and the rows with an edge code of
   * a list with rows, these carrying their row's address for the re-rank (the code scan may have
   * offered them too: the re-rank keeps one of the two).
   */
  offerApart(best: TopK, list: number, query: Float32Array, from: number, constant: number, filter?: (id: number) => boolean): void {
    this.exact?.offer(best, list, query, from, constant, filter);
    const ids = this.edge?.[list];
    if (ids === undefined) return;
    const f32 = this.heapOf(list).f32;
    const rows = this.blocks[list].offset >> 2;
    const norms = this.normsAt(list) >> 2;
    const address = this.rowsAddress(list);
    for (const id of ids) {
      const position = this.slotPos[this.locator.get(id) as number];
      let dot = 0;
      for (let t = 0, at = rows + position * this.stride; t < this.stride; t++) dot += query[from + t] * f32[at + t];
      best.offer(f32[norms + position] - 2 * dot + constant, id, filter, address + position * this.rowBytes);
    }
  }

  private markEdge(list: number, id: number): void {
    const edge = this.edge as (Set<number> | undefined)[];
    const ids = (edge[list] ??= new Set());
    if (ids.has(id)) return;
    ids.add(id);
    this.edgeRows++;
  }

  private unmarkEdge(list: number, id: number): void {
    const ids = this.edge?.[list];
    if (ids === undefined || !ids.delete(id)) return;
    this.edgeRows--;
    if (ids.size === 0) (this.edge as (Set<number> | undefined)[])[list] = undefined;
  }

  /** Rows the heap block of `list` can hold: a multiple of ROW_TILE, so kernels may overrun `length`. */
  capacity(list: number): number {
    return this.capacities[list];
  }

  /** The memory `list` is in (an index into the ListMemories). */
  memoryOf(list: number): number {
    return this.homes[list];
  }

  /** The heap of the memory `list` is in: where its offsets point and its scan runs. */
  heapOf(list: number): KernelHeap {
    return this.memories.heap(this.homes[list]);
  }

  /** The memories the lists are spread over. */
  get memorySet(): ListMemories {
    return this.memories;
  }

  /** rowsAt(list) as an address across memories (memory * ADDRESS_SPAN + offset): what candidates carry. */
  rowsAddress(list: number): number {
    return this.homes[list] * ADDRESS_SPAN + this.blocks[list].offset;
  }

  /** Byte offset of the first row of `list` in its memory; valid until the next allocation there. */
  rowsAt(list: number): number {
    return this.blocks[list].offset;
  }

  /** Byte offset of the squared norms of `list`'s rows. */
  normsAt(list: number): number {
    return this.blocks[list].offset + this.capacities[list] * this.rowBytes;
  }

  /** Byte offset of the codes of `list`'s rows (when the codec stores codes). */
  codesAt(list: number): number {
    return this.blocks[list].offset + this.capacities[list] * (this.rowBytes + 4);
  }

  /** Ids of `list` by position; entries past `length(list)` are stale. */
  ids(list: number): Uint32Array {
    return this.listIds[list];
  }

  has(id: number): boolean {
    return this.locator.has(id);
  }

  listOf(id: number): number {
    const slot = this.locator.get(id);
    return slot === undefined ? -1 : this.slotList[slot];
  }

  /**
   * Address of the row stored for `id` (memory * ADDRESS_SPAN + byte offset: the offset itself
   * in memory 0), or -1.
   */
  rowOf(id: number): number {
    const slot = this.locator.get(id);
    if (slot === undefined || this.slotPos[slot] >= EXACT) return -1;
    const list = this.slotList[slot];
    return this.homes[list] * ADDRESS_SPAN + this.blocks[list].offset + this.slotPos[slot] * this.rowBytes;
  }

  /** The epoch `id` was last written in, or -1 when absent. */
  epochOf(id: number): number {
    const slot = this.locator.get(id);
    return slot === undefined ? -1 : this.slotEpoch[slot];
  }

  /** The bookkeeping slot of `id`, or -1; slots are below `slotCount`. */
  slotOf(id: number): number {
    const slot = this.locator.get(id);
    return slot === undefined ? -1 : slot;
  }

  get slotCount(): number {
    return this.slotsUsed;
  }

  epochOfSlot(slot: number): number {
    return this.slotEpoch[slot];
  }

  /**
   * Appends `id` (absent from every list) to `list` with the row found `sourceDelta` bytes into
   * `source`, a block of the primary memory (read after any compaction this append causes). Its
   * code is `code` when given, else the codec encodes the row. Lists without rows (stride 0) keep
   * only the norm and the code.
   */
  append(list: number, id: number, source: Block, sourceDelta: number, norm: number, epoch: number, code?: EncodedCode): void {
    if (this.exact) {
      // Before anything is allocated: the source block cannot have moved yet.
      const from = (source.offset + sourceDelta) >> 2;
      const coded = this.codeOf(list, this.memories.heap(0).f32, from, code);
      if (coded === null) {
        this.takeExact(list, id, this.memories.heap(0).f32, from, norm, epoch);
        return;
      }
      code = coded;
    }
    const position = this.lengths[list];
    if (position === this.capacities[list]) this.resize(list, roundToTile(Math.ceil(position * GROWTH)));
    const sourceF32 = this.memories.heap(0).f32;
    const f32 = this.heapOf(list).f32;
    const target = (this.blocks[list].offset + position * this.rowBytes) >> 2;
    const from = (source.offset + sourceDelta) >> 2;
    if (f32 === sourceF32) f32.copyWithin(target, from, from + this.stride);
    else f32.set(sourceF32.subarray(from, from + this.stride), target);
    this.place(list, position, id, norm, epoch, sourceF32, from, code);
  }

  /**
   * Lists with exact rows: the code of the row at `from` of `source` for `list` (`code` when given,
   * else encoded now), or null when the codec cannot hold the row (it is kept exact instead).
   */
  private codeOf(list: number, source: Float32Array, from: number, code?: EncodedCode): EncodedCode | null {
    if (code) return code.misfit === true ? null : code;
    return (this.codec as ListCodec).encode(source, from, this.trialCode, 0, list) ? { codes: this.trialCode, at: 0 } : null;
  }

  /** Keeps the row at `from` of `source` exact in `list`, `id` taking a new slot written in `epoch`. */
  private takeExact(list: number, id: number, source: Float32Array, from: number, norm: number, epoch: number): void {
    const position = (this.exact as ExactRows).add(list, id, source, from, norm);
    const slot = this.takeSlot();
    this.slotList[slot] = list;
    this.slotPos[slot] = EXACT + position;
    this.slotEpoch[slot] = epoch;
    this.locator.set(id, slot);
  }

  private place(list: number, position: number, id: number, norm: number, epoch: number, source: Float32Array, from: number, code?: EncodedCode): void {
    this.fill(list, position, id, norm, source, from, code);
    const slot = this.takeSlot();
    this.slotList[slot] = list;
    this.slotPos[slot] = position;
    this.slotEpoch[slot] = epoch;
    this.locator.set(id, slot);
  }

  /** The norm, code and id of the row just written at `position` (its row is at `from` of `source`). */
  private fill(list: number, position: number, id: number, norm: number, source: Float32Array, from: number, code?: EncodedCode): void {
    const heap = this.heapOf(list);
    heap.f32[(this.normsAt(list) >> 2) + position] = norm;
    if (this.codeBytes > 0) {
      const to = this.codesAt(list) + position * this.codeBytes;
      if (code) heap.i8.set(code.codes.subarray(code.at, code.at + this.codeBytes), to);
      else (this.codec as ListCodec).encode(source, from, heap.i8, to, list);
      if (this.edge && hasEdgeCode(heap.u32, to, this.codeBytes)) this.markEdge(list, id);
    }
    this.listIds[list][position] = id;
    this.lengths[list] = position + 1;
  }

  /**
   * Appends `id` with a row read from another memory (`source` at float index `from`). Used by
   * rebuilds, which reserve every list's capacity up front.
   */
  appendFrom(list: number, id: number, source: Float32Array, from: number, norm: number, epoch: number): void {
    let code: EncodedCode | undefined;
    if (this.exact) {
      const coded = this.codeOf(list, source, from);
      if (coded === null) return this.takeExact(list, id, source, from, norm, epoch);
      code = coded;
    }
    this.place(list, this.copyRowIn(list, source, from), id, norm, epoch, source, from, code);
  }

  /** Copies a row from another memory to the end of `list` (grown when full); returns its position. */
  private copyRowIn(list: number, source: Float32Array, from: number): number {
    const position = this.lengths[list];
    if (position === this.capacities[list]) this.resize(list, roundToTile(Math.ceil(position * GROWTH)));
    const f32 = this.heapOf(list).f32;
    const to = (this.blocks[list].offset + position * this.rowBytes) >> 2;
    // A loop, not set(subarray()): a rebuild appends every row, and the views cost more than the copy.
    for (let t = 0; t < this.stride; t++) f32[to + t] = source[from + t];
    return position;
  }

  /**
   * Rebuild only: appends the row (read from another memory) of `id`, which keeps its slot from
   * the lists this one was built from.
   */
  appendSlot(list: number, id: number, slot: number, source: Float32Array, from: number, norm: number, code?: EncodedCode): void {
    if (this.exact) {
      const coded = this.codeOf(list, source, from, code);
      if (coded === null) {
        this.slotList[slot] = list;
        this.slotPos[slot] = EXACT + this.exact.add(list, id, source, from, norm);
        return;
      }
      code = coded;
    }
    const position = this.copyRowIn(list, source, from);
    this.fill(list, position, id, norm, source, from, code);
    this.slotList[slot] = list;
    this.slotPos[slot] = position;
  }

  /**
   * Appends a row (read from another memory) that no slot tracks: lists built to be adopted by
   * another thread's InvertedLists (list-build.ts), which has the slots.
   */
  appendRow(list: number, id: number, source: Float32Array, from: number, norm: number, code?: EncodedCode): void {
    if (this.exact) {
      const coded = this.codeOf(list, source, from, code);
      if (coded === null) {
        this.exact.add(list, id, source, from, norm);
        return;
      }
      code = coded;
    }
    this.fill(list, this.copyRowIn(list, source, from), id, norm, source, from, code);
  }

  /** A copy of `list`'s entries: ids, rows (null without rows), norms, codes (null without codes). */
  exportList(list: number): ListEntries {
    const length = this.lengths[list];
    const heap = this.heapOf(list);
    const rowsFrom = this.rowsAt(list) >> 2;
    const normsFrom = this.normsAt(list) >> 2;
    const codesFrom = this.codesAt(list);
    const exact = this.exact?.export(list);
    return {
      ids: this.listIds[list].slice(0, length),
      rows: this.stride > 0 ? heap.f32.slice(rowsFrom, rowsFrom + length * this.stride) : null,
      norms: heap.f32.slice(normsFrom, normsFrom + length),
      codes: this.codeBytes > 0 ? heap.u8.slice(codesFrom, codesFrom + length * this.codeBytes) : null,
      ...(exact ? { exact } : {}),
    };
  }

  /** Ids below `bound` are located through an array from now on (importList's callers: ids dense from 0). */
  reserveDenseIds(bound: number): void {
    this.locator.reserveDense(bound);
  }

  /**
   * Fills the empty `list` with `ids.length` entries, each id taking a new slot written in
   * `epoch`: `fill` writes their rows, norms and codes, as exportList gives them, into the regions
   * it is handed (straight into the list's block, so a caller streaming them copies each byte once).
   * Lists made 'on-import' get their block here, sized for the entries; others must have reserved
   * room for them. The caller checked that no id is already present.
   */
  importList(list: number, ids: Uint32Array, fill: (regions: ListRegions) => void, epoch: number, exact?: ExactEntries): void {
    const length = ids.length;
    if (this.blocks[list] === undefined) {
      const capacity = roundToTile(length);
      const { memory, block } = this.memories.alloc(capacity * this.slotBytes);
      this.homes[list] = memory;
      this.blocks[list] = block;
      this.capacities[list] = capacity;
      this.listIds[list] = new Uint32Array(capacity);
    }
    if (length > this.capacities[list] || this.lengths[list] !== 0) throw new RangeError('importList needs an empty list reserved for its entries');
    const heap = this.heapOf(list);
    const codesAt = this.codesAt(list);
    fill({
      rows: this.stride > 0 ? heap.u8.subarray(this.rowsAt(list), this.rowsAt(list) + length * this.rowBytes) : null,
      norms: heap.u8.subarray(this.normsAt(list), this.normsAt(list) + length * 4),
      codes: this.codeBytes > 0 ? heap.u8.subarray(codesAt, codesAt + length * this.codeBytes) : null,
    });
    const listIds = this.listIds[list];
    for (let position = 0; position < length; position++) {
      const id = ids[position];
      listIds[position] = id;
      if (this.edge && hasEdgeCode(heap.u32, codesAt + position * this.codeBytes, this.codeBytes)) this.markEdge(list, id);
      const slot = this.takeSlot();
      this.slotList[slot] = list;
      this.slotPos[slot] = position;
      this.slotEpoch[slot] = epoch;
      this.locator.set(id, slot);
    }
    this.lengths[list] = length;
    if (exact) {
      if (!this.exact) throw new RangeError('exact rows imported into lists that keep none');
      this.exact.adopt(list, { ids: exact.ids.slice(), rows: exact.rows.slice(), norms: exact.norms.slice() });
      for (let position = 0; position < exact.ids.length; position++) {
        const slot = this.takeSlot();
        this.slotList[slot] = list;
        this.slotPos[slot] = EXACT + position;
        this.slotEpoch[slot] = epoch;
        this.locator.set(exact.ids[position], slot);
      }
    }
  }

  /** Where each list's block is, its length and ids (and its exact rows): what another thread's lists adopt. */
  exportBlocks(): ListBlocks {
    const exact = this.exact && this.exact.size > 0 ? Array.from({ length: this.listCount }, (_, l) => this.exact?.export(l)) : undefined;
    const edge = this.edgeRows > 0 ? Array.from({ length: this.listCount }, (_, l) => { const ids = this.edge?.[l]; return ids && Uint32Array.from(ids); }) : undefined;
    return {
      memories: this.homes.slice(),
      offsets: Float64Array.from(this.blocks, (block) => block.offset),
      capacities: this.capacities.slice(),
      lengths: this.lengths.slice(),
      ids: this.listIds.slice(),
      ...(exact ? { exact } : {}),
      ...(edge ? { edge } : {}),
    };
  }

  /**
   * Adopted lists only: keeps, in order, the entries of `list` whose id `slotOf` maps to a slot
   * (the entry takes that slot's place) and drops the others: ids removed or written again since
   * the lists were built, whose current rows the caller appends.
   */
  settle(list: number, slotOf: (id: number) => number): void {
    const ids = this.listIds[list];
    const length = this.lengths[list];
    let kept = 0;
    for (let i = 0; i < length; i++) {
      const id = ids[i];
      const slot = slotOf(id);
      if (slot < 0) continue;
      if (kept !== i) this.moveEntry(list, i, kept);
      this.slotList[slot] = list;
      this.slotPos[slot] = kept++;
    }
    this.lengths[list] = kept;
    for (const id of this.edge?.[list] ?? NO_IDS) if (slotOf(id) < 0) this.unmarkEdge(list, id);
    this.exact?.retain(list, slotOf, (slot, position) => {
      this.slotList[slot] = list;
      this.slotPos[slot] = EXACT + position;
    });
  }

  /** Copies the entry at `from` of `list` (row, norm, code, id) over the one at `to`. */
  private moveEntry(list: number, from: number, to: number): void {
    const heap = this.heapOf(list);
    const f32 = heap.f32;
    const rows = this.blocks[list].offset >> 2;
    f32.copyWithin(rows + to * this.stride, rows + from * this.stride, rows + (from + 1) * this.stride);
    const norms = this.normsAt(list) >> 2;
    f32[norms + to] = f32[norms + from];
    if (this.codeBytes > 0) {
      const codes = this.codesAt(list);
      heap.i8.copyWithin(codes + to * this.codeBytes, codes + from * this.codeBytes, codes + (from + 1) * this.codeBytes);
    }
    this.listIds[list][to] = this.listIds[list][from];
  }

  /** Ids of the entries written after `epoch` (their slots' epochs are later), in slot order. */
  writtenSince(epoch: number): number[] {
    const written: number[] = [];
    for (let slot = 0; slot < this.slotsUsed; slot++) {
      if (this.slotEpoch[slot] <= epoch) continue;
      // A freed slot keeps its last epoch: it is live only if its position still names it.
      const list = this.slotList[slot];
      const position = this.slotPos[slot];
      if (list >= this.count) continue;
      let id: number;
      if (position >= EXACT) {
        if (position - EXACT >= this.exactLength(list)) continue;
        id = this.exactIds(list)[position - EXACT];
      } else {
        if (position >= this.lengths[list]) continue;
        id = this.listIds[list][position];
      }
      if (this.locator.get(id) === slot) written.push(id);
    }
    return written;
  }

  remove(id: number): boolean {
    const slot = this.locator.get(id);
    if (slot === undefined) return false;
    this.locator.delete(id);
    this.freeSlots.push(slot);
    const list = this.slotList[slot];
    const position = this.slotPos[slot];
    if (position >= EXACT) {
      const moved = (this.exact as ExactRows).remove(list, position - EXACT);
      if (moved >= 0) this.slotPos[this.locator.get(moved) as number] = position;
      return true;
    }
    this.unmarkEdge(list, id);
    const last = this.lengths[list] - 1;
    if (position !== last) {
      this.moveEntry(list, last, position);
      this.slotPos[this.locator.get(this.listIds[list][position]) as number] = position;
    }
    this.lengths[list] = last;
    const capacity = this.capacities[list];
    if (capacity > 2 * ROW_TILE && last < capacity / 4) this.resize(list, roundToTile(last * 2));
    return true;
  }

  /** Bytes held outside the heap: bookkeeping (ids, slots, the locator's estimated size) and the exact rows. */
  bookkeepingBytes(): number {
    let bytes = this.slotList.byteLength + this.slotPos.byteLength + this.slotEpoch.byteLength;
    for (const ids of this.listIds) bytes += ids.byteLength;
    return bytes + this.locator.bytes(MAP_ENTRY_BYTES) + this.count * 64 + (this.exact?.bytes() ?? 0) + this.edgeRows * MAP_ENTRY_BYTES;
  }

  private resize(list: number, capacity: number): void {
    const old = this.blocks[list];
    const home = this.homes[list];
    const length = this.lengths[list];
    // A list on top of its memory (the one list of an untrained index being filled) grows in
    // place: only its norms move up to their new position.
    const grown = capacity > this.capacities[list] ? this.memories.extendTop(home, old, capacity * this.slotBytes) : null;
    if (grown) {
      const heap = this.memories.heap(home);
      const oldCapacity = this.capacities[list];
      // Codes first: they move furthest, and the norms' new place may overlap their old one.
      const oldCodes = grown.offset + oldCapacity * (this.rowBytes + 4);
      heap.i8.copyWithin(grown.offset + capacity * (this.rowBytes + 4), oldCodes, oldCodes + length * this.codeBytes);
      const oldNorms = (grown.offset + oldCapacity * this.rowBytes) >> 2;
      heap.f32.copyWithin((grown.offset + capacity * this.rowBytes) >> 2, oldNorms, oldNorms + length);
      this.blocks[list] = grown;
      this.capacities[list] = capacity;
      this.growIds(list, capacity, length);
      return;
    }
    // The new block may be in another memory (this one is full): rows, norms and codes move over.
    const { memory, block } = this.memories.alloc(capacity * this.slotBytes);
    const from = this.memories.heap(home);
    const to = this.memories.heap(memory);
    const oldCapacity = this.capacities[list];
    const moves: [number, number, number][] = [
      [old.offset, block.offset, length * this.rowBytes],
      [old.offset + oldCapacity * this.rowBytes, block.offset + capacity * this.rowBytes, length * 4],
      [old.offset + oldCapacity * (this.rowBytes + 4), block.offset + capacity * (this.rowBytes + 4), length * this.codeBytes],
    ];
    for (const [source, target, bytes] of moves) {
      if (from === to) to.u8.copyWithin(target, source, source + bytes);
      else to.u8.set(from.u8.subarray(source, source + bytes), target);
    }
    this.memories.free(home, old);
    this.blocks[list] = block;
    this.homes[list] = memory;
    this.capacities[list] = capacity;
    this.growIds(list, capacity, length);
  }

  private growIds(list: number, capacity: number, length: number): void {
    const ids = new Uint32Array(capacity);
    ids.set(this.listIds[list].subarray(0, length));
    this.listIds[list] = ids;
  }

  private takeSlot(): number {
    const reused = this.freeSlots.pop();
    if (reused !== undefined) return reused;
    if (this.slotsUsed === this.slotList.length) {
      const grow = (a: Uint32Array): Uint32Array => {
        const b = new Uint32Array(a.length * 2);
        b.set(a);
        return b;
      };
      this.slotList = grow(this.slotList);
      this.slotPos = grow(this.slotPos);
      this.slotEpoch = grow(this.slotEpoch);
    }
    return this.slotsUsed++;
  }
}
