// Documents analysed away from the term index (in an open's worker threads), in the compact form
// they travel back in: per document its distinct term ids with their frequencies and its length,
// in typed arrays that are transferred rather than copied. Ids are the analysing thread's own
// numbering, kept across the pages of one open, so each term's string crosses over once: a page
// carries only the terms first numbered in it (TermTranslation maps them on the receiving side).

import type { TermIdSource } from './document-term-collector.js';

export interface CountedTerms {
  /** The terms numbered first in this page: ids firstNew, firstNew + 1, ... */
  newTerms: string[];
  firstNew: number;
  /** Document i's distinct term ids and their frequencies are entries [ends[i - 1] (or 0), ends[i]). */
  ids: Uint32Array;
  freqs: Uint32Array;
  ends: Uint32Array;
  /** Document i's length in terms (the sum of its frequencies). */
  lengths: Uint32Array;
}

/** Numbers terms (never releasing one) and counts each document's terms into a CountedTerms page. */
export class CountedTermsBuilder implements TermIdSource {
  readonly #numbers = new Map<string, number>();
  #newTerms: string[] = [];
  #firstNew = 0;
  /** Scratch, zero between documents: a count per term id. */
  #counts = new Uint32Array(1024);
  #ids = new Uint32Array(1024);
  #freqs = new Uint32Array(1024);
  #used = 0;
  #ends = new Uint32Array(0);
  #lengths = new Uint32Array(0);
  #documents = 0;

  internId(term: string): number {
    let id = this.#numbers.get(term);
    if (id === undefined) {
      id = this.#numbers.size;
      this.#numbers.set(term, id);
      this.#newTerms.push(term);
      if (id >= this.#counts.length) {
        const counts = new Uint32Array(this.#counts.length * 2);
        counts.set(this.#counts);
        this.#counts = counts;
      }
    }
    return id;
  }

  generationOf(): number {
    return 0;
  }

  /** Starts a page of `documents` documents. */
  begin(documents: number): void {
    this.#ends = new Uint32Array(documents);
    this.#lengths = new Uint32Array(documents);
    this.#documents = 0;
    this.#used = 0;
  }

  /** Adds the next document: the first `count` of `ids`, with repeats. */
  addDocument(ids: Uint32Array, count: number): void {
    if (this.#used + count > this.#ids.length) {
      const size = Math.max(this.#used + count, this.#ids.length * 2);
      const grownIds = new Uint32Array(size);
      grownIds.set(this.#ids.subarray(0, this.#used));
      const grownFreqs = new Uint32Array(size);
      grownFreqs.set(this.#freqs.subarray(0, this.#used));
      this.#ids = grownIds;
      this.#freqs = grownFreqs;
    }
    const counts = this.#counts;
    const out = this.#ids;
    const start = this.#used;
    let used = start;
    for (let i = 0; i < count; i++) {
      const id = ids[i];
      if (counts[id]++ === 0) out[used++] = id;
    }
    const freqs = this.#freqs;
    for (let k = start; k < used; k++) {
      freqs[k] = counts[out[k]];
      counts[out[k]] = 0;
    }
    this.#used = used;
    this.#lengths[this.#documents] = count;
    this.#ends[this.#documents++] = used;
  }

  /** The page begun last; its arrays are its own (transferable). */
  finish(): CountedTerms {
    const page: CountedTerms = {
      newTerms: this.#newTerms,
      firstNew: this.#firstNew,
      ids: this.#ids.slice(0, this.#used),
      freqs: this.#freqs.slice(0, this.#used),
      ends: this.#ends,
      lengths: this.#lengths,
    };
    this.#firstNew += this.#newTerms.length;
    this.#newTerms = [];
    return page;
  }
}
