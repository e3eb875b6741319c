// What a sealed segment set holds: an open index's state as an open would otherwise rebuild it from
// every item record (each item's id, token, revision, seal tag and metadata, and the engine's
// trained lists with their codes or rows), written as one byte stream across segments:
//
//   u32 nLists | u32 stride | u32 codeBytes | u32 codec bytes | codec |
//   u32 items | per item: 32-byte token | 16-byte seal tag | u32 revision | u32 id bytes | id |
//     u32 metadata bytes (0xffffffff: none) | metadata JSON |
//   per list: u32 entries | u32 item number per entry | f32 rows (entries x stride) |
//     f32 norms (entries) | codes (entries x codeBytes)
//
// then, for an index with text search only (the manifest says which: segment-set-record.ts), its
// term index (text/term-index-state.ts), one document per item in the same order:
//
//   u32 terms | per term: u32 bytes | term (UTF-8) | u32 entries | u32 term number width |
//   u32 frequency width | u32 length per item | u32 distinct terms per item |
//   term number per entry | frequency per entry
//
// Term numbers and frequencies take the narrowest of 1, 2 or 4 bytes their largest value fits in
// (numbers: 2 bytes up to 65,536 terms; frequencies: mostly 1 byte): a set of 100,000 documents
// of 60 words holds 5 million entries, and each byte less per entry is 5 MB less to read,
// decrypt and parse at open.
//
// The lists name items by their number in the stream, which becomes their engine slot on open.

import type { ListContents, ListEntries } from '../../engine/index.js';
import type { TermIndexState } from '../text/term-index-state.js';
import { ChunkFormatError, type ChunkReader, type ChunkWriter } from './segment-chunks.js';

/** One item as the snapshot keeps it (ItemRecord with its metadata still serialized). */
export interface SnapshotItem {
  id: string;
  token: Buffer;
  revision: number;
  /** The GCM tag of the item's sealed record (latin1): which stored version the snapshot holds. */
  sealTag: string;
  metadataJson: string | null;
}

export interface IndexSnapshot {
  items: SnapshotItem[];
  /** The engine's lists, their ids being positions in `items`. */
  lists: ListContents;
  /** The term index of an index with text search, its documents being `items` in order; else null. */
  text: TermIndexState | null;
}

/** Every item's token (32 bytes) and seal tag (16 bytes), back to back in item order. */
export interface PackedItemKeys {
  tokens: Buffer;
  tags: Buffer;
}

/** Called per item of a StreamedSnapshot, with its position and fields (no object made for it). */
export type SnapshotItemVisitor = (position: number, token: Buffer, sealTag: string, revision: number, id: string, metadataJson: string | null) => void;

/**
 * A snapshot as an open reads it: the lists and the term index parsed, the items' tokens and tags
 * packed for comparing without a Buffer or string per item, and the items themselves left in the
 * stream until they are restored, so that each becomes its record in one pass (a parsed item
 * object per item, kept until the records were made from them, was most of a large open's garbage).
 */
export interface StreamedSnapshot {
  itemCount: number;
  packed: PackedItemKeys;
  lists: ListContents;
  text: TermIndexState | null;
  /**
   * Reads the items from the stream, in order, calling `visit` for each one `keep` marks 1 (every
   * one when null). Valid only while the stream's chunks are (and only once: it reads them again).
   */
  forEachItem(keep: Uint8Array | null, visit: SnapshotItemVisitor): void;
  /**
   * Every item's revision, id and metadata JSON copied out of the stream into a few packed
   * columns (no object or string per item), beside `packed`'s tokens and tags. Valid only while
   * the stream's chunks are; the columns are copies that outlive them.
   */
  itemColumns(): ItemColumns;
}

/**
 * The items of a snapshot as columns: item i's token at bytes [32i, 32i + 32) of `tokens`, its
 * seal tag at [16i, 16i + 16) of `tags`, its id (UTF-8) at [idEnds[i - 1], idEnds[i]) of `ids`
 * (from 0 for the first), its metadata JSON (UTF-8) likewise in `metadata` by `metadataEnds`, an
 * empty range meaning none (JSON text is never empty).
 */
