// The keyword side of an open index with text search: which fields of an item are text (its
// contents and the metadata strings at the configured dotted paths), their analysis, and the
// BM25 index over them. Built from decrypted items as they are loaded or written, kept only in
// memory, never stored: the store sees sealed items only.

import { resolvePath } from '../input/metadata-filter.js';
import type { JsonObject, TextLanguage } from '../types.js';
import { MEMO_LIMIT, TextAnalyzer } from './analyzer.js';
import { Bm25Scorer, type ScoredKey } from './bm25.js';
import { TermIndex, type Posting } from './term-index.js';

export interface TextSearchConfig {
  /** Dotted metadata paths whose strings (or arrays of strings) are indexed beside the contents. */
  textFields: readonly string[];
  textLanguage: TextLanguage;
}

export class TextIndex {
  readonly analyzer: TextAnalyzer;
  readonly terms = new TermIndex();
  readonly #fieldPaths: readonly string[][];
  readonly #scorer = new Bm25Scorer(this.terms);
  /**
   * Each word seen, with its term's posting (null: a stop word): indexing then costs one map
   * lookup per word. A posting released since (its last document went) is looked up again.
   */
  readonly #postingOfWord = new Map<string, Posting | null>();

  constructor(config: TextSearchConfig) {
    this.analyzer = new TextAnalyzer(config.textLanguage);
    this.#fieldPaths = config.textFields.map((field) => field.split('.'));
  }

  /** Indexes item `key` (replacing what it held), from its contents and metadata. */
  add(key: number, contents: string | null, metadata: JsonObject | null): void {
    const terms: Posting[] = [];
    if (contents !== null) this.#collect(contents, terms);
    for (const path of this.#fieldPaths) {
      for (const value of resolvePath(metadata, path)) {
        if (typeof value === 'string') this.#collect(value, terms);
        else if (Array.isArray(value)) for (const element of value) if (typeof element === 'string') this.#collect(element, terms);
      }
    }
    this.terms.addPostings(key, terms);
  }

  #collect(text: string, into: Posting[]): void {
    const memo = this.#postingOfWord;
    for (const word of this.analyzer.words(text)) {
      let posting = memo.get(word);
      if (posting === undefined || posting?.released === true) {
        const term = this.analyzer.termOf(word);
        posting = term === null ? null : this.terms.intern(term);
        if (memo.size >= MEMO_LIMIT) memo.clear();
        memo.set(word, posting);
      }
      if (posting !== null) into.push(posting);
    }
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
    this.#postingOfWord.clear();
  }
}
