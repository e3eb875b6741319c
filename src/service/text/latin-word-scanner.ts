// The allocation-free form of words()' fast path, for indexing: one pass over the character codes
// of an ASCII/Latin text that finds each word's bounds, lower-cases it through a table and hashes
// it, so a word already seen costs a memo probe instead of a new string. Its tables are derived
// from word-segmentation's own character classes, and a property test holds its words equal to
// words() and to Intl.Segmenter. A text with any other character is refused (false): the caller
// then takes words(), so behaviour never depends on which path ran.

import { DIGIT, FAST_PATH_TEXT, LETTER, MID_LETTER, MID_NUMBER } from './word-segmentation.js';

/** Receives each word as bounds into the scanned text, with the FNV-1a hash of its lower case. */
export interface WordSink {
  word(text: string, start: number, end: number, hash: number): void;
}

// Word-break classes of a character after lower-casing.
const OTHER = 0;
const LETTER_CLASS = 1;
const DIGIT_CLASS = 2;
const UNDERSCORE = 3;
/** Joins two letters only (: ·). */
const MID_LETTER_ONLY = 4;
/** Joins two digits only (, ;). */
const MID_NUMBER_ONLY = 5;
/** Joins two letters or two digits (. ' ‘ ’). */
const MID_BOTH = 6;
/** Outside the fast path: the text goes to words(). */
const REFUSE = 7;

/** Codes past the last one the fast path accepts (U+2026) are refused without a table entry. */
const TABLE_SIZE = 0x2027;

export const FNV_OFFSET = 0x811c9dc5 | 0;
export const FNV_PRIME = 0x01000193;

/**
 * Class and lower case per code. words() lower-cases the whole text before testing FAST_PATH_TEXT
 * and splitting, so a character belongs here only if its lower case is one code unit that
 * FAST_PATH_TEXT accepts (U+0130 İ lower-cases to two, U+023A Ⱥ to U+2C65: both refused).
 */
const { CLASSES, LOWER } = (() => {
  const classes = new Uint8Array(TABLE_SIZE).fill(REFUSE);
  const lower = new Uint16Array(TABLE_SIZE);
  const letter = new RegExp(`^[${LETTER}]$`);
  const digit = new RegExp(`^[${DIGIT}]$`);
  const midLetter = new RegExp(`^[${MID_LETTER}]$`);
  const midNumber = new RegExp(`^[${MID_NUMBER}]$`);
  for (let code = 0; code < TABLE_SIZE; code++) {
    const lowered = String.fromCharCode(code).toLowerCase();
    if (lowered.length !== 1 || !FAST_PATH_TEXT.test(lowered)) continue;
    lower[code] = lowered.charCodeAt(0);
    const joinsLetters = midLetter.test(lowered);
    const joinsDigits = midNumber.test(lowered);
    classes[code] = letter.test(lowered)
      ? LETTER_CLASS
      : digit.test(lowered)
        ? DIGIT_CLASS
        : lowered === '_'
          ? UNDERSCORE
          : joinsLetters && joinsDigits
            ? MID_BOTH
            : joinsLetters
              ? MID_LETTER_ONLY
              : joinsDigits
                ? MID_NUMBER_ONLY
                : OTHER;
  }
  return { CLASSES: classes, LOWER: lower };
})();

const classOf = (code: number): number => (code < TABLE_SIZE ? CLASSES[code] : REFUSE);

/** The lower case of a code the scanner accepted (only meaningful for those). */
export function lowerOf(code: number): number {
  return LOWER[code];
}

/** FNV-1a over UTF-16 code units: the hash the scanner gives, for words held as strings. */
export function hashWord(word: string): number {
  let hash = FNV_OFFSET;
  for (let i = 0; i < word.length; i++) hash = Math.imul(hash ^ word.charCodeAt(i), FNV_PRIME);
  return hash;
}

/**
 * Hands `sink` the words of `text` in order, as words(text.toLowerCase()) finds them, and returns
 * true; returns false (possibly after some words) when `text` is not for the fast path.
 */
export function scanLatinWords(text: string, sink: WordSink): boolean {
  const length = text.length;
  let i = 0;
  while (i < length) {
    let code = text.charCodeAt(i);
    let kind = classOf(code);
    if (kind === REFUSE) return false;
    if (kind < LETTER_CLASS || kind > UNDERSCORE) {
      i++;
      continue;
    }
    // A run of letters, digits and "_", extended across a joining character between two letters
    // or two digits (WB6/7, WB11/12), exactly as the WORD expression matches.
    const start = i;
    let hash = FNV_OFFSET;
    for (;;) {
      hash = Math.imul(hash ^ LOWER[code], FNV_PRIME);
      const previous = kind;
      if (++i === length) break;
      code = text.charCodeAt(i);
      kind = classOf(code);
      if (kind >= LETTER_CLASS && kind <= UNDERSCORE) continue;
      // Refused next to a word: stop before handing over a word the full path may extend.
      if (kind === REFUSE) return false;
      if (kind < MID_LETTER_ONLY || kind > MID_BOTH || i + 1 === length) break;
      const nextCode = text.charCodeAt(i + 1);
      const next = classOf(nextCode);
      if (next === REFUSE) return false;
      const joins =
        (previous === LETTER_CLASS && next === LETTER_CLASS && kind !== MID_NUMBER_ONLY) ||
        (previous === DIGIT_CLASS && next === DIGIT_CLASS && kind !== MID_LETTER_ONLY);
      if (!joins) break;
      hash = Math.imul(hash ^ LOWER[code], FNV_PRIME);
      i++;
      code = nextCode;
      kind = next;
    }
    // ICU quirk words() keeps: a lone "_" is not word-like.
    if (i - start !== 1 || text.charCodeAt(start) !== 0x5f) sink.word(text, start, i, hash);
  }
  return true;
}

/** The words scanLatinWords() finds, as lower-case strings, or null when it refuses `text`. */
export function latinWords(text: string): string[] | null {
  const found: string[] = [];
  const sink: WordSink = { word: (from, start, end) => found.push(from.slice(start, end).toLowerCase()) };
  return scanLatinWords(text, sink) ? found : null;
}
