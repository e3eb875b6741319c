// Unicode word segmentation (UAX #29, as Intl.Segmenter implements it), with a fast path: text
// made only of ASCII and Latin letters is split by a regular expression that applies the same
// UAX #29 rules for those characters (a property test checks both agree), because
// Intl.Segmenter costs microseconds per word and an index of 100,000 documents is rebuilt at open.

/** Latin letters whose word-break property is ALetter (no marks, no ×/÷). */
export const LETTER = 'A-Za-z\\u00AA\\u00B5\\u00BA\\u00C0-\\u00D6\\u00D8-\\u00F6\\u00F8-\\u024F';
export const DIGIT = '0-9';
/** Between two letters these do not break a word (MidLetter, MidNumLet, Single_Quote). */
export const MID_LETTER = ":.'\\u00B7\\u2018\\u2019";
/** Between two digits these do not break a number (MidNum, MidNumLet, Single_Quote). */
export const MID_NUMBER = ",;.'\\u2018\\u2019";
/** Texts of only these characters take the fast path; anything else goes to Intl.Segmenter. */
export const FAST_PATH_TEXT = new RegExp(`^[\\x00-\\x7F\\u00A0-\\u00A9\\u00AB\\u00AE-\\u00B4\\u00B6-\\u00B9\\u00BB-\\u00BF${LETTER}\\u00D7\\u00F7\\u2013\\u2014\\u2018\\u2019\\u201C\\u201D\\u2026]*$`);
/**
 * WB5-WB13b for these characters: letters, digits and "_" run together (WB5, WB8-10, WB13a/b);
 * a MidLetter / MidNumLet / Single_Quote between two letters (WB6/7: : . ' · ‘ ’) or a MidNum /
 * MidNumLet / Single_Quote between two digits (WB11/12: , ; . ' ‘ ’) does not break.
 */
const WORD = new RegExp(
  `[${LETTER}${DIGIT}_]+(?:(?:(?<=[${LETTER}])[${MID_LETTER}](?=[${LETTER}])|(?<=[${DIGIT}])[${MID_NUMBER}](?=[${DIGIT}]))[${LETTER}${DIGIT}_]+)*`,
  'g',
);

/** The word-like segments of `text`, in order (Intl.Segmenter's `isWordLike` ones). */
export function words(text: string, segmenter: Intl.Segmenter): string[] {
  if (FAST_PATH_TEXT.test(text)) {
    // match() with /g returns the strings alone: no match objects, the cheapest form here.
    const found: string[] = text.match(WORD) ?? [];
    // ICU quirk kept for agreement: a lone "_" is not word-like, "__" and longer are.
    return found.includes('_') ? found.filter((word) => word !== '_') : found;
  }
  const found: string[] = [];
  for (const segment of segmenter.segment(text)) if (segment.isWordLike === true) found.push(segment.segment);
  return found;
}
