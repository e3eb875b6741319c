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

import { regionsOf, type ListContents, type ListEntries, type ListImport, type ListShape } from '../../engine/index.js';
import type { TermIndexState } from '../text/term-index-state.js';
import { ChunkFormatError, type ChunkReader, type ChunkWriter } from './segment-chunks.js';
import { runToEnd } from '../../runtime/turns.js';

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


/**
 * A snapshot as an open reads it: its lists handed to an import as they are read (never held
 * whole), its items as packed columns (no object per item), the term index parsed.
 */
export interface StreamedSnapshot {
  itemCount: number;
  /** The items' tokens and tags, the same buffers as `columns`'. */
  packed: PackedItemKeys;
  columns: ItemColumns;
  text: TermIndexState | null;
}

/** Where a snapshot's lists go as they are read: called once with their shape and the item count (ids are below it). */
export type ListDestination = (shape: ListShape, items: number) => ListImport;

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
  runToEnd(writeSnapshotInSteps(out, snapshot));
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
 * The snapshot in `input`, every array a copy. `withText`: the stream carries a term index (the
 * manifest's format says so). Throws ChunkFormatError when the stream does not parse (it
 * authenticated, so: a bug or a newer format).
 */
export function readSnapshot(input: ChunkReader, withText: boolean): IndexSnapshot {
  let lists: ListContents | null = null;
  const parse = streamSnapshot(input, withText, (shape) => {
    const collected: ListContents = { ...shape, lists: [] };
    lists = collected;
    return collectedLists(collected);
  });
  const step = parse.next();
  if (step.done !== true) throw new ChunkFormatError('the segment stream ended early');
  const { columns, text } = step.value;
  const items = new Array<SnapshotItem>(columns.count);
  for (let i = 0; i < columns.count; i++) {
    const metadataStart = i === 0 ? 0 : columns.metadataEnds[i - 1];
    items[i] = {
      id: columns.ids.toString('utf8', i === 0 ? 0 : columns.idEnds[i - 1], columns.idEnds[i]),
      token: Buffer.from(columns.tokens.subarray(i * TOKEN_BYTES, (i + 1) * TOKEN_BYTES)),
      revision: columns.revisions[i],
      sealTag: columns.tags.toString('latin1', i * TAG_BYTES, (i + 1) * TAG_BYTES),
      metadataJson: metadataStart === columns.metadataEnds[i] ? null : columns.metadata.toString('utf8', metadataStart, columns.metadataEnds[i]),
    };
  }
  return { items, lists: lists!, text };
}

/** A ListImport that keeps each list as arrays of its own. */
function collectedLists(contents: ListContents): ListImport {
  return {
    add(ids, fill) {
      const n = ids.length;
      const entries: ListEntries = {
        ids,
        rows: contents.stride > 0 ? new Float32Array(n * contents.stride) : null,
        norms: new Float32Array(n),
        codes: contents.codeBytes > 0 ? new Uint8Array(n * contents.codeBytes) : null,
      };
      fill(regionsOf(entries));
      contents.lists.push(entries);
    },
    commit() {},
  };
}

/**
 * Reads a snapshot from `input` as its chunks arrive: each time it needs bytes not yet pushed it
 * yields, and goes on when resumed (with more pushed; ChunkFormatError once the stream has no more
 * to give). Each list goes to `lists`' import as soon as all its bytes are there, copied straight
 * from the chunks into the regions the import hands over, and the items become columns as soon as
 * theirs are, so that whenever it yields, every chunk read past may be released (input.release).
 * The import is committed at the end. Throws ChunkFormatError when the stream does not parse.
 */
