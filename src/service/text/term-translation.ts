// Maps one analysing thread's term numbering (counted-terms.ts) to the term index's ids, as its
// pages arrive in order. An id held here goes stale once every document holding its term is
// removed (the term index may give the id to another term); it is then interned again.

import type { CountedTerms } from './counted-terms.js';
import type { TermIndex } from './term-index.js';

export class TermTranslation {
  readonly #terms: string[] = [];
  #ids = new Uint32Array(1024);
  #generations = new Uint32Array(1024);

  /** Interns the terms `page` numbered first; pages of one numbering must come in order. */
  learn(page: CountedTerms, index: TermIndex): void {
    if (page.firstNew !== this.#terms.length) throw new Error('TermTranslation: a page of this numbering is missing or repeated');
    const needed = this.#terms.length + page.newTerms.length;
    if (needed > this.#ids.length) {
      const size = Math.max(needed, this.#ids.length * 2);
      const ids = new Uint32Array(size);
      ids.set(this.#ids);
      const generations = new Uint32Array(size);
      generations.set(this.#generations);
      this.#ids = ids;
      this.#generations = generations;
    }
    for (const term of page.newTerms) {
      const local = this.#terms.length;
      const id = index.internId(term);
      this.#terms.push(term);
      this.#ids[local] = id;
      this.#generations[local] = index.generationOf(id);
    }
  }

  /** Rewrites ids[start, end) from this numbering to the term index's ids, in place. */
  translate(index: TermIndex, ids: Uint32Array, start: number, end: number): void {
    const known = this.#ids;
    const generations = this.#generations;
    for (let k = start; k < end; k++) {
      const local = ids[k];
      let id = known[local];
      if (generations[local] !== index.generationOf(id)) {
        id = index.internId(this.#terms[local]);
        known[local] = id;
        generations[local] = index.generationOf(id);
      }
      ids[k] = id;
    }
  }
}