export interface ItemColumns {
  count: number;
  tokens: Buffer;
  tags: Buffer;
  revisions: Uint32Array;
  ids: Buffer;
  idEnds: Uint32Array;
  metadata: Buffer;
  metadataEnds: Uint32Array;
}

const TOKEN_BYTES = 32;
const TAG_BYTES = 16;
const NO_METADATA = 0xffff_ffff;

/** Bytes writeSnapshotInSteps writes between two steps (a few ms of copying). */
const WRITE_STEP_BYTES = 1 << 20;

export function writeSnapshot(out: ChunkWriter, snapshot: IndexSnapshot): void {
  const steps = writeSnapshotInSteps(out, snapshot);
  while (steps.next().done !== true);
}

/** writeSnapshot in steps of about WRITE_STEP_BYTES, for a caller that serves queries between them. */
export function* writeSnapshotInSteps(out: ChunkWriter, snapshot: IndexSnapshot): Generator<void, void, undefined> {
  let stepEnd = out.length + WRITE_STEP_BYTES;
  const pauseDue = (): boolean => {
    if (out.length < stepEnd) return false;
    stepEnd = out.length + WRITE_STEP_BYTES;
    return true;
  };
  const { lists, items } = snapshot;
  out.u32(lists.nLists);
  out.u32(lists.stride);
  out.u32(lists.codeBytes);
  const codec = lists.codec ?? new Uint8Array(0);
  out.u32(codec.length);
  out.bytes(codec);
  out.u32(items.length);
  for (const item of items) {
    out.bytes(item.token);
    out.string(item.sealTag, 'latin1', TAG_BYTES);
    out.u32(item.revision);
    const idBytes = Buffer.byteLength(item.id, 'utf8');
    out.u32(idBytes);
    out.string(item.id, 'utf8', idBytes);
    if (item.metadataJson === null) {
      out.u32(NO_METADATA);
    } else {
      const metadataBytes = Buffer.byteLength(item.metadataJson, 'utf8');
      out.u32(metadataBytes);
      out.string(item.metadataJson, 'utf8', metadataBytes);
    }
    if (pauseDue()) yield;
  }
  for (const list of lists.lists) {
    out.u32(list.ids.length);
    out.array(list.ids);
    if (list.rows !== null) out.array(list.rows);
    out.array(list.norms);
    if (list.codes !== null) out.bytes(list.codes);
    if (pauseDue()) yield;
  }
  if (snapshot.text !== null) writeTermIndexState(out, snapshot.text, items.length);
}

function writeTermIndexState(out: ChunkWriter, state: TermIndexState, items: number): void {
  if (state.lengths.length !== items || state.counts.length !== items) throw new Error('writeSnapshot: the term index does not have one document per item');
  out.u32(state.terms.length);
  for (const term of state.terms) {
    const bytes = Buffer.byteLength(term, 'utf8');
    out.u32(bytes);
    out.string(term, 'utf8', bytes);
  }
  let maxFreq = 0;
  for (const freq of state.freqs) if (freq > maxFreq) maxFreq = freq;
  const idWidth = widthOf(state.terms.length - 1);
  const freqWidth = widthOf(maxFreq);
  out.u32(state.ids.length);
  out.u32(idWidth);
  out.u32(freqWidth);
  out.array(state.lengths);
  out.array(state.counts);
  out.array(narrowed(state.ids, idWidth));
  out.array(narrowed(state.freqs, freqWidth));
}

/** Bytes per value for values up to `max`. */
function widthOf(max: number): 1 | 2 | 4 {
  return max <= 0xff ? 1 : max <= 0xffff ? 2 : 4;
}

function narrowed(values: Uint32Array, width: number): Uint32Array | Uint16Array | Uint8Array {
  if (width === 4) return values;
  const narrow = width === 2 ? new Uint16Array(values.length) : new Uint8Array(values.length);
  narrow.set(values);
  return narrow;
}

