// The inverted index of terms kept beside an open index: per term, the documents holding it with
// their term frequencies; per document, its length and distinct terms. Changed incrementally:
// adding, replacing or removing a document updates postings, document frequencies and lengths at
// once, so a term of a deleted document is gone from the next query. It lives only in memory.
//
// Documents are numbered densely inside (numbers of removed documents are reused), so scoring can
// accumulate into flat arrays; callers name documents by their own 32-bit key (the engine slot).

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

export class TermIndex {
  readonly #termIds = new Map<string, number>();
  #postings: (Posting | null)[] = [];
  readonly #freeTermIds: number[] = [];

  readonly #docOfKey = new Map<number, number>();
  #keyOfDoc: Uint32Array = new Uint32Array(INITIAL_CAPACITY);
  #lengthOfDoc: Uint32Array = new Uint32Array(INITIAL_CAPACITY);
  #termsOfDoc: (Uint32Array | null)[] = [];
  readonly #freeDocs: number[] = [];
  #docCapacity = 0;
  #totalLength = 0;

  /** Scratch for counting one document's terms: a count per term id, and the ids touched. */
  #counts: Uint32Array = new Uint32Array(INITIAL_CAPACITY);

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
    const doc = this.#allocateDoc();
    this.#docOfKey.set(key, doc);
    this.#keyOfDoc[doc] = key;
    this.#lengthOfDoc[doc] = terms.length;
    this.#totalLength += terms.length;
    const counts = this.#counts;
    const distinct: Posting[] = [];
    for (const given of terms) {
      const posting = given.released ? this.intern(given.term) : given;
      if (counts[posting.id]++ === 0) distinct.push(posting);
    }
    const ids = new Uint32Array(distinct.length);
    distinct.forEach((posting, i) => {
      this.#append(posting, doc, counts[posting.id]);
      counts[posting.id] = 0;
      ids[i] = posting.id;
    });
    this.#termsOfDoc[doc] = ids;
  }

  /** The posting of `term`, created empty when no document holds it yet. */
  intern(term: string): Posting {
    const known = this.#termIds.get(term);
    if (known !== undefined) return this.#postings[known]!;
    const id = this.#freeTermIds.pop() ?? this.#postings.length;
    const posting: Posting = { term, id, docs: new Uint32Array(4), freqs: new Uint32Array(4), length: 0, released: false };
    this.#termIds.set(term, id);
    this.#postings[id] = posting;
    if (id >= this.#counts.length) this.#counts = grow(this.#counts, id + 1);
    return posting;
  }

  /** Removes document `key`; false when it was not indexed. */
  remove(key: number): boolean {
    const doc = this.#docOfKey.get(key);
    if (doc === undefined) return false;
    this.#docOfKey.delete(key);
    for (const id of this.#termsOfDoc[doc]!) {
      const posting = this.#postings[id]!;
      // Unordered postings: the last entry fills the hole. indexOf runs natively over the array.
      const at = posting.docs.subarray(0, posting.length).indexOf(doc);
      const last = --posting.length;
      posting.docs[at] = posting.docs[last];
      posting.freqs[at] = posting.freqs[last];
      if (last === 0) this.#releaseTerm(id);
    }
    this.#totalLength -= this.#lengthOfDoc[doc];
    this.#termsOfDoc[doc] = null;
    this.#freeDocs.push(doc);
    return true;
  }

  clear(): void {
    for (const posting of this.#postings) if (posting !== null) posting.released = true;
    this.#termIds.clear();
    this.#postings = [];
    this.#freeTermIds.length = 0;
    this.#docOfKey.clear();
    this.#termsOfDoc = [];
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
    let bytes = this.#keyOfDoc.byteLength + this.#lengthOfDoc.byteLength + this.#counts.byteLength;
    for (const posting of this.#postings) if (posting !== null) bytes += posting.docs.byteLength + posting.freqs.byteLength + 64;
    for (const terms of this.#termsOfDoc) if (terms !== null) bytes += terms.byteLength + 64;
    // Map entries and doc-key entries: about 50 bytes each in V8, plus the term's characters.
    for (const term of this.#termIds.keys()) bytes += 50 + term.length * 2;
    bytes += this.#docOfKey.size * 50;
    return bytes;
  }

  #releaseTerm(id: number): void {
    const posting = this.#postings[id]!;
    posting.released = true;
    this.#termIds.delete(posting.term);
    this.#postings[id] = null;
    this.#freeTermIds.push(id);
  }

  #append(posting: Posting, doc: number, freq: number): void {
    if (posting.length === posting.docs.length) {
      posting.docs = grow(posting.docs, posting.length + 1);
      posting.freqs = grow(posting.freqs, posting.length + 1);
    }
    posting.docs[posting.length] = doc;
    posting.freqs[posting.length] = freq;
    posting.length++;
  }

  #allocateDoc(): number {
    const reused = this.#freeDocs.pop();
    if (reused !== undefined) return reused;
    const doc = this.#docCapacity++;
    if (doc >= this.#keyOfDoc.length) {
      this.#keyOfDoc = grow(this.#keyOfDoc, doc + 1);
      this.#lengthOfDoc = grow(this.#lengthOfDoc, doc + 1);
    }
    return doc;
  }
}

/** A copy at least `needed` long: doubling while small, then by half, to bound wasted room. */
function grow(array: Uint32Array, needed: number): Uint32Array {
  const size = Math.max(needed, array.length < 65_536 ? array.length * 2 : Math.ceil(array.length * 1.5), 4);
  const grown = new Uint32Array(size);
  grown.set(array);
  return grown;
}
