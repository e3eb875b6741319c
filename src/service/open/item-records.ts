// The resident item records of an open index by engine slot, and the lookup from item id to slot.
// An index opened from a sealed segment set keeps the set's items as the set gave them: packed
// columns (tokens, seal tags, revisions, ids and metadata JSON in a few buffers, ItemColumns), and
// makes an item's record object only when something first asks for it (then keeps it, so a record
// read twice is the same object). Making a million record objects, with their strings, Buffers and
// map entries, was most of the main thread's time in such an open (3-4 s at 1,000,000 items) and
// most of its garbage; now it costs nothing until an item is read, and what is never read (most
// items between two reopens of a large index) is never made. Items written after the open (and
// every item of an index opened from its records) are record objects in a sharded Map (that
// grows a block at a time, runtime/sharded-map.ts).
//
// A set's item is found by id through its token (the keyed hash of the id, which writes compute
// anyway) in the set's token table, so no id string or map entry is made per set item either.

import { ShardedMap } from '../../runtime/sharded-map.js';
import type { SnapshotItem } from '../segments/index-snapshot.js';
import type { ItemColumns } from '../segments/index-snapshot.js';
import type { JsonObject } from '../types.js';
import type { ItemRecord } from './open-index.js';
import type { TokenPositions } from './token-positions.js';

const TOKEN_BYTES = 32;
const TAG_BYTES = 16;

/** A record object, its token Buffer (32 bytes), its seal tag string (16 one-byte chars) and both map entries (slot and id), estimated. */
export const RECORD_BYTES = 64 + 120 + 32 + 2 * 40;

/** A set item's share of the columns beyond its id and metadata bytes: token, tag, revision, two ends, live flag, token table (2 x 4 bytes). */
const COLUMN_ITEM_BYTES = TOKEN_BYTES + TAG_BYTES + 4 + 8 + 1 + 8;

export class ItemRecords {
  readonly #tokenOf: (id: string) => Buffer;
  /** The set's items (slots [0, columns.count)); null for an index not opened from a set. */
  #columns: ItemColumns | null = null;
  #positions: TokenPositions | null = null;
  /** 1 where the set's item at that slot is still an item of the index (not deleted or rewritten since). */
  #live = new Uint8Array(0);
  #liveCount = 0;
  /** Record objects made of set items (or written over them by updates), by slot; absent where none was made yet. */
  readonly #made = ShardedMap.byBlock<ItemRecord>();
  /** Records at slots above the set's (written since the open), with their ids' slots. */
  readonly #added = ShardedMap.byBlock<ItemRecord>();
  readonly #slotById = ShardedMap.byHash<number>();
  #bytes = 0;

  /** `tokenOf`: an id's token, for finding a set's item by id when the caller has no token at hand. */
  constructor(tokenOf: (id: string) => Buffer) {
    this.#tokenOf = tokenOf;
  }

  get size(): number {
    return this.#liveCount + this.#added.size;
  }

  /** Bytes held, estimated by structure: the columns as they are, and each record object made. */
  get bytes(): number {
    return this.#bytes;
  }

  /** Whether `slot` is one of the set's (restore), live or not. */
  isSetSlot(slot: number): boolean {
    return this.#columns !== null && slot < this.#columns.count;
  }