export function* streamSnapshot(input: ChunkReader, withText: boolean, lists: ListDestination): Generator<void, StreamedSnapshot, void> {
  const wait = function* (bytes: number): Generator<void, void, void> {
    if (bytes > input.remaining) throw new ChunkFormatError('the segment stream ended early');
    while (input.available < bytes) yield;
  };
  yield* wait(16);
  const nLists = input.u32();
  const stride = input.u32();
  const codeBytes = input.u32();
  const codecLength = input.u32();
  yield* wait(codecLength + 4);
  const codec = codecLength === 0 ? null : new Uint8Array(codecLength);
  if (codec !== null) input.into(codec);
  const count = input.u32();
  // Sized by a count the stream claims: no larger than the bytes the items take at the least.
  if (count * (TOKEN_BYTES + TAG_BYTES + 12) > input.remaining) throw new ChunkFormatError('the stream holds fewer items than it counts');
  // The items are read twice (to size their columns, then to fill them): their chunks are kept until then.
  const itemsAt = input.fork();
  input.hold();
  const packed: PackedItemKeys = { tokens: Buffer.allocUnsafeSlow(count * TOKEN_BYTES), tags: Buffer.allocUnsafeSlow(count * TAG_BYTES) };
  // What the items' ids and metadata take, to size their columns exactly.
  let idBytes = 0;
  let metadataBytes = 0;
  for (let i = 0; i < count; i++) {
    // Waits only where the pushed bytes end: a generator's delegation per item would cost more than the parse.
    if (input.available < TOKEN_BYTES + TAG_BYTES + 8) yield* wait(TOKEN_BYTES + TAG_BYTES + 8);
    input.copyTo(packed.tokens, i * TOKEN_BYTES, TOKEN_BYTES);
    input.copyTo(packed.tags, i * TAG_BYTES, TAG_BYTES);
    input.skip(4);
    const idLength = input.u32();
    if (input.available < idLength + 4) yield* wait(idLength + 4);
    idBytes += idLength;
    input.skip(idLength);
    const metadataLength = input.u32();
    if (metadataLength !== NO_METADATA) {
      if (metadataLength === 0) throw new ChunkFormatError('an item holds empty metadata');
      if (input.available < metadataLength) yield* wait(metadataLength);
      metadataBytes += metadataLength;
      input.skip(metadataLength);
    }
  }
  if (idBytes > 0xffff_ffff || metadataBytes > 0xffff_ffff) throw new ChunkFormatError('the items\' ids or metadata exceed 4 GiB');
  const columns = readColumns(itemsAt, packed, count, idBytes, metadataBytes);
  input.unhold();
  const listImport = lists({ nLists, stride, codeBytes, codec }, count);
  const entryBytes = 4 + stride * 4 + 4 + codeBytes;
  for (let list = 0; list < nLists; list++) {
    yield* wait(4);
    const n = input.u32();
    if (n > count) throw new ChunkFormatError('a list holds more entries than the snapshot has items');
    yield* wait(n * entryBytes);
    const ids = input.u32s(n);
    for (const id of ids) if (id >= count) throw new ChunkFormatError('a list names an item the snapshot does not have');
    listImport.add(ids, (regions) => {
      // Regions of another size would misread this list and every one after it.
      if ((regions.rows?.length ?? 0) !== n * stride * 4 || regions.norms.length !== n * 4 || (regions.codes?.length ?? 0) !== n * codeBytes) {
        throw new ChunkFormatError('a list\'s entries do not have the shape the stream gives');
      }
      if (regions.rows !== null) input.into(regions.rows);
      input.into(regions.norms);
      if (regions.codes !== null) input.into(regions.codes);
    });
  }
  const text = withText ? yield* readTermIndexState(input, count, wait) : null;
  if (!input.done) throw new ChunkFormatError('the segment stream has bytes after its last section');
  listImport.commit();
  return { itemCount: count, packed, columns, text };
}

/** The items' revisions, ids and metadata, copied from the stream (`items` at their start, all pushed) into columns beside `packed`. */
function readColumns(items: ChunkReader, packed: PackedItemKeys, count: number, idBytes: number, metadataBytes: number): ItemColumns {
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
}

function* readTermIndexState(input: ChunkReader, items: number, wait: (bytes: number) => Generator<void, void, void>): Generator<void, TermIndexState, void> {
  yield* wait(4);
  const termCount = input.u32();
  const terms = new Array<string>(termCount);
  for (let i = 0; i < termCount; i++) {
    yield* wait(4);
    const bytes = input.u32();
    yield* wait(bytes);
    terms[i] = input.string(bytes, 'utf8');
  }
  if (new Set(terms).size !== termCount) throw new ChunkFormatError('the term dictionary holds a term twice');
  yield* wait(12);
  const entries = input.u32();
  const idWidth = input.u32();
  const freqWidth = input.u32();
  if (![1, 2, 4].includes(idWidth) || ![1, 2, 4].includes(freqWidth)) throw new ChunkFormatError('the term index names a width other than 1, 2 or 4 bytes');
  yield* wait(items * 8 + entries * (idWidth + freqWidth));
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
