// Seeded benchmark documents of real words: a word list (the system dictionary when installed,
// e.g. Debian's wamerican, else the words of the installed packages' README files), word
// frequencies following Zipf's law over a shuffled vocabulary, sentences of 6 to 18 words.

import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { createRandom, type Random } from '../../src/engine/random.js';

const DICTIONARY = '/usr/share/dict/words';

export interface WordList {
  source: string;
  words: string[];
}

/** Lower-case words of three letters or more, each once, in a stable order. */
export function loadWordList(): WordList {
  if (existsSync(DICTIONARY)) {
    const words = readFileSync(DICTIONARY, 'utf8').split('\n').filter((word) => /^[a-z]{3,}$/.test(word));
    return { source: DICTIONARY, words: [...new Set(words)] };
  }
  // No dictionary installed: the English of the installed packages' documentation.
  const found = new Set<string>();
  const root = 'node_modules';
  for (const entry of readdirSync(root)) {
    const dirs = entry.startsWith('@') ? readdirSync(join(root, entry)).map((name) => join(root, entry, name)) : [join(root, entry)];
    for (const dir of dirs) {
      const readme = join(dir, 'README.md');
      if (!existsSync(readme) || statSync(readme).size > 1 << 20) continue;
      for (const word of readFileSync(readme, 'utf8').match(/\b[a-z]{3,}\b/g) ?? []) found.add(word);
    }
  }
  return { source: 'README.md files under node_modules', words: [...found].sort() };
}

/** Draws words with Zipf (s = 1) frequencies: the word of rank r with weight 1 / r. */
export class ZipfWords {
  readonly ranked: string[];
  readonly #cumulative: Float64Array;
  readonly #random: Random;

  constructor(words: readonly string[], seed: number) {
    this.#random = createRandom(seed);
    // A shuffled vocabulary, so the frequent words are not the alphabetically first ones.
    this.ranked = [...words];
    for (let i = this.ranked.length - 1; i > 0; i--) {
      const j = Math.floor(this.#random() * (i + 1));
      [this.ranked[i], this.ranked[j]] = [this.ranked[j], this.ranked[i]];
    }
    this.#cumulative = new Float64Array(this.ranked.length);
    let total = 0;
    for (let r = 0; r < this.ranked.length; r++) this.#cumulative[r] = total += 1 / (r + 1);
  }

  /** A word of rank at least `minRank` (queries skip the most common words). */
  next(minRank = 0): string {
    const cumulative = this.#cumulative;
    const low = minRank === 0 ? 0 : cumulative[minRank - 1];
    const target = low + this.#random() * (cumulative[cumulative.length - 1] - low);
    let lo = minRank;
    let hi = cumulative.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cumulative[mid] < target) lo = mid + 1;
      else hi = mid;
    }
    return this.ranked[lo];
  }

  /** About `words` words as sentences: capitalised, 6 to 18 words each, ending with a full stop. */
  document(words: number): string {
    const sentences: string[] = [];
    let left = words;
    while (left > 0) {
      const length = Math.min(left, 6 + Math.floor(this.#random() * 13));
      const sentence = Array.from({ length }, () => this.next()).join(' ');
      sentences.push(`${sentence[0].toUpperCase()}${sentence.slice(1)}.`);
      left -= length;
    }
    return sentences.join(' ');
  }
}
