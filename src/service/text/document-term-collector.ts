// Turns one document's contents and text fields into term ids, with repeats, in order: the
// analysis TextIndex.add indexes and an open's worker threads run beside decryption, so both
// reach the same terms. Words seen before cost a memo probe (scanLatinWords finds ASCII/Latin
// words in place, without a string each); ids come from the caller's term dictionary.

import { resolvePath } from '../input/metadata-filter.js';
import type { JsonObject, TextLanguage } from '../types.js';
import { MEMO_LIMIT, TextAnalyzer } from './analyzer.js';
import { hashWord, scanLatinWords, type WordSink } from './latin-word-scanner.js';
import { WordTermMemo } from './word-term-memo.js';

/** Where term ids come from: the term index itself, or a worker's own numbering. */
export interface TermIdSource {
  internId(term: string): number;
  /** Changes when id `id` is released and may name another term (a source that never releases: constant). */
  generationOf(id: number): number;
}

export class DocumentTermCollector {
  readonly analyzer: TextAnalyzer;
  readonly #fieldPaths: readonly string[][];
  readonly #source: TermIdSource;
  /** Each word seen, with its term and term id (see WordTermMemo). */
  readonly #memo = new WordTermMemo();
  /** The term ids of the last document collected (the first `count`). */
  #ids = new Uint32Array(1024);
  #count = 0;
  readonly #sink: WordSink = {
    word: (text, start, end, hash) => {
      const entry = this.#memo.findScanned(text, start, end, hash);
      this.#push(entry >= 0 ? entry : this.#learn(text.slice(start, end).toLowerCase(), hash));
    },
  };

  constructor(textFields: readonly string[], language: TextLanguage, source: TermIdSource) {
    this.analyzer = new TextAnalyzer(language);
    this.#fieldPaths = textFields.map((field) => field.split('.'));
    this.#source = source;
  }

  /** The term ids collect() found; valid until the next call. */
  get ids(): Uint32Array {
    return this.#ids;
  }

  /** Collects the term ids of a document's contents and text fields; returns how many (its length). */
  collect(contents: string | null, metadata: JsonObject | null): number {
    this.#count = 0;
    if (contents !== null) this.#collect(contents);
    for (const path of this.#fieldPaths) {
      for (const value of resolvePath(metadata, path)) {
        if (typeof value === 'string') this.#collect(value);
        else if (Array.isArray(value)) for (const element of value) if (typeof element === 'string') this.#collect(element);
      }
    }
    return this.#count;
  }

  clear(): void {
    this.#memo.clear();
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
    if (memo.generation(entry) !== this.#source.generationOf(id)) {
      // Every document holding the term went since, and its id may name another term now.
      id = this.#source.internId(memo.term(entry)!);
      memo.setTermId(entry, id, this.#source.generationOf(id));
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
    const id = term === null ? -1 : this.#source.internId(term);
    return memo.add(word, hash, term, id, id < 0 ? 0 : this.#source.generationOf(id));
  }
}