/** `n` values of `width` bytes each, widened to 32 bits. */
function readWidened(input: ChunkReader, n: number, width: number): Uint32Array {
  if (width === 4) return input.u32s(n);
  const narrow = width === 2 ? new Uint16Array(n) : new Uint8Array(n);
  input.into(new Uint8Array(narrow.buffer));
  const wide = new Uint32Array(n);
  wide.set(narrow);
  return wide;
}

/**
 * `withText`: the stream carries a term index (the manifest's format says so). Throws
 * ChunkFormatError when the stream does not parse (it authenticated, so: a bug or a newer format).
 * `codeViews`: each list's codes are a view into the chunks where they lie in one (most of a set's
 * bytes, which the engine copies once more anyway), valid only as long as the chunks are; else
 * every array is a copy.
 */
export function readSnapshot(input: ChunkReader, withText: boolean, codeViews = false): IndexSnapshot {
  const streamed = readStreamedSnapshot(input, withText, codeViews);
  const items: SnapshotItem[] = new Array<SnapshotItem>(streamed.itemCount);
  streamed.forEachItem(null, (position, token, sealTag, revision, id, metadataJson) => {
    items[position] = { id, token, revision, sealTag, metadataJson };
  });
  return { items, lists: streamed.lists, text: streamed.text };
}

/**
 * readSnapshot with the items left in the stream (StreamedSnapshot): every byte is parsed and
 * checked here, so reading the items later cannot fail; the lists' codes are views as with
 * `codeViews`, and the chunks must stay as they are until the items were read.
 */
export function readStreamedSnapshot(input: ChunkReader, withText: boolean, codeViews = true): StreamedSnapshot {
  const nLists = input.u32();
  const stride = input.u32();
  const codeBytes = input.u32();
  const codecLength = input.u32();
  const codec = codecLength === 0 ? null : new Uint8Array(codecLength);
  if (codec !== null) input.into(codec);
  const count = input.u32();
  const itemsAt = input.fork();
  // Sized by a count the stream claims: no larger than the bytes the items take at the least.
  if (count * (TOKEN_BYTES + TAG_BYTES + 12) > input.remaining) throw new ChunkFormatError('the stream holds fewer items than it counts');
  const packed: PackedItemKeys = { tokens: Buffer.allocUnsafeSlow(count * TOKEN_BYTES), tags: Buffer.allocUnsafeSlow(count * TAG_BYTES) };
  // What the items' ids and metadata take, to size their columns exactly (itemColumns).
  let idBytes = 0;
  let metadataBytes = 0;
  for (let i = 0; i < count; i++) {
    input.copyTo(packed.tokens, i * TOKEN_BYTES, TOKEN_BYTES);
    input.copyTo(packed.tags, i * TAG_BYTES, TAG_BYTES);
    input.skip(4);
    const idLength = input.u32();
    idBytes += idLength;
    input.skip(idLength);
    const metadataLength = input.u32();
    if (metadataLength !== NO_METADATA) {
      if (metadataLength === 0) throw new ChunkFormatError('an item holds empty metadata');
      metadataBytes += metadataLength;
      input.skip(metadataLength);
    }
  }
  if (idBytes > 0xffff_ffff || metadataBytes > 0xffff_ffff) throw new ChunkFormatError('the items\' ids or metadata exceed 4 GiB');
  const lists: ListEntries[] = [];
  for (let list = 0; list < nLists; list++) {
    const n = input.u32();
    if (n > count) throw new ChunkFormatError('a list holds more entries than the snapshot has items');
    const ids = input.u32s(n);
    const rows = stride > 0 ? input.floats(n * stride) : null;
    const norms = input.floats(n);
    let codes: Uint8Array | null = null;
    if (codeBytes > 0 && codeViews) codes = input.bytes(n * codeBytes);
    else if (codeBytes > 0) input.into((codes = new Uint8Array(n * codeBytes)));
    for (const id of ids) if (id >= count) throw new ChunkFormatError('a list names an item the snapshot does not have');
    lists.push({ ids, rows, norms, codes });
  }
  const text = withText ? readTermIndexState(input, count) : null;
  if (!input.done) throw new ChunkFormatError('the segment stream has bytes after its last section');
  let read = false;
  return {
    itemCount: count,
    packed,
    lists: { nLists, stride, codeBytes, codec, lists },
    text,
    forEachItem(keep, visit) {
      if (read) throw new Error('forEachItem reads the items once');
      read = true;
      if (keep !== null && keep.length !== count) throw new RangeError('keep has one flag per item');
      const items = itemsAt;
      for (let i = 0; i < count; i++) {
        if (keep !== null && keep[i] !== 1) {
          items.skip(TOKEN_BYTES + TAG_BYTES);
          skipItemRest(items);
          continue;
        }
        // Each token a small Buffer of its own (Node's pool), never a view into a large one: a
        // view posted to another thread (a store read) would copy all the memory under it.
        const token = Buffer.allocUnsafe(TOKEN_BYTES);
        items.copyTo(token, 0, TOKEN_BYTES);
        const sealTag = items.string(TAG_BYTES, 'latin1');
        const revision = items.u32();
        const id = items.string(items.u32(), 'utf8');
        const metadataBytes = items.u32();
        const metadataJson = metadataBytes === NO_METADATA ? null : items.string(metadataBytes, 'utf8');
        visit(i, token, sealTag, revision, id, metadataJson);
      }
    },
    itemColumns() {
      const items = itemsAt.fork();
      const revisions = new Uint32Array(count);
      const idEnds = new Uint32Array(count);
      const metadataEnds = new Uint32Array(count);
      const ids = Buffer.allocUnsafeSlow(idBytes);
      const metadata = Buffer.allocUnsafeSlow(metadataBytes);
      let idAt = 0;
      let metadataAt = 0;
      for (let i = 0; i < count; i++) {
        items.skip(TOKEN_BYTES + TAG_BYTES);
        revisions[i] = items.u32();
        const idLength = items.u32();
        items.copyTo(ids, idAt, idLength);
        idEnds[i] = idAt += idLength;
        const metadataLength = items.u32();
        if (metadataLength !== NO_METADATA) {
          items.copyTo(metadata, metadataAt, metadataLength);
          metadataAt += metadataLength;
        }
        metadataEnds[i] = metadataAt;
      }
      return { count, tokens: packed.tokens, tags: packed.tags, revisions, ids, idEnds, metadata, metadataEnds };
    },
  };
}

