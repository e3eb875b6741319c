// BM25 over the incremental term index equals a from-scratch reference on a fixture, before and
// after updates and deletes, with and without a filter.
import { describe, expect, it } from 'vitest';
import { Bm25Scorer, bm25Idf } from '../../../src/service/text/bm25.js';
import { TermIndex } from '../../../src/service/text/term-index.js';
import { seededRandom } from '../reference-search.js';
import { referenceBm25 } from './reference-bm25.js';

const VOCABULARY = ['apple', 'banana', 'cherry', 'date', 'elder', 'fig', 'grape', 'honey', 'iris', 'jade', 'kiwi', 'lime'];

/** 300 documents of 1 to 40 terms; low-numbered words are much more frequent. */
function fixture(seed: number): Map<number, string[]> {
  const random = seededRandom(seed);
  const documents = new Map<number, string[]>();
  for (let key = 0; key < 300; key++) {
    const length = 1 + Math.floor(random() * 40);
    documents.set(key, Array.from({ length }, () => VOCABULARY[Math.floor(VOCABULARY.length * random() ** 2)]));
  }
  return documents;
}

function expectSameRanking(actual: { key: number; score: number }[], expected: { key: number; score: number }[]): void {
  expect(actual.map((hit) => hit.key)).toEqual(expected.map((hit) => hit.key));
  actual.forEach((hit, i) => expect(hit.score).toBeCloseTo(expected[i].score, 10));
}

describe('BM25', () => {
  const queries = [['kiwi'], ['apple'], ['lime', 'jade'], ['banana', 'honey', 'iris', 'banana'], ['absent'], ['absent', 'fig']];

  it('scores every query exactly as the reference does', () => {
    const documents = fixture(1);
    const index = new TermIndex();
    for (const [key, terms] of documents) index.add(key, terms);
    const scorer = new Bm25Scorer(index);
    for (const query of queries) expectSameRanking(scorer.topK(query, 1000), referenceBm25(documents, query));
    for (const query of queries) expectSameRanking(scorer.topK(query, 7), referenceBm25(documents, query).slice(0, 7));
  });

  it('still equals the reference after updates and deletes', () => {
    const documents = fixture(2);
    const index = new TermIndex();
    for (const [key, terms] of documents) index.add(key, terms);
    const random = seededRandom(3);
    for (let i = 0; i < 200; i++) {
      const key = Math.floor(random() * 400);
      if (random() < 0.4) {
        documents.delete(key);
        index.remove(key);
      } else {
        const terms = Array.from({ length: 1 + Math.floor(random() * 30) }, () => VOCABULARY[Math.floor(VOCABULARY.length * random())]);
        documents.set(key, terms);
        index.add(key, terms);
      }
    }
    const scorer = new Bm25Scorer(index);
    for (const query of queries) expectSameRanking(scorer.topK(query, 50), referenceBm25(documents, query).slice(0, 50));
  });

  it('ranks only accepted documents under a filter', () => {
    const documents = fixture(4);
    const index = new TermIndex();
    for (const [key, terms] of documents) index.add(key, terms);
    const even = (key: number) => key % 2 === 0;
    const expected = referenceBm25(documents, ['grape', 'date']).filter((hit) => even(hit.key));
    expectSameRanking(new Bm25Scorer(index).topK(['grape', 'date'], 20, even), expected.slice(0, 20));
  });

  it('gives rarer terms a higher idf, never a negative one', () => {
    expect(bm25Idf(1, 100)).toBeGreaterThan(bm25Idf(10, 100));
    expect(bm25Idf(100, 100)).toBeGreaterThan(0);
  });

  it('answers nothing on an empty index', () => {
    expect(new Bm25Scorer(new TermIndex()).topK(['apple'], 10)).toEqual([]);
  });
});
