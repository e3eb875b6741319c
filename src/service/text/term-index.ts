// The inverted index of terms kept beside an open index: per term, the documents holding it with
// their term frequencies; per document, its length and distinct terms. Changed incrementally:
// adding, replacing or removing a document updates postings, document frequencies and lengths
// before the next read, so a term of a deleted document is gone from the next query. It lives
// in memory (and, sealed, in the index's segment set: see the end of this note).
//
// Added documents are buffered and their postings written in one pass (flush) at the next read,
// removal or explicit flush: opening an index adds every document at once, and one pass sorts their
// entries by term and grows each posting once to its size, where appending one document at a time
// grew each posting a dozen times and chased a posting object per entry (the build at open took
// several times longer).
//
// Documents are numbered densely inside (numbers of removed documents are reused), so scoring can
// accumulate into flat arrays; callers name documents by their own 32-bit key (the engine slot).
//
// A sealed segment set keeps the index's state (exportState) and an open restores it (restoreState)
// instead of analysing every document again.

import type { TermIndexState } from './term-index-state.js';

/** One term's documents and frequencies; only the first `length` entries are live (unordered). */
export interface Posting {
  readonly term: string;
  readonly id: number;
  docs: Uint32Array;
  freqs: Uint32Array;
  length: number;
  /** Set once its last document is gone and the term left the dictionary: intern the term again. */
  released: boolean;
}

const INITIAL_CAPACITY = 1024;
/** Buffered entries (a document's distinct terms each) that make add write postings at once. */
export const PENDING_LIMIT = 1 << 23;
/** A new term's arrays: shared, never written (length 0), replaced on the first append. */
const EMPTY = new Uint32Array(0);

export class TermIndex {
  readonly #termIds = new Map<string, number>();
  #postings: (Posting | null)[] = [];
  readonly #freeTermIds: number[] = [];
  /** Per term id, bumped when its term leaves: callers holding an id check it is still theirs. */
  #generations: Uint32Array = new Uint32Array(INITIAL_CAPACITY);

  readonly #docOfKey = new Map<number, number>();
  #keyOfDoc: Uint32Array = new Uint32Array(INITIAL_CAPACITY);
  #lengthOfDoc: Uint32Array = new Uint32Array(INITIAL_CAPACITY);
  /** Per document: where its distinct term ids start in #docTerms, and how many it has. */
  #termsStart: Uint32Array = new Uint32Array(INITIAL_CAPACITY);
  #termsCount: Uint32Array = new Uint32Array(INITIAL_CAPACITY);
  /** The distinct term ids of every document, one range each; removed ranges are dead space. */
  #docTerms: Uint32Array = new Uint32Array(INITIAL_CAPACITY);
  #docTermsUsed = 0;
  #docTermsDead = 0;
  readonly #freeDocs: number[] = [];
  #docCapacity = 0;
  #totalLength = 0;

  /** Added documents whose postings are not written yet; their ranges are #docTerms[#pendingFrom..]. */
  #pendingDocs: Uint32Array = new Uint32Array(INITIAL_CAPACITY);
  #pendingCount = 0;
  #pendingFrom = 0;
  /** The term frequency of each pending entry: #pendingFreqs[i] belongs to #docTerms[#pendingFrom + i]. */
  #pendingFreqs: Uint32Array = new Uint32Array(INITIAL_CAPACITY);

  /** Scratch, all zero between calls: a count per term id, and the ids counted. */
  #counts: Uint32Array = new Uint32Array(INITIAL_CAPACITY);
  #distinct: Uint32Array = new Uint32Array(INITIAL_CAPACITY);
  /** Scratch of flush(): per term id, where its posting's next entry goes. */
  #ends: Uint32Array = new Uint32Array(INITIAL_CAPACITY);

  /** Documents indexed (a document with no terms counts: it has length 0). */
  get documentCount(): number {
    return this.#docOfKey.size;
  }

  /** Mean document length in terms; 0 for an empty index. */
  get averageLength(): number {
    return this.#docOfKey.size === 0 ? 0 : this.#totalLength / this.#docOfKey.size;
  }