/** Passes over an item's revision, id and metadata (what follows its token and tag). */
function skipItemRest(input: ChunkReader): void {
  input.skip(4);
  input.skip(input.u32());
  const metadataBytes = input.u32();
  if (metadataBytes !== NO_METADATA) input.skip(metadataBytes);
}

function readTermIndexState(input: ChunkReader, items: number): TermIndexState {
  const termCount = input.u32();
  const terms = new Array<string>(termCount);
  for (let i = 0; i < termCount; i++) terms[i] = input.bytes(input.u32()).toString('utf8');
  if (new Set(terms).size !== termCount) throw new ChunkFormatError('the term dictionary holds a term twice');
  const entries = input.u32();
  const idWidth = input.u32();
  const freqWidth = input.u32();
  if (![1, 2, 4].includes(idWidth) || ![1, 2, 4].includes(freqWidth)) throw new ChunkFormatError('the term index names a width other than 1, 2 or 4 bytes');
  const lengths = input.u32s(items);
  const counts = input.u32s(items);
  const ids = readWidened(input, entries, idWidth);
  const freqs = readWidened(input, entries, freqWidth);
  let total = 0;
  for (let i = 0; i < items; i++) total += counts[i];
  if (total !== entries) throw new ChunkFormatError('the term index counts other entries than it holds');
  for (let k = 0; k < entries; k++) {
    if (ids[k] >= termCount || freqs[k] === 0) throw new ChunkFormatError('a document names a term the dictionary does not have');
  }
  return { terms, lengths, counts, ids, freqs };
}
