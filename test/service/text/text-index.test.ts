// What a text index indexes: contents and the metadata strings (or lists of strings) at the
// configured dotted paths, nothing else; a word seen before still finds its term after the term
// left the index and came back.
import { describe, expect, it } from 'vitest';
import { TextIndex } from '../../../src/service/text/text-index.js';

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
});