  /** Distinct terms present in at least one document. */
  get termCount(): number {
    this.flush();
    let count = 0;
    for (const posting of this.#postings) if (posting !== null && posting.length > 0) count++;
    return count;
  }

  /** Upper bound (exclusive) of internal document numbers: the size accumulators need. */
  get docCapacity(): number {
    return this.#docCapacity;
  }

  has(key: number): boolean {
    return this.#docOfKey.has(key);
  }

  /** Indexes `terms` (with repeats) as document `key`, replacing what `key` held before. */
  add(key: number, terms: readonly string[]): void {
    this.addPostings(
      key,
      terms.map((term) => this.intern(term)),
    );
  }

  /**
   * Like add(), with each term given as its posting from intern() (callers that memoize words
   * save a dictionary lookup per word).
   */
  addPostings(key: number, terms: readonly Posting[]): void {
    // Removing the old version can release a posting the caller interned (its only holder was
    // this key): such terms are interned again below.
    this.remove(key);
    const ids = new Uint32Array(terms.length);
    terms.forEach((given, i) => (ids[i] = given.released ? this.intern(given.term).id : given.id));
    this.addTermIds(key, ids, ids.length);
  }

  /**
   * Indexes the first `count` term ids of `ids` (with repeats; each from intern() or internId()
   * and still current) as document `key`, which must not be indexed: remove it before collecting
   * its ids, as removing can release them. The form for bulk indexing: no object per word.
   */
  addTermIds(key: number, ids: Uint32Array, count: number): void {
    // Before counting: a refused key must leave the scratch counts zero.
    if (this.#docOfKey.has(key)) throw new Error('TermIndex.addTermIds: the key is indexed; remove it first');
    const counts = this.#counts;
    if (this.#distinct.length < count) this.#distinct = new Uint32Array(Math.max(count, this.#distinct.length * 2));
    const distinct = this.#distinct;
    let distinctCount = 0;
    for (let i = 0; i < count; i++) {
      const id = ids[i];
      if (counts[id]++ === 0) distinct[distinctCount++] = id;
    }
    const freqs = this.#pendingEntries(key, count, distinctCount);
    const docTerms = this.#docTerms;
    const start = this.#docTermsUsed - distinctCount;
    const freqAt = start - this.#pendingFrom;
    for (let i = 0; i < distinctCount; i++) {
      const id = distinct[i];
      docTerms[start + i] = id;
      freqs[freqAt + i] = counts[id];
      counts[id] = 0;
    }
    this.#afterAdd();
  }

  /**
   * Like addTermIds, with the counting done by the caller: the document's distinct term ids are
   * ids[start, end) with their frequencies in freqs[start, end), and `length` is its length in
   * terms (the sum of those frequencies).
   */
  addTermFrequencies(key: number, ids: Uint32Array, freqs: Uint32Array, start: number, end: number, length: number): void {
    const distinctCount = end - start;
    const pendingFreqs = this.#pendingEntries(key, length, distinctCount);
    const at = this.#docTermsUsed - distinctCount;
    this.#docTerms.set(ids.subarray(start, end), at);
    pendingFreqs.set(freqs.subarray(start, end), at - this.#pendingFrom);
    this.#afterAdd();
  }

  /** Makes `key` a document of `length` terms with room for `distinctCount` pending entries; returns the pending frequencies to fill. */
  #pendingEntries(key: number, length: number, distinctCount: number): Uint32Array {
    if (this.#docOfKey.has(key)) throw new Error('TermIndex: the key is indexed; remove it first');
    const doc = this.#allocateDoc();
    this.#docOfKey.set(key, doc);
    this.#keyOfDoc[doc] = key;
    this.#lengthOfDoc[doc] = length;
    this.#totalLength += length;
    if (this.#pendingCount === 0) this.#pendingFrom = this.#docTermsUsed;
    const start = this.#docTermsUsed;
    const end = start + distinctCount;
    if (end > this.#docTerms.length) this.#docTerms = grow(this.#docTerms, end);
    if (end - this.#pendingFrom > this.#pendingFreqs.length) this.#pendingFreqs = grow(this.#pendingFreqs, end - this.#pendingFrom);
    this.#termsStart[doc] = start;
    this.#termsCount[doc] = distinctCount;
    this.#docTermsUsed = end;
    if (this.#pendingCount === this.#pendingDocs.length) this.#pendingDocs = grow(this.#pendingDocs, this.#pendingCount + 1);
    this.#pendingDocs[this.#pendingCount++] = doc;
    return this.#pendingFreqs;
  }

  #afterAdd(): void {
    if (this.#docTermsUsed - this.#pendingFrom >= PENDING_LIMIT) this.flush();
  }

  /**
   * Makes room for `documents` more documents like those indexed so far, at once: a bulk load that
   * knows its size (an open) then writes its entries into arrays allocated once, instead of growing
   * them a few dozen times (each growth copies, and fresh memory is costly to touch).
   */
  reserve(documents: number): void {
    const live = this.#docOfKey.size;
    if (live === 0 || documents <= 0) return;
    const perDocument = (this.#docTermsUsed - this.#docTermsDead) / live;
    // A little over the average so that a corpus whose later documents are longer still fits.
    this.#reserveExactly(documents, Math.ceil(perDocument * documents * 1.05));
  }

  /** Room for `documents` more documents holding `entries` distinct terms between them. */
  #reserveExactly(documents: number, entries: number): void {
    const docs = this.#docCapacity + documents;
    if (docs > this.#keyOfDoc.length) {
      this.#keyOfDoc = resize(this.#keyOfDoc, docs);
      this.#lengthOfDoc = resize(this.#lengthOfDoc, docs);
      this.#termsStart = resize(this.#termsStart, docs);
      this.#termsCount = resize(this.#termsCount, docs);
    }
    if (this.#pendingCount + documents > this.#pendingDocs.length) this.#pendingDocs = resize(this.#pendingDocs, this.#pendingCount + documents);
    if (this.#docTermsUsed + entries > this.#docTerms.length) this.#docTerms = resize(this.#docTerms, this.#docTermsUsed + entries);
    const pending = this.#pendingCount === 0 ? 0 : this.#docTermsUsed - this.#pendingFrom;
    if (pending + entries > this.#pendingFreqs.length) this.#pendingFreqs = resize(this.#pendingFreqs, pending + entries);
  }

  /**
   * The state a sealed segment set keeps (term-index-state.ts): document i of it is the document
   * of key `keys[i]`. `keys` must name every indexed document, each once.
   */
  exportState(keys: Uint32Array): TermIndexState {
    this.flush();
    const n = keys.length;
    if (n !== this.#docOfKey.size) throw new Error('TermIndex.exportState: the keys are not the indexed documents');
    const lengths = new Uint32Array(n);
    const counts = new Uint32Array(n);
    const positionOfDoc = new Int32Array(this.#docCapacity).fill(-1);
    let total = 0;
    for (let i = 0; i < n; i++) {
      const doc = this.#docOfKey.get(keys[i]);
      if (doc === undefined || positionOfDoc[doc] !== -1) throw new Error('TermIndex.exportState: the keys are not the indexed documents');
      positionOfDoc[doc] = i;
      lengths[i] = this.#lengthOfDoc[doc];
      counts[i] = this.#termsCount[doc];
      total += counts[i];
    }
    // Where each document's next entry goes: its entries are filled term by term from the postings,
    // which hold the frequencies (the per-document lists do not).
    const next = new Uint32Array(n);
    for (let i = 1; i < n; i++) next[i] = next[i - 1] + counts[i - 1];
    const ids = new Uint32Array(total);
    const freqs = new Uint32Array(total);
    const terms: string[] = [];
    for (const posting of this.#postings) {
      if (posting === null || posting.length === 0) continue;
      const number = terms.length;
      terms.push(posting.term);
      const { docs, freqs: postingFreqs, length } = posting;
      for (let k = 0; k < length; k++) {
        const at = next[positionOfDoc[docs[k]]]++;
        ids[at] = number;
        freqs[at] = postingFreqs[k];
      }
    }
    return { terms, lengths, counts, ids, freqs };
  }

  /**
   * Loads `state` into this empty index: its document i becomes key i when `keep[i]` is 1 (the
   * others, deleted or rewritten since the state was taken, are left out), and the postings are
   * written in one pass. Terms only the left-out documents held are not kept. Takes `state.ids`
   * and `state.freqs` over (they become this index's per-document lists and pending frequencies,
   * the kept documents' entries moved to the front): an open touches no second copy of them.
   */
  restoreState(state: TermIndexState, keep: Uint8Array): void {
    if (this.#docOfKey.size > 0 || this.#postings.length > 0) throw new Error('TermIndex.restoreState needs an empty index');
    const { terms, lengths, counts, ids, freqs } = state;
    // A fresh index numbers the terms in order: the state's term numbers are this index's ids.
    for (const term of terms) this.intern(term);
    if (this.#postings.length !== terms.length) throw new Error('TermIndex.restoreState: a term appears twice');
    let documents = 0;
    for (let i = 0; i < counts.length; i++) if (keep[i] === 1) documents++;
    const size = Math.max(documents, INITIAL_CAPACITY);
    this.#keyOfDoc = new Uint32Array(size);
    this.#lengthOfDoc = new Uint32Array(size);
    this.#termsStart = new Uint32Array(size);
    this.#termsCount = new Uint32Array(size);
    this.#pendingDocs = new Uint32Array(size);
    // Kept document d (in order) is internal document d; its entries slide down over the left-out ones.
    let doc = 0;
    let read = 0;
    let written = 0;
    for (let i = 0; i < counts.length; i++) {
      const count = counts[i];
      if (keep[i] === 1) {
        if (read !== written) {
          ids.copyWithin(written, read, read + count);
          freqs.copyWithin(written, read, read + count);
        }
        this.#docOfKey.set(i, doc);
        this.#keyOfDoc[doc] = i;
        this.#lengthOfDoc[doc] = lengths[i];
        this.#termsStart[doc] = written;
        this.#termsCount[doc] = count;
        this.#pendingDocs[doc] = doc;
        this.#totalLength += lengths[i];
        written += count;
        doc++;
      }
      read += count;
    }
    this.#docCapacity = documents;
    this.#docTerms = ids.length > 0 ? ids : new Uint32Array(INITIAL_CAPACITY);
    this.#docTermsUsed = written;
    this.#docTermsDead = 0;
    this.#pendingFreqs = documents > 0 && freqs.length > 0 ? freqs : new Uint32Array(INITIAL_CAPACITY);
    this.#pendingFrom = 0;
    this.#pendingCount = documents;
    this.flush();
    for (const posting of this.#postings) if (posting !== null && posting.length === 0) this.#releaseTerm(posting.id);
  }

  /** Writes the postings of the documents added since the last flush (reads do this themselves). */
  flush(): void {
    const pendingCount = this.#pendingCount;
    if (pendingCount === 0) return;
    const from = this.#pendingFrom;
    const docTerms = this.#docTerms;
    const pendingFreqs = this.#pendingFreqs;
    const added = this.#counts;
    // The terms the pending entries touch, with how many each gets.
    if (this.#distinct.length < this.#postings.length) this.#distinct = new Uint32Array(Math.max(this.#postings.length, this.#distinct.length * 2));
    const touched = this.#distinct;
    let touchedCount = 0;
    for (let k = from; k < this.#docTermsUsed; k++) {
      const id = docTerms[k];
      if (added[id]++ === 0) touched[touchedCount++] = id;
    }
    // Each touched posting grows once to hold its new entries (to the exact size when it was
    // empty, as after an open), then the entries are written in document order straight into it.
    const docsOf = new Array<Uint32Array>(this.#postings.length).fill(EMPTY);
    const freqsOf = new Array<Uint32Array>(this.#postings.length).fill(EMPTY);
    const next = this.#ends;
    for (let i = 0; i < touchedCount; i++) {
      const id = touched[i];
      const posting = this.#postings[id]!;
      const needed = posting.length + added[id];
      added[id] = 0;
      if (needed > posting.docs.length) {
        posting.docs = posting.length === 0 ? new Uint32Array(needed) : grow(posting.docs, needed);
        posting.freqs = posting.length === 0 ? new Uint32Array(needed) : grow(posting.freqs, needed);
      }
      docsOf[id] = posting.docs;
      freqsOf[id] = posting.freqs;
      next[id] = posting.length;
      posting.length = needed;
    }
    const pendingDocs = this.#pendingDocs;
    for (let p = 0; p < pendingCount; p++) {
      const doc = pendingDocs[p];
      const start = this.#termsStart[doc];
      const end = start + this.#termsCount[doc];
      for (let k = start; k < end; k++) {
        const id = docTerms[k];
        const at = next[id]++;
        docsOf[id][at] = doc;
        freqsOf[id][at] = pendingFreqs[k - from];
      }
    }
    this.#pendingCount = 0;
    this.#pendingFrom = this.#docTermsUsed;
    // A bulk load's buffers are not kept for the single documents that follow.
    if (this.#pendingFreqs.length > 65_536) this.#pendingFreqs = new Uint32Array(INITIAL_CAPACITY);
    if (this.#pendingDocs.length > 65_536) this.#pendingDocs = new Uint32Array(INITIAL_CAPACITY);
  }

  /** The posting of `term`, created empty when no document holds it yet. */
  intern(term: string): Posting {
    const known = this.#termIds.get(term);
    if (known !== undefined) return this.#postings[known]!;
    const id = this.#freeTermIds.pop() ?? this.#postings.length;
    const posting: Posting = { term, id, docs: EMPTY, freqs: EMPTY, length: 0, released: false };
    this.#termIds.set(term, id);
    this.#postings[id] = posting;
    if (id >= this.#counts.length) {
      this.#counts = grow(this.#counts, id + 1);
      this.#ends = grow(this.#ends, id + 1);
      this.#generations = grow(this.#generations, id + 1);
    }
    return posting;
  }

  /** The id of intern(term). */
  internId(term: string): number {
    return this.intern(term).id;
  }

  /** Changes when term id `id` is released (and so may be given to another term). */
  generationOf(id: number): number {
    return this.#generations[id];
  }

  /** Removes document `key`; false when it was not indexed. */
  remove(key: number): boolean {
    const doc = this.#docOfKey.get(key);
    if (doc === undefined) return false;
    this.flush();
    this.#docOfKey.delete(key);
    const start = this.#termsStart[doc];
    const end = start + this.#termsCount[doc];
    for (let k = start; k < end; k++) {
      const id = this.#docTerms[k];
      const posting = this.#postings[id]!;
      // Unordered postings: the last entry fills the hole. indexOf runs natively over the array.
      const at = posting.docs.subarray(0, posting.length).indexOf(doc);
      const last = --posting.length;
      posting.docs[at] = posting.docs[last];
      posting.freqs[at] = posting.freqs[last];
      if (last === 0) this.#releaseTerm(id);
    }
    this.#totalLength -= this.#lengthOfDoc[doc];
    this.#docTermsDead += end - start;
    this.#termsCount[doc] = 0;
    this.#freeDocs.push(doc);
    if (this.#docTermsDead > INITIAL_CAPACITY && this.#docTermsDead * 2 > this.#docTermsUsed) this.#compactDocTerms();
    return true;
  }

  clear(): void {
    for (const posting of this.#postings) {
      if (posting === null) continue;
      posting.released = true;
      this.#generations[posting.id]++;
    }
    this.#termIds.clear();
    this.#postings = [];
    this.#freeTermIds.length = 0;
    this.#docOfKey.clear();
    this.#termsCount.fill(0);
    this.#docTermsUsed = 0;
    this.#docTermsDead = 0;
    this.#pendingCount = 0;
    this.#pendingFrom = 0;
    this.#freeDocs.length = 0;
    this.#docCapacity = 0;
    this.#totalLength = 0;
  }

  /** Documents holding `term` (0 when none does). */
  documentFrequency(term: string): number {
    return this.posting(term)?.length ?? 0;
  }

  /** The posting of `term` when a document holds it, else null; valid until the next change. */
  posting(term: string): Posting | null {
    this.flush();
    const id = this.#termIds.get(term);
    const posting = id === undefined ? null : this.#postings[id];
    return posting !== null && posting.length > 0 ? posting : null;
  }

  /** Length (terms) of internal document `doc`. */
  lengthOf(doc: number): number {
    return this.#lengthOfDoc[doc];
  }

  /** The caller's key of internal document `doc`. */
  keyOf(doc: number): number {
    return this.#keyOfDoc[doc];
  }

  /** Times `term` occurs in document `key` (0 when either is absent). */
  frequency(key: number, term: string): number {
    const doc = this.#docOfKey.get(key);
    const posting = this.posting(term);
    if (doc === undefined || posting === null) return 0;
    const at = posting.docs.subarray(0, posting.length).indexOf(doc);
    return at < 0 ? 0 : posting.freqs[at];
  }

  /** Bytes held by postings, per-document arrays and the term dictionary's strings (an estimate). */
  estimateBytes(): number {
    let bytes = this.#generations.byteLength + this.#counts.byteLength + this.#distinct.byteLength + this.#ends.byteLength + this.#pendingDocs.byteLength + this.#pendingFreqs.byteLength;
    bytes += this.#keyOfDoc.byteLength + this.#lengthOfDoc.byteLength + this.#termsStart.byteLength + this.#termsCount.byteLength + this.#docTerms.byteLength;
    for (const posting of this.#postings) if (posting !== null) bytes += posting.docs.byteLength + posting.freqs.byteLength + 64;
    // Map entries and doc-key entries: about 50 bytes each in V8, plus the term's characters.
    for (const term of this.#termIds.keys()) bytes += 50 + term.length * 2;
    bytes += this.#docOfKey.size * 50;
    return bytes;
  }

  #releaseTerm(id: number): void {
    const posting = this.#postings[id]!;
    posting.released = true;
    this.#generations[id]++;
    this.#termIds.delete(posting.term);
    this.#postings[id] = null;
    this.#freeTermIds.push(id);
  }

  /** Rewrites #docTerms without the ranges of removed documents (nothing is pending here). */
  #compactDocTerms(): void {
    const live = this.#docTermsUsed - this.#docTermsDead;
    const compact = new Uint32Array(Math.max(INITIAL_CAPACITY, Math.ceil(live * 1.25)));
    let used = 0;
    for (let doc = 0; doc < this.#docCapacity; doc++) {
      const start = this.#termsStart[doc];
      const count = this.#termsCount[doc];
      for (let k = 0; k < count; k++) compact[used + k] = this.#docTerms[start + k];
      this.#termsStart[doc] = used;
      used += count;
    }
    this.#docTerms = compact;
    this.#docTermsUsed = used;
    this.#docTermsDead = 0;
    this.#pendingFrom = used;
  }

  #allocateDoc(): number {
    const reused = this.#freeDocs.pop();
    if (reused !== undefined) return reused;
    const doc = this.#docCapacity++;
    if (doc >= this.#keyOfDoc.length) {
      this.#keyOfDoc = grow(this.#keyOfDoc, doc + 1);
      this.#lengthOfDoc = grow(this.#lengthOfDoc, doc + 1);
      this.#termsStart = grow(this.#termsStart, doc + 1);
      this.#termsCount = grow(this.#termsCount, doc + 1);
    }
    return doc;
  }
}

/** A copy exactly `size` long (at least as long as `array`). */
function resize(array: Uint32Array, size: number): Uint32Array {
  const resized = new Uint32Array(size);
  resized.set(array);
  return resized;
}

/** A copy at least `needed` long: doubling while small, then by half, to bound wasted room. */
function grow(array: Uint32Array, needed: number): Uint32Array {
  const size = Math.max(needed, array.length < 65_536 ? array.length * 2 : Math.ceil(array.length * 1.5), 4);
  const grown = new Uint32Array(size);
  grown.set(array);
  return grown;
}