  /**
   * Takes a set's items as records at slots 0 .. count - 1, all live. `positions` finds each by
   * its token in `columns.tokens` (its position is its slot). Only into an empty instance.
   */
  restore(columns: ItemColumns, positions: TokenPositions): void {
    if (this.size > 0 || this.#columns !== null) throw new Error('ItemRecords.restore needs no records yet');
    this.#columns = columns;
    this.#positions = positions;
    this.#live = new Uint8Array(columns.count).fill(1);
    this.#liveCount = columns.count;
    this.#bytes +=
      columns.count * COLUMN_ITEM_BYTES + columns.ids.length + columns.metadata.length;
  }

  has(slot: number): boolean {
    if (this.isSetSlot(slot)) return this.#live[slot] === 1;
    return this.#added.has(slot);
  }

  get(slot: number): ItemRecord | undefined {
    if (!this.isSetSlot(slot)) return this.#added.get(slot);
    if (this.#live[slot] !== 1) return undefined;
    const made = this.#made.get(slot);
    if (made !== undefined) return made;
    const record = this.#make(slot);
    this.#made.set(slot, record);
    this.#bytes += recordEstimate(record);
    return record;
  }

  /** The slot of the item `id` (whose token is `token`, when the caller has it), or undefined. */
  slotOf(id: string, token?: Buffer): number | undefined {
    const added = this.#slotById.get(id);
    if (added !== undefined) return added;
    if (this.#positions === null) return undefined;
    const at = this.#positions.find(token ?? this.#tokenOf(id), 0);
    // The token is the id's keyed hash, sealed with the id in the set: the same token is the same
    // id (not compared: the paging order asks this of every item when it merges writes in).
    return at === -1 || this.#live[at] !== 1 ? undefined : at;
  }

  /**
   * Puts `record` at `slot`: a slot no record holds (above every one used so far, or a set slot
   * of the same id whose record was deleted just before), or a live slot whose record it replaces
   * (the same item's new version).
   */
  set(slot: number, record: ItemRecord): void {
    if (this.isSetSlot(slot)) {
      const old = this.#live[slot] === 1 ? this.#made.get(slot) : undefined;
      if (old !== undefined) this.#bytes -= recordEstimate(old);
      if (this.#live[slot] !== 1) {
        this.#live[slot] = 1;
        this.#liveCount++;
      }
      this.#made.set(slot, record);
    } else {
      const old = this.#added.get(slot);
      if (old !== undefined) this.#bytes -= recordEstimate(old);
      this.#added.set(slot, record);
      this.#slotById.set(record.id, slot);
    }
    this.#bytes += recordEstimate(record);
  }

  /** Removes the record at `slot` (and its id's lookup); no-op where there is none. */
  delete(slot: number): void {
    if (this.isSetSlot(slot)) {
      if (this.#live[slot] !== 1) return;
      const made = this.#made.get(slot);
      if (made !== undefined) this.#bytes -= recordEstimate(made);
      this.#made.delete(slot);
      this.#live[slot] = 0;
      this.#liveCount--;
      return;
    }
    const record = this.#added.get(slot);
    if (record === undefined) return;
    this.#added.delete(slot);
    this.#bytes -= recordEstimate(record);
    if (this.#slotById.get(record.id) === slot) this.#slotById.delete(record.id);
  }

  /** Every slot holding a record: the set's in order, then the later ones in the order written. */
  *slots(): Generator<number> {
    const count = this.#columns?.count ?? 0;
    for (let slot = 0; slot < count; slot++) if (this.#live[slot] === 1) yield slot;
    yield* this.#added.keys();
  }

  /** Every (slot, record), as `slots` orders them; makes the set items' records not made yet. */
  *entries(): Generator<[number, ItemRecord]> {
    for (const slot of this.slots()) yield [slot, this.get(slot)!];
  }

  *values(): Generator<ItemRecord> {
    for (const slot of this.slots()) yield this.get(slot)!;
  }

  /** Every item's id. */
  ids(): string[] {
    const ids: string[] = [];
    const count = this.#columns?.count ?? 0;
    for (let slot = 0; slot < count; slot++) if (this.#live[slot] === 1) ids.push(this.#idAt(slot));
    for (const id of this.#slotById.keys()) ids.push(id);
    return ids;
  }

  /**
   * The metadata of the live `slot`: its record's where one was made, else parsed from the column
   * each time, no record made (the metadata index takes a set's items this way, a million at once).
   */
  metadataAt(slot: number): JsonObject | null {
    const made = this.isSetSlot(slot) ? this.#made.get(slot) : this.#added.get(slot);
    if (made !== undefined) return made.metadata;
    return parsedMetadata(this.#metadataJsonAt(slot));
  }

  /** The item at a live `slot` as a segment snapshot keeps it, without making its record (or parsing its metadata) when none was made. */
  snapshotItem(slot: number): SnapshotItem {
    const made = this.isSetSlot(slot) ? this.#made.get(slot) : this.#added.get(slot);
    if (made !== undefined) {
      return { id: made.id, token: made.token, revision: made.revision, sealTag: made.sealTag, metadataJson: made.metadata === null ? null : JSON.stringify(made.metadata) };
    }
    return { ...this.#fieldsAt(slot), metadataJson: this.#metadataJsonAt(slot) };
  }

  /**
   * The (id, token) of every set item whose id is still an item of the index (its own slot live,
   * or rewritten since to a later slot), in token order: what the paging order needs of the set,
   * made when it is first needed (the order's sort then meets one run already sorted). Tokens are
   * copies.
   */
  setItemKeys(): Array<{ id: string; token: Buffer }> {
    const columns = this.#columns;
    if (columns === null) return [];
    const wanted: number[] = [];
    for (let slot = 0; slot < columns.count; slot++) {
      if (this.#live[slot] === 1 || this.#slotById.has(this.#idAt(slot))) wanted.push(slot);
    }
    const keys: Array<{ id: string; token: Buffer }> = [];
    for (const slot of sortedByToken(columns.tokens, wanted)) {
      const made = this.#made.get(slot);
      keys.push(made !== undefined ? { id: made.id, token: made.token } : { id: this.#idAt(slot), token: this.#tokenAt(slot) });
    }
    return keys;
  }

  /** Drops every record; the columns' plaintext is overwritten. */
  clear(): void {
    const columns = this.#columns;
    if (columns !== null) {
      columns.ids.fill(0);
      columns.metadata.fill(0);
      columns.tokens.fill(0);
      columns.tags.fill(0);
      columns.revisions.fill(0);
    }
    this.#columns = null;
    this.#positions = null;
    this.#live = new Uint8Array(0);
    this.#liveCount = 0;
    this.#made.clear();
    this.#added.clear();
    this.#slotById.clear();
    this.#bytes = 0;
  }

  #make(slot: number): ItemRecord {
    return { ...this.#fieldsAt(slot), metadata: parsedMetadata(this.#metadataJsonAt(slot)) };
  }

  /** The set item at `slot` from the columns, all but its metadata. */
  #fieldsAt(slot: number): Omit<ItemRecord, 'metadata'> {
    return {
      id: this.#idAt(slot),
      token: this.#tokenAt(slot),
      revision: this.#columns!.revisions[slot],
      sealTag: this.#columns!.tags.toString('latin1', slot * TAG_BYTES, (slot + 1) * TAG_BYTES),
    };
  }

  #metadataJsonAt(slot: number): string | null {
    const columns = this.#columns!;
    const start = slot === 0 ? 0 : columns.metadataEnds[slot - 1];
    const end = columns.metadataEnds[slot];
    return start === end ? null : columns.metadata.toString('utf8', start, end);
  }

  #idAt(slot: number): string {
    const made = this.#made.get(slot);
    if (made !== undefined) return made.id;
    const columns = this.#columns!;
    return columns.ids.toString('utf8', slot === 0 ? 0 : columns.idEnds[slot - 1], columns.idEnds[slot]);
  }

  /** A token of its own (Node's pool), never a view into the column: a view posted to another thread (a store read) would copy all the memory under it. */
  #tokenAt(slot: number): Buffer {
    const token = Buffer.allocUnsafe(TOKEN_BYTES);
    const tokens = this.#columns!.tokens;
    // Byte by byte: a call into Buffer.copy costs more than 32 bytes' copy (the paging order makes a million of these).
    for (let k = 0, at = slot * TOKEN_BYTES; k < TOKEN_BYTES; k++) token[k] = tokens[at + k];
    return token;
  }
}

/**
 * `slots` ordered by their tokens (32 bytes at 32 x slot of `tokens`), as compareEntries orders
 * (item-order.ts). Sorted natively as 64-bit numbers, the token's first bits above the slot's
 * (a comparator sort of a million took seconds); tokens whose first bits tie are then ordered in
 * full (keyed hashes: almost never).
 */
function sortedByToken(tokens: Buffer, slots: readonly number[]): number[] {
  const n = slots.length;
  if (n === 0) return [];
  let slotBits = 1;
  for (const slot of slots) while (slot >= 2 ** slotBits) slotBits++;
  const shift = BigInt(slotBits);
  const packed = new BigUint64Array(n);
  for (let i = 0; i < n; i++) packed[i] = ((tokens.readBigUInt64BE(slots[i] * TOKEN_BYTES) >> shift) << shift) | BigInt(slots[i]);
  packed.sort();
  const mask = (1n << shift) - 1n;
  const sorted = new Array<number>(n);
  for (let i = 0; i < n; i++) sorted[i] = Number(packed[i] & mask);
  // Runs whose first bits tie: ordered by the whole token.
  for (let start = 0; start < n; ) {
    const prefix = packed[start] >> shift;
    let end = start + 1;
    while (end < n && packed[end] >> shift === prefix) end++;
    if (end - start > 1) {
      const run = sorted.slice(start, end).sort((a, b) => tokens.compare(tokens, b * TOKEN_BYTES, (b + 1) * TOKEN_BYTES, a * TOKEN_BYTES, (a + 1) * TOKEN_BYTES));
      for (let k = 0; k < run.length; k++) sorted[start + k] = run[k];
    }
    start = end;
  }
  return sorted;
}

export function recordEstimate(record: ItemRecord): number {
  return RECORD_BYTES + record.id.length * 2 + (record.metadata === null ? 0 : jsonBytes(record.metadata));
}

/** Rough bytes of a parsed JSON value in V8 (objects ~ 16 per property plus 24, strings 2 per char, numbers 8 to 16). */
function jsonBytes(value: unknown): number {
  if (value === null || typeof value === 'boolean') return 0;
  if (typeof value === 'number') return 16;
  if (typeof value === 'string') return 16 + value.length * 2;
  if (Array.isArray(value)) return 24 + value.reduce((sum: number, element) => sum + 8 + jsonBytes(element), 0);
  let bytes = 24;
  const object = value as Record<string, unknown>;
  for (const key of Object.keys(object)) bytes += 16 + key.length + jsonBytes(object[key]);
  return bytes;
}

function parsedMetadata(json: string | null): JsonObject | null {
  return json === null ? null : (JSON.parse(json) as JsonObject);
}
