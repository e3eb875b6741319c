// The inverted-list scanner (Faiss's InvertedListScanner): runs a list codec's scan over a list's
// entries for one prepared query, or for a group of them, and offers the entries that may enter
// each query's top k. Candidates carry the address of their float32 row (its memory and offset,
// list-memories.ts) for the exact re-rank. `heap` is always the memory of the list scanned, where
// the caller has placed the prepared queries and the scratch.
import type { InvertedLists } from './inverted-lists.js';
import type { KernelHeap } from './kernel-heap.js';
import { QUERY_TILE, tile } from './kernels.js';
import type { ListCodec } from './list-codec.js';
import type { TopK } from './top-k.js';

/** Entries one scan call covers for a single query, and for a group of batched queries. */
export const SCAN_ROWS = 4096;
export const BATCH_ROWS = 256;
/** The most queries of a batch scanned together against one list. */
export const MAX_GROUP_QUERIES = 256;
/**
 * Bytes a group may keep hot while it walks a list: its prepared queries, the block of scores
 * they produce (BATCH_ROWS each) and the block of entries being read. Half of a 512 KiB L2
 * (EPYC; most x86 and ARM cores have 256 KiB-2 MiB), leaving the rest to the lists streaming by.
 */
const GROUP_CACHE_BYTES = 256 << 10;
/**
 * Members of a list below this scan one by one: a group pays for gathering and padding to
 * QUERY_TILE. Two already gain: the padded block kernel costs about what two single scans do,
 * and a group's selection and first k-th scores run in one kernel call, not in JS per query
 * (measured at 128-d, 1-4 probes, where half the lists have fewer than 4 members: 2 was up to
 * 15% faster than 4, and 1 no better than 2).
 */
export const MIN_GROUP = 2;

/**
 * Queries per group for queries of `queryBytes` over entries of `entryBytes`: as many as keep the
 * group's working set in GROUP_CACHE_BYTES, so that each stretch of a list meets as many queries
 * as possible while in cache (int8 codes: 176 queries at 128-d, 20 at 784-d).
 */
export function groupQueries(queryBytes: number, entryBytes: number): number {
  const perQuery = queryBytes + BATCH_ROWS * 4;
  const fit = Math.floor((GROUP_CACHE_BYTES - BATCH_ROWS * entryBytes) / perQuery);
  return Math.max(QUERY_TILE, Math.min(MAX_GROUP_QUERIES, fit - (fit % QUERY_TILE)));
}

/**
 * Offers n scanned rows to `best`: score = ||x||^2 - 2 q.x (the squared distance less ||q||^2,
 * or for unit cosine rows with zero norms, twice the cosine distance less 2), where the scan
 * wrote (q.x - offset) / (twice / 2) (1 for f32 rows, the query's scale for int8 codes; the
 * offset is the list's q.c for residual codes, else 0). A kernel first
 * picks the rows under the current bound (widened, since it works in f32), so this loop, the
 * JS part of every search, sees only the rows that may enter. `selected` is scratch for n u32.
 */
function offerScores(
  best: TopK, heap: KernelHeap, norms: number, dots: number, n: number, ids: Uint32Array, idFrom: number,
  twice: number, offset: number, rows: number, rowBytes: number, selected: number, filter?: (id: number) => boolean,
): void {
  // Scores are shifted by -2 offset; the selection kernel, which knows nothing of it, gets the bound unshifted.
  const shift = -2 * offset;
  let bound = best.bound;
  const f32 = heap.f32;
  const u32 = heap.u32;
  const normsAt = norms >> 2;
  const dotsAt = dots >> 2;
  // While the heap has room every row enters: the first rows are offered as they are, and only
  // the rest go through the selection, under the bound those set. (Selecting them all with an
  // unbounded heap offered every row of a query's first list, most of a search at few probes.)
  let first = 0;
  if (bound === Infinity && best.size === 0 && n > best.k && !filter) {
    // A query's first rows: the heap is empty, so exactly the rows at or under the k-th lowest
    // score of these n can enter from them. Finding it costs one pass; offering the first k and
    // selecting under their worst (a bound about as loose as the scores' spread) sent most rows
    // of a query's first list through the heap, the largest share of a search at 1-2 probes.
    const kept = scoreBuffer.length >= n ? scoreBuffer : (scoreBuffer = new Float64Array(n));
    for (let i = 0; i < n; i++) kept[i] = f32[normsAt + i] - twice * f32[dotsAt + i] + shift;
    bound = kthSmallest(kept, n, best.k);
  } else if (bound === Infinity) {
    first = Math.min(n, best.k - best.size);
    for (let i = 0; i < first; i++) {
      const score = f32[normsAt + i] - twice * f32[dotsAt + i] + shift;
      if (best.offer(score, ids[idFrom + i], filter, rows + (idFrom + i) * rowBytes)) bound = best.bound;
    }
  }
  const unshifted = bound - shift;
  const end = heap.kernels.selectScores(norms + first * 4, dots + first * 4, n - first, twice, unshifted + Math.abs(unshifted) * 1e-5 + 1e-30, selected) >> 2;
  for (let s = selected >> 2; s < end; s++) {
    const i = first + u32[s];
    const score = f32[normsAt + i] - twice * f32[dotsAt + i] + shift;
    // The candidate carries where its row is, for the exact re-rank.
    if (score <= bound && best.offer(score, ids[idFrom + i], filter, rows + (idFrom + i) * rowBytes)) bound = best.bound;
  }
}

