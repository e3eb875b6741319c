// The keyword side of an open index with text search: which fields of an item are text (its
// contents and the metadata strings at the configured dotted paths), their analysis, and the
// BM25 index over them. Built from decrypted items as they are loaded or written, kept only in
// memory, never stored: the store sees sealed items only.

import { resolvePath } from '../input/metadata-filter.js';
import type { JsonObject, TextLanguage } from '../types.js';
import { MEMO_LIMIT, TextAnalyzer } from './analyzer.js';
import { Bm25Scorer, type ScoredKey } from './bm25.js';
import { hashWord, scanLatinWords, type WordSink } from './latin-word-scanner.js';
import { TermIndex } from './term-index.js';
import { WordTermMemo } from './word-term-memo.js';

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
   * Each word seen, with its term and term id: indexing a word seen before costs one probe, and
   * ASCII/Latin texts are scanned in place (scanLatinWords) without a string per word.
   */
  readonly #memo = new WordTermMemo();
  /** The term ids of the document being indexed (the first #count). */
  #ids = new Uint32Array(1024);
  #count = 0;
  readonly #sink: WordSink = {
    word: (text, start, end, hash) => {
      const entry = this.#memo.findScanned(text, start, end, hash);
      this.#push(entry >= 0 ? entry : this.#learn(text.slice(start, end).toLowerCase(), hash));
    },
  };

  constructor(config: TextSearchConfig) {
    this.analyzer = new TextAnalyzer(config.textLanguage);
    this.#fieldPaths = config.textFields.map((field) => field.split('.'));
  }

  /** Indexes item `key` (replacing what it held), from its contents and metadata. */
  add(key: number, contents: string | null, metadata: JsonObject | null): void {
    // First: removing the old version can release term ids the new one would reuse.
    this.terms.remove(key);
    this.#count = 0;
    if (contents !== null) this.#collect(contents);
    for (const path of this.#fieldPaths) {
      for (const value of resolvePath(metadata, path)) {
        if (typeof value === 'string') this.#collect(value);
        else if (Array.isArray(value)) for (const element of value) if (typeof element === 'string') this.#collect(element);
      }
    }
    this.terms.addTermIds(key, this.#ids, this.#count);
  }

  #collect(text: string): void {
    const mark = this.#count;
    if (scanLatinWords(text, this.#sink)) return;
    // Another script somewhere in the text: words() (Intl.Segmenter) splits all of it.
    this.#count = mark;
    for (const word of this.analyzer.words(text)) {
      const hash = hashWord(word);
      const entry = this.#memo.find(word, hash);
      this.#push(entry >= 0 ? entry : this.#learn(word, hash));
    }
  }

  /** Adds the term id of memo entry `entry` (nothing for a stop word), re-interned if stale. */
  #push(entry: number): void {
    const memo = this.#memo;
    let id = memo.termId(entry);
    if (id < 0) return;
    if (memo.generation(entry) !== this.terms.generationOf(id)) {
      // Every document holding the term went since, and its id may name another term now.
      id = this.terms.internId(memo.term(entry)!);
      memo.setTermId(entry, id, this.terms.generationOf(id));
    }
    if (this.#count === this.#ids.length) {
      const ids = new Uint32Array(this.#ids.length * 2);
      ids.set(this.#ids);
      this.#ids = ids;
    }
    this.#ids[this.#count++] = id;
  }

  /** Analyses a word not in the memo (lower case, hashed by hashWord) and remembers it. */
  #learn(word: string, hash: number): number {
    const memo = this.#memo;
    if (memo.size >= MEMO_LIMIT) memo.clear();
    const term = this.analyzer.termOf(word);
    const id = term === null ? -1 : this.terms.internId(term);
    return memo.add(word, hash, term, id, id < 0 ? 0 : this.terms.generationOf(id));
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
    this.#memo.clear();
  }
}
