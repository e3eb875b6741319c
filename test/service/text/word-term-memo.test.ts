// The word memo finds every word it was given, by string or by its bounds inside a text (compared
// in lower case), through its growth, and nothing it was not given.
import { describe, expect, it } from 'vitest';
import { hashWord } from '../../../src/service/text/latin-word-scanner.js';
import { WordTermMemo } from '../../../src/service/text/word-term-memo.js';

describe('WordTermMemo', () => {
  it('finds each of many words, short and long, by string and inside an upper-case text, with its term and id', () => {
    const memo = new WordTermMemo();
    // Every fifth word is long, so the character pool grows past its first size too.
    const words = Array.from({ length: 5000 }, (_, i) => `${i % 5 === 0 ? 'extraordinarily-long-' : ''}word${i.toString(36)}é`);
    words.forEach((word, i) => memo.add(word, hashWord(word), i % 7 === 0 ? null : `term${i}`, i % 7 === 0 ? -1 : i, i % 3));
    expect(memo.size).toBe(5000);
    words.forEach((word, i) => {
      const entry = memo.find(word, hashWord(word));
      expect(entry).toBeGreaterThanOrEqual(0);
      expect(memo.term(entry)).toBe(i % 7 === 0 ? null : `term${i}`);
      expect(memo.termId(entry)).toBe(i % 7 === 0 ? -1 : i);
      expect(memo.generation(entry)).toBe(i % 3);
      const text = `  ${word.toUpperCase()}!`;
      expect(memo.findScanned(text, 2, 2 + word.length, hashWord(word))).toBe(entry);
    });
    expect(memo.find('absent', hashWord('absent'))).toBe(-1);
    // Same hash and length, other characters: never confused.
    expect(memo.findScanned('xword1é', 1, 7, hashWord('word2é'))).toBe(-1);
    memo.clear();
    expect(memo.size).toBe(0);
    expect(memo.find(words[1], hashWord(words[1]))).toBe(-1);
  });

  it('tells two words with the same hash apart', () => {
    const memo = new WordTermMemo();
    const first = memo.add('alpha', 42, 'alpha', 1, 0);
    const second = memo.add('bravo', 42, 'bravo', 2, 0);
    expect(memo.find('alpha', 42)).toBe(first);
    expect(memo.find('bravo', 42)).toBe(second);
    expect(memo.find('charl', 42)).toBe(-1);
  });
});
