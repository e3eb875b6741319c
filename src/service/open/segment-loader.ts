// Opens an index from its sealed segment set (service/segments) instead of every item record: the
// set gives the records, the engine's lists and (with text search) the term index as they were when
// it was written, and the tail (item records written, rewritten or deleted since) is found by
// comparing each stored record's seal tag with the one the set holds for its token, then replayed
// from the records themselves: the set's version of a rewritten or deleted item is left out of the
// lists and the term index alike, and the new version analysed from its record. Nothing is
// trusted that the per-item records and the index commitment do not confirm: an item is taken from
// the set only when the store holds exactly the record version (GCM tag) the set was made from,
// and the loader's commitment check then proves the loaded set of (token, tag) pairs is the
// committed one, as after a load from records.
//
// The work is laid out over threads: the store reads the segments and, beside them, lists the
// stored tags, while this thread opens each page of segments as it arrives and reads the set as
// far as it goes, handing the engine each list (into memory another thread touches from the
// manifest on) and taking the items as packed columns (item-records.ts: no object per item;
// records are made when first read); then it compares the tags and drops the few items they show
// changed. The commitment of the kept items is summed from the store's packed listing of exactly
// their (token, tag) pairs, byte for byte the records' own.

import type { Store, StoredIndex, StoredItem } from '../../storage/index.js';
import { IndexNotFoundError } from '../errors.js';
import { sealTagOf } from '../records/index-commitment.js';
import type { TrainedModel } from '../records/trained-model-record.js';
import type { StreamedSnapshot } from '../segments/index-snapshot.js';
import { openManifest, SegmentSetStream } from '../segments/segment-set-record.js';
import { analysisDigest } from '../text/term-index-state.js';
import { applyItemPages } from './item-page-loading.js';
import type { OpenIndex, SealerRegistration } from './open-index.js';
import { OpenLaps } from './open-laps.js';
import { TokenPositions } from './token-positions.js';

/** Data segments read per store query (at 4 MiB each). */
const SEGMENTS_PER_READ = 16;
/** What a page's segment is replaced by once pushed. */
const EMPTY = Buffer.alloc(0);
/** Tail records read and decrypted per store query. */
const TAIL_PAGE = 2000;

/**
 * Loads the empty `open` from the stored segment set and the tail. Returns false, having changed
 * nothing, when there is no set to use: none written, written for another model (training
 * committed a newer one since), or, for an index with text search, a set without its term index
 * (written before sets carried one) or with one from another analysis (analysisDigest).
 * `changed` makes the error that restarts the load when the store moved under it (another
 * replica wrote, or a newer set replaced this one). IntegrityError when a segment fails its checks.
 */