let scoreBuffer = new Float64Array(BATCH_ROWS);

/** The k-th smallest (1-based) of values[0..n), k <= n; reorders them (Hoare's quickselect). */
export function kthSmallest(values: Float64Array, n: number, k: number): number {
  let lo = 0;
  let hi = n - 1;
  const target = k - 1;
  while (lo < hi) {
    const pivot = values[(lo + hi) >> 1];
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (values[i] < pivot) i++;
      while (values[j] > pivot) j--;
      if (i <= j) {
        const t = values[i];
        values[i] = values[j];
        values[j] = t;
        i++;
        j--;
      }
    }
    if (target <= j) hi = j;
    else if (target >= i) lo = i;
    else return values[target];
  }
  return values[target];
}

/** Scratch a scanner needs beside the prepared queries: byte addresses of free heap regions. */
export interface ScanScratch {
  /** SCAN_ROWS floats (single query) or GROUP_QUERIES x BATCH_ROWS floats (a group). */
  out: number;
  /** SCAN_ROWS u32 (single query), and for a group also GROUP_QUERIES x BATCH_ROWS. */
  selected: number;
  /** A group's: GROUP_QUERIES pairs of f32 (selectBlock's twice and bound of each query). */
  params?: number;
}

/** Bytes of ScanScratch regions for groups of `groupSize` (and single scans of SCAN_ROWS). */
export function scanScratchBytes(groupSize: number): { out: number; selected: number; params: number } {
  const rows = Math.max(groupSize * BATCH_ROWS, SCAN_ROWS) * 4;
  return { out: rows, selected: rows, params: groupSize * 8 };
}

/**
 * Scans `list` for the query prepared at `query` (scale `twice` / 2; `offset` the list's q.c for
 * residual codes, else 0), offering to `best`.
 */
export function scanList(
  best: TopK, heap: KernelHeap, lists: InvertedLists, codec: ListCodec, list: number, query: number, twice: number, offset: number,
  scratch: ScanScratch, filter?: (id: number) => boolean,
): void {
  const length = lists.length(list);
  const ids = lists.ids(list);
  const entries = codec.entriesAt(lists, list);
  const norms = lists.normsAt(list);
  const rows = lists.rowsAddress(list);
  for (let start = 0; start < length; start += SCAN_ROWS) {
    const n = Math.min(SCAN_ROWS, length - start);
    codec.scan(heap, query, entries + start * codec.entryBytes, n, scratch.out);
    offerScores(best, heap, norms + start * 4, scratch.out, n, ids, start, twice, offset, rows, lists.rowBytes, scratch.selected, filter);
  }
}

/**
 * Scans `list` for the queries numbered in `who` (prepared, one per queryBytes, from `prepared`):
 * they are gathered groupQueries() at a time to `group` (that many x queryBytes) with their
 * numbers at `members`, so each stretch of the list is read once for the whole group, and one
 * selectBlock call per stretch picks every member's candidates. A list with fewer than MIN_GROUP
 * members is scanned query by query. `offsetOf` gives a query's q.c of this list when the codec
 * codes residuals (such codecs are never blocked).
 */
