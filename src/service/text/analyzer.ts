// Text analysis for keyword search: the one function that turns contents, metadata strings and
// queries into terms, so documents and queries meet on the same terms. Unicode word segmentation
// (Intl.Segmenter), case folding, the language's stop words (`stopword`), Snowball stemming
// (`snowball-stemmers`), then diacritic folding.

import * as stopwords from 'stopword';
import snowball, { type Stemmer } from 'snowball-stemmers';
import type { TextLanguage } from '../types.js';
import { words } from './word-segmentation.js';

/** A language both a Snowball stemmer and a stop-word list exist for. */
interface LanguageTables {
  /** BCP 47 tag for the segmenter (word boundaries differ only for a few scripts). */
  locale: string;
  stopWords: readonly string[];
}

const LANGUAGES = {
  arabic: { locale: 'ar', stopWords: stopwords.ara },
  armenian: { locale: 'hy', stopWords: stopwords.hye },
  basque: { locale: 'eu', stopWords: stopwords.eus },
  catalan: { locale: 'ca', stopWords: stopwords.cat },
  czech: { locale: 'cs', stopWords: stopwords.ces },
  danish: { locale: 'da', stopWords: stopwords.dan },
  dutch: { locale: 'nl', stopWords: stopwords.nld },
  english: { locale: 'en', stopWords: stopwords.eng },
  finnish: { locale: 'fi', stopWords: stopwords.fin },
  french: { locale: 'fr', stopWords: stopwords.fra },
  german: { locale: 'de', stopWords: stopwords.deu },
  hungarian: { locale: 'hu', stopWords: stopwords.hun },
  irish: { locale: 'ga', stopWords: stopwords.gle },
  italian: { locale: 'it', stopWords: stopwords.ita },
  norwegian: { locale: 'nb', stopWords: stopwords.nob },
  portuguese: { locale: 'pt', stopWords: stopwords.por },
  romanian: { locale: 'ro', stopWords: stopwords.ron },
  russian: { locale: 'ru', stopWords: stopwords.rus },
  slovene: { locale: 'sl', stopWords: stopwords.slv },
  spanish: { locale: 'es', stopWords: stopwords.spa },
  swedish: { locale: 'sv', stopWords: stopwords.swe },
  turkish: { locale: 'tr', stopWords: stopwords.tur },
} as const satisfies Record<TextLanguage, LanguageTables>;

export const DEFAULT_TEXT_LANGUAGE: TextLanguage = 'english';

/** Removes combining marks after canonical decomposition: "Café" → "Cafe", "naïve" → "naive". */
export function foldDiacritics(word: string): string {
  return word.normalize('NFD').replace(/\p{M}+/gu, '');
}

/**
 * Words seen are remembered with their term (or as stop words): a corpus repeats a limited
 * vocabulary, and the stemmer costs far more than a map lookup. Cleared when it grows past this.
 */
export const MEMO_LIMIT = 500_000;
/** Marks a stop word in the memo. */
const STOP = '';

export class TextAnalyzer {
  readonly language: TextLanguage;
  readonly #segmenter: Intl.Segmenter;
  readonly #stemmer: Stemmer;
  readonly #stopWords: ReadonlySet<string>;
  readonly #memo = new Map<string, string>();

  constructor(language: TextLanguage = DEFAULT_TEXT_LANGUAGE) {
    const tables: LanguageTables = LANGUAGES[language];
    this.language = language;
    this.#segmenter = new Intl.Segmenter(tables.locale, { granularity: 'word' });
    this.#stemmer = snowball.newStemmer(language);
    // Stop lists spell words with their accents; folded spellings are stop words too.
    this.#stopWords = new Set(tables.stopWords.flatMap((word) => [word.toLowerCase(), foldDiacritics(word.toLowerCase())]));
  }

  /** The terms of `text` in order, repeats kept (their counts are the term frequencies). */
  terms(text: string): string[] {
    const terms: string[] = [];
    this.addTerms(text, terms);
    return terms;
  }

  /** Appends the terms of `text` to `into`. */
  addTerms(text: string, into: string[]): void {
    const memo = this.#memo;
    for (const word of this.words(text)) {
      let term = memo.get(word);
      if (term === undefined) {
        term = this.termOf(word) ?? STOP;
        if (memo.size >= MEMO_LIMIT) memo.clear();
        memo.set(word, term);
      }
      if (term !== STOP) into.push(term);
    }
  }

  /** The case-folded words of `text`, before stop words and stemming (for callers with their own memo). */
  words(text: string): string[] {
    return words(text.toLowerCase(), this.#segmenter);
  }

  /** The term of one word of words(), or null for a stop word. Not memoized. */
  termOf(word: string): string | null {
    // NFKC first: full-width letters and ligatures become the letters the stemmer knows.
    const normal = word.normalize('NFKC');
    if (this.#stopWords.has(normal) || this.#stopWords.has(foldDiacritics(normal))) return null;
    // Snowball stemmers expect accented letters, so diacritics are folded after stemming.
    const term = foldDiacritics(this.#stemmer.stem(normal));
    return term === '' ? null : term;
  }
}
