// The fast word splitter agrees with Intl.Segmenter on every text it takes (ASCII and Latin
// letters with the punctuation UAX #29 gives rules for), and other scripts go to the segmenter.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { words } from '../../../src/service/text/word-segmentation.js';

const segmenter = new Intl.Segmenter('en', { granularity: 'word' });
const bySegmenter = (text: string): string[] => [...segmenter.segment(text)].filter((segment) => segment.isWordLike === true).map((segment) => segment.segment);

/** Letters, digits and exactly the punctuation the word-break rules treat specially, plus separators. */
const FAST_PATH_CHARACTERS = [..."aZé_0 9.,;:'’‘·-—–“”…\n\t\u00a0×ªµ!?()/\\\"@#$%&*+=<>[]{}|~^`ÿǀɏ"];

describe('words', () => {
  it('agrees with Intl.Segmenter on random Latin texts (the fast path)', () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...FAST_PATH_CHARACTERS), { maxLength: 24 }), (characters) => {
        const text = characters.join('');
        expect(words(text, segmenter)).toEqual(bySegmenter(text));
      }),
      { numRuns: 20_000 },
    );
  });

  it('keeps the joins UAX #29 defines: apostrophes, decimal numbers, abbreviations, underscores', () => {
    expect(words("don't stop 3.14 1,000 e.g. snake_case a.1 __ _", segmenter)).toEqual(["don't", 'stop', '3.14', '1,000', 'e.g', 'snake_case', 'a', '1', '__']);
  });

  it('hands other scripts to the segmenter', () => {
    const text = '東京タワー and Ελληνικά, עברית';
    expect(words(text, segmenter)).toEqual(bySegmenter(text));
    expect(words(text, segmenter)).toContain('Ελληνικά');
  });
});
