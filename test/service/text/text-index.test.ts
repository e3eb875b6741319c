// What a text index indexes: contents and the metadata strings (or lists of strings) at the
// configured dotted paths, nothing else; a word seen before still finds its term after the term
// left the index and came back.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { TextAnalyzer } from '../../../src/service/text/analyzer.js';
import { TextIndex } from '../../../src/service/text/text-index.js';

/** Latin words and punctuation, with now and then a word of another script or an accent to fold. */
const PIECES = ['Running', 'runners', 'the', 'CAFÉ', 'café', "don't", 'e.g.', '3.14', 'ICD-10', 'naïve', 'Ｆｕｌｌ', 'ﬁles', 'Ελληνικά', '東京', 'İstanbul', ' ', ' ', ', ', '. ', '\n', '_', 'x_1'];

describe('TextIndex', () => {
  it('indexes contents and the strings at the text fields, including lists of strings', () => {
    const index = new TextIndex({ textFields: ['title', 'author.name', 'tags'], textLanguage: 'english' });
    index.add(1, 'alpha', { title: 'bravo', author: { name: 'charlie' }, tags: ['delta', 7, 'echo'], other: 'foxtrot' });
    index.add(2, null, { title: 42, author: [{ name: 'golf' }, { name: 'hotel' }] });
    for (const [word, keys] of [['alpha', [1]], ['bravo', [1]], ['charlie', [1]], ['delta', [1]], ['echo', [1]], ['golf', [2]], ['hotel', [2]], ['foxtrot', []], ['42', []]] as const) {
      expect(index.search(word, 10).map((hit) => hit.key), word).toEqual(keys);
    }
    expect(index.terms.documentCount).toBe(2);
  });

  it('finds a word again after every document holding it went and a new one came', () => {
    const index = new TextIndex({ textFields: [], textLanguage: 'english' });
    index.add(1, 'zebras everywhere', null);
    index.remove(1);
    expect(index.search('zebra', 10)).toEqual([]);
    index.add(2, 'one zebra', null);
    index.add(3, 'Zebras, zebras', null);
    expect(index.search('zebra', 10).map((hit) => hit.key)).toEqual([3, 2]);
    expect(index.terms.documentFrequency('zebra')).toBe(2);
  });

  it("indexes exactly the analyzer's terms, whichever path a text takes (scanner or Intl.Segmenter)", () => {
    const analyzer = new TextAnalyzer('english');
    fc.assert(
      fc.property(fc.array(fc.array(fc.constantFrom(...PIECES), { maxLength: 12 }), { minLength: 1, maxLength: 6 }), (pieces) => {
        const texts = pieces.map((parts) => parts.join(''));
        // One index over all texts, so words memoized by one text are met again by the next.
        const index = new TextIndex({ textFields: [], textLanguage: 'english' });
        texts.forEach((text, key) => index.add(key, text, null));
        texts.forEach((text, key) => {
          const expected = analyzer.terms(text);
          for (const term of new Set(expected)) expect(index.terms.frequency(key, term), term).toBe(expected.filter((t) => t === term).length);
        });
        let total = 0;
        for (const text of texts) total += analyzer.terms(text).length;
        expect(index.terms.averageLength * index.terms.documentCount).toBe(total);
      }),
      { numRuns: 500 },
    );
  });
});
