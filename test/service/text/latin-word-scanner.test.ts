// The allocation-free scanner indexing uses finds exactly the words words() and Intl.Segmenter find
// in lower-cased ASCII/Latin text, upper case and joining punctuation included, and refuses every
// text with another character, so such texts take the full path.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { hashWord, latinWords, scanLatinWords } from '../../../src/service/text/latin-word-scanner.js';
import { words } from '../../../src/service/text/word-segmentation.js';

const segmenter = new Intl.Segmenter('en', { granularity: 'word' });
const bySegmenter = (text: string): string[] => [...segmenter.segment(text)].filter((segment) => segment.isWordLike === true).map((segment) => segment.segment);

/** Both cases of Latin letters, digits, the joining punctuation of UAX #29 and separators. */
const LATIN_CHARACTERS = [..."aZéÉ_0 9.,;:'’‘·-—–“”…\n\t\u00a0×ªµ!?()/\\\"@#$%&*+=<>[]{}|~^`ÿŸǀɏɎǄǅÐðÞþßĲ"];
/** Characters outside the fast path, or that lower-case outside it: İ to two units, Ⱥ to U+2C65, K (Kelvin) to k. */
const OTHER_CHARACTERS = [...'東Ωπעё\u0301\u00ad\u0130\u023a\u212a\u{1F600}'];

const latinText = fc.array(fc.constantFrom(...LATIN_CHARACTERS), { maxLength: 30 }).map((characters) => characters.join(''));

describe('scanLatinWords', () => {
  it('finds the words of words() and Intl.Segmenter in lower-cased Latin text (the fast path)', () => {
    fc.assert(
      fc.property(latinText, (text) => {
        const lower = text.toLowerCase();
        expect(latinWords(text)).toEqual(bySegmenter(lower));
        expect(latinWords(text)).toEqual(words(lower, segmenter));
      }),
      { numRuns: 20_000 },
    );
  });

  it('hashes each word as hashWord() hashes its lower case', () => {
    fc.assert(
      fc.property(latinText, (text) => {
        const hashes: [string, number][] = [];
        scanLatinWords(text, { word: (from, start, end, hash) => hashes.push([from.slice(start, end).toLowerCase(), hash]) });
        for (const [word, hash] of hashes) expect(hash).toBe(hashWord(word));
      }),
      { numRuns: 2_000 },
    );
  });

  it('refuses any text with a character of another script (the full path takes it)', () => {
    fc.assert(
      fc.property(latinText, fc.constantFrom(...OTHER_CHARACTERS), latinText, (before, other, after) => {
        expect(latinWords(before + other + after)).toBeNull();
      }),
      { numRuns: 5_000 },
    );
  });

  it('keeps the joins UAX #29 defines and drops a lone underscore', () => {
    expect(latinWords("Don't STOP 3.14 1,000 E.g. snake_case a.1 __ _ l'Été")).toEqual(["don't", 'stop', '3.14', '1,000', 'e.g', 'snake_case', 'a', '1', '__', "l'été"]);
  });
});
