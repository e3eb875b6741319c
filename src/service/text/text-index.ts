// The keyword side of an open index with text search: which fields of an item are text (its
// contents and the metadata strings at the configured dotted paths), their analysis, and the
// BM25 index over them. Built from decrypted items as they are loaded or written, kept in memory;
// the store sees it only inside a sealed segment set (term-index-state.ts), never in plaintext.

import type { JsonObject, TextLanguage } from '../types.js';
import type { TextAnalyzer } from './analyzer.js';
import { Bm25Scorer, type ScoredKey } from './bm25.js';
import type { CountedTerms } from './counted-terms.js';
import { DocumentTermCollector } from './document-term-collector.js';
import { TermIndex } from './term-index.js';
import type { TermTranslation } from './term-translation.js';

export interface TextSearchConfig {
  /** Dotted metadata paths whose strings (or arrays of strings) are indexed beside the contents. */
  textFields: readonly string[];
  textLanguage: TextLanguage;
}

export class TextIndex {
  readonly config: TextSearchConfig;
  readonly terms = new TermIndex();
  readonly #scorer = new Bm25Scorer(this.terms);
  readonly #collector: DocumentTermCollector;

  constructor(config: TextSearchConfig) {
    this.config = { textFields: [...config.textFields], textLanguage: config.textLanguage };
    this.#collector = new DocumentTermCollector(config.textFields, config.textLanguage, this.terms);
  }

  get analyzer(): TextAnalyzer {
    return this.#collector.analyzer;
  }

  /** Indexes item `key` (replacing what it held), from its contents and metadata. */
  add(key: number, contents: string | null, metadata: JsonObject | null): void {
    // First: removing the old version can release term ids the new one would reuse.
    this.terms.remove(key);
    const count = this.#collector.collect(contents, metadata);
    this.terms.addTermIds(key, this.#collector.ids, count);
  }

  /**
   * Indexes item `key` (replacing what it held) as document `doc` of a page analysed elsewhere
   * (see counted-terms.ts), whose new terms `translation` has learnt. Rewrites the document's ids
   * in `page` to this index's.
   */
  addCounted(key: number, page: CountedTerms, doc: number, translation: TermTranslation): void {
    this.terms.remove(key);
    const start = doc === 0 ? 0 : page.ends[doc - 1];
    const end = page.ends[doc];
    translation.translate(this.terms, page.ids, start, end);
    this.terms.addTermFrequencies(key, page.ids, page.freqs, start, end, page.lengths[doc]);
  }

  /** Makes room for `items` more items like those indexed so far (see TermIndex.reserve). */
  reserve(items: number): void {
    this.terms.reserve(items);
  }

  /** Writes the postings of the items added since the last call (a read would do it first). */
  flush(): void {
    this.terms.flush();
  }

  remove(key: number): void {
    this.terms.remove(key);
  }

  /** BM25's best `topK` items for `text`, best first (none when it has no searchable word). */
  search(text: string, topK: number, accept?: (key: number) => boolean): ScoredKey[] {
    return this.#scorer.topK(this.analyzer.terms(text), topK, accept);
  }

  clear(): void {
    this.terms.clear();
    this.#collector.clear();
  }
}