export async function loadFromSegments(
  store: Store,
  stored: StoredIndex,
  open: OpenIndex,
  model: TrainedModel | null,
  sealer: SealerRegistration | null,
  changed: () => Error,
): Promise<boolean> {
  const name = stored.name;
  const setId = stored.segmentSet;
  if (setId === null || stored.sealedModel === null || model === null) return false;
  const laps = new OpenLaps(`segments of "${name}"`);
  const [sealedManifest] = await store.readSegments(name, setId, 0, 1);
  if (sealedManifest === undefined) throw changed();
  const manifest = openManifest(open.cipher, name, setId, sealedManifest);
  const modelTag = sealTagOf(stored.sealedModel);
  if (!manifest.modelTag.equals(modelTag)) return false;
  // A term index only from a set that carries one made by this very analysis (older sets have none).
  if (open.text === null ? manifest.textDigest !== null : manifest.textDigest === null || !manifest.textDigest.equals(analysisDigest(open.text.config))) return false;

  // The lists' memory is touched by another thread while the segments are read (engine/prefault.ts).
  open.reserveSegmentLists(model, manifest.items);
  // Each page of segments is opened (decrypted in place) and parsed while the store reads the
  // next one: the thread that reads them (SQLite's, or the network) and this one work at once.
  // The engine takes each list as soon as its bytes are in, and the segments read past are wiped
  // and let go: an open holds a few pages of its set, not the whole set beside the engine's lists
  // (at 1 M x 768, a peak of 1.5 GiB against 2.5 GiB, and 40% less CPU without the second pass).
  const stream = new SegmentSetStream(open.cipher, name, setId, manifest, (shape, items) => open.beginSegmentImport(model, shape, items));
  // The store lists every (token, tag) meanwhile (SQLite on a thread of its own, PostgreSQL on
  // another connection): about a second at a million items, which used to follow the segments.
  const tagsRead = store.readItemTags(name);
  tagsRead.catch(() => undefined);
  let snapshot: StreamedSnapshot;
  try {
    const readPage = (from: number): Promise<Buffer[]> => {
      const page = store.readSegments(name, setId, 1 + from, Math.min(SEGMENTS_PER_READ, manifest.segments - from));
      // Left unawaited when an earlier page fails to open: its failure then has nowhere to go.
      page.catch(() => undefined);
      return page;
    };
    let next: Promise<Buffer[]> | null = manifest.segments > 0 ? readPage(0) : null;
    while (next !== null) {
      const page = await next;
      const read = stream.pushed + page.length;
      next = page.length > 0 && read < manifest.segments ? readPage(read) : null;
      for (let i = 0; i < page.length; i++) {
        stream.push(page[i]);
        // Not held here once read: the stream lets go of it as soon as it has read past it.
        page[i] = EMPTY;
      }
    }
    if (stream.pushed < manifest.segments) {
      // Replaced by a newer set meanwhile, or segments missing from this one (finish refuses).
      const now = await store.getIndex(name);
      if (now === null) throw new IndexNotFoundError(name);
      if (now.segmentSet === null || !now.segmentSet.equals(setId)) throw changed();
    }
    snapshot = stream.finish();
  } finally {
    stream.abandon();
  }
  laps.lap('read, open and parse segments, import lists');
  const setItems = snapshot.itemCount;
  const tail: Array<{ token: Buffer; tag: string }> = [];
  // Every item is taken (as columns) while the store lists its tags; those it no longer holds as
  // the set has them are dropped again below (few, in an index whose set is current). The token
  // table serves both the comparison below and, later, finding a set item by id.
  const packed = snapshot.packed;
  const positions = new TokenPositions(packed.tokens);
  open.restoreSegmentItems(snapshot, positions);
  laps.lap('records');
  const tags = await tagsRead;
  laps.lap('read tags');
  if (tags === null) throw new IndexNotFoundError(name);
  if (tags.commitmentSeq !== stored.commitmentSeq) throw changed();
  const keep = new Uint8Array(setItems);
  // Which of the store's pairs are the kept items': the commitment of memory is summed from them.
  const select = new Uint8Array(tags.count);
  // The tail: tokens whose stored record is not the version the set holds (new or rewritten), with the tag the store has.
  for (let i = 0; i < tags.count; i++) {
    const at = positions.find(tags.tokens, i * 32);
    // A token the store lists twice (it never should) is kept once at most: the second is tail.
    if (at !== -1 && keep[at] === 0 && sameBytes(packed.tags, at * 16, tags.tags, i * 16, 16)) {
      keep[at] = 1;
      select[i] = 1;
    } else tail.push({ token: Buffer.from(tags.tokens.subarray(i * 32, (i + 1) * 32)), tag: tags.tags.toString('latin1', i * 16, (i + 1) * 16) });
  }
  laps.lap('compare tags');
  open.settleSegments(snapshot, keep, model, { tokens: tags.tokens, tags: tags.tags, count: tags.count, select }, laps);
  const kept = open.size;
  laps.lap('settle');

  // The tail's records, read a page at a time, each checked to be the version the tags named.
  async function* tailPages(): AsyncIterable<StoredItem[]> {
    for (let start = 0; start < tail.length; start += TAIL_PAGE) {
      const page = tail.slice(start, start + TAIL_PAGE);
      const records = await store.getItems(name, page.map((entry) => entry.token));
      // A record gone or rewritten since the tags were read: another writer; load again.
      if (records.length !== page.length) throw changed();
      records.forEach((record, i) => {
        if (sealTagOf(record.sealed).toString('latin1') !== page[i].tag) throw changed();
      });
      yield records;
    }
  }
  // The tail's size is known: a small one opens here, without waiting for a sealing worker's start
  // or round trip (25 records took 0.44-0.50 s of wall and 0.03-0.05 s of CPU through them).
  await applyItemPages(open, tailPages(), sealer, open.size + tail.length);
  laps.lap(`tail (${tail.length})`);
  laps.done();
  open.modelSealTag = modelTag;
  open.loadedFromSegments = true;
  // Deleted or rewritten since the set, plus the items new since: what the next set would absorb
  // (not the rows the engine keeps exact, which every set leaves to the tail: segmentSnapshot).
  open.changesSinceSegments = Math.max(0, setItems - kept + tail.length - open.engine.exactRows);
  return true;
}

/** Whether a[aOffset, aOffset + n) and b[bOffset, bOffset + n) hold the same bytes; no object made per item. */
function sameBytes(a: Uint8Array, aOffset: number, b: Uint8Array, bOffset: number, n: number): boolean {
  for (let k = 0; k < n; k++) if (a[aOffset + k] !== b[bOffset + k]) return false;
  return true;
}