export function scanListForGroup(
  best: TopK[], twice: Float64Array, heap: KernelHeap, lists: InvertedLists, codec: ListCodec, list: number,
  who: Uint32Array, prepared: number, group: number, members: number, scratch: ScanScratch, filter?: (id: number) => boolean,
  offsetOf?: (query: number) => number,
): void {
  const length = lists.length(list);
  if (length === 0 || who.length === 0) return;
  const kernels = heap.kernels;
  const queryBytes = codec.queryBytes;
  const norms = lists.normsAt(list);
  const ids = lists.ids(list);
  const rows = lists.rowsAddress(list);
  const entries = codec.entriesAt(lists, list);
  if (!codec.blocked || who.length < MIN_GROUP) {
    for (const query of who) {
      scanList(best[query], heap, lists, codec, list, prepared + query * queryBytes, twice[query], offsetOf ? offsetOf(query) : 0, scratch, filter);
    }
    return;
  }
  const groupSize = groupQueries(queryBytes, codec.entryBytes);
  for (let g = 0; g < who.length; g += groupSize) {
    const size = Math.min(groupSize, who.length - g);
    heap.u32.set(who.subarray(g, g + size), members >> 2);
    kernels.gatherRows(prepared, members, size, queryBytes, group);
    const sizeTiled = tile(size, QUERY_TILE);
    heap.i8.fill(0, group + size * queryBytes, group + sizeTiled * queryBytes);
    for (let start = 0; start < length; start += BATCH_ROWS) {
      const n = Math.min(BATCH_ROWS, length - start);
      codec.scanBlock(heap, group, sizeTiled, entries + start * codec.entryBytes, tile(n, 2), scratch.out, BATCH_ROWS);
      offerBlock(best, twice, heap, norms + start * 4, scratch, who, g, size, n, ids, start, rows, lists.rowBytes, filter);
    }
  }
}

/**
 * offerScores for each query of a group over one block of n rows (query j's scores at out + j
 * BATCH_ROWS floats): one selectBlock call picks the rows under every query's bound. A query
 * with no bound yet (its first rows) goes through offerScores, which finds it one.
 */
function offerBlock(
  best: TopK[], twice: Float64Array, heap: KernelHeap, norms: number, scratch: ScanScratch, who: Uint32Array, g: number, size: number,
  n: number, ids: Uint32Array, idFrom: number, rows: number, rowBytes: number, filter?: (id: number) => boolean,
): void {
  const params = scratch.params as number;
  let f32 = heap.f32;
  for (let j = 0; j < size; j++) {
    const query = who[g + j];
    const top = best[query];
    const bound = top.bound;
    if (bound === Infinity && top.size === 0 && n > top.k && !filter) {
      // A query's first rows: exactly those at or under the k-th lowest score can enter. The
      // kernel finds it among the f32 scores the selection compares (offerScores' JS quickselect
      // over float64 scores was the largest JS cost of a batch at 1-4 probes); widened twice
      // over, once for the f32 k-th against the float64 one and once for each row's own score.
      const kth = heap.kernels.kthScore(norms, scratch.out + j * BATCH_ROWS * 4, n, twice[query], top.k, scratch.selected);
      f32[(params >> 2) + 2 * j] = twice[query];
      f32[(params >> 2) + 2 * j + 1] = kth + Math.abs(kth) * 2e-5 + 1e-30;
    } else if (bound === Infinity) {
      offerScores(top, heap, norms, scratch.out + j * BATCH_ROWS * 4, n, ids, idFrom, twice[query], 0, rows, rowBytes, scratch.selected, filter);
      f32[(params >> 2) + 2 * j + 1] = -Infinity;
    } else {
      f32[(params >> 2) + 2 * j] = twice[query];
      // Widened as offerScores widens it: the kernel's scores are f32.
      f32[(params >> 2) + 2 * j + 1] = bound + Math.abs(bound) * 1e-5 + 1e-30;
    }
  }
  const end = heap.kernels.selectBlock(norms, scratch.out, size, n, BATCH_ROWS, params, scratch.selected) >> 2;
  f32 = heap.f32;
  const u32 = heap.u32;
  const normsAt = norms >> 2;
  const outAt = scratch.out >> 2;
  let j = -1;
  let top = best[0];
  let bound = 0;
  let tw = 0;
  for (let s = scratch.selected >> 2; s < end; s++) {
    const pick = u32[s];
    const i = pick & 0xffff;
    if (pick >>> 16 !== j) {
      j = pick >>> 16;
      const query = who[g + j];
      top = best[query];
      bound = top.bound;
      tw = twice[query];
    }
    const score = f32[normsAt + i] - tw * f32[outAt + j * BATCH_ROWS + i];
    if (score <= bound && top.offer(score, ids[idFrom + i], filter, rows + (idFrom + i) * rowBytes)) bound = top.bound;
  }
}
