// Text analysis: case and diacritic folding, stop words and stemming per language, the same
// terms for a document and a query.
import { describe, expect, it } from 'vitest';
import { TEXT_LANGUAGES } from '../../../src/service/enumerations.js';
import { TextAnalyzer, foldDiacritics } from '../../../src/service/text/analyzer.js';

describe('TextAnalyzer', () => {
  it('folds case and diacritics, drops English stop words and stems', () => {
    expect(new TextAnalyzer().terms('The Café RUNNERS were running naïvely to the cafe')).toEqual(['cafe', 'runner', 'run', 'naiv', 'cafe']);
  });

  it('folds compatibility forms: full-width letters and ligatures', () => {
    expect(new TextAnalyzer().terms('Ｆｕｌｌ ﬁles')).toEqual(['full', 'file']);
  });

  it('keeps codes and numbers that embeddings blur', () => {
    expect(new TextAnalyzer().terms('ICD-10 code E11.9, invoice INV_2024_0042')).toEqual(['icd', '10', 'code', 'e11.9', 'invoic', 'inv_2024_0042']);
  });

  it('uses the stop words and stemmer of the index language', () => {
    expect(new TextAnalyzer('french').terms('Les maisons chaudes à Paris')).toEqual(['maison', 'chaud', 'paris']);
    expect(new TextAnalyzer('german').terms('Die Häuser und die Bäume')).toEqual(['haus', 'baum']);
    // "the" is an English stop word, not a German one.
    expect(new TextAnalyzer('german').terms('the')).toEqual(['the']);
  });

  it('drops stop words written without their accents', () => {
    expect(new TextAnalyzer('french').terms('a ete etre')).toEqual([]);
  });

  it('has a stemmer and a stop list for every language the API accepts', () => {
    for (const language of TEXT_LANGUAGES) expect(new TextAnalyzer(language).terms('xylophone').length, language).toBe(1);
  });

  it('gives a word the same term every time (the memo changes nothing)', () => {
    const analyzer = new TextAnalyzer();
    const first = analyzer.terms('Generations of generators generate');
    expect(analyzer.terms('Generations of generators generate')).toEqual(first);
    expect(new TextAnalyzer().terms('Generations of generators generate')).toEqual(first);
  });

  it('folds diacritics by removing combining marks', () => {
    expect(foldDiacritics('Ångström naïve façade')).toBe('Angstrom naive facade');
  });
});
