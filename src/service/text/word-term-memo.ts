// The memo from words to their terms used while indexing: an open-addressing hash table whose
// keys are the lower-case characters of each word, held in one character pool, so a word the
// scanner found inside a text is looked up by its bounds without making a string. Each entry
// keeps the word's term (null for a stop word) and that term's id in the term index with the
// id's generation: ids are reused once a term leaves the index, and a stale generation tells
// the caller to intern the term again. A corpus repeats a limited vocabulary, so stemming is paid
// once per distinct word and every other occurrence costs one probe.

import { lowerOf } from './latin-word-scanner.js';

const INITIAL_ENTRIES = 1024;

export class WordTermMemo {
  /** Per table slot: entry number + 1 (0 is empty). Twice the entries at most, a power of two. */
  #slots = new Int32Array(INITIAL_ENTRIES * 2);
  #hashes = new Int32Array(INITIAL_ENTRIES);
  #starts = new Uint32Array(INITIAL_ENTRIES);
  #lengths = new Uint32Array(INITIAL_ENTRIES);
  #chars = new Uint16Array(INITIAL_ENTRIES * 8);
  #charCount = 0;
  #size = 0;
  /** Per entry: the term id it was last resolved to (-1: a stop word) and that id's generation. */
  #termIds = new Int32Array(INITIAL_ENTRIES);
  #generations = new Uint32Array(INITIAL_ENTRIES);
  #terms: (string | null)[] = [];

  get size(): number {
    return this.#size;
  }

  /** The entry of the word at text[start, end) lower-cased by the scanner's table, or -1. */
  findScanned(text: string, start: number, end: number, hash: number): number {
    const mask = this.#slots.length - 1;
    const length = end - start;
    for (let slot = hash & mask; ; slot = (slot + 1) & mask) {
      const entry = this.#slots[slot] - 1;
      if (entry < 0) return -1;
      if (this.#hashes[entry] !== hash || this.#lengths[entry] !== length) continue;
      const chars = this.#chars;
      const at = this.#starts[entry] - start;
      let i = start;
      while (i < end && chars[at + i] === lowerOf(text.charCodeAt(i))) i++;
      if (i === end) return entry;
    }
  }

  /** The entry of `word` (already lower case, as words() gives it), or -1. */
  find(word: string, hash: number): number {
    const mask = this.#slots.length - 1;
    const length = word.length;
    for (let slot = hash & mask; ; slot = (slot + 1) & mask) {
      const entry = this.#slots[slot] - 1;
      if (entry < 0) return -1;
      if (this.#hashes[entry] !== hash || this.#lengths[entry] !== length) continue;
      const chars = this.#chars;
      const at = this.#starts[entry];
      let i = 0;
      while (i < length && chars[at + i] === word.charCodeAt(i)) i++;
      if (i === length) return entry;
    }
  }

  /** Adds `word` (not present, lower case, hashed by hashWord) with its term; returns its entry. */
  add(word: string, hash: number, term: string | null, termId: number, generation: number): number {
    const entry = this.#size++;
    if (entry === this.#hashes.length) this.#growEntries();
    if (this.#charCount + word.length > this.#chars.length) {
      const chars = new Uint16Array(Math.max(this.#chars.length * 2, this.#charCount + word.length));
      chars.set(this.#chars.subarray(0, this.#charCount));
      this.#chars = chars;
    }
    for (let i = 0; i < word.length; i++) this.#chars[this.#charCount + i] = word.charCodeAt(i);
    this.#hashes[entry] = hash;
    this.#starts[entry] = this.#charCount;
    this.#lengths[entry] = word.length;
    this.#charCount += word.length;
    this.#terms[entry] = term;
    this.setTermId(entry, termId, generation);
    if (this.#size * 2 > this.#slots.length) this.#rehash(this.#slots.length * 2);
    else this.#insert(entry, hash);
    return entry;
  }

  /** The term id of `entry` when last resolved; -1 for a stop word. */
  termId(entry: number): number {
    return this.#termIds[entry];
  }

  generation(entry: number): number {
    return this.#generations[entry];
  }

  term(entry: number): string | null {
    return this.#terms[entry];
  }

  setTermId(entry: number, termId: number, generation: number): void {
    this.#termIds[entry] = termId;
    this.#generations[entry] = generation;
  }

  clear(): void {
    this.#slots = new Int32Array(INITIAL_ENTRIES * 2);
    this.#hashes = new Int32Array(INITIAL_ENTRIES);
    this.#starts = new Uint32Array(INITIAL_ENTRIES);
    this.#lengths = new Uint32Array(INITIAL_ENTRIES);
    this.#chars = new Uint16Array(INITIAL_ENTRIES * 8);
    this.#termIds = new Int32Array(INITIAL_ENTRIES);
    this.#generations = new Uint32Array(INITIAL_ENTRIES);
    this.#terms = [];
    this.#charCount = 0;
    this.#size = 0;
  }

  /** Bytes held by the table, its character pool and the terms' characters (an estimate). */
  estimateBytes(): number {
    let bytes = this.#slots.byteLength + this.#chars.byteLength + this.#hashes.length * 20;
    for (const term of this.#terms) bytes += 8 + (term === null ? 0 : 16 + term.length * 2);
    return bytes;
  }

  #insert(entry: number, hash: number): void {
    const mask = this.#slots.length - 1;
    let slot = hash & mask;
    while (this.#slots[slot] !== 0) slot = (slot + 1) & mask;
    this.#slots[slot] = entry + 1;
  }

  #rehash(capacity: number): void {
    this.#slots = new Int32Array(capacity);
    for (let entry = 0; entry < this.#size; entry++) this.#insert(entry, this.#hashes[entry]);
  }

  #growEntries(): void {
    const size = this.#hashes.length * 2;
    const grow = <T extends Int32Array | Uint32Array>(array: T, make: (size: number) => T): T => {
      const grown = make(size);
      grown.set(array);
      return grown;
    };
    this.#hashes = grow(this.#hashes, (n) => new Int32Array(n));
    this.#starts = grow(this.#starts, (n) => new Uint32Array(n));
    this.#lengths = grow(this.#lengths, (n) => new Uint32Array(n));
    this.#termIds = grow(this.#termIds, (n) => new Int32Array(n));
    this.#generations = grow(this.#generations, (n) => new Uint32Array(n));
  }
}
